package httpapi_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// TestCrossTenantWrites: the owner of B tries to reach into A through
// writes of B's own endpoints. Each attempt must answer exactly what a
// nonexistent target answers, and change nothing.
func TestCrossTenantWrites(t *testing.T) {
	t.Parallel()
	w := plant(t)
	h := w.h
	b := "/v1/merchants/" + w.merchantB
	bItem := h.created("POST", b+"/items", w.userB, map[string]any{
		"sku": "b-1", "title": "B item", "price_cents": 100, "published": true})
	bCust := h.created("POST", b+"/customers", w.userB, map[string]any{
		"name": "Bo B", "email": "bo@example.test"})

	same := func(t *testing.T, method, path string, body func(id string) any, foreignID string) {
		t.Helper()
		got := h.do(method, path, w.userB, body(foreignID))
		missing := h.do(method, path, w.userB, body(uuid.NewString()))
		clean := func(r response) string {
			return requestIDRE.ReplaceAllString(string(r.Body), "")
		}
		if got.Status != missing.Status || clean(got) != clean(missing) {
			t.Errorf("foreign %d %s vs missing %d %s", got.Status, got.Body,
				missing.Status, missing.Body)
		}
		if got.Status < 400 {
			t.Errorf("write with a foreign id succeeded: %d %s", got.Status, got.Body)
		}
	}

	t.Run("an order for another tenant's customer", func(t *testing.T) {
		same(t, "POST", b+"/orders", func(id string) any {
			return map[string]any{"customer_id": id, "lines": []map[string]any{
				{"item_id": bItem["id"], "quantity": 1}}}
		}, w.ids["customer"])
	})

	t.Run("an order line with another tenant's item", func(t *testing.T) {
		same(t, "POST", b+"/orders", func(id string) any {
			return map[string]any{"customer_id": bCust["id"],
				"lines": []map[string]any{{"item_id": id, "quantity": 1}}}
		}, w.ids["pub"])
	})

	t.Run("listing another tenant's item on the market", func(t *testing.T) {
		same(t, "POST", b+"/market", func(id string) any {
			return map[string]string{"item_id": id}
		}, w.ids["pub2"])
	})

	t.Run("moving a row by naming the tenant in the body", func(t *testing.T) {
		r := h.do("PATCH", b+"/items/"+bItem["id"].(string), w.userB,
			map[string]any{"merchant_id": w.merchantA})
		h.mustStatus(r, 400, "merchant_id in body")
		if !strings.Contains(string(r.Body), "merchant_id") {
			t.Errorf("the refusal does not name the field: %s", r.Body)
		}
	})

	t.Run("nothing of A changed", func(t *testing.T) {
		var n int
		if err := h.adminQuery(`select count(*) from app.orders
where merchant_id = $1`, w.merchantA).Scan(&n); err != nil || n != 1 {
			t.Fatalf("A has %d orders (%v), want 1", n, err)
		}
		if err := h.adminQuery(`select count(*) from app.market_items
where item_id = $1`, w.ids["pub2"]).Scan(&n); err != nil || n != 0 {
			t.Fatalf("A's item was listed %d times (%v)", n, err)
		}
	})
}

// TestBadInput: hostile or sloppy bodies get a clear 4xx and write nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	w := plant(t)
	h := w.h
	m := "/v1/merchants/" + w.merchantA
	cases := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"unknown field", "POST", m + "/items", `{"sku":"x","title":"t","price_cents":1,"evil":1}`, 400},
		{"server-owned total", "POST", m + "/orders", map[string]any{"customer_id": w.ids["customer"], "total_cents": 1, "lines": []map[string]any{{"item_id": w.ids["pub"], "quantity": 1}}}, 400},
		{"server-owned created_by", "POST", m + "/customers", map[string]any{"name": "X", "email": "x@example.test", "created_by": uuid.NewString()}, 400},
		{"card number in a payment", "POST", m + "/orders", map[string]any{"customer_id": w.ids["customer"], "lines": []map[string]any{{"item_id": w.ids["pub"], "quantity": 1}}, "payments": []map[string]any{{"method": "credit_card", "amount_cents": 100, "provider_token": "4111 1111 1111 1111"}}}, 422},
		{"malformed JSON", "POST", m + "/items", `{"sku":`, 400},
		{"two objects", "POST", m + "/items", `{"sku":"a","title":"t","price_cents":1}{}`, 400},
		{"wrong type", "POST", m + "/items", `{"sku":"a","title":"t","price_cents":"1"}`, 400},
		{"negative price", "POST", m + "/items", map[string]any{"sku": "a", "title": "t", "price_cents": -1}, 400},
		{"oversized body", "POST", m + "/items", `{"sku":"a","title":"` + strings.Repeat("x", 70000) + `","price_cents":1}`, 413},
		{"page too large", "GET", m + "/items?limit=101", nil, 400},
		{"page nonsense", "GET", m + "/items?limit=abc", nil, 400},
		{"forged cursor", "GET", m + "/items?cursor=abc", nil, 400},
		{"cursor of another list", "GET", "/v1/market?cursor=" + strings.Repeat("A", 40), nil, 400},
		{"unknown status", "PATCH", m + "/orders/" + w.ids["order"], map[string]string{"status": "stolen"}, 400},
		{"malformed id", "GET", m + "/items/not-a-uuid", nil, 400},
	}
	var before int
	_ = h.adminQuery(`select count(*) from app.merchant_items`).Scan(&before)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, w.ownerA, c.body)
			h.mustStatus(r, c.want, c.name)
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if strings.Contains(string(r.Body), "SQLSTATE") || strings.Contains(string(r.Body), "4111 1111") {
				t.Errorf("answer leaks internals or input: %s", r.Body)
			}
		})
	}
	var after int
	_ = h.adminQuery(`select count(*) from app.merchant_items`).Scan(&after)
	if after != before {
		t.Errorf("bad input wrote %d items", after-before)
	}

	t.Run("wrong content type", func(t *testing.T) {
		r := h.do("POST", m+"/items", w.ownerA, nil)
		h.mustStatus(r, 415, "no content type")
	})
}

// TestPoolOfOne alternates A, B and anonymous callers over a single
// database connection, concurrently: role and claims never carry over.
func TestPoolOfOne(t *testing.T) {
	t.Parallel()
	h := setup(t, 1)
	a := h.user("a@one.example.test")
	b := h.user("b@one.example.test")
	ma := h.created("POST", "/v1/merchants", a, map[string]string{"name": "A", "slug": "one-a"})
	h.created("POST", "/v1/merchants/"+ma["id"].(string)+"/items", a,
		map[string]any{"sku": "s", "title": "secret-of-a", "price_cents": 1})
	path := "/v1/merchants/" + ma["id"].(string) + "/items"

	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0:
				if r := h.do("GET", path, a, nil); r.Status != 200 || !strings.Contains(string(r.Body), "secret-of-a") {
					t.Errorf("A lost its rows: %d %s", r.Status, r.Body)
				}
			case 1:
				if r := h.do("GET", path, b, nil); r.Status != 404 {
					t.Errorf("B reached A: %d %s", r.Status, r.Body)
				}
			default:
				if r := h.do("GET", "/v1/market", "", nil); r.Status != 200 || strings.Contains(string(r.Body), "secret-of-a") {
					t.Errorf("anonymous saw A: %d %s", r.Status, r.Body)
				}
			}
		}()
	}
	wg.Wait()
}

// TestInvalidBodiesAreExplained: every 400 names a field and a reason in
// the request's terms, never Go's.
func TestInvalidBodiesAreExplained(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	owner := h.user("explain@example.test")
	shop := h.created("POST", "/v1/merchants", owner,
		map[string]string{"name": "Explain", "slug": "explain-shop"})
	items := "/v1/merchants/" + shop["id"].(string) + "/items"
	for _, c := range []struct {
		name, body, field string
	}{
		{"an empty body", "", `"field":"body"`},
		{"a number too big for any field", `{"sku":"a","title":"t","price_cents":1e400}`, `"field":"price_cents"`},
		{"a wrong type deep in an array", `{"sku":"a","title":"t","price_cents":1,"currency":5}`, `"field":"currency"`},
		{"a stock past int32", `{"sku":"a","title":"t","price_cents":1,"stock":3000000000}`, `"field":"stock"`},
	} {
		r := h.do("POST", items, owner, c.body)
		h.mustStatus(r, 400, c.name)
		body := string(r.Body)
		if !strings.Contains(body, c.field) || strings.Contains(body, `"reason":""`) ||
			strings.Contains(body, "json.") || strings.Contains(body, "float64") ||
			strings.Contains(body, "int32") || strings.Contains(body, "9223372036854775807") {
			t.Errorf("%s: %s", c.name, body)
		}
	}
}
