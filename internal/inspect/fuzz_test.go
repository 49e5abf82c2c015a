package inspect

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	libinjection "github.com/corazawaf/libinjection-go"
)

// locationShape is every Location a Finding may carry: a part, and a
// name or JSON pointer made only of safe bytes.
var locationShape = regexp.MustCompile(`^(path|query|header|body|` +
	`query:[A-Za-z0-9_.*-]*|header:[A-Za-z0-9_.*-]*|body:(/[A-Za-z0-9_.*-]*)*)$`)

var knownClasses = []string{
	ClassSQLi, ClassXSS, ClassCmdi, ClassPathTraversal, ClassOverLimit,
}

// FuzzRequest sends arbitrary paths, queries, header values and bodies.
// Inspection must never panic, and every Finding must name a known class
// and a well-formed location that carries no attacker text.
func FuzzRequest(f *testing.F) {
	f.Add("/api/v1/items", "q=shoes&page=2", "Mozilla/5.0",
		[]byte(`{"a":["b",{"c":"d"}]}`))
	f.Add("/files/%2e%2e%2fetc", "q=%27%20OR%201=1--", "a=1; b=' OR 1=1--",
		[]byte(`{"x":`))
	f.Fuzz(func(t *testing.T, path, query, header string, body []byte) {
		in := setup(t)
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: path, RawQuery: query},
			Header: http.Header{
				"User-Agent": {header},
				"Cookie":     {header},
				"X-Note":     {header},
			},
		}
		for _, f := range in.Request(r, body) {
			if !slices.Contains(knownClasses, f.Class) {
				t.Errorf("unknown class %q", f.Class)
			}
			if !locationShape.MatchString(f.Location) {
				t.Errorf("malformed location %q", f.Location)
			}
		}
	})
}

// FuzzShortcuts holds detect, with its shortcuts for text that cannot be
// markup or a path, to the detectors run in full.
func FuzzShortcuts(f *testing.F) {
	for _, s := range shortcutSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := detect(s), detectInFull(s); got != want {
			t.Errorf("detect(%q) = %04b, detectors in full say %04b", s, got, want)
		}
	})
}

// TestShortcuts checks the same on the seeds and, when it is there, on every
// word and line of the shared attack corpus.
func TestShortcuts(t *testing.T) {
	t.Parallel()
	inputs := slices.Clone(shortcutSeeds)
	if dir, err := attacksDir(); err == nil {
		words := regexp.MustCompile(`[A-Za-z0-9_.-]+`)
		for _, list := range []string{"sqli", "xss", "cmdi", "path_traversal",
			"naughty_benign"} {
			for _, l := range readLines(t, filepath.Join(dir, list+".txt")) {
				inputs = append(inputs, l)
				for _, w := range words.FindAllString(l, -1) {
					inputs = append(inputs, w, strings.ToLower(w), "1"+w, w+"-1")
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range inputs {
		if seen[s] {
			continue
		}
		seen[s] = true
		if got, want := detect(s), detectInFull(s); got != want {
			t.Errorf("detect(%q) = %04b, detectors in full say %04b", s, got, want)
		}
	}
}

var shortcutSeeds = []string{
	"whoami", "WhoAmI", "id", "union", "select", "or", "true", "null",
	"1", "-1", "1e5", "0x2e", "a.b", "a..b", "a--b", "pg_sleep",
	"3f2b8c1e-7d4a-4f6b-9a2e-5c8d1e0f7a9b", "etc.passwd", "javascript",
	"onerror", "x onerror", "x onerror=alert(1)", "<script>", "a=b",
}

// detectInFull is detect without its shortcuts: every detector on every
// form of s. A UUID is the exception: it is never an attack by its shape
// (see isUUID), whatever a detector would make of it.
func detectInFull(s string) classSet {
	if isUUID(s) {
		return 0
	}
	decoded := decode(s)
	text := unescapeText(decoded)
	forms := []string{s, decoded, text, plainPunctuation(text)}
	var found classSet
	for _, form := range forms {
		if sqlInjection(form) {
			found |= sqliBit
		}
		if libinjection.IsXSS(form) || eventHandler(form) || scriptURL(form) ||
			scriptCall(form) || foreignMarkup(form) {
			found |= xssBit
		}
		if climbsOrNamesFile(pathForm(form)) {
			found |= pathTraversalBit
		}
		if commandInjection(form) {
			found |= cmdiBit
		}
	}
	return found
}
