package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	hidden         = "***"
	phoneHidden    = "***-***-**"
	minPhoneDigits = 7
	maxTLDRunes    = 24
	maxPlaceRunes  = 64
)

// The masks below are computed from plaintext at write time and stored
// beside the sealed value, so the database can serve them without ever
// seeing plaintext. Each accepts any string, including invalid UTF-8, and
// returns valid UTF-8. Each returns "" for an input that is empty or only
// white space, so blank fields stay blank.

// MaskEmail masks an email address as "m***@e***.test": it reveals the
// first character of the local part and of the first domain label (each
// only if it is a letter or digit) and the last domain label when it is a
// plausible top-level domain (2 to 24 letters, digits or hyphens; "***"
// otherwise). The input is lower-cased first. A value without "@" is
// masked as "***".
func MaskEmail(s string) string {
	e := strings.ToLower(clean(s))
	if e == "" {
		return ""
	}
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return hidden
	}
	local, domain := e[:at], e[at+1:]
	label, _, _ := strings.Cut(domain, ".")
	return firstAlnum(local) + hidden + "@" + firstAlnum(label) + hidden + tld(domain)
}

// tld returns "." and the last label of domain when it looks like a real
// top-level domain, ".***" when it does not, and "" when there is no dot.
func tld(domain string) string {
	dot := strings.LastIndexByte(domain, '.')
	if dot < 0 {
		return ""
	}
	label := domain[dot+1:]
	n := utf8.RuneCountInString(label)
	if n < 2 || n > maxTLDRunes || strings.IndexFunc(label, notLabelRune) >= 0 {
		return "." + hidden
	}
	return "." + label
}

func notLabelRune(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
}

// MaskPhone masks a phone number with one fixed shape, "***-***-**89",
// whatever the number's length: only the last 2 digits are revealed, and
// none at all when the number has fewer than 7 digits ("***-***-****").
func MaskPhone(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	digits := strings.TrimPrefix(NormalizePhone(s), "+")
	if len(digits) < minPhoneDigits {
		return phoneHidden + "**"
	}
	return phoneHidden + digits[len(digits)-2:]
}

// MaskName masks a person's name as initials, "Maria da Silva" becoming
// "M. S.": at most two upper-cased letters are revealed, the first letter
// of the first and of the last word that contain a letter. A name with no
// letters at all is masked as "***".
func MaskName(s string) string {
	var initials []string
	for _, word := range strings.Fields(clean(s)) {
		if r, ok := firstLetter(word); ok {
			initials = append(initials, string(unicode.ToUpper(r))+".")
		}
	}
	switch len(initials) {
	case 0:
		if strings.TrimSpace(s) == "" {
			return ""
		}
		return hidden
	case 1:
		return initials[0]
	default:
		return initials[0] + " " + initials[len(initials)-1]
	}
}

// MaskAddress masks a postal address as "***, São Paulo, SP": street and
// zip code are never revealed (their presence shows as "***"), city and
// state are revealed with white space collapsed and each cut to 64
// characters. Empty parts are left out.
func MaskAddress(street, city, state, zip string) string {
	var parts []string
	if clean(street) != "" || clean(zip) != "" {
		parts = append(parts, hidden)
	}
	for _, place := range []string{city, state} {
		if p := truncateRunes(clean(place), maxPlaceRunes); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// clean makes s safe to show and to cut: valid UTF-8, NFKC, no control or
// invisible format characters, white space collapsed to single spaces.
func clean(s string) string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, ""))
	s = strings.Map(dropInvisible, s)
	return strings.Join(strings.Fields(s), " ")
}

func dropInvisible(r rune) rune {
	if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}

// firstAlnum returns the first character of s when it is a letter or a
// digit, and "" otherwise.
func firstAlnum(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return string(r)
	}
	return ""
}

func firstLetter(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return r, true
		}
	}
	return 0, false
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return strings.TrimSpace(s[:i])
		}
		n--
	}
	return s
}
