// Package confusable reduces an email address to a skeleton under which
// addresses a person would read as the same collide: "pаypal" with a
// Cyrillic "а" and "paypal", "ｐaypal" and "paypal", "rnicrosoft" and
// "microsoft". Sign-up refuses an address whose skeleton is taken, so an
// attacker cannot register a look-alike of an existing account.
//
// The table covers the Latin look-alikes of the Cyrillic and Greek letters
// most used in spoofing, and a few multi-letter tricks, after Unicode
// compatibility folding; it is a deliberate subset of Unicode's
// confusables data, chosen for email addresses.
package confusable

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

var single = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h',
	'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i',
	'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ɡ': 'g', 'һ': 'h', 'ԛ': 'q',
	'ԝ': 'w', 'ү': 'y', 'ӏ': 'l',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v',
	'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w',
	// Latin look-alikes and digits
	'ı': 'i', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ħ': 'h', '0': 'o', '1': 'l',
	'|': 'l', 'ⅼ': 'l',
}

var multi = strings.NewReplacer("rn", "m", "i", "l")

var fold = cases.Fold()

// Skeleton returns the skeleton of s: compatibility-folded, case-folded,
// stripped of combining marks and separators that change nothing to the
// eye, with look-alike letters mapped to one Latin letter.
func Skeleton(s string) string {
	s = fold.String(norm.NFKD.String(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
			continue
		case r == '.' || r == '-' || r == '_':
			continue
		}
		if m, ok := single[r]; ok {
			r = m
		}
		b.WriteRune(r)
	}
	return multi.Replace(b.String())
}
