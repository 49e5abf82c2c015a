package cursor

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func setup(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCursor(t *testing.T) {
	t.Parallel()
	s := setup(t)
	p := Position{Time: time.Unix(1700000000, 123000).UTC(), ID: uuid.New()}

	t.Run("round trip", func(t *testing.T) {
		got, err := s.Decode("items:a", s.Encode("items:a", p))
		if err != nil || !got.Time.Equal(p.Time) || got.ID != p.ID {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("a cursor of another list is refused", func(t *testing.T) {
		if _, err := s.Decode("items:b", s.Encode("items:a", p)); err == nil {
			t.Fatal("cursor moved to another scope verified")
		}
	})

	t.Run("a forged cursor is refused", func(t *testing.T) {
		other, _ := NewSigner([]byte(strings.Repeat("x", 32)))
		if _, err := s.Decode("items:a", other.Encode("items:a", p)); err == nil {
			t.Fatal("cursor signed with another key verified")
		}
	})

	t.Run("garbage is refused", func(t *testing.T) {
		for _, c := range []string{"", "x", "====", strings.Repeat("A", 600)} {
			if _, err := s.Decode("items:a", c); err == nil {
				t.Fatalf("%q verified", c)
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	s := setup(f)
	f.Add(s.Encode("s", Position{ID: uuid.New()}))
	f.Add("")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, c string) {
		_, _ = s.Decode("s", c)
	})
}
