package inspect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// field is one piece of user input and the location it is reported under.
type field struct {
	location string
	text     string

	// percentEncoded says text is as sent in a place that percent-encodes
	// what it carries (the path, a Referer, a cookie).
	percentEncoded bool
}

// collector gathers the fields of one request within the bounds.
type collector struct {
	fields    []field
	overLimit []Finding
}

func (c *collector) add(location, text string) {
	c.addField(field{location: location, text: text})
}

func (c *collector) addField(f field) {
	if c.fields == nil {
		c.fields = make([]field, 0, 16)
	}
	if f.text != "" {
		c.fields = append(c.fields, f)
	}
}

func (c *collector) over(location string) {
	c.overLimit = append(c.overLimit,
		Finding{Class: ClassOverLimit, Location: location})
}

// path adds the path as sent; the detectors see it decoded too.
func (c *collector) path(r *http.Request) {
	c.addField(field{location: "path", text: r.URL.EscapedPath(),
		percentEncoded: true})
}

// query adds every key and value of a raw query string. It splits the
// string itself because url.ParseQuery drops a pair whose escapes are
// malformed, which would let such a pair pass unread; a part that does not
// decode is inspected as sent.
func (c *collector) query(raw string) {
	for pairs := 0; raw != ""; {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if pairs == MaxQueryPairs {
			c.over("query")
			return
		}
		pairs++

		k, v, _ := strings.Cut(pair, "=")
		k, v = unescape(k), unescape(v)
		location := "query:" + SafeName(k)
		c.add(location, k)
		c.add(location, v)
	}
}

func unescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// headers adds the values of the headers that carry user input: User-Agent,
// Referer, X-Forwarded-For, every other X- header, and each cookie name and
// value. Names are visited in sorted order so the bound cuts the same values
// every time.
func (c *collector) headers(h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		if inspectedHeader(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)

	budget := MaxHeaderValues
	for _, name := range names {
		canonical := http.CanonicalHeaderKey(name)
		location := "header:" + SafeName(canonical)
		for _, v := range h[name] {
			var texts []string
			if canonical == "Cookie" {
				texts = cookieParts(v)
			} else {
				texts = []string{v}
			}
			for _, t := range texts {
				if budget == 0 {
					c.over("header")
					return
				}
				budget--
				c.addField(field{location: location, text: t,
					percentEncoded: canonical == "Cookie" || canonical == "Referer"})
			}
		}
	}
}

func inspectedHeader(name string) bool {
	if len(name) > 2 && (name[0] == 'X' || name[0] == 'x') && name[1] == '-' {
		return true
	}
	return strings.EqualFold(name, "User-Agent") ||
		strings.EqualFold(name, "Referer") ||
		strings.EqualFold(name, "Cookie")
}

// cookieParts splits a Cookie header into names and values by hand:
// net/http drops a cookie whose value has a space or a quote, which is
// exactly what a payload has.
func cookieParts(header string) []string {
	var parts []string
	for _, pair := range strings.Split(header, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
		parts = append(parts, name, value)
	}
	return parts
}

// body walks a JSON body and adds every object key and string value under
// its JSON pointer. It stops past MaxDepth levels of nesting, past
// MaxStrings strings, or at the first syntax error: strings before the
// error are inspected, the rest is not, because the JSON handlers refuse
// such a body anyway. A valid body is tokenised by tokens, which is several
// times faster than json.Decoder; an invalid one goes through json.Decoder
// to find where it breaks. Duplicate keys are all inspected.
func (c *collector) body(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	w := walker{c: c}
	if json.Valid(b) {
		tokens(b, w.step)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil || !w.step(tok) {
			return
		}
	}
}

// tokens splits a document that json.Valid accepted into the tokens
// json.Decoder.Token would return (numbers, booleans and null all come as
// nil: the walker needs only their place) and hands each to yield until it
// returns false.
func tokens(b []byte, yield func(json.Token) bool) {
	for i := 0; i < len(b); {
		var tok json.Token
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
			continue
		case '{', '}', '[', ']':
			tok = json.Delim(c)
			i++
		case '"':
			end := stringEnd(b, i)
			tok = jsonString(b[i:end])
			i = end
		default:
			for i < len(b) && strings.IndexByte(" \t\n\r,:{}[]", b[i]) < 0 {
				i++
			}
		}
		if !yield(tok) {
			return
		}
	}
}

// stringEnd returns the index just past the string literal that starts at
// b[i], in a valid document.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// jsonString decodes a string literal, quotes included, of a valid
// document.
func jsonString(lit []byte) string {
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1])
	}
	var s string
	_ = json.Unmarshal(lit, &s) // valid by json.Valid, so it decodes
	return s
}

// frame is one open object or array of a JSON body.
type frame struct {
	object  bool
	wantKey bool // object: the next token is a key or '}'
	index   int  // array: index of the current element
	mark    int  // length of the walker's location before this level
}

// walker tracks where in a JSON body the tokens are. Its location buffer
// holds "body:" and the JSON pointer of the current member or element, so
// each string costs one copy of it.
type walker struct {
	c        *collector
	stack    []frame
	location []byte
	strings  int
}

// step handles one token and says whether to go on.
func (w *walker) step(tok json.Token) bool {
	if w.location == nil {
		w.location = append(make([]byte, 0, 64), "body:"...)
	}
	if top := w.top(); top != nil && top.wantKey {
		key, ok := tok.(string)
		if !ok { // '}' of an object, empty or after its last member
			return w.pop()
		}
		top.wantKey = false
		w.location = append(append(w.location[:top.mark], '/'), SafeName(key)...)
		return w.addString(key)
	}

	switch t := tok.(type) {
	case json.Delim:
		if t == '}' || t == ']' {
			return w.pop()
		}
		return w.push(t == '{')
	case string:
		if !w.addString(t) {
			return false
		}
	}
	w.advance()
	return true
}

func (w *walker) top() *frame {
	if len(w.stack) == 0 {
		return nil
	}
	return &w.stack[len(w.stack)-1]
}

func (w *walker) push(object bool) bool {
	if len(w.stack) == MaxDepth {
		w.c.over("body")
		return false
	}
	w.stack = append(w.stack, frame{object: object, wantKey: object,
		mark: len(w.location)})
	if !object {
		w.location = append(w.location, "/0"...)
	}
	return true
}

func (w *walker) pop() bool {
	top := w.top()
	w.location = w.location[:top.mark]
	w.stack = w.stack[:len(w.stack)-1]
	w.advance()
	return true
}

// advance moves the innermost container past the value just read.
func (w *walker) advance() {
	top := w.top()
	switch {
	case top == nil:
	case top.object:
		top.wantKey = true
	default:
		top.index++
		w.location = append(w.location[:top.mark], '/')
		w.location = strconv.AppendInt(w.location, int64(top.index), 10)
	}
}

func (w *walker) addString(s string) bool {
	if w.strings == MaxStrings {
		w.c.over("body")
		return false
	}
	w.strings++
	w.c.add(string(w.location), s)
	return true
}

// SafeName returns name when it is a short run of ASCII letters, digits,
// '_', '-' and '.', and "*" otherwise, so that no attacker-chosen name
// carries a payload or personal data into a Finding. Being made only of
// these bytes, a kept name needs no JSON pointer escaping.
func SafeName(name string) string {
	if len(name) > 64 {
		return "*"
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' ||
			b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.'
		if !ok {
			return "*"
		}
	}
	return name
}
