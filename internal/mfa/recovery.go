package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// Recovery codes: ten per activation, each ten symbols of Crockford's
// base32 alphabet (50 bits), shown as two groups of five.
const (
	recoveryCount  = 10
	recoveryLength = 10
	// recoveryAlphabet has 32 symbols and no i, l, o or u, so a code read
	// aloud or from paper is hard to get wrong.
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryDomain   = "rampart/mfa-recovery\x00"
)

// newRecoveryCodes returns fresh codes as shown to the user and their
// keyed hashes, as stored.
func (s *Service) newRecoveryCodes() ([]string, [][]byte) {
	codes := make([]string, recoveryCount)
	hashes := make([][]byte, recoveryCount)
	for i := range codes {
		raw := make([]byte, recoveryLength)
		// crypto/rand.Read never fails; it aborts the program instead.
		_, _ = rand.Read(raw)
		for j, b := range raw {
			// 256 is a multiple of 32, so every symbol is equally likely.
			raw[j] = recoveryAlphabet[b%32]
		}
		codes[i] = string(raw[:5]) + "-" + string(raw[5:])
		hashes[i] = s.recoveryHash(codes[i])
	}
	return codes, hashes
}

// recoveryHash is the stored form of a code as the user typed it: case,
// spaces and dashes do not matter, and the letters o, i and l read as the
// digits they resemble.
func (s *Service) recoveryHash(code string) []byte {
	mac := hmac.New(sha256.New, s.opt.RecoveryKey)
	mac.Write([]byte(recoveryDomain))
	mac.Write([]byte(normalizeRecovery(code)))
	return mac.Sum(nil)
}

var recoveryReplacer = strings.NewReplacer(
	"-", "", " ", "", "o", "0", "i", "1", "l", "1")

func normalizeRecovery(code string) string {
	return recoveryReplacer.Replace(strings.ToLower(strings.TrimSpace(code)))
}
