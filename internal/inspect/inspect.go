// Package inspect looks for attack signatures in the parts of an HTTP request
// that carry user input: SQL injection, cross-site scripting, OS command
// injection and path traversal.
//
// The detector is the OWASP Core Rule Set (CRS v4, embedded by
// github.com/corazawaf/coraza-coreruleset/v4) run by the Coraza v3 engine,
// not patterns of our own. CRS runs at paranoia level 1, in detection-only
// mode, with anomaly scoring, and only its request rules for the four classes
// are loaded; no response rule is loaded and no response phase is ever run:
//
//	REQUEST-930 application attack LFI  path_traversal (../ in any encoding,
//	                                    names of OS files such as /etc/passwd)
//	REQUEST-932 application attack RCE  cmdi (Unix and Windows shells,
//	                                    PowerShell, shell metacharacters
//	                                    followed by a command word)
//	REQUEST-941 application attack XSS  xss (libinjection XSS and CRS patterns)
//	REQUEST-942 application attack SQLi sqli (libinjection SQLi and CRS
//	                                    patterns)
//
// CRS is fed field by field rather than as a raw HTTP message: every field
// (the raw and the decoded path, each query key and value, the values of a
// fixed list of headers, each JSON key and string value) becomes one CRS
// argument, so every field gets the full argument rule set, whatever header or
// body it came from, and each match maps back to exactly one field. Within a
// field, the severities of the matching rules of one class add up to an
// anomaly score; the field is flagged for that class when the score reaches
// the CRS inbound threshold (5, one critical rule at paranoia level 1).
package inspect

import (
	"net/http"
	"sort"
)

// Classes of attack a Finding reports.
const (
	ClassSQLi          = "sqli"
	ClassXSS           = "xss"
	ClassCmdi          = "cmdi"
	ClassPathTraversal = "path_traversal"

	// ClassOverLimit says the input went past the inspection bounds (JSON
	// nesting deeper than MaxDepth, more than MaxStrings strings, more than
	// MaxQueryPairs query pairs or MaxHeaderValues header values): the rest
	// was not inspected, and the caller should refuse the request rather
	// than pass it on unread.
	ClassOverLimit = "over_limit"
)

// Inspection bounds. They cap the work one request can cause.
const (
	MaxDepth        = 32     // nesting of a JSON body
	MaxStrings      = 10_000 // JSON keys and string values in one body
	MaxQueryPairs   = 1_000  // key=value pairs in one query string
	MaxHeaderValues = 100    // inspected header values in one request
)

// Finding is one attack signature found in one place of a request. It never
// carries the matched text, which may be personal data or the payload itself.
type Finding struct {
	// Class is one of ClassSQLi, ClassXSS, ClassCmdi, ClassPathTraversal or
	// ClassOverLimit.
	Class string

	// Location is "path", "query:<name>", "header:<name>" or
	// "body:<JSON pointer>". A name or pointer segment that is longer than 64
	// bytes or holds anything but ASCII letters, digits, '_', '-' and '.' is
	// written as "*", so an attacker-chosen name never brings the payload, or
	// personal data, into logs.
	Location string
}

// Inspector checks requests against the rule set. It is safe for concurrent
// use; build one with New and share it.
type Inspector struct {
	engine *engine
}

// New loads the rule set. It fails only if the embedded rules do not parse,
// which is a build defect, not a runtime condition.
func New() (*Inspector, error) {
	e, err := newEngine()
	if err != nil {
		return nil, err
	}
	return &Inspector{engine: e}, nil
}

// Request inspects r and its body, which the caller has already read (and
// bounded in size); a body that is not JSON is not inspected past the first
// syntax error, because the JSON handlers refuse it anyway. It returns one
// Finding per class and location, sorted by location then class, or nil.
func (i *Inspector) Request(r *http.Request, body []byte) []Finding {
	c := collector{}
	c.path(r)
	c.query(r.URL.RawQuery)
	c.headers(r.Header)
	c.body(body)
	return i.engine.scan(c.fields, c.overLimit)
}

// Value returns the classes of attack found in s, sorted, or nil.
func (i *Inspector) Value(s string) []string {
	found := i.engine.scan([]field{{location: "value", text: s}}, nil)
	if len(found) == 0 {
		return nil
	}
	classes := make([]string, len(found))
	for n, f := range found {
		classes[n] = f.Class
	}
	sort.Strings(classes)
	return classes
}
