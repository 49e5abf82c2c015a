package pii_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rampart-dev/rampart/internal/pii"
)

func newIndexer(t *testing.T) *pii.Indexer {
	t.Helper()
	ix, err := pii.NewIndexer(pii.GenerateKey("ix").Secret)
	if err != nil {
		t.Fatalf("NewIndexer: %v", err)
	}
	return ix
}

func TestIndexer(t *testing.T) {
	t.Parallel()

	t.Run("email index ignores case, spacing and width", func(t *testing.T) {
		t.Parallel()
		ix := newIndexer(t)
		want := ix.Email("maria@example.test")
		variants := []string{
			"Maria@Example.TEST ", "\tMARIA@example.test", "ｍａｒｉａ@example.test",
		}
		for _, s := range variants {
			if !bytes.Equal(ix.Email(s), want) {
				t.Fatalf("Email(%q) differs from Email(%q)", s, "maria@example.test")
			}
		}
	})

	t.Run("phone index ignores formatting", func(t *testing.T) {
		t.Parallel()
		ix := newIndexer(t)
		if !bytes.Equal(ix.Phone("+55 (11) 98765-4321"), ix.Phone("+5511987654321")) {
			t.Fatal("formatted and bare phone numbers index differently")
		}
	})

	t.Run("different values index differently", func(t *testing.T) {
		t.Parallel()
		ix := newIndexer(t)
		if bytes.Equal(ix.Email("maria@example.test"), ix.Email("mario@example.test")) ||
			bytes.Equal(ix.Phone("+5511987654321"), ix.Phone("5511987654321")) {
			t.Fatal("distinct values share an index")
		}
	})

	t.Run("different keys index differently", func(t *testing.T) {
		t.Parallel()
		a, b := newIndexer(t), newIndexer(t)
		if bytes.Equal(a.Email("maria@example.test"), b.Email("maria@example.test")) {
			t.Fatal("two indexer keys give the same index")
		}
	})

	t.Run("email and phone are domain-separated", func(t *testing.T) {
		t.Parallel()
		ix := newIndexer(t)
		if bytes.Equal(ix.Email("5511987654321"), ix.Phone("5511987654321")) {
			t.Fatal("email and phone with the same text share an index")
		}
	})

	t.Run("empty values have no index", func(t *testing.T) {
		t.Parallel()
		ix := newIndexer(t)
		if ix.Email("  ") != nil || ix.Phone("n/a") != nil {
			t.Fatal("empty value got an index")
		}
	})

	t.Run("index key must be 32 bytes", func(t *testing.T) {
		t.Parallel()
		if _, err := pii.NewIndexer(make([]byte, 16)); !errors.Is(err, pii.ErrInvalidKey) {
			t.Fatalf("err = %v; want ErrInvalidKey", err)
		}
	})
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	emails := map[string]string{
		" Maria@Example.TEST\n": "maria@example.test",
		"ＭＡＲＩＡ@example.test":    "maria@example.test",
		"":                      "",
	}
	phones := map[string]string{
		"+55 (11) 98765-4321":  "+5511987654321",
		"(11) 98765-4321":      "11987654321",
		"tel: +1 415 555 2671": "+14155552671",
		"１２３":                  "123",
		"55+11":                "5511",
		"+":                    "",
	}

	t.Run("email", func(t *testing.T) {
		t.Parallel()
		for in, want := range emails {
			if got := pii.NormalizeEmail(in); got != want {
				t.Errorf("NormalizeEmail(%q) = %q; want %q", in, got, want)
			}
		}
	})

	t.Run("phone", func(t *testing.T) {
		t.Parallel()
		for in, want := range phones {
			if got := pii.NormalizePhone(in); got != want {
				t.Errorf("NormalizePhone(%q) = %q; want %q", in, got, want)
			}
		}
	})
}
