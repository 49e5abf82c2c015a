package inspect

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// minDetection is the share of each attack corpus that must be flagged
// with its own class, in a query value and in a JSON string alike. The
// floors sit a little under what was measured on the development half,
// the same in query and body: sqli 84.5% (533 of 631), xss 93.8% (377 of
// 402), cmdi 93.5% (230 of 246), path_traversal 99.7% (392 of 393). Most
// misses are not attacks on their own and are left on purpose: notes and
// fragments ("# from wapiti", "-->", "or", "delete", "ls"), a lone "<",
// formatting markup a description may carry ("<div id=...><span ...>"),
// JavaScript statements that are lines of a longer payload ("});"),
// whole SQL statements with no separator to get into a query ("select
// @@version"), the three-token tautologies libinjection whitelists
// (" or true", "||6") and scripts that reach a sink without calling it by
// name ("a=alert,a(1)"). Payloads whose dashes and quotes a word processor
// made typographic ("' or 1=1 –") are caught in their ASCII form (see
// plainPunctuation).
var minDetection = map[string]float64{
	ClassSQLi:          0.83,
	ClassXSS:           0.92,
	ClassCmdi:          0.91,
	ClassPathTraversal: 0.98,
}

// maxFalsePositives bounds the share of benign lines flagged with any
// class, per list. Measured: none of the 118 lines of naughty_benign.txt;
// one of the 151 marketplace strings of testdata/benign.txt (0.7%),
// "5 < 10 and 10 > 5", which libinjection calls SQL on purpose (its
// fingerprint "1&1" with a comparison, the shape of "17<18 AND 1=1").
var maxFalsePositives = map[string]float64{
	"naughty_benign.txt":  0.01,
	"testdata/benign.txt": 0.01,
}

// TestCorpusDetection feeds every line of each attack list to the inspector
// as an attacker would send it: as a search query value and as a string in
// a JSON body.
func TestCorpusDetection(t *testing.T) {
	t.Parallel()
	in := setup(t)
	dir := corpusDir(t)

	classes := slices.Sorted(maps.Keys(minDetection))
	rows := make([]string, len(classes))
	t.Cleanup(func() {
		t.Logf("same-class detection per corpus\n"+
			"%-15s %6s %16s %16s %6s\n%s", "class", "lines", "query",
			"body", "floor", strings.Join(rows, "\n"))
	})
	for n, class := range classes {
		floor := minDetection[class]
		t.Run(class, func(t *testing.T) {
			t.Parallel()
			lines := readLines(t, filepath.Join(dir, class+".txt"))
			var inQuery, inBody int
			for _, l := range lines {
				if slices.ContainsFunc(in.Request(queryRequest(l), nil), isClass(class)) {
					inQuery++
				}
				r, body := bodyRequest(t, l)
				if slices.ContainsFunc(in.Request(r, body), isClass(class)) {
					inBody++
				}
			}
			q := rate(inQuery, len(lines))
			b := rate(inBody, len(lines))
			rows[n] = fmt.Sprintf("%-15s %6d %6d (%5.1f%%) %6d (%5.1f%%) %5.0f%%",
				class, len(lines), inQuery, 100*q, inBody, 100*b, 100*floor)
			if q < floor || b < floor {
				t.Errorf("%s detection below %.0f%%", class, 100*floor)
			}
		})
	}
}

// TestCorpusFalsePositives holds the inspector to benign but tricky input:
// the shared naughty strings and the marketplace strings in testdata.
func TestCorpusFalsePositives(t *testing.T) {
	t.Parallel()
	in := setup(t)

	lists := map[string]string{"testdata/benign.txt": "testdata/benign.txt"}
	if dir, err := attacksDir(); err == nil {
		lists["naughty_benign.txt"] = filepath.Join(dir, "naughty_benign.txt")
	} else {
		t.Logf("naughty_benign.txt skipped: %v", err)
	}
	for name, path := range lists {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lines := readLines(t, path)
			flagged := 0
			for _, l := range lines {
				found := in.Request(queryRequest(l), nil)
				r, body := bodyRequest(t, l)
				found = append(found, in.Request(r, body)...)
				if len(found) > 0 {
					flagged++
					t.Logf("flagged %q: %v", l, found)
				}
			}
			fp := rate(flagged, len(lines))
			t.Logf("%s: %d of %d lines flagged (%.1f%%)",
				name, flagged, len(lines), 100*fp)
			if fp > maxFalsePositives[name] {
				t.Errorf("false positives %.1f%% above %.0f%%",
					100*fp, 100*maxFalsePositives[name])
			}
		})
	}
}

func isClass(class string) func(Finding) bool {
	return func(f Finding) bool { return f.Class == class }
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// queryRequest is a GET whose query parameter q carries v.
func queryRequest(v string) *http.Request {
	return httptest.NewRequest(http.MethodGet,
		"/api/v1/market/items?q="+url.QueryEscape(v), nil)
}

// corpusDir returns the shared attack corpus or skips the test.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := attacksDir()
	if err != nil {
		t.Skip(err)
	}
	return dir
}

// attacksDir finds ../shared/data/attacks beside the module root, the
// folder that holds go.mod.
func attacksDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
	attacks := filepath.Join(dir, "..", "shared", "data", "attacks")
	if _, err := os.Stat(attacks); err != nil {
		return "", fmt.Errorf("attack corpus absent (%w); corpus checks skipped", err)
	}
	return attacks, nil
}

// readLines reads a corpus file: one payload per line, spaces kept.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
