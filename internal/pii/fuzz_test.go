package pii_test

import (
	"testing"
	"unicode/utf8"

	"github.com/rampart-dev/rampart/internal/pii"
)

func FuzzOpen(f *testing.F) {
	key := pii.GenerateKey("k1")
	ring, err := pii.NewKeyring(key)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := ring.Seal([]byte("maria@example.test"), []byte(aadA))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, []byte(aadA))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{0x01, 0xff, 'k'}, []byte("x"))
	f.Add([]byte{0x01, 2, 'k', '1'}, []byte(aadA))

	f.Fuzz(func(t *testing.T, data, aad []byte) {
		plaintext, err := ring.Open(data, aad)
		if err == nil && string(plaintext) != "maria@example.test" {
			t.Fatalf("Open accepted a forged value: %q", plaintext)
		}
		_, _ = pii.KeyID(data)
		_, _, _ = ring.Reseal(data, aad)
	})
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"", "maria.silva@example.test", "+55 (11) 98765-4321", "Maria Silva",
		"👩‍💻@🙂.🎉", "\xff\xfe@", "4111 1111 1111 1111", "e\u0301@a.b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMasks(t, s)
		_ = pii.LooksLikeCardNumber(s)
		once := pii.NormalizeEmail(s)
		if utf8.ValidString(s) && pii.NormalizeEmail(once) != once {
			t.Fatalf("NormalizeEmail is not idempotent on %q", s)
		}
	})
}
