package pii

import (
	"unicode"
	"unicode/utf8"
)

const (
	minCardDigits = 13
	maxCardDigits = 19
)

// LooksLikeCardNumber reports whether s contains something shaped like a
// payment card number: a run of 13 to 19 digits, optionally split into
// groups by single spaces or hyphens, that passes the Luhn check. It is
// meant to be run over whole request bodies, so it errs towards refusing;
// to keep false positives down, a run glued to a letter, digit or
// underscore, or joined to one by "-" or "." (as in "ORD-4111...",
// UUIDs, or decimals like 0.3000...4), or following a "+" (an
// international phone number), is not counted.
func LooksLikeCardNumber(s string) bool {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		end, digits := scanDigitRun(s, i)
		if digits >= minCardDigits && digits <= maxCardDigits &&
			!joinedBefore(s, i) && !joinedAfter(s, end) && luhn(s[i:end]) {
			return true
		}
		i = end
	}
	return false
}

// scanDigitRun returns the end of the digit run starting at s[start] and
// the number of digits in it, crossing single spaces and hyphens that sit
// between two digits.
func scanDigitRun(s string, start int) (end, digits int) {
	end = start
	for i := start; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			digits++
			end = i + 1
		case (s[i] == ' ' || s[i] == '-') && i+1 < len(s) && isDigit(s[i+1]):
		default:
			return end, digits
		}
	}
	return end, digits
}

func joinedBefore(s string, i int) bool {
	r, n := utf8.DecodeLastRuneInString(s[:i])
	if n == 0 {
		return false
	}
	// A leading "+" makes an international phone number, which can be
	// as long as a card number and pass Luhn by chance.
	if isWordRune(r) || r == '+' {
		return true
	}
	if r != '-' && r != '.' {
		return false
	}
	r, _ = utf8.DecodeLastRuneInString(s[:i-n])
	return isWordRune(r)
}

func joinedAfter(s string, end int) bool {
	r, n := utf8.DecodeRuneInString(s[end:])
	if n == 0 {
		return false
	}
	if isWordRune(r) {
		return true
	}
	if r != '-' && r != '.' {
		return false
	}
	r, _ = utf8.DecodeRuneInString(s[end+n:])
	return isWordRune(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// luhn runs the Luhn check over the digits of s, ignoring separators.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		if !isDigit(s[i]) {
			continue
		}
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
