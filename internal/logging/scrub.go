package logging

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-dev/rampart/internal/pii"
)

// Markers that stand in for what was removed.
const (
	redacted    = "[redacted]"
	emailMark   = "[email]"
	cardMark    = "[card]"
	phoneMark   = "[phone]"
	jwtMark     = "[jwt]"
	tokenMark   = "[token]"
	refreshHead = "rt_" // token.RefreshPrefix, kept here to spare the import
)

const (
	minJWTSegment   = 10
	minRefreshBody  = 20
	minBearerToken  = 16
	minPhoneDigits  = 10
	maxPhoneDigits  = 15 // E.164
	minCardDigits   = 13
	maxCardDigits   = 19
	maxPhoneSepsRun = 2 // as in ") " between area code and number
)

// Byte classes, looked up in one table so the common case, a string with
// nothing to hide, costs one load per byte.
const (
	b64    uint8 = 1 << iota // base64url: letters, digits, '-', '_'
	local                    // email local part
	host                     // domain name
	tok68                    // RFC 6750 bearer token
	opener                   // may begin a secret: base64url, '@:+('
)

var class = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c)
		if alnum || c == '-' || c == '_' {
			t[i] |= b64
		}
		if alnum || strings.IndexByte("._%+-", c) >= 0 {
			t[i] |= local
		}
		if alnum || c == '-' || c == '.' {
			t[i] |= host
		}
		if alnum || strings.IndexByte("-._~+/=", c) >= 0 {
			t[i] |= tok68
		}
		if t[i]&b64 != 0 || strings.IndexByte("@:+(", c) >= 0 {
			t[i] |= opener
		}
	}
	return t
}()

// scrub returns s with email addresses, card numbers, phone numbers, JWTs,
// refresh and bearer tokens and URL passwords replaced by markers, and
// whether anything was replaced. When nothing was, it returns s itself and
// allocates nothing.
func scrub(s string) (string, bool) {
	sc := scrubber{s: s}
	for i := 0; i < len(s); {
		if class[s[i]]&opener == 0 {
			i++ // the common case, kept out of step
			continue
		}
		i = sc.step(i)
	}
	if sc.out == nil {
		return s, false
	}
	return string(append(sc.out, s[sc.done:]...)), true
}

type scrubber struct {
	s     string
	out   []byte // nil until the first replacement
	done  int    // s[:done] is in out, or was replaced
	floor int    // an email's local part may not reach below this
}

// replace puts marker in place of s[start:end] and returns end.
func (sc *scrubber) replace(start, end int, marker string) int {
	if sc.out == nil {
		sc.out = make([]byte, 0, len(sc.s))
	}
	sc.out = append(sc.out, sc.s[sc.done:start]...)
	sc.out = append(sc.out, marker...)
	sc.done, sc.floor = end, end
	return end
}

// step looks for a secret at s[i] and returns where to look next.
func (sc *scrubber) step(i int) int {
	s := sc.s
	switch c := s[i]; {
	case c == '@':
		return sc.email(i)
	case c == ':':
		return sc.userinfo(i)
	case c == '+' || c == '(':
		if !gluedBefore(s, i) {
			if end := sc.phone(i); end > 0 {
				return end
			}
		}
	case class[c]&b64 != 0 && (i == 0 || class[s[i-1]]&b64 == 0):
		return sc.word(i)
	}
	return i + 1
}

// word handles a base64url run that starts at s[i] and returns where the
// scan goes on: past the run, or past whatever replaced it.
func (sc *scrubber) word(i int) int {
	s := sc.s
	end := span(s, i, b64)
	if j := jwtEnd(s, i, end); j > 0 {
		return sc.replace(i, j, jwtMark)
	}
	if end-i >= len(refreshHead)+minRefreshBody &&
		strings.HasPrefix(s[i:], refreshHead) {
		return sc.replace(i, end, tokenMark)
	}
	if isDigit(s[i]) && !gluedBefore(s, i) {
		if j := cardEnd(s, i); j > 0 {
			return sc.replace(i, j, cardMark)
		}
		if j := sc.phone(i); j > 0 {
			return j
		}
	}
	if end-i == len("bearer") && strings.EqualFold(s[i:end], "bearer") {
		if j := sc.bearer(end); j > 0 {
			return j
		}
	}
	return end
}

// email replaces the address around the '@' at s[at], if there is one.
func (sc *scrubber) email(at int) int {
	s := sc.s
	start := at
	for start > sc.floor && class[s[start-1]]&local != 0 {
		start--
	}
	end := domainEnd(s, at+1)
	if start == at || end < 0 {
		return at + 1
	}
	return sc.replace(start, end, emailMark)
}

// domainEnd returns the end of a domain name of at least two labels that
// starts at s[i], or -1.
func domainEnd(s string, i int) int {
	end, dot, dotted := -1, false, false
	for j := i; j < len(s) && class[s[j]]&host != 0; j++ {
		switch s[j] {
		case '.':
			dot = end > 0
		case '-':
		default:
			dotted = dotted || dot
			end = j + 1
		}
	}
	if !dotted {
		return -1
	}
	return end
}

// userinfo hides the password of a URL such as postgres://user:pass@host,
// given the ':' of "://" at s[i].
func (sc *scrubber) userinfo(i int) int {
	s := sc.s
	if i == 0 || !isAlnum(s[i-1]) || !strings.HasPrefix(s[i:], "://") {
		return i + 1
	}
	start := i + len("://")
	colon, at := -1, -1
	for j := start; j < len(s) && !endsAuthority(s[j]); j++ {
		switch {
		case s[j] == '@':
			at = j // the last '@' ends the user info, as in net/url
		case s[j] == ':' && colon < 0:
			colon = j
		}
	}
	if colon < 0 || at < colon+2 {
		return start
	}
	// The user name goes through the scan like any text: net/url takes the
	// last '@', so "u@example.com:pw@host" has an address for a user name.
	// Nothing found there reaches past the colon, which no secret spans.
	for j := start; j < colon; {
		j = sc.step(j)
	}
	if sc.done > colon+1 {
		return sc.done
	}
	return sc.replace(colon+1, at, redacted)
}

func endsAuthority(c byte) bool {
	return c <= ' ' || strings.IndexByte("/?#\"'`<>\\", c) >= 0
}

// bearer hides the token after "Bearer " when it has no more specific
// shape; s[i] is the byte after the word "Bearer".
func (sc *scrubber) bearer(i int) int {
	s := sc.s
	if i >= len(s) || s[i] != ' ' {
		return -1
	}
	start := i + 1
	end := span(s, start, tok68)
	for end > start && s[end-1] == '.' {
		end-- // a full stop, not part of the token
	}
	if end-start < minBearerToken || end < len(s) && s[end] == '@' {
		return -1
	}
	if j := jwtEnd(s, start, span(s, start, b64)); j == end {
		return sc.replace(start, end, jwtMark)
	}
	return sc.replace(start, end, tokenMark)
}

// jwtEnd returns the end of three or more base64url segments of at least
// minJWTSegment bytes joined by dots, starting at s[i] whose first segment
// ends at first, or -1.
func jwtEnd(s string, i, first int) int {
	segs, end := 0, -1
	for j, e := i, first; e-j >= minJWTSegment; e = span(s, j, b64) {
		segs, end = segs+1, e
		if e >= len(s) || s[e] != '.' {
			break
		}
		j = e + 1
	}
	if segs < 3 {
		return -1
	}
	return end
}

// cardEnd returns the end of a Luhn-valid run of 13 to 19 digits, split by
// single spaces or hyphens, that starts at s[i], or -1.
func cardEnd(s string, i int) int {
	end, digits := i, 0
	for j := i; j < len(s) && digits <= maxCardDigits; j++ {
		if isDigit(s[j]) {
			digits, end = digits+1, j+1
			continue
		}
		sep := s[j] == ' ' || s[j] == '-'
		if !sep || j != end || j+1 == len(s) || !isDigit(s[j+1]) {
			break
		}
	}
	if digits < minCardDigits || digits > maxCardDigits ||
		gluedAfter(s, end) || !pii.LooksLikeCardNumber(s[i:end]) {
		return -1
	}
	return end
}

// phone replaces a phone number starting at s[i] (a digit, '+' or '(')
// and returns its end, or -1. A lone '.' between digits makes a decimal,
// not a phone number.
func (sc *scrubber) phone(i int) int {
	s := sc.s
	j := i
	if s[j] == '+' {
		j++
	}
	end, digits, dots, others := -1, 0, 0, 0
	seps, pendDots, pendOthers := 0, 0, 0
	for ; j < len(s) && digits <= maxPhoneDigits; j++ {
		c := s[j]
		if isDigit(c) {
			digits, end = digits+1, j+1
			dots, others = dots+pendDots, others+pendOthers
			seps, pendDots, pendOthers = 0, 0, 0
			continue
		}
		if seps == maxPhoneSepsRun || strings.IndexByte(" -.()", c) < 0 {
			break
		}
		seps++
		if c == '.' {
			pendDots++
		} else if digits > 0 {
			pendOthers++
		}
	}
	decimal := dots == 1 && others == 0 && s[i] != '+'
	// Dotted quads are IPv4 addresses, and digits after a colon a port
	// ("127.0.0.1:5432 (127.0.0.1)" in a driver error).
	ipv4 := dots == 3 && others == 0
	port := i > 0 && s[i-1] == ':'
	if digits < minPhoneDigits || digits > maxPhoneDigits || decimal ||
		ipv4 || port || gluedAfter(s, end) {
		return -1
	}
	if s[i] == '(' && strings.IndexByte(s[i:end], ')') < 0 {
		i++ // keep an opening parenthesis that is not the area code's
	}
	return sc.replace(i, end, phoneMark)
}

// span returns the end of the run of bytes of class cl starting at s[i].
func span(s string, i int, cl uint8) int {
	for i < len(s) && class[s[i]]&cl != 0 {
		i++
	}
	return i
}

// gluedBefore reports whether s[i] continues a word: it follows a letter,
// digit or underscore, or a '.' or '-' that follows one, as in "v1.2" or
// "ORD-4111...".
func gluedBefore(s string, i int) bool {
	r, n := utf8.DecodeLastRuneInString(s[:i])
	if n == 0 || isWordRune(r) {
		return n > 0
	}
	if r != '.' && r != '-' {
		return false
	}
	r, _ = utf8.DecodeLastRuneInString(s[:i-n])
	return isWordRune(r)
}

// gluedAfter is gluedBefore for the byte at s[end]; an '@' (the number is
// an email's local part) or ':' and a digit (a clock time) glue too.
func gluedAfter(s string, end int) bool {
	r, n := utf8.DecodeRuneInString(s[end:])
	switch {
	case n == 0:
		return false
	case isWordRune(r) || r == '@':
		return true
	case r != '.' && r != '-' && r != ':':
		return false
	}
	next, _ := utf8.DecodeRuneInString(s[end+n:])
	if r == ':' {
		return next >= '0' && next <= '9'
	}
	return isWordRune(next)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
