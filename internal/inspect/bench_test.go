package inspect

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
)

// BenchmarkInspectBenign measures the price of inspection on traffic that
// is not an attack: a browser's order placement with headers, query and a
// JSON body, and every naughty_benign line as a search query.
func BenchmarkInspectBenign(b *testing.B) {
	in := setup(b)

	b.Run("typical order", func(b *testing.B) {
		r, body := typicalRequest()
		b.ReportAllocs()
		for b.Loop() {
			if got := in.Request(r, body); got != nil {
				b.Fatalf("typical request flagged: %v", got)
			}
		}
	})

	b.Run("naughty_benign query", func(b *testing.B) {
		lines := benignLines(b)
		reqs := make([]*http.Request, len(lines))
		for n, l := range lines {
			reqs[n] = httptest.NewRequest(http.MethodGet,
				"/api/v1/market/items?page=2&q="+url.QueryEscape(l), nil)
		}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			in.Request(reqs[n%len(reqs)], nil)
			n++
		}
	})
}

// benignLines reads naughty_benign.txt, or skips the benchmark.
func benignLines(b *testing.B) []string {
	return readLines(b, filepath.Join(corpusDir(b), "naughty_benign.txt"))
}
