package pii_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-dev/rampart/internal/pii"
)

func TestMaskExamples(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, got, want string }{
		{"email", pii.MaskEmail("maria.silva@example.test"), "m***@e***.test"},
		{"email with subdomain", pii.MaskEmail("Ana@Mail.Example.co.uk"), "a***@m***.uk"},
		{"email with odd tld", pii.MaskEmail("a@b.mariadasilvasantosoliveira"), "a***@b***.***"},
		{"email without at", pii.MaskEmail("not an email"), "***"},
		{"email without dot", pii.MaskEmail("root@localhost"), "r***@l***"},
		{"email starting with a symbol", pii.MaskEmail("+tag@example.test"), "***@e***.test"},
		{"empty email", pii.MaskEmail(" "), ""},
		{"phone", pii.MaskPhone("+55 (11) 98765-4389"), "***-***-**89"},
		{"short phone", pii.MaskPhone("12-34"), "***-***-****"},
		{"phone without digits", pii.MaskPhone("n/a"), "***-***-****"},
		{"empty phone", pii.MaskPhone(""), ""},
		{"name", pii.MaskName("Maria Silva"), "M. S."},
		{"long name", pii.MaskName("maria da silva santos"), "M. S."},
		{"single name", pii.MaskName(" Émile "), "É."},
		{"name with emoji", pii.MaskName("🙂 ana 👩‍💻 (lima)"), "A. L."},
		{"name without letters", pii.MaskName("🙂 42"), "***"},
		{
			"address",
			pii.MaskAddress("Rua Augusta, 1500", "São  Paulo", "SP", "01304-001"),
			"***, São Paulo, SP",
		},
		{"address without street", pii.MaskAddress("", "Recife", "PE", ""), "Recife, PE"},
		{"empty address", pii.MaskAddress("", " ", "", ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Fatalf("got %q; want %q", tt.got, tt.want)
			}
		})
	}
}

// secretRunes never occur in the fixed parts of a mask ("*", "@", ".",
// "-", ",", " ") nor in the TLD used below, so finding a run of them in
// a mask means the mask leaked input.
var secretRunes = []rune("abcdfghijklmnopqruvwxyzABCDEFGHIJ0123456789éçãüßЖж漢字🙂")

func randomWord(r *rand.Rand, minLen, maxLen int) string {
	n := minLen + r.IntN(maxLen-minLen+1)
	var b strings.Builder
	for range n {
		b.WriteRune(secretRunes[r.IntN(len(secretRunes))])
	}
	return b.String()
}

func countAlnum(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func TestMaskProperties(t *testing.T) {
	t.Parallel()
	const rounds = 2000

	t.Run("email mask reveals one char of local part and label", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(1, 2))
		for range rounds {
			local, label := randomWord(r, 2, 40), randomWord(r, 2, 20)
			mask := pii.MaskEmail(local + "@" + label + ".test")
			head := strings.TrimSuffix(mask, ".test")
			if strings.Contains(mask, strings.ToLower(local)) || countAlnum(head) > 2 {
				t.Fatalf("MaskEmail(%q@%q.test) = %q reveals too much", local, label, mask)
			}
		}
	})

	t.Run("phone mask reveals two digits in a fixed shape", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(3, 4))
		for range rounds {
			phone := randomPhone(r)
			mask := pii.MaskPhone(phone)
			if countAlnum(mask) > 2 || len(mask) != len("***-***-**89") {
				t.Fatalf("MaskPhone(%q) = %q", phone, mask)
			}
		}
	})

	t.Run("name mask reveals at most two initials", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(5, 6))
		for range rounds {
			name := randomWord(r, 1, 12) + " " + randomWord(r, 2, 12) + " " + randomWord(r, 1, 12)
			if mask := pii.MaskName(name); countAlnum(mask) > 2 {
				t.Fatalf("MaskName(%q) = %q", name, mask)
			}
		}
	})

	t.Run("address mask never reveals street or zip", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(7, 8))
		for range rounds {
			street, zip := randomWord(r, 2, 40), randomWord(r, 2, 10)
			mask := pii.MaskAddress(street, "Recife", "PE", zip)
			if mask != "***, Recife, PE" {
				t.Fatalf("MaskAddress(%q, ..., %q) = %q", street, zip, mask)
			}
		}
	})

	t.Run("masks of arbitrary input are valid UTF-8 and bounded", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(9, 10))
		for range rounds {
			b := make([]byte, r.IntN(64))
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			checkMasks(t, string(b))
		}
	})
}

func randomPhone(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(2) == 0 {
		b.WriteString("+")
	}
	for i := range 7 + r.IntN(14) {
		if i > 0 && r.IntN(4) == 0 {
			b.WriteString([]string{" ", "-", "(", ")", "."}[r.IntN(5)])
		}
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

func TestMaskEdgeCases(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		"empty":           "",
		"invalid utf-8":   "\xff\xfe@\xc3.\x80",
		"only separators": "@@@...",
		"emoji":           "👩‍👩‍👧‍👦@🙂.🎉",
		"combining marks": "e\u0301\u0301\u0301@a\u0308.b\u0308c",
		"control chars":   "ma\x00ria\n@ex\tample.te\u200bst",
		"very long": strings.Repeat("maria.silva ", 100_000) + "@" +
			strings.Repeat("x.", 50_000),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkMasks(t, in)
		})
	}
}

// checkMasks runs every mask over s and checks the guarantees that hold
// for any input: valid UTF-8, at most 2 phone digits, at most 2 initials,
// and a mask no longer than its documented shape.
func checkMasks(t *testing.T, s string) {
	t.Helper()
	masks := []string{
		pii.MaskEmail(s), pii.MaskPhone(s), pii.MaskName(s),
		pii.MaskAddress(s, s, s, s),
	}
	for _, m := range masks {
		if !utf8.ValidString(m) {
			t.Fatalf("mask of %q is not valid UTF-8: %q", s, m)
		}
	}
	if countAlnum(masks[1]) > 2 || countAlnum(masks[2]) > 2 {
		t.Fatalf("phone or name mask of %q reveals too much: %q", s, masks[1:3])
	}
	if n := utf8.RuneCountInString(masks[0]); n > len("x***@x***.")+24 {
		t.Fatalf("email mask of %q is %d runes long", s, n)
	}
	if n := utf8.RuneCountInString(masks[3]); n > len("***, ")+64+len(", ")+64 {
		t.Fatalf("address mask of %q is %d runes long", s, n)
	}
}
