package inspect

import (
	"strings"

	libinjection "github.com/corazawaf/libinjection-go"
)

// xss reports cross-site scripting in one form of a value. libinjection's
// HTML5 tokenizer comes first; it knows a fixed list of dangerous tags,
// attributes and event names and judges URLs only in attributes it knows.
// Three small structural checks cover what that leaves out, each aimed at
// what a script needs in order to run, not at any one payload:
//
//   - eventHandler: markup that gives a tag an event-handler attribute,
//     any "on" followed by letters, since browsers keep adding events
//     ("onpointerrawupdate") and an unknown name costs nothing to try.
//   - scriptURL: a javascript:, vbscript:, livescript: or data:text/html
//     URL where a browser would follow or load it.
//   - scriptCall: a call of one of the few JavaScript functions that run
//     a string as code or open a dialog (eval, alert, confirm, prompt),
//     which is how a payload that lands in a script, not in markup, runs.
//   - foreignMarkup: elements, comments and declarations that formatted
//     text has no use for ("</title>", "<form>", "<!--", "<xsl:...>").
//
// Each check needs a byte that text without it cannot have ('<', ':', '('
// or '`'), so a bare word never reaches any of them; TestShortcuts and
// FuzzShortcuts hold detect to that.
func xss(s string) bool {
	if strings.ContainsAny(s, "<=") && libinjection.IsXSS(s) {
		return true
	}
	return eventHandler(s) || scriptURL(s) || scriptCall(s) || foreignMarkup(s)
}

// eventHandler reports a start tag with an event-handler attribute. It
// reads tags the way an HTML5 parser does (attribute names end at a blank,
// '/', '>' or '='; unquoted values at a blank or '>'; a quoted value at its
// closing quote) and a second time blind to quotes, the way a value reads
// once a sanitiser or a second parser drops or mismatches them
// ("<x foo='><img src=x onerror=alert(1)//'>"). Both passes are linear in
// the length of s.
func eventHandler(s string) bool {
	if strings.IndexByte(s, '<') < 0 {
		return false
	}
	return onAttribute(s, true) || onAttribute(s, false)
}

// onAttribute is one pass of eventHandler; quotes tells whether quoted
// attribute values are honoured.
func onAttribute(s string, quotes bool) bool {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return false
		}
		i += j + 1
		if i >= len(s) || !isASCIILetter(s[i]) {
			continue // "<3", "a < b": not a tag
		}
		for i < len(s) && !isTagSpace(s[i]) && s[i] != '/' && s[i] != '>' {
			i++ // tag name
		}
		for i < len(s) && s[i] != '>' {
			if isTagSpace(s[i]) || s[i] == '/' {
				i++
				continue
			}
			start := i
			for i < len(s) && !isTagSpace(s[i]) && s[i] != '/' && s[i] != '>' &&
				(s[i] != '=' || i == start) {
				i++
			}
			name := s[start:i]
			for i < len(s) && isTagSpace(s[i]) {
				i++
			}
			if i == len(s) || s[i] != '=' {
				continue
			}
			if eventName(name) {
				return true
			}
			i++
			for i < len(s) && isTagSpace(s[i]) {
				i++
			}
			if quotes && i < len(s) && (s[i] == '"' || s[i] == '\'') {
				k := strings.IndexByte(s[i+1:], s[i])
				if k < 0 {
					return false // the rest of s is the value
				}
				i += k + 2
				continue
			}
			for i < len(s) && !isTagSpace(s[i]) && s[i] != '>' {
				i++
			}
		}
	}
	return false
}

// eventName reports an attribute name made of "on" and at least three
// ASCII letters ("oncut" is the shortest event), in any case, with or
// without an XML namespace prefix ("x:ontimer").
func eventName(name string) bool {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	if len(name) < 5 || name[0]|0x20 != 'o' || name[1]|0x20 != 'n' {
		return false
	}
	for i := 2; i < len(name); i++ {
		if !isASCIILetter(name[i]) {
			return false
		}
	}
	return true
}

// isWordChar reports an ASCII letter, digit or underscore.
func isWordChar(c byte) bool {
	return isASCIILetter(c) || c >= '0' && c <= '9' || c == '_'
}

func isASCIILetter(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z'
}

// isTagSpace reports the bytes HTML5 treats as blanks inside a tag.
func isTagSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// scriptURL reports a URL with a scheme that runs script: javascript:,
// vbscript:, livescript:, or data: with an HTML or SVG document. The scheme
// counts at the start of the value (where an app puts a link the user gave
// into an href) or after any byte that is not a letter or a digit (a quote
// or '=' in markup or script, another scheme in "feed:javascript:").
// Browsers drop tabs and line breaks inside a URL and ignore case, so
// "jAva&#x09;script:" counts too. Prose such as "JavaScript: The Good
// Parts" does not: a blank right after the colon is how text, not a URL,
// goes on.
func scriptURL(s string) bool {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], ':')
		if j < 0 {
			return false
		}
		i += j + 1
		if i == len(s) || isTagSpace(s[i]) {
			continue
		}
		switch schemeBefore(s, i-1) {
		case "javascript", "vbscript", "livescript":
			return true
		case "data":
			if dataDocument(s[i:]) {
				return true
			}
		}
	}
	return false
}

// maxScheme bounds how far schemeBefore looks back from a colon: the
// longest scheme it knows with a few tabs or line breaks in it. It keeps
// scriptURL linear in the length of s.
const maxScheme = 24

// schemeBefore returns, lower-cased and without tabs and line breaks, the
// word of letters that ends at s[colon] and starts at the beginning of s
// or after a byte that is neither a letter nor a digit, or "" if there is
// none or it is longer than the schemes scriptURL knows.
func schemeBefore(s string, colon int) string {
	var buf [maxScheme]byte
	n := 0
	i := colon - 1
	for ; i >= 0 && colon-i <= maxScheme; i-- {
		if c := s[i]; isASCIILetter(c) {
			buf[n] = c | 0x20
			n++
		} else if c != '\t' && c != '\n' && c != '\r' {
			break
		}
	}
	if n == 0 || (i >= 0 && (colon-i > maxScheme || isWordChar(s[i]))) {
		return ""
	}
	word := buf[:n]
	for l, r := 0, n-1; l < r; l, r = l+1, r-1 {
		word[l], word[r] = word[r], word[l]
	}
	return string(word)
}

// dataDocument reports whether a data: URL, from after its colon, holds an
// HTML or SVG document, which browsers render and run the scripts of.
func dataDocument(rest string) bool {
	rest = strings.ToLower(strings.TrimLeft(rest, " \t\n\r"))
	return strings.HasPrefix(rest, "text/html") ||
		strings.HasPrefix(rest, "image/svg+xml") ||
		strings.HasPrefix(rest, "application/xhtml+xml")
}

// scriptCall reports a call of a JavaScript function that runs a string
// as code (eval) or that payloads call to prove they ran (alert, confirm,
// prompt): the name, as a word of its own or a property ("top.alert"),
// right before '(' or a template literal's '`' (alert`1`). A blank between
// name and bracket, valid JavaScript but how prose writes "set an alert
// (email)", does not count.
func scriptCall(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c != '(' && c != '`') || i < 4 {
			continue
		}
		n := i
		for n > 0 && i-n < 8 && isASCIILetter(s[n-1]) {
			n--
		}
		if n > 0 && (isWordChar(s[n-1]) || s[n-1] == '$') {
			continue
		}
		switch strings.ToLower(s[n:i]) {
		case "alert", "confirm", "prompt", "eval":
			if !pluralMarker(s[i:]) {
				return true
			}
		}
	}
	return false
}

// pluralMarker reports English's optional plural, "(s)" or "(es)", at the
// start of s: "set price alert(s)" and "writing prompt(s)" are prose, and
// a call whose whole argument is that would do nothing an attacker wants.
func pluralMarker(s string) bool {
	return strings.HasPrefix(s, "(s)") || strings.HasPrefix(s, "(es)")
}
