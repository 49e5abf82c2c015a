package mfa

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: those every authenticator app defaults to.
const (
	period = 30
	// skew is how many steps before and after the current one a code may
	// belong to, for clocks that drift and users who type slowly.
	skew = 1
)

var codeOpts = totp.ValidateOpts{
	Period:    period,
	Skew:      skew,
	Digits:    otp.DigitsSix,
	Algorithm: otp.AlgorithmSHA1,
}

// proofDomain separates the proof from any other use of the secret.
const proofDomain = "rampart/mfa-proof\x00"

func newSecret(issuer, account string) (*otp.Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      period,
		SecretSize:  20,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("generate totp secret: %w", err)
	}
	return key, nil
}

// matchStep reports whether code is the secret's code for a step within
// skew of now, and which step. Every candidate is compared, in constant
// time, so the answer's timing says nothing about which one matched; if
// two steps share the code, the later one is taken, so replay refusal errs
// on the strict side.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != int(codeOpts.Digits) {
		return 0, false
	}
	current := now.Unix() / period
	var step int64
	ok := false
	for d := int64(-skew); d <= skew; d++ {
		at := time.Unix((current+d)*period, 0)
		want, err := totp.GenerateCodeCustom(secret, at, codeOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = current+d, true
		}
	}
	return step, ok
}

// secretProof is what the service sends the database to show it holds the
// opened secret; secretCheck, its SHA-256, is what the database stores.
// Neither lets anyone compute a code.
func secretProof(secret string) []byte {
	sum := sha256.Sum256([]byte(proofDomain + secret))
	return sum[:]
}

func secretCheck(secret string) []byte {
	sum := sha256.Sum256(secretProof(secret))
	return sum[:]
}
