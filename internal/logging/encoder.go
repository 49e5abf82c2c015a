package logging

import (
	"time"

	"go.uber.org/zap/zapcore"
)

// object redacts what a zap.Object or zap.Inline value writes, by handing
// its MarshalLogObject an encoder that checks every key and string.
type object struct{ m zapcore.ObjectMarshaler }

func (o object) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return o.m.MarshalLogObject(&objectEncoder{enc: enc})
}

// array does the same for zap.Array values and slices such as zap.Strings.
type array struct{ m zapcore.ArrayMarshaler }

func (a array) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	return a.m.MarshalLogArray(arrayEncoder{enc})
}

// objectEncoder writes "[redacted]" for every secret key, and for every
// key after a secret namespace, and scrubs every string it is given.
type objectEncoder struct {
	enc  zapcore.ObjectEncoder
	hide bool
}

var _ zapcore.ObjectEncoder = (*objectEncoder)(nil)

// keep reports whether the value of k may be written; if not, it writes
// the marker in its place.
func (e *objectEncoder) keep(k string) bool {
	if e.hide || secretKey(k) {
		e.enc.AddString(k, redacted)
		return false
	}
	return true
}

func (e *objectEncoder) AddString(k, v string) {
	if e.keep(k) {
		v, _ = scrub(v)
		e.enc.AddString(k, v)
	}
}

func (e *objectEncoder) AddByteString(k string, v []byte) {
	if !e.keep(k) {
		return
	}
	if s, changed := scrub(string(v)); changed {
		e.enc.AddString(k, s)
		return
	}
	e.enc.AddByteString(k, v)
}

func (e *objectEncoder) AddObject(k string, v zapcore.ObjectMarshaler) error {
	if e.keep(k) {
		return e.enc.AddObject(k, object{v})
	}
	return nil
}

func (e *objectEncoder) AddArray(k string, v zapcore.ArrayMarshaler) error {
	if e.keep(k) {
		return e.enc.AddArray(k, array{v})
	}
	return nil
}

func (e *objectEncoder) AddReflected(k string, v any) error {
	if e.keep(k) {
		v, _ = cleanValue(v)
		return e.enc.AddReflected(k, v)
	}
	return nil
}

func (e *objectEncoder) OpenNamespace(k string) {
	e.hide = e.hide || secretKey(k)
	e.enc.OpenNamespace(k)
}

// The rest carry no strings, but a card number or phone number may well
// be logged as an integer under a secret name.

func (e *objectEncoder) AddBinary(k string, v []byte) {
	if e.keep(k) {
		e.enc.AddBinary(k, v)
	}
}

func (e *objectEncoder) AddBool(k string, v bool) {
	if e.keep(k) {
		e.enc.AddBool(k, v)
	}
}

func (e *objectEncoder) AddComplex128(k string, v complex128) {
	if e.keep(k) {
		e.enc.AddComplex128(k, v)
	}
}

func (e *objectEncoder) AddComplex64(k string, v complex64) {
	if e.keep(k) {
		e.enc.AddComplex64(k, v)
	}
}

func (e *objectEncoder) AddDuration(k string, v time.Duration) {
	if e.keep(k) {
		e.enc.AddDuration(k, v)
	}
}

func (e *objectEncoder) AddFloat64(k string, v float64) {
	if e.keep(k) {
		e.enc.AddFloat64(k, v)
	}
}

func (e *objectEncoder) AddFloat32(k string, v float32) {
	if e.keep(k) {
		e.enc.AddFloat32(k, v)
	}
}

func (e *objectEncoder) AddInt(k string, v int) {
	if e.keep(k) {
		e.enc.AddInt(k, v)
	}
}

func (e *objectEncoder) AddInt64(k string, v int64) {
	if e.keep(k) {
		e.enc.AddInt64(k, v)
	}
}

func (e *objectEncoder) AddInt32(k string, v int32) {
	if e.keep(k) {
		e.enc.AddInt32(k, v)
	}
}

func (e *objectEncoder) AddInt16(k string, v int16) {
	if e.keep(k) {
		e.enc.AddInt16(k, v)
	}
}

func (e *objectEncoder) AddInt8(k string, v int8) {
	if e.keep(k) {
		e.enc.AddInt8(k, v)
	}
}

func (e *objectEncoder) AddTime(k string, v time.Time) {
	if e.keep(k) {
		e.enc.AddTime(k, v)
	}
}

func (e *objectEncoder) AddUint(k string, v uint) {
	if e.keep(k) {
		e.enc.AddUint(k, v)
	}
}

func (e *objectEncoder) AddUint64(k string, v uint64) {
	if e.keep(k) {
		e.enc.AddUint64(k, v)
	}
}

func (e *objectEncoder) AddUint32(k string, v uint32) {
	if e.keep(k) {
		e.enc.AddUint32(k, v)
	}
}

func (e *objectEncoder) AddUint16(k string, v uint16) {
	if e.keep(k) {
		e.enc.AddUint16(k, v)
	}
}

func (e *objectEncoder) AddUint8(k string, v uint8) {
	if e.keep(k) {
		e.enc.AddUint8(k, v)
	}
}

func (e *objectEncoder) AddUintptr(k string, v uintptr) {
	if e.keep(k) {
		e.enc.AddUintptr(k, v)
	}
}

// arrayEncoder scrubs the strings of an array and redacts the objects in
// it; its other elements have no names to judge them by.
type arrayEncoder struct{ zapcore.ArrayEncoder }

func (e arrayEncoder) AppendString(v string) {
	v, _ = scrub(v)
	e.ArrayEncoder.AppendString(v)
}

func (e arrayEncoder) AppendByteString(v []byte) {
	if s, changed := scrub(string(v)); changed {
		e.ArrayEncoder.AppendString(s)
		return
	}
	e.ArrayEncoder.AppendByteString(v)
}

func (e arrayEncoder) AppendObject(v zapcore.ObjectMarshaler) error {
	return e.ArrayEncoder.AppendObject(object{v})
}

func (e arrayEncoder) AppendArray(v zapcore.ArrayMarshaler) error {
	return e.ArrayEncoder.AppendArray(array{v})
}

func (e arrayEncoder) AppendReflected(v any) error {
	v, _ = cleanValue(v)
	return e.ArrayEncoder.AppendReflected(v)
}
