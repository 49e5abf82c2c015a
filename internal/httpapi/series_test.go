package httpapi_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/metrics"
)

// TestMetricSeriesStayBounded sends 2,000 requests to random paths and 50
// with invented methods: the number of exported series may grow only by a
// small constant, never with the paths.
func TestMetricSeriesStayBounded(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	m := metrics.New("test", h.env.DB.Pool)
	srv := h.with(func(d *httpapi.Deps) { d.Metrics = m })
	series := func() int {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "rampart_http_") {
				n++
			}
		}
		return n
	}
	send := func(method, path string) {
		req, _ := http.NewRequest(method, srv.srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	send("GET", "/healthz")
	before := series()
	for range 2000 {
		send("GET", fmt.Sprintf("/v1/%x/%d/x%d", rand.Int64(), rand.IntN(1e6), rand.IntN(100)))
	}
	for i := range 50 {
		send(fmt.Sprintf("BREW%d", i), "/v1/market")
	}
	after := series()
	t.Logf("rampart_http_* series: %d before, %d after 2,050 odd requests", before, after)
	if after-before > 40 {
		t.Fatalf("series grew by %d", after-before)
	}
}
