package logging

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// redactFields returns fs with every field that needs it rewritten, and
// whether fields that follow are inside a secret namespace. fs belongs to
// the caller, so it is copied, and only when a field changes.
func redactFields(fs []zapcore.Field, hide bool) ([]zapcore.Field, bool) {
	out, copied := fs, false
	for i := range fs {
		f, changed := redactField(fs[i], hide)
		if f.Type == zapcore.NamespaceType && secretKey(f.Key) {
			hide = true
		}
		if !changed {
			continue
		}
		if !copied {
			out, copied = append([]zapcore.Field(nil), fs...), true
		}
		out[i] = f
	}
	return out, hide
}

// redactField rewrites one field: the whole value when the name is secret
// or hide is set, otherwise any secret shapes inside its strings.
func redactField(f zapcore.Field, hide bool) (zapcore.Field, bool) {
	switch {
	case f.Type == zapcore.NamespaceType || f.Type == zapcore.SkipType:
		return f, false
	case hide || secretKey(f.Key):
		return zap.String(f.Key, redacted), true
	}

	switch f.Type {
	case zapcore.StringType:
		return scrubbedString(f, f.String)
	case zapcore.ByteStringType:
		b, _ := f.Interface.([]byte)
		return scrubbedString(f, string(b))
	case zapcore.StringerType:
		if v, ok := f.Interface.(fmt.Stringer); ok {
			if s, ok := stringOf(v); ok {
				return scrubbedString(f, s)
			}
		}
	case zapcore.ErrorType:
		if err, ok := f.Interface.(error); ok {
			return cleanErrorField(f, err)
		}
	case zapcore.ReflectType:
		if v, changed := cleanValue(f.Interface); changed {
			return zap.Reflect(f.Key, v), true
		}
	case zapcore.ObjectMarshalerType, zapcore.InlineMarshalerType:
		if m, ok := f.Interface.(zapcore.ObjectMarshaler); ok {
			f.Interface = object{m}
			return f, true
		}
	case zapcore.ArrayMarshalerType:
		if m, ok := f.Interface.(zapcore.ArrayMarshaler); ok {
			f.Interface = array{m}
			return f, true
		}
	}
	return f, false
}

func scrubbedString(f zapcore.Field, s string) (zapcore.Field, bool) {
	if clean, changed := scrub(s); changed {
		return zap.String(f.Key, clean), true
	}
	return f, false
}

func cleanErrorField(f zapcore.Field, err error) (zapcore.Field, bool) {
	clean, changed := cleanError(err)
	if changed {
		f.Interface = clean
	}
	return f, changed
}

// stringOf calls String, reporting false if it panics; the encoder will
// then report the panic itself, as it does without redaction.
func stringOf(v fmt.Stringer) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return v.String(), true
}

// cleanError returns err, or a stand-in carrying its scrubbed message,
// verbose form (for errors that format "%+v") and causes (for error
// groups), which is what the encoder prints of an error.
func cleanError(err error) (clean error, changed bool) {
	defer func() {
		if recover() != nil {
			clean, changed = err, false
		}
	}()

	msg, changed := scrub(err.Error())
	switch e := err.(type) {
	case interface{ Errors() []error }:
		causes := e.Errors()
		cleaned := make([]error, len(causes))
		for i, c := range causes {
			var ch bool
			cleaned[i], ch = cleanError(c)
			changed = changed || ch
		}
		if changed {
			return &groupError{msg, cleaned}, true
		}
	case fmt.Formatter:
		if verbose, ch := scrub(fmt.Sprintf("%+v", e)); changed || ch {
			return &verboseError{msg, verbose}, true
		}
	default:
		if changed {
			return plainError(msg), true
		}
	}
	return err, false
}

type plainError string

func (e plainError) Error() string { return string(e) }

type verboseError struct{ msg, verbose string }

func (e *verboseError) Error() string { return e.msg }

func (e *verboseError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		fmt.Fprint(f, e.verbose)
		return
	}
	fmt.Fprint(f, e.msg)
}

type groupError struct {
	msg    string
	causes []error
}

func (e *groupError) Error() string { return e.msg }

func (e *groupError) Errors() []error { return e.causes }

// cleanValue rewrites a value logged by reflection (zap.Any of a struct,
// map or slice) through its JSON form, which is what the encoder prints,
// hiding secret keys at any depth and secret shapes in strings. It returns
// v itself when nothing changed or v does not encode, which the encoder
// then reports.
func cleanValue(v any) (any, bool) {
	if v == nil {
		return v, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if dec.Decode(&tree) != nil {
		return v, false
	}
	if tree, changed := cleanTree(tree); changed {
		return tree, true
	}
	return v, false
}

func cleanTree(v any) (any, bool) {
	changed := false
	switch t := v.(type) {
	case string:
		return scrub(t)
	case []any:
		for i := range t {
			var ch bool
			t[i], ch = cleanTree(t[i])
			changed = changed || ch
		}
	case map[string]any:
		for k, e := range t {
			var ch bool
			if secretKey(k) {
				t[k], ch = redacted, true
			} else {
				t[k], ch = cleanTree(e)
			}
			changed = changed || ch
		}
	}
	return v, changed
}
