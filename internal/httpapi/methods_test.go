package httpapi_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/ratelimit"
)

// TestMethods: a 405 names the methods the path serves (RFC 9110 Allow),
// HEAD answers wherever GET does, without a body and held to GET's
// parameters, and OPTIONS answers 204 with Allow without a session and
// without spending a class budget.
func TestMethods(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	owner := h.user("methods@example.test")
	m := h.created("POST", "/v1/merchants", owner,
		map[string]string{"name": "Methods", "slug": "methods-shop"})
	merchant := "/v1/merchants/" + m["id"].(string)

	// raw sends a request past the contract-checking client: the methods
	// under test are, by design, operations of no document.
	raw := func(h *harness, method, path, bearer string) response {
		t.Helper()
		req, err := http.NewRequest(method, h.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	code := func(r response) string {
		var p struct{ Code string }
		r.json(t, &p)
		return p.Code
	}

	t.Run("405 carries Allow", func(t *testing.T) {
		for _, tc := range []struct{ method, path, allow string }{
			{"PUT", "/v1/market", "GET, HEAD, OPTIONS"},
			{"PATCH", "/v1/auth/login", "POST, OPTIONS"},
			{"DELETE", merchant, "GET, HEAD, PATCH, OPTIONS"},
			{"PUT", merchant + "/items", "GET, HEAD, POST, OPTIONS"},
			{"HEAD", "/v1/auth/login", "POST, OPTIONS"},
			{"BREW", "/v1/market", "GET, HEAD, OPTIONS"},
		} {
			r := raw(h, tc.method, tc.path, owner)
			if r.Status != 405 || r.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method,
					tc.path, r.Status, r.Header.Get("Allow"), tc.allow)
			}
			if tc.method != "HEAD" && code(r) != "method_not_allowed" {
				t.Errorf("%s %s: %s", tc.method, tc.path, r.Body)
			}
		}
	})

	t.Run("a method on a path nothing serves is 404", func(t *testing.T) {
		for _, method := range []string{"BREW", "PUT", "OPTIONS"} {
			r := raw(h, method, "/v1/nowhere", owner)
			if r.Status != 404 || r.Header.Get("Allow") != "" {
				t.Errorf("%s /v1/nowhere: %d Allow %q, want 404", method, r.Status, r.Header.Get("Allow"))
			}
		}
	})

	t.Run("HEAD answers like GET without a body", func(t *testing.T) {
		for _, tc := range []struct {
			path, bearer string
			want         int
		}{
			{"/healthz", "", 200},
			{"/v1/market", "", 200},
			{"/v1/me", owner, 200},
			{merchant + "/items", owner, 200},
			{merchant, owner, 200},
			{"/v1/me", "", 401},
			// GET's parameters hold for HEAD: limit is 1 to 100.
			{"/v1/market?limit=1000", "", 400},
		} {
			r := raw(h, "HEAD", tc.path, tc.bearer)
			if r.Status != tc.want || len(r.Body) != 0 {
				t.Errorf("HEAD %s: %d with %d body bytes, want %d and none",
					tc.path, r.Status, len(r.Body), tc.want)
			}
			get := h.do("GET", tc.path, tc.bearer, nil)
			if get.Status != r.Status || get.Header.Get("Content-Type") != r.Header.Get("Content-Type") {
				t.Errorf("HEAD %s: %d %q, GET %d %q", tc.path, r.Status,
					r.Header.Get("Content-Type"), get.Status, get.Header.Get("Content-Type"))
			}
		}
	})

	t.Run("OPTIONS answers 204 with Allow, signed in or not", func(t *testing.T) {
		for _, tc := range []struct{ path, bearer, allow string }{
			{"/v1/market", "", "GET, HEAD, OPTIONS"},
			{merchant, "", "GET, HEAD, PATCH, OPTIONS"},
			{merchant + "/items", owner, "GET, HEAD, POST, OPTIONS"},
			{"/v1/auth/login", "not-a-token", "POST, OPTIONS"},
		} {
			r := raw(h, "OPTIONS", tc.path, tc.bearer)
			if r.Status != 204 || r.Header.Get("Allow") != tc.allow || len(r.Body) != 0 {
				t.Errorf("OPTIONS %s: %d Allow %q %s, want 204 Allow %q", tc.path,
					r.Status, r.Header.Get("Allow"), r.Body, tc.allow)
			}
		}
	})

	t.Run("OPTIONS spends no write budget", func(t *testing.T) {
		lim := h.with(func(d *httpapi.Deps) {
			d.Limits = ratelimit.NewGuard(ratelimit.NewMemory(0),
				ratelimit.DefaultPolicies(), nil)
		})
		burst := ratelimit.DefaultPolicies()[ratelimit.ClassWrite].Burst
		for range burst + 10 {
			r := raw(lim, "OPTIONS", merchant+"/items", owner)
			lim.mustStatus(r, 204, "OPTIONS")
			if v := strings.Join(r.Header.Values("RateLimit"), ", "); strings.Contains(v, `"write"`) {
				t.Fatalf("OPTIONS spent write budget: %s", v)
			}
		}
		r := lim.do("PATCH", merchant, owner, map[string]string{"name": "Still writable"})
		lim.mustStatus(r, 200, "a write after many OPTIONS")
		want := `"write";r=` + strconv.Itoa(burst-1)
		if v := strings.Join(r.Header.Values("RateLimit"), ", "); !strings.Contains(v, want) {
			t.Errorf("RateLimit after OPTIONS: %q, want %s", v, want)
		}
	})

	t.Run("OPTIONS on a health check", func(t *testing.T) {
		// Neither HEAD nor OPTIONS is registered as a route, so the
		// OpenAPI ⇄ router check (TestEveryRouteIsDocumented) is unaffected.
		r := raw(h, "OPTIONS", "/healthz", "")
		if r.Status != 204 || r.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("OPTIONS /healthz: %d Allow %q", r.Status, r.Header.Get("Allow"))
		}
	})
}
