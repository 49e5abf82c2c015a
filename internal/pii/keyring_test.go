package pii_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/internal/pii"
)

// setup returns a keyring whose only key is a fresh random one.
func setup(t *testing.T) *pii.Keyring {
	t.Helper()
	return newRing(t, pii.GenerateKey("k1"))
}

func newRing(t *testing.T, current pii.Key, older ...pii.Key) *pii.Keyring {
	t.Helper()
	ring, err := pii.NewKeyring(current, older...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return ring
}

func seal(t *testing.T, ring *pii.Keyring, plaintext, aad string) []byte {
	t.Helper()
	sealed, err := ring.Seal([]byte(plaintext), []byte(aad))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

const (
	aadA = "merchant_customers.email|7d0f7c52-0000-4000-8000-00000000000a"
	aadB = "merchant_customers.email|7d0f7c52-0000-4000-8000-00000000000b"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		for _, want := range []string{"maria.silva@example.test", "", "São Paulo 🏙"} {
			got, err := ring.Open(seal(t, ring, want, aadA), []byte(aadA))
			if err != nil || string(got) != want {
				t.Fatalf("Open = %q, %v; want %q", got, err, want)
			}
		}
	})

	t.Run("output follows the documented layout", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		sealed := seal(t, ring, "abc", aadA)
		header := []byte{0x01, 2, 'k', '1'}
		if !bytes.HasPrefix(sealed, header) || len(sealed) != len(header)+12+3+16 {
			t.Fatalf("sealed = %x; want header %x and length %d", sealed, header, len(header)+31)
		}
	})

	t.Run("same plaintext seals differently each time", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		if bytes.Equal(seal(t, ring, "x", aadA), seal(t, ring, "x", aadA)) {
			t.Fatal("two seals are identical; nonce is not fresh")
		}
	})

	t.Run("value copied to another row does not open", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		sealed := seal(t, ring, "maria@example.test", aadA)
		if _, err := ring.Open(sealed, []byte(aadB)); !errors.Is(err, pii.ErrDecrypt) {
			t.Fatalf("Open with another row's aad: err = %v; want ErrDecrypt", err)
		}
	})

	t.Run("value copied to another column does not open", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		sealed := seal(t, ring, "+55 11 98765-4321", "merchant_customers.phone|1")
		_, err := ring.Open(sealed, []byte("merchant_customers.email|1"))
		if !errors.Is(err, pii.ErrDecrypt) {
			t.Fatalf("Open with another column's aad: err = %v; want ErrDecrypt", err)
		}
	})

	t.Run("tampering with any byte is detected", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		sealed := seal(t, ring, "maria@example.test", aadA)
		for i := range sealed {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= 0x01
			got, err := ring.Open(tampered, []byte(aadA))
			if err == nil || got != nil {
				t.Fatalf("byte %d flipped: Open = %q, %v; want an error", i, got, err)
			}
		}
	})

	t.Run("ciphertext tampering reports ErrDecrypt", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		sealed := seal(t, ring, "maria@example.test", aadA)
		sealed[len(sealed)-20] ^= 0x80
		if _, err := ring.Open(sealed, []byte(aadA)); !errors.Is(err, pii.ErrDecrypt) {
			t.Fatalf("err = %v; want ErrDecrypt", err)
		}
	})

	t.Run("relabelling the key id does not open", func(t *testing.T) {
		t.Parallel()
		ring := newRing(t, pii.GenerateKey("k1"), pii.GenerateKey("k2"))
		sealed := seal(t, ring, "maria@example.test", aadA)
		sealed[3] = '2'
		if _, err := ring.Open(sealed, []byte(aadA)); !errors.Is(err, pii.ErrDecrypt) {
			t.Fatalf("err = %v; want ErrDecrypt", err)
		}
	})

	t.Run("unknown key id fails", func(t *testing.T) {
		t.Parallel()
		sealed := seal(t, setup(t), "maria@example.test", aadA)
		other := newRing(t, pii.GenerateKey("other"))
		if _, err := other.Open(sealed, []byte(aadA)); !errors.Is(err, pii.ErrUnknownKey) {
			t.Fatalf("err = %v; want ErrUnknownKey", err)
		}
	})

	t.Run("truncated or foreign values are malformed", func(t *testing.T) {
		t.Parallel()
		ring := setup(t)
		sealed := seal(t, ring, "x", aadA)
		for _, bad := range [][]byte{nil, {0x01}, sealed[:len(sealed)-1-16], {0x02, 2, 'k', '1'}} {
			if _, err := ring.Open(bad, []byte(aadA)); !errors.Is(err, pii.ErrMalformed) {
				t.Fatalf("Open(%x): err = %v; want ErrMalformed", bad, err)
			}
		}
	})
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := pii.GenerateKey("2025-01"), pii.GenerateKey("2026-01")
	oldRing := newRing(t, oldKey)
	rotated := newRing(t, newKey, oldKey)

	t.Run("new keyring opens values sealed under the old key", func(t *testing.T) {
		t.Parallel()
		sealed := seal(t, oldRing, "maria@example.test", aadA)
		got, err := rotated.Open(sealed, []byte(aadA))
		if err != nil || string(got) != "maria@example.test" {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})

	t.Run("KeyID tells what needs resealing", func(t *testing.T) {
		t.Parallel()
		id, err := pii.KeyID(seal(t, oldRing, "x", aadA))
		if err != nil || id != oldKey.ID || rotated.CurrentID() != newKey.ID {
			t.Fatalf("KeyID = %q, %v; CurrentID = %q", id, err, rotated.CurrentID())
		}
	})

	t.Run("Reseal moves old values to the current key", func(t *testing.T) {
		t.Parallel()
		resealed, changed, err := rotated.Reseal(seal(t, oldRing, "x", aadA), []byte(aadA))
		id, _ := pii.KeyID(resealed)
		if err != nil || !changed || id != newKey.ID {
			t.Fatalf("Reseal: changed = %v, id = %q, err = %v", changed, id, err)
		}
		got, err := newRing(t, newKey).Open(resealed, []byte(aadA))
		if err != nil || string(got) != "x" {
			t.Fatalf("Open resealed with the new key only = %q, %v", got, err)
		}
	})

	t.Run("Reseal leaves current values alone", func(t *testing.T) {
		t.Parallel()
		sealed := seal(t, rotated, "x", aadA)
		got, changed, err := rotated.Reseal(sealed, []byte(aadA))
		if err != nil || changed || !bytes.Equal(got, sealed) {
			t.Fatalf("Reseal: changed = %v, err = %v", changed, err)
		}
	})

	t.Run("Reseal refuses a value moved to another row", func(t *testing.T) {
		t.Parallel()
		_, changed, err := rotated.Reseal(seal(t, oldRing, "x", aadA), []byte(aadB))
		if !errors.Is(err, pii.ErrDecrypt) || changed {
			t.Fatalf("Reseal: changed = %v, err = %v; want ErrDecrypt", changed, err)
		}
	})

	t.Run("retired key no longer opens", func(t *testing.T) {
		t.Parallel()
		sealed := seal(t, oldRing, "x", aadA)
		_, err := newRing(t, newKey).Open(sealed, []byte(aadA))
		if !errors.Is(err, pii.ErrUnknownKey) {
			t.Fatalf("err = %v; want ErrUnknownKey", err)
		}
	})
}

func TestNewKeyring(t *testing.T) {
	t.Parallel()
	good := pii.GenerateKey("good")
	tests := []struct {
		name  string
		keys  []pii.Key
		valid bool
	}{
		{"valid ids", []pii.Key{pii.GenerateKey("a"), pii.GenerateKey("z_9-abcdefghijkl")}, true},
		{"short secret", []pii.Key{{ID: "a", Secret: make([]byte, 16)}}, false},
		{"empty id", []pii.Key{pii.GenerateKey("")}, false},
		{"upper-case id", []pii.Key{pii.GenerateKey("Key1")}, false},
		{"17-char id", []pii.Key{pii.GenerateKey(strings.Repeat("a", 17))}, false},
		{"id with colon", []pii.Key{pii.GenerateKey("a:b")}, false},
		{"duplicate ids", []pii.Key{good, pii.GenerateKey("good")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pii.NewKeyring(tt.keys[0], tt.keys[1:]...)
			if tt.valid != (err == nil) || err != nil && !errors.Is(err, pii.ErrInvalidKey) {
				t.Fatalf("err = %v; want valid = %v", err, tt.valid)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := pii.GenerateKey("k1"), pii.GenerateKey("k2")
	b64 := base64.StdEncoding.EncodeToString

	t.Run("first key is current", func(t *testing.T) {
		t.Parallel()
		keys, err := pii.ParseKeys(" k1:" + b64(k1.Secret) + " , k2:" + b64(k2.Secret))
		if err != nil || len(keys) != 2 || keys[0].ID != "k1" ||
			!bytes.Equal(keys[1].Secret, k2.Secret) {
			t.Fatalf("ParseKeys = %v, %v", keys, err)
		}
	})

	secret := b64(k1.Secret)
	bad := map[string]string{
		"empty spec":       "  ",
		"no id":            secret,
		"bad base64":       "k1:" + secret[:len(secret)-2] + "!!",
		"short secret":     "k1:" + secret[:24],
		"trailing comma":   "k1:" + secret + ",",
		"duplicate ids":    "k1:" + secret + ",k1:" + b64(k2.Secret),
		"upper-case id":    "K1:" + secret,
		"secret as the id": secret + ":" + secret,
	}
	for name, spec := range bad {
		t.Run("rejects "+name+" without echoing key material", func(t *testing.T) {
			t.Parallel()
			_, err := pii.ParseKeys(spec)
			if !errors.Is(err, pii.ErrInvalidKey) {
				t.Fatalf("err = %v; want ErrInvalidKey", err)
			}
			if strings.Contains(err.Error(), secret[:8]) {
				t.Fatalf("error leaks key material: %v", err)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	key := pii.GenerateKey("k1")

	t.Run("printing a key does not reveal its secret", func(t *testing.T) {
		t.Parallel()
		out := fmt.Sprintf("%v %+v %#v %s", key, key, key, key)
		if leaks(out, key.Secret) || !strings.Contains(out, "redacted") {
			t.Fatalf("printed key: %s", out)
		}
	})

	t.Run("printing a keyring or indexer reveals no key", func(t *testing.T) {
		t.Parallel()
		ix, err := pii.NewIndexer(key.Secret)
		if err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprintf("%v %+v %v", newRing(t, key), newRing(t, key), ix)
		if leaks(out, key.Secret) {
			t.Fatalf("printed: %s", out)
		}
	})
}

// leaks reports whether out shows secret in any common rendering.
func leaks(out string, secret []byte) bool {
	decimal := strings.Trim(fmt.Sprint(secret[:8]), "[]")
	return strings.Contains(out, decimal) ||
		strings.Contains(out, hex.EncodeToString(secret[:8])) ||
		strings.Contains(out, base64.StdEncoding.EncodeToString(secret)[:12])
}
