package inspect

import (
	"html"
	"strings"
	"unicode/utf8"
)

// unescapeText undoes, after percent-decoding, the escapes of the places a
// value may be written into and read back from: HTML character references
// (numeric ones and all the named ones of HTML5, such as "&lpar;",
// "&colon;" and "&Tab;", with or without the closing ';' where browsers
// accept that), then the backslash escapes of JavaScript, JSON and CSS
// strings ("\x3c", "\u003c", "\u{3c}", "\"", "\'", "\\", "\/"), then
// form encoding's '+' for a blank. Each is what a browser, a script or a
// form decoder would hand on to the next layer, so a payload that is only
// dangerous once unescaped is seen as it will run. It returns s itself
// when there is nothing to undo.
func unescapeText(s string) string {
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	if strings.IndexByte(s, '\\') >= 0 {
		s = unescapeBackslashes(s)
	}
	if strings.IndexByte(s, '+') >= 0 {
		s = strings.ReplaceAll(s, "+", " ")
	}
	return s
}

// unescapeBackslashes decodes "\xHH", "\uHHHH", "\u{H...}" and a backslash
// before a quote, a backtick, a slash or another backslash. Any other
// backslash is kept as it is, so Windows paths and the written-out line
// breaks that the command check looks for stay intact.
func unescapeBackslashes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if r, n := backslashEscape(s[i:]); n > 0 {
			if r < utf8.RuneSelf {
				b.WriteByte(byte(r))
			} else {
				b.WriteRune(r)
			}
			i += n - 1
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// backslashEscape decodes the escape at the start of s, which begins with
// a backslash, and returns the rune and its length, or n = 0.
func backslashEscape(s string) (r rune, n int) {
	switch s[1] {
	case '"', '\'', '`', '/', '\\':
		return rune(s[1]), 2
	case 'x', 'X':
		if len(s) >= 4 {
			if v, ok := hexValue(s[2:4]); ok {
				return rune(v), 4
			}
		}
	case 'u', 'U':
		if len(s) >= 6 {
			if v, ok := hexValue(s[2:6]); ok {
				return rune(v), 6
			}
		}
		if len(s) >= 4 && s[2] == '{' {
			end := strings.IndexByte(s[3:min(len(s), 10)], '}')
			if end > 0 {
				if v, ok := hexValue(s[3 : 3+end]); ok && v <= utf8.MaxRune {
					return rune(v), end + 4
				}
			}
		}
	}
	return 0, 0
}
