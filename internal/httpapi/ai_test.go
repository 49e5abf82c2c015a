package httpapi_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/ratelimit"
)

// pricing is the world of the price-suggestion tests: merchant A, with an
// owner and two staff members, asks about its items; merchant B lists the
// comparables; a platform admin at aal2 sets the budgets.
type pricing struct {
	h                              *harness
	ownerA, staffA, staff2A, userB string
	admin                          string
	base                           string // merchant A's path
	items                          map[string]string
}

func newPricing(t *testing.T) *pricing {
	h := setup(t, 4)
	p := &pricing{h: h, items: map[string]string{}}
	p.ownerA = h.user("owner@a.example.test")
	p.staffA = h.user("staff@a.example.test")
	p.staff2A = h.user("staff2@a.example.test")
	p.userB = h.user("owner@b.example.test")
	p.admin = h.admin("admin@platform.example.test")
	h.elevate("admin@platform.example.test")

	a := h.created("POST", "/v1/merchants", p.ownerA,
		map[string]string{"name": "Shop A", "slug": "shop-a"})
	p.base = "/v1/merchants/" + a["id"].(string)
	b := h.created("POST", "/v1/merchants", p.userB,
		map[string]string{"name": "Shop B", "slug": "shop-b"})
	baseB := "/v1/merchants/" + b["id"].(string)

	h.elevate("owner@a.example.test") // inviting members needs aal2
	for _, email := range []string{"staff@a.example.test", "staff2@a.example.test"} {
		h.join(p.base, p.ownerA, email, "staff")
	}

	// list creates a published item and puts it on the market.
	list := func(base, tok, sku, title, category, currency string, cents int) string {
		it := h.created("POST", base+"/items", tok, map[string]any{"sku": sku,
			"title": title, "category": category, "currency": currency,
			"price_cents": cents, "published": true})
		h.created("POST", base+"/market", tok, map[string]any{"item_id": it["id"]})
		return it["id"].(string)
	}
	// B's market: four grinders in BRL, one in USD, a kettle.
	for i, cents := range []int{1000, 2000, 4000, 8000} {
		list(baseB, p.userB, "g"+strconv.Itoa(i), "Burr Grinder "+strconv.Itoa(i),
			"grinders", "BRL", cents)
	}
	list(baseB, p.userB, "g-usd", "Burr Grinder Import", "grinders", "USD", 999999)
	list(baseB, p.userB, "kettle", "Gooseneck Kettle", "kettles", "BRL", 50000)
	// A's own grinder is listed too: it is a comparable of A's other items,
	// never of itself.
	p.items["grinder"] = list(p.base, p.ownerA, "a-grinder", "Espresso Grinder Pro",
		"grinders", "BRL", 10000)

	item := func(key, title, category, currency string) {
		it := h.created("POST", p.base+"/items", p.ownerA, map[string]any{
			"sku": key, "title": title, "category": category,
			"currency": currency, "price_cents": 1234})
		p.items[key] = it["id"].(string)
	}
	item("hand", "Hand grinder", "", "BRL")
	item("teapot", "Ceramic teapot", "teapots", "BRL")
	item("euro", "Euro grinder", "grinders", "EUR")
	return p
}

func (p *pricing) path(item string) string {
	return p.base + "/items/" + p.items[item] + "/suggest-price"
}

type suggestion struct {
	ItemID      string `json:"item_id"`
	Currency    string `json:"currency"`
	Current     int64  `json:"current_price_cents"`
	Suggested   *int64 `json:"suggested_price_cents"`
	Low         *int64 `json:"low_price_cents"`
	Median      *int64 `json:"median_price_cents"`
	High        *int64 `json:"high_price_cents"`
	Comparables int64  `json:"comparables"`
	Basis       string `json:"basis"`
}

// TestSuggestPrice: a member gets the quartiles of the comparable
// listings, from the closest basis that has enough of them, in the item's
// currency and without the item's own listing. Limits are off here: the
// feature works without them.
func TestSuggestPrice(t *testing.T) {
	t.Parallel()
	p := newPricing(t)
	h := p.h

	// Quartiles are PostgreSQL's percentile_cont, rounded to the cent.
	for _, tc := range []struct {
		item, basis, currency string
		n                     int64
		low, mid, high        int64
	}{
		// B's four BRL grinders; not the USD one, not A's own listing.
		{"grinder", "category", "BRL", 4, 1750, 3000, 5000},
		// No category: the titles with "grinder", A's listed one included.
		{"hand", "title", "BRL", 5, 2000, 4000, 8000},
		// No teapot anywhere: every BRL listing, the kettle included.
		{"teapot", "market", "BRL", 6, 2500, 6000, 9500},
	} {
		t.Run(tc.basis, func(t *testing.T) {
			r := h.do("POST", p.path(tc.item), p.staffA, nil)
			h.mustStatus(r, 200, "suggest "+tc.item)
			if v := r.Header.Values("RateLimit"); len(v) > 0 {
				t.Errorf("RateLimit headers with limits off: %q", v)
			}
			var s suggestion
			r.json(t, &s)
			if s.ItemID != p.items[tc.item] || s.Basis != tc.basis ||
				s.Currency != tc.currency || s.Comparables != tc.n {
				t.Fatalf("got %s", r.Body)
			}
			if s.Low == nil || s.Median == nil || s.High == nil || s.Suggested == nil ||
				*s.Low != tc.low || *s.Median != tc.mid || *s.High != tc.high ||
				*s.Suggested != tc.mid {
				t.Fatalf("quartiles %s, want %d/%d/%d", r.Body, tc.low, tc.mid, tc.high)
			}
		})
	}

	t.Run("nothing to compare with", func(t *testing.T) {
		r := h.do("POST", p.path("euro"), p.ownerA, nil)
		h.mustStatus(r, 200, "suggest euro")
		var s suggestion
		r.json(t, &s)
		if s.Basis != "none" || s.Comparables != 0 || s.Suggested != nil ||
			s.Low != nil || s.Median != nil || s.High != nil || s.Currency != "EUR" {
			t.Fatalf("got %s", r.Body)
		}
	})

	t.Run("another tenant's item is not found", func(t *testing.T) {
		h.mustStatus(h.do("POST", p.path("grinder"), p.userB, nil), 404, "owner of B")
		h.mustStatus(h.do("POST", p.path("grinder"), p.admin, nil), 404, "platform admin")
		h.mustStatus(h.do("POST", p.path("grinder"), "", nil), 401, "anonymous")
	})
}

// decisions counts the Guard's decisions by class and result, as the
// metrics do.
type decisions struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *decisions) Decision(class, result string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n[class+"/"+result]++
}

func (d *decisions) Degraded(bool) {}

func (d *decisions) count(key string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[key]
}

// TestAIBudget: suggest_price spends the caller's budget as
// app.ai_rate_limits_config has it at each request; an admin's change
// applies to the next call; a disabled feature answers 403.
func TestAIBudget(t *testing.T) {
	t.Parallel()
	p := newPricing(t)
	seen := &decisions{n: map[string]int{}}
	lim := p.h.with(func(d *httpapi.Deps) {
		d.Limits = ratelimit.NewGuard(ratelimit.NewMemory(0),
			ratelimit.DefaultPolicies(), seen)
	})
	path := p.path("teapot")
	setBudget := func(t *testing.T, rpm, burst int, enabled bool) {
		t.Helper()
		lim.mustStatus(lim.do("PUT", "/v1/ai-rate-limits/suggest_price", p.admin,
			map[string]any{"requests_per_minute": rpm, "burst": burst,
				"enabled": enabled}), 200, "set budget")
	}
	headers := func(r response) (string, string) {
		return strings.Join(r.Header.Values("RateLimit-Policy"), ", "),
			strings.Join(r.Header.Values("RateLimit"), ", ")
	}

	t.Run("a feature the service does not have is not found, and no row is made", func(t *testing.T) {
		p.h.mustStatus(p.h.do("PUT", "/v1/ai-rate-limits/suggest_prise", p.admin,
			map[string]any{"requests_per_minute": 1, "burst": 1, "enabled": true}),
			404, "typo")
		var n int
		if err := p.h.adminQuery(`select count(*) from app.ai_rate_limits_config
where feature = 'suggest_prise'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows for the typo: %d %v", n, err)
		}
	})

	t.Run("another tenant's item is not found and spends only the write budget", func(t *testing.T) {
		r := lim.do("POST", path, p.userB, nil)
		lim.mustStatus(r, 404, "owner of B")
		policy, _ := headers(r)
		if strings.Contains(policy, "ai_") {
			t.Errorf("RateLimit-Policy on a 404: %q", policy)
		}
		if !strings.Contains(policy, `"write"`) || seen.count("write/allowed") != 1 {
			t.Errorf("a 404 did not spend the write budget: %q, %v", policy, seen.n)
		}
		if n := seen.count("ai/allowed") + seen.count("ai/limited"); n != 0 {
			t.Errorf("%d ai decisions for a 404", n)
		}
	})

	t.Run("the seeded budget applies and is counted under class ai", func(t *testing.T) {
		r := lim.do("POST", path, p.ownerA, nil)
		lim.mustStatus(r, 200, "first call")
		// 20 a minute, burst 10: an empty burst refills in 30 s.
		policy, limit := headers(r)
		if !strings.Contains(policy, `"ai_suggest_price";q=10;w=30`) ||
			!strings.Contains(limit, `"ai_suggest_price";r=9`) {
			t.Errorf("RateLimit headers %q / %q", policy, limit)
		}
		if seen.count("ai/allowed") != 1 {
			t.Errorf("decisions %v", seen.n)
		}
	})

	t.Run("a lowered budget refuses the third call", func(t *testing.T) {
		setBudget(t, 1, 2, true)
		for i := range 2 {
			lim.mustStatus(lim.do("POST", path, p.ownerA, nil), 200, "call "+strconv.Itoa(i+1))
		}
		r := lim.do("POST", path, p.ownerA, nil)
		lim.mustStatus(r, 429, "third call")
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") ||
			!strings.Contains(string(r.Body), `"rate_limited"`) {
			t.Errorf("429 body: %s %s", r.Header.Get("Content-Type"), r.Body)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		policy, limit := headers(r)
		if !strings.Contains(policy, `"ai_suggest_price";q=2;w=120`) ||
			!strings.Contains(limit, `"ai_suggest_price";r=0`) {
			t.Errorf("RateLimit headers %q / %q", policy, limit)
		}
		if seen.count("ai/limited") != 1 {
			t.Errorf("decisions %v", seen.n)
		}
	})

	t.Run("the budget is per user", func(t *testing.T) {
		lim.mustStatus(lim.do("POST", path, p.staff2A, nil), 200, "another member")
	})

	t.Run("a raised budget applies at the next call", func(t *testing.T) {
		setBudget(t, 30, 5, true)
		r := lim.do("POST", path, p.ownerA, nil)
		lim.mustStatus(r, 200, "after raising")
		if policy, _ := headers(r); !strings.Contains(policy, `"ai_suggest_price";q=5;w=10`) {
			t.Errorf("RateLimit-Policy %q", policy)
		}
	})

	disabled := func(t *testing.T, h *harness, what string) {
		t.Helper()
		r := h.do("POST", path, p.ownerA, nil)
		h.mustStatus(r, 403, what)
		if !strings.Contains(string(r.Body), `"feature_disabled"`) {
			t.Errorf("%s: %s", what, r.Body)
		}
	}
	t.Run("a disabled feature answers 403, limits on or off", func(t *testing.T) {
		setBudget(t, 30, 5, false)
		disabled(t, lim, "enabled false")
		disabled(t, p.h, "enabled false, limits off")
		setBudget(t, 0, 5, true)
		disabled(t, lim, "zero rate")
		setBudget(t, 30, 0, true)
		disabled(t, lim, "zero burst")
		setBudget(t, 30, 5, true)
		lim.mustStatus(lim.do("POST", path, p.ownerA, nil), 200, "enabled again")
		var n int
		if err := p.h.adminQuery(`with d as (delete from app.ai_rate_limits_config
where feature = 'suggest_price' returning 1) select count(*) from d`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("delete the row: %d %v", n, err)
		}
		disabled(t, lim, "no row")
	})
}
