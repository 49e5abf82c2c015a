// Package confusable reduces an email address to a skeleton under which
// addresses a person would read as the same collide: "pаypal" with a
// Cyrillic "а" and "paypal", "ｐaypal" and "paypal", "rnicrosoft" and
// "microsoft", "acme‐coffee" with a Unicode hyphen and "acme-coffee".
// Sign-up refuses an address whose skeleton is taken, so an attacker
// cannot register a look-alike of an existing account.
//
// The letters come from Unicode's confusables data (UTS #39, through
// github.com/mtibben/confusables) after compatibility and case folding;
// on top of it, separators that readers skip ('.', '_' and every dash)
// are dropped and a few Latin letters with strokes, which UTS #39 keeps
// apart, are folded to their base letter.
package confusable

import (
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Version names the skeleton algorithm. Stored skeletons computed by an
// earlier version are recomputed (auth.RefreshSkeletons) so that new
// sign-ups are compared like with like.
const Version = 2

// strokes folds Latin letters that UTS #39 treats as distinct but that
// read as their base letter in an address.
var strokes = map[rune]rune{
	'ı': 'i', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ħ': 'h', 'ŧ': 't', 'ƀ': 'b',
}

// multi makes pairs that read alike collide whichever way UTS #39 maps
// them: "rn" and "m", "i" and "l", "0" and "o".
var multi = strings.NewReplacer("rn", "m", "i", "l", "0", "o")

var fold = cases.Fold()

// Skeleton returns the skeleton of s: compatibility- and case-folded,
// stripped of combining marks and invisible format characters, mapped
// through Unicode's confusables, folded again (the mapping may yield
// capitals), stripped of separators, with look-alike letters and pairs
// made equal.
func Skeleton(s string) string {
	s = fold.String(norm.NFKD.String(s))
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = fold.String(confusables.Skeleton(s))
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '.' || r == '_' || r == '-' || r == '\u2212',
			unicode.Is(unicode.Pd, r),
			unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
			return -1
		}
		if m, ok := strokes[r]; ok {
			return m
		}
		return r
	}, s)
	return multi.Replace(s)
}
