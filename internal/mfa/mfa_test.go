package mfa

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/rampart-dev/rampart/internal/pii"
)

func testService(t *testing.T) *Service {
	t.Helper()
	keys, err := pii.NewKeyring(pii.GenerateKey("t1"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Issuer: "Rampart test", Keys: keys,
		RecoveryKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMatchStep(t *testing.T) {
	t.Parallel()
	key, err := newSecret("Rampart test", "someone@example.test")
	if err != nil {
		t.Fatal(err)
	}
	secret := key.Secret()
	// The middle of a step, so neighbours are exactly one step away.
	now := time.Unix(1_700_000_000/period*period+15, 0)
	current := now.Unix() / period

	for _, d := range []int64{-1, 0, 1} {
		code, err := totp.GenerateCode(secret, now.Add(time.Duration(d)*period*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		step, ok := matchStep(secret, code, now)
		if !ok || step != current+d {
			t.Errorf("step %+d: matched %v at %d, want %d", d, ok, step, current+d)
		}
	}

	for _, d := range []int64{-2, 2} {
		code, _ := totp.GenerateCode(secret, now.Add(time.Duration(d)*period*time.Second))
		if other, _ := totp.GenerateCode(secret, now); other == code {
			continue // the rare step that shares the current code
		}
		if _, ok := matchStep(secret, code, now); ok {
			t.Errorf("a code %d steps away was accepted", d)
		}
	}

	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := matchStep(secret, bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProofIsNotTheSecret(t *testing.T) {
	t.Parallel()
	proof, check := secretProof("JBSWY3DPEHPK3PXP"), secretCheck("JBSWY3DPEHPK3PXP")
	if bytes.Equal(proof, check) || len(check) != 32 {
		t.Fatal("the stored check must differ from the proof sent")
	}
	if bytes.Equal(secretProof("JBSWY3DPEHPK3PXQ"), proof) {
		t.Fatal("two secrets share a proof")
	}
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	s := testService(t)
	codes, hashes := s.newRecoveryCodes()
	if len(codes) != recoveryCount || len(hashes) != recoveryCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)
	seen := map[string]bool{}
	for i, c := range codes {
		if !shape.MatchString(c) || seen[c] {
			t.Errorf("code %q is malformed or repeated", c)
		}
		seen[c] = true
		if !bytes.Equal(s.recoveryHash(c), hashes[i]) {
			t.Errorf("hash of %q does not match", c)
		}
	}

	t.Run("typing variations hash alike", func(t *testing.T) {
		want := s.recoveryHash("0a1bc-defgh")
		for _, typed := range []string{"0A1BC-DEFGH", " oa1bc defgh ", "OALBCDEFGH", "0aibc-defgh"} {
			if !bytes.Equal(s.recoveryHash(typed), want) {
				t.Errorf("%q hashes differently", typed)
			}
		}
	})

	t.Run("the hash is keyed", func(t *testing.T) {
		other := testService(t)
		other.opt.RecoveryKey = bytes.Repeat([]byte{8}, 32)
		if bytes.Equal(other.recoveryHash(codes[0]), hashes[0]) {
			t.Fatal("a different key gave the same hash")
		}
	})
}

func TestNewRefusesMissingOptions(t *testing.T) {
	t.Parallel()
	keys, _ := pii.NewKeyring(pii.GenerateKey("t1"))
	for name, opt := range map[string]Options{
		"no issuer":   {Keys: keys, RecoveryKey: make([]byte, 32)},
		"no keyring":  {Issuer: "x", RecoveryKey: make([]byte, 32)},
		"short key":   {Issuer: "x", Keys: keys, RecoveryKey: make([]byte, 16)},
		"missing key": {Issuer: "x", Keys: keys},
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
