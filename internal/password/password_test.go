package password

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func setup(t *testing.T) Hasher {
	t.Helper()
	return Hasher{Params: TestParams}
}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h := setup(t)

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		enc, err := h.Hash("correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("unexpected encoding %q", enc)
		}
		ok, rehash, err := h.Verify(enc, "correct horse battery")
		if err != nil || !ok || rehash {
			t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
	})

	t.Run("default params encode as documented", func(t *testing.T) {
		t.Parallel()
		salt := make([]byte, 16)
		got := encode(DefaultParams, salt, make([]byte, 32))
		if !strings.HasPrefix(got, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("unexpected encoding %q", got)
		}
	})

	t.Run("salts differ", func(t *testing.T) {
		t.Parallel()
		a, _ := h.Hash("same password here")
		b, _ := h.Hash("same password here")
		if a == b {
			t.Fatal("two hashes of one password are equal")
		}
	})

	t.Run("wrong password rejected", func(t *testing.T) {
		t.Parallel()
		enc, _ := h.Hash("correct horse battery")
		ok, rehash, err := h.Verify(enc, "correct horse batterz")
		if err != nil || ok || rehash {
			t.Fatalf("Verify = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	})

	t.Run("normalized forms match", func(t *testing.T) {
		t.Parallel()
		enc, _ := h.Hash("café au lait!!")                  // precomposed é
		ok, _, err := h.Verify(enc, "cafe\u0301 au lait!!") // e + combining accent
		if err != nil || !ok {
			t.Fatalf("Verify = %v, %v; want true", ok, err)
		}
	})

	t.Run("needs rehash when params raised", func(t *testing.T) {
		t.Parallel()
		enc, _ := h.Hash("correct horse battery")
		stronger := Hasher{Params: TestParams}
		stronger.Time++
		ok, rehash, err := stronger.Verify(enc, "correct horse battery")
		if err != nil || !ok || !rehash {
			t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
		}
	})

	t.Run("out of bounds own params refused", func(t *testing.T) {
		t.Parallel()
		bad := Hasher{Params: TestParams}
		bad.Memory = maxMemory + 1
		if _, err := bad.Hash("correct horse battery"); err == nil {
			t.Fatal("Hash accepted memory above the bound")
		}
	})
}

func TestVerifyRejectsHostileHashes(t *testing.T) {
	t.Parallel()
	h := setup(t)
	good, _ := h.Hash("correct horse battery")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]

	cases := map[string]string{
		"empty":            "",
		"garbage":          "not a hash",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"argon2i":          "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":      "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"huge memory":      "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"memory overflow":  "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key,
		"huge time":        "$argon2id$v=19$m=64,t=4294967295,p=1$" + salt + "$" + key,
		"many threads":     "$argon2id$v=19$m=4096,t=1,p=255$" + salt + "$" + key,
		"zero threads":     "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"zero time":        "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"negative memory":  "$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key,
		"params reordered": "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"extra param":      "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key,
		"short key":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
		"empty salt":       "$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"padded salt":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"bad base64":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$!!!!",
		"extra field":      good + "$x",
		"too long":         good + strings.Repeat("A", maxEncoded),
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			ok, rehash, err := h.Verify(enc, "correct horse battery")
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want ErrMalformedHash", ok, rehash, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("rejection took %v: work was done", d)
			}
		})
	}
}

func TestDecoy(t *testing.T) {
	t.Parallel()

	t.Run("runs and caches one hash per params", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.Decoy("whatever the attacker typed")
		first, err := h.decoy()
		if err != nil {
			t.Fatal(err)
		}
		h.Decoy("another guess entirely")
		second, _ := h.decoy()
		if first != second {
			t.Fatal("decoy hash recomputed")
		}
		if !strings.Contains(first, "m=64,t=1,p=1") {
			t.Fatalf("decoy %q not made with the hasher's params", first)
		}
	})

	t.Run("bad params do not panic", func(t *testing.T) {
		t.Parallel()
		Hasher{}.Decoy("anything")
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name, pw, email, reason string
	}{
		{"accepted", "violet-kettle-orbit", "ana@example.com", ""},
		{"exactly twelve", "zq7!vk2#mw9p", "ana@example.com", ""},
		{"too short", "zq7!vk2#mw9", "ana@example.com", ReasonTooShort},
		{"short in runes, long in bytes", "ééééééééééé", "", ReasonTooShort},
		{"twelve runes accepted", "ééééééééééé7", "", ""},
		{"too long", strings.Repeat("x", MaxBytes+1), "", ReasonTooLong},
		{"max bytes accepted", strings.Repeat("kx", MaxBytes/2), "", ""},
		{"common", "password1234", "", ReasonCommon},
		{"common upper case", "QwertyUiop123", "", ReasonCommon},
		{"common year", "football2019", "", ReasonCommon},
		{"common walk", "1q2w3e4r5t6y", "", ReasonCommon},
		{"common repeat", "aaaaaaaaaaaa", "", ReasonCommon},
		{"common digits", "123456789012", "", ReasonCommon},
		{"equals email local", "anastasia.k.1987", "anastasia.k.1987@example.com", ReasonContainsEmail},
		{"contains email local", "xXAnastasiaXx-2024", "anastasia@example.com", ReasonContainsEmail},
		{"contains whole email", "bob@example.com!!", "bob@example.com", ReasonContainsEmail},
		{"tiny local part ignored", "a-long-passphrase", "a@example.com", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tc.pw, tc.email)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Validate = %v; want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("Validate = %v; want reason %q", err, tc.reason)
			}
		})
	}
}

func TestCommonList(t *testing.T) {
	t.Parallel()
	set := commonSet()
	if len(set) < 1000 {
		t.Fatalf("common list has %d entries; want at least 1000", len(set))
	}
	for pw := range set {
		if pw != strings.ToLower(pw) {
			t.Fatalf("entry %q is not lower case", pw)
		}
	}
}
