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

// maxFields is the most fields one request yields: the raw and decoded
// path, a key and a value per query pair, the header values and the body
// strings.
const maxFields = 2 + 2*MaxQueryPairs + MaxHeaderValues + MaxStrings

// field is one piece of user input and the location it is reported under.
type field struct {
	location string
	text     string
}

// collector gathers the fields of one request within the bounds.
type collector struct {
	fields    []field
	overLimit []Finding
}

func (c *collector) add(location, text string) {
	if text != "" {
		c.fields = append(c.fields, field{location: location, text: text})
	}
}

func (c *collector) over(location string) {
	c.overLimit = append(c.overLimit,
		Finding{Class: ClassOverLimit, Location: location})
}

// path adds the path as sent and as decoded, when they differ, so an
// encoded traversal is seen in both forms.
func (c *collector) path(r *http.Request) {
	raw := r.URL.EscapedPath()
	c.add("path", raw)
	if r.URL.Path != raw {
		c.add("path", r.URL.Path)
	}
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
		location := "query:" + safeName(k)
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
		location := "header:" + safeName(canonical)
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
				c.add(location, t)
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

// body walks a JSON body token by token and adds every object key and
// string value under its JSON pointer. It stops at the first syntax error,
// past MaxDepth levels of nesting or past MaxStrings strings.
func (c *collector) body(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	w := walker{c: c}
	for {
		tok, err := dec.Token()
		if err != nil || !w.step(tok) {
			return
		}
	}
}

// frame is one open object or array of a JSON body.
type frame struct {
	object  bool
	wantKey bool   // object: the next token is a key or '}'
	segment string // pointer segment of the current member or element
	index   int    // array: index of the current element
}

// walker tracks where in a JSON body the decoder is.
type walker struct {
	c       *collector
	stack   []frame
	strings int
}

// step handles one token and says whether to go on.
func (w *walker) step(tok json.Token) bool {
	if top := w.top(); top != nil && top.wantKey {
		key, ok := tok.(string)
		if !ok { // '}' of an object, empty or after its last member
			return w.pop()
		}
		top.wantKey = false
		top.segment = safeName(key)
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
	w.stack = append(w.stack, frame{object: object, wantKey: object, segment: "0"})
	return true
}

func (w *walker) pop() bool {
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
		top.segment = strconv.Itoa(top.index)
	}
}

func (w *walker) addString(s string) bool {
	if w.strings == MaxStrings {
		w.c.over("body")
		return false
	}
	w.strings++
	w.c.add("body:"+w.pointer(), s)
	return true
}

// pointer is the JSON pointer of the current member or element.
func (w *walker) pointer() string {
	var b strings.Builder
	for _, f := range w.stack {
		b.WriteByte('/')
		b.WriteString(f.segment)
	}
	return b.String()
}

// safeName returns name when it is a short run of ASCII letters, digits,
// '_', '-' and '.', and "*" otherwise, so that no attacker-chosen name
// carries a payload or personal data into a Finding. Being made only of
// these bytes, a kept name needs no JSON pointer escaping.
func safeName(name string) string {
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
