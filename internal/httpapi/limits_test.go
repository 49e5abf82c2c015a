package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/ratelimit"
)

// with returns a copy of h whose server is built from h's dependencies as
// changed by edit.
func (h *harness) with(edit func(*httpapi.Deps)) *harness {
	d := h.api.Deps
	edit(&d)
	srv := httptest.NewServer(httpapi.New(d))
	h.t.Cleanup(srv.Close)
	c := *h
	c.srv = srv
	return &c
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("limited@example.test")
	lim := h.with(func(d *httpapi.Deps) {
		d.Limits = ratelimit.NewGuard(ratelimit.NewMemory(0),
			ratelimit.DefaultPolicies(), nil)
	})

	t.Run("sign-in attempts from one address are limited with Retry-After", func(t *testing.T) {
		var last response
		for range 11 {
			last = lim.do("POST", "/v1/auth/login", "", map[string]string{
				"email": "limited@example.test", "password": "wrong-password-1"})
		}
		lim.mustStatus(last, 429, "11th login")
		if last.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		policy := strings.Join(last.Header.Values("RateLimit-Policy"), ", ")
		limit := strings.Join(last.Header.Values("RateLimit"), ", ")
		if !strings.Contains(policy, `"auth";q=10`) || !strings.Contains(limit, `"auth";r=0`) {
			t.Errorf("RateLimit headers: %q / %q", policy, limit)
		}
	})

	t.Run("allowed answers carry the remaining budget", func(t *testing.T) {
		r := lim.do("GET", "/v1/market", "", nil)
		lim.mustStatus(r, 200, "market")
		if v := strings.Join(r.Header.Values("RateLimit"), ", "); !strings.Contains(v, `"public_read";r=`) {
			t.Errorf("RateLimit: %q", v)
		}
	})

	t.Run("health checks are never limited", func(t *testing.T) {
		for range 30 {
			lim.mustStatus(lim.do("GET", "/healthz", "", nil), 200, "healthz")
		}
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	c := h.with(func(d *httpapi.Deps) { d.CORSOrigins = []string{"https://shop.example.test"} })
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", c.srv.URL+"/v1/merchants", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	t.Run("the configured frontend may call", func(t *testing.T) {
		res := preflight("https://shop.example.test")
		if res.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.test" {
			t.Fatalf("allow-origin %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
		if res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatal("credentials allowed")
		}
	})
	t.Run("any other origin may not", func(t *testing.T) {
		if v := preflight("https://evil.example.test").Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Fatalf("allow-origin %q for a foreign origin", v)
		}
	})
}

func TestOneIPv6SubnetIsLimitedAsOne(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	lim := h.with(func(d *httpapi.Deps) {
		d.Limits = ratelimit.NewGuard(ratelimit.NewMemory(0), ratelimit.DefaultPolicies(), nil)
		d.ClientIP = httpapi.NewClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	})
	limited := 0
	for i := range 300 {
		req, _ := http.NewRequest("POST", lim.srv.URL+"/v1/auth/login",
			strings.NewReader(`{"email":"nobody@example.test","password":"wrong-password-1"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 429 {
			limited++
		}
	}
	// The auth budget is 10 a minute per address, and a /64 is one address.
	if limited < 280 {
		t.Fatalf("only %d of 300 attempts from one /64 were limited", limited)
	}
}

// TestTwoInstancesShareOneRedisBudget: two API instances on one Redis
// count one sign-in budget between them.
func TestTwoInstancesShareOneRedisBudget(t *testing.T) {
	t.Parallel()
	url := os.Getenv("RAMPART_TEST_REDIS_URL")
	if url == "" {
		t.Skip("RAMPART_TEST_REDIS_URL is not set: skipping the shared Redis budget check")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	h := setup(t, 2)
	instance := func() *harness {
		c := redis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		return h.with(func(d *httpapi.Deps) {
			d.Limits = ratelimit.NewGuard(ratelimit.NewFallback(ratelimit.NewRedis(c),
				ratelimit.NewMemory(0), nil), ratelimit.DefaultPolicies(), nil)
			d.ClientIP = httpapi.NewClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
		})
	}
	one, two := instance(), instance()
	// An address of our own, so other runs sharing the Redis do not count.
	client := fmt.Sprintf("2001:db8:%x:%x::1", rand.Uint32()&0xffff, rand.Uint32()&0xffff)
	status := func(h *harness) int {
		req, _ := http.NewRequest("POST", h.srv.URL+"/v1/auth/login",
			strings.NewReader(`{"email":"nobody@example.test","password":"wrong-password-1"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i := range 10 {
		inst := one
		if i%2 == 1 {
			inst = two
		}
		if st := status(inst); st != 401 {
			t.Fatalf("attempt %d answered %d within the budget", i+1, st)
		}
	}
	if a, b := status(one), status(two); a != 429 || b != 429 {
		t.Fatalf("past the shared budget: %d and %d, want 429 on both instances", a, b)
	}
}

// TestMarketScraping: one address can copy only a few thousand records
// of the public market in ten minutes, and one that keeps following
// cursors is reported and throttled, while other addresses browse on.
func TestMarketScraping(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	owner := h.user("owner@shop.example.test")
	shop := h.created("POST", "/v1/merchants", owner,
		map[string]string{"name": "Shop", "slug": "shop"})
	base := "/v1/merchants/" + shop["id"].(string)
	for i := range 3 {
		it := h.created("POST", base+"/items", owner, map[string]any{
			"sku": fmt.Sprint("s", i), "title": fmt.Sprint("Item ", i),
			"price_cents": 1000 + i, "published": true})
		h.created("POST", base+"/market", owner, map[string]any{"item_id": it["id"]})
	}
	lim := h.with(func(d *httpapi.Deps) {
		d.Limits = ratelimit.NewGuard(ratelimit.NewMemory(0), ratelimit.DefaultPolicies(), nil)
		d.ClientIP = httpapi.NewClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	})
	from := func(addr, path string) response {
		t.Helper()
		req, _ := http.NewRequest("GET", lim.srv.URL+path, nil)
		req.Header.Set("X-Forwarded-For", addr)
		res, err := lim.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{Status: res.StatusCode, Header: res.Header, Body: b}
	}

	first := from("198.51.100.7", "/v1/market?limit=1")
	lim.mustStatus(first, 200, "first page")
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(first.Body, &page); err != nil || page.NextCursor == "" {
		t.Fatalf("no next_cursor on a page of 1 of 3: %s", first.Body)
	}
	next := page.NextCursor

	t.Run("following cursors page after page is scraping", func(t *testing.T) {
		crawl := ratelimit.DefaultPolicies()[ratelimit.ClassPublicCrawl].Burst
		for i := range crawl {
			lim.mustStatus(from("198.51.100.7", "/v1/market?limit=1&cursor="+next),
				200, fmt.Sprint("continued page ", i+1))
		}
		r := from("198.51.100.7", "/v1/market?limit=1&cursor="+next)
		lim.mustStatus(r, 429, "one page past the crawl budget")
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		lim.settle()
		var n int
		if err := lim.adminQuery(`select coalesce(sum(count), 0) from security.security_events
where kind = 'scraping_suspected' and source_ip = '198.51.100.7'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("scraping_suspected counted %d times, want 1", n)
		}
		// The first page of a new search is still served: a crawler's
		// address is slowed, not locked out of the shop.
		lim.mustStatus(from("198.51.100.7", "/v1/market?limit=1"), 200, "a fresh first page")
	})

	t.Run("an address gets a bounded number of records", func(t *testing.T) {
		burst := ratelimit.DefaultPolicies()[ratelimit.ClassPublicRecords].Burst
		pages := burst / 100
		for i := range pages {
			lim.mustStatus(from("203.0.113.9", "/v1/market?limit=100"), 200,
				fmt.Sprint("full page ", i+1))
		}
		r := from("203.0.113.9", "/v1/market?limit=100")
		lim.mustStatus(r, 429, "records past the budget")
		if v := strings.Join(r.Header.Values("RateLimit"), ", "); !strings.Contains(v, `"public_records";r=0`) {
			t.Errorf("RateLimit: %q", v)
		}
	})

	t.Run("other addresses browse on", func(t *testing.T) {
		lim.mustStatus(from("192.0.2.44", "/v1/market?limit=100"), 200, "another address")
		lim.mustStatus(from("192.0.2.44", "/v1/market?limit=1&cursor="+next), 200,
			"another address, continued")
	})
}
