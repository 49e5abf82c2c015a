package password

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// encode renders an argon2id hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC argon2id string. Every error wraps ErrMalformedHash
// and is returned before any expensive work.
func decode(encoded string) (Params, []byte, []byte, error) {
	if len(encoded) > maxEncoded {
		return Params{}, nil, nil, fmt.Errorf("%w: too long", ErrMalformedHash)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: version", ErrMalformedHash)
	}

	p, err := parseParams(parts[3])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	salt, key, err := parseSaltKey(parts[4], parts[5])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}

	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseParams parses "m=<KiB>,t=<passes>,p=<lanes>" in that order.
func parseParams(s string) (Params, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, fmt.Errorf("params %q", s)
	}
	m, err := parseField(fields[0], "m", 32)
	if err != nil {
		return Params{}, err
	}
	t, err := parseField(fields[1], "t", 32)
	if err != nil {
		return Params{}, err
	}
	threads, err := parseField(fields[2], "p", 8)
	if err != nil {
		return Params{}, err
	}
	return Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads)}, nil
}

// parseField parses one "name=value" field as an unsigned integer that fits
// in bits.
func parseField(field, name string, bits int) (uint64, error) {
	value, ok := strings.CutPrefix(field, name+"=")
	if !ok {
		return 0, fmt.Errorf("param %q: want %s=", field, name)
	}
	n, err := strconv.ParseUint(value, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("param %s: %w", name, err)
	}
	return n, nil
}

// parseSaltKey decodes the salt and key fields.
func parseSaltKey(s, k string) ([]byte, []byte, error) {
	salt, err := b64.DecodeString(s)
	if err != nil {
		return nil, nil, fmt.Errorf("salt: %w", err)
	}
	key, err := b64.DecodeString(k)
	if err != nil {
		return nil, nil, fmt.Errorf("key: %w", err)
	}
	return salt, key, nil
}
