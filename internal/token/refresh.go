package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// RefreshPrefix starts every refresh token, so that secret scanners and
// people can tell one apart from other strings.
const RefreshPrefix = "rt_"

// NewRefreshToken returns an opaque refresh token made of 32 random bytes
// (base64url, no padding, after RefreshPrefix) and its hash. Only the hash
// is stored; the plain token goes to the client once.
func NewRefreshToken() (plain string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24

	plain = RefreshPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashRefreshToken(plain)
}

// HashRefreshToken returns the SHA-256 of the whole plain token, the value
// stored and looked up. A fast hash suffices: the token carries 256 bits of
// entropy, so it cannot be guessed from its hash.
func HashRefreshToken(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}
