package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// RefreshPrefix starts every refresh token, so that secret scanners and
// people can tell one apart from other strings.
const RefreshPrefix = "rt_"

// NewRefreshToken returns an opaque refresh token made of 32 random bytes
// (base64url, no padding, after RefreshPrefix) and its keyed hash. Only the
// hash is stored; the plain token goes to the client once.
func NewRefreshToken(key []byte) (plain string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24

	plain = RefreshPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashRefreshToken(key, plain)
}

// HashRefreshToken returns HMAC-SHA256(key, plain), the value stored and
// looked up. The token carries 256 bits of entropy, so a fast hash suffices
// against guessing; the key makes the stored value useless to anyone who
// can write to the database but does not hold it: they cannot plant a hash
// for a token of their choosing.
func HashRefreshToken(key []byte, plain string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(plain))
	return mac.Sum(nil)
}

// Successor derives the token that replaces plain on rotation, and its
// hash. It is a keyed function of the old token, so two parallel refreshes
// of one token get the same successor, and nobody without the key can
// predict it.
func Successor(key []byte, plain string) (next string, hash []byte) {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("successor\x00"))
	mac.Write([]byte(plain))
	next = RefreshPrefix + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return next, HashRefreshToken(key, next)
}
