// Package password hashes and verifies user passwords with argon2id and
// enforces the password policy.
//
// Hashes are PHC strings that record their own parameters, so parameters can
// be raised later: Verify reports when a stored hash is weaker than the
// current ones and the caller rehashes on the next successful login.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// ErrMalformedHash is returned by Verify when a stored hash cannot be parsed
// or carries parameters outside the accepted bounds.
var ErrMalformedHash = errors.New("malformed password hash")

// Params are the argon2id cost parameters recorded in every hash.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8
	KeyLen  uint32 // bytes
	SaltLen uint32 // bytes
}

// DefaultParams are OWASP's recommended argon2id parameters: 19 MiB of
// memory, two passes, one lane.
var DefaultParams = Params{
	Memory:  19456,
	Time:    2,
	Threads: 1,
	KeyLen:  32,
	SaltLen: 16,
}

// TestParams are cheap parameters for tests. Never use them in production.
var TestParams = Params{
	Memory:  64,
	Time:    1,
	Threads: 1,
	KeyLen:  32,
	SaltLen: 16,
}

// Bounds on the parameters accepted from a stored hash, so that a hostile
// or corrupted row cannot make one login allocate gigabytes or spin for
// minutes.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 10
	maxThreads = 16
	minKeyLen  = 16
	maxKeyLen  = 64
	minSaltLen = 8
	maxSaltLen = 64
	maxEncoded = 512
)

// Hasher hashes and verifies passwords with its Params.
type Hasher struct {
	Params
}

// Hash returns the PHC encoding of pw hashed with a fresh random salt. It
// fails only when h.Params are outside the accepted bounds.
func (h Hasher) Hash(pw string) (string, error) {
	if err := h.Params.check(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}

	salt := make([]byte, h.SaltLen)
	rand.Read(salt) // never fails since Go 1.24

	key := h.Params.derive(pw, salt)
	return encode(h.Params, salt, key), nil
}

// Verify reports whether pw matches the encoded hash, comparing in constant
// time. needsRehash is true when pw matches and the stored parameters are
// weaker than h.Params. A hash that cannot be parsed, or whose parameters
// are out of bounds, returns ErrMalformedHash before any hashing work.
func (h Hasher) Verify(encoded, pw string) (ok, needsRehash bool, err error) {
	stored, salt, key, err := decode(encoded)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}

	got := stored.derive(pw, salt)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, stored.weakerThan(h.Params), nil
}

// decoys caches one decoy hash per Params value.
var decoys sync.Map // Params -> string

// Decoy spends the same work as a Verify against a hash made with h.Params,
// and discards the result. Login paths call it when no account matches, so
// that response time does not reveal whether an account exists.
func (h Hasher) Decoy(pw string) {
	encoded, err := h.decoy()
	if err != nil {
		return
	}
	_, _, _ = h.Verify(encoded, pw)
}

// decoy returns the decoy hash for h.Params, computing it on first use.
func (h Hasher) decoy() (string, error) {
	if v, ok := decoys.Load(h.Params); ok {
		return v.(string), nil
	}

	encoded, err := h.Hash(rand.Text())
	if err != nil {
		return "", err
	}
	v, _ := decoys.LoadOrStore(h.Params, encoded)
	return v.(string), nil
}

// derive runs argon2id over the normalized password.
func (p Params) derive(pw string, salt []byte) []byte {
	pw = normalize(pw)
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// weakerThan reports whether p costs less or yields less than want.
func (p Params) weakerThan(want Params) bool {
	return p.Memory < want.Memory || p.Time < want.Time ||
		p.KeyLen < want.KeyLen || p.SaltLen < want.SaltLen
}

// check returns an error when p is outside the accepted bounds.
func (p Params) check() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("threads %d out of range", p.Threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range", p.Time)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range", p.KeyLen)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range", p.SaltLen)
	}
	return nil
}

// normalize applies NFKC, as NIST SP 800-63B advises, so that the same
// password typed on different keyboards hashes the same.
func normalize(pw string) string {
	return norm.NFKC.String(pw)
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding.Strict()
