package pii_test

import (
	"math/rand/v2"
	"testing"

	"github.com/rampart-dev/rampart/internal/pii"
)

func TestLooksLikeCardNumber(t *testing.T) {
	t.Parallel()
	cards := map[string]string{
		"visa with spaces":       "4111 1111 1111 1111",
		"mastercard with dashes": "5500-0000-0000-0004",
		"visa bare":              "4111111111111111",
		"amex grouping":          "3782 822463 10005",
		"19-digit card":          "6011 0000 0000 0000 001",
		"inside a JSON body":     `{"note":"card 4111111111111111 exp 12/29"}`,
		"end of a sentence":      "My card is 4111 1111 1111 1111.",
		"after other digits":     "qty 2, card: 5500 0000 0000 0004",
	}
	notCards := map[string]string{
		"order id":                "ORD-2024-000123",
		"order id with 16 digits": "ORD-4111111111111111",
		"phone number":            "+55 11 98765-4321",
		"us phone number":         "+1 (415) 555-2671",
		"luhn-valid phone number": `{"phone":"+55 21 99876-5432"}`,
		"uuid":                    "abcdefab-cdef-abcd-9012-345678901234",
		"float":                   `{"total":0.30000000000000004}`,
		"too long":                "41111111111111111111111",
		"too short":               "4111 1111 111",
		"double space splits":     "4111  1111 1111 1111",
		"hex token":               "tok_4111111111111111",
		"empty":                   "",
	}
	for name, s := range cards {
		t.Run("detects "+name, func(t *testing.T) {
			t.Parallel()
			if !pii.LooksLikeCardNumber(s) {
				t.Fatalf("LooksLikeCardNumber(%q) = false", s)
			}
		})
	}
	for name, s := range notCards {
		t.Run("ignores "+name, func(t *testing.T) {
			t.Parallel()
			if pii.LooksLikeCardNumber(s) {
				t.Fatalf("LooksLikeCardNumber(%q) = true", s)
			}
		})
	}

	t.Run("ignores 16 digits failing Luhn", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(11, 12))
		for range 1000 {
			s := failingLuhn(r, 16)
			if pii.LooksLikeCardNumber(s) {
				t.Fatalf("LooksLikeCardNumber(%q) = true", s)
			}
		}
	})
}

// failingLuhn returns n random digits whose check digit is wrong.
func failingLuhn(r *rand.Rand, n int) string {
	digits := make([]byte, n)
	for i := range digits {
		digits[i] = byte('0' + r.IntN(10))
	}
	sum := 0
	for i := n - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (n-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if sum%10 == 0 {
		digits[n-1] = '0' + (digits[n-1]-'0'+1)%10
	}
	return string(digits)
}
