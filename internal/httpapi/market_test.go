package httpapi_test

import (
	"encoding/json"
	"testing"
)

// TestMarketListingsCarryCurrency: a listing's price comes with its
// item's currency, follows the item when it changes, and price filters
// compare within one currency.
func TestMarketListingsCarryCurrency(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	owner := h.user("owner@fx.example.test")
	shop := h.created("POST", "/v1/merchants", owner,
		map[string]string{"name": "FX Shop", "slug": "fx-shop"})
	base := "/v1/merchants/" + shop["id"].(string)
	list := func(sku, currency string, cents int) string {
		it := h.created("POST", base+"/items", owner, map[string]any{"sku": sku,
			"title": "Kettle " + sku, "currency": currency, "price_cents": cents,
			"published": true})
		h.created("POST", base+"/market", owner, map[string]any{"item_id": it["id"]})
		return it["id"].(string)
	}
	brl := list("k-brl", "BRL", 1000)
	list("k-usd", "USD", 1500)

	browse := func(query string) map[string]string {
		t.Helper()
		r := h.do("GET", "/v1/market"+query, "", nil)
		h.mustStatus(r, 200, "browse "+query)
		var page struct {
			Data []struct {
				ItemID   string `json:"item_id"`
				Currency string `json:"currency"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, l := range page.Data {
			got[l.ItemID] = l.Currency
		}
		return got
	}

	if got := browse(""); len(got) != 2 || got[brl] != "BRL" {
		t.Fatalf("listings %v: want both, the BRL kettle in BRL", got)
	}
	h.mustStatus(h.do("GET", "/v1/market?min_price_cents=1200", "", nil), 400,
		"a price bound without a currency")
	if got := browse("?currency=USD&min_price_cents=1200"); len(got) != 1 || got[brl] != "" {
		t.Fatalf("USD from 12.00: %v, want the USD kettle alone", got)
	}
	if got := browse("?currency=BRL&min_price_cents=1200"); len(got) != 0 {
		t.Fatalf("BRL from 12.00: %v, want nothing (10.00 BRL is below, 15.00 USD is not BRL)", got)
	}
	h.mustStatus(h.do("GET", "/v1/market?currency=ZZZ", "", nil), 400, "an unknown currency")

	h.mustStatus(h.do("PATCH", base+"/items/"+brl, owner, map[string]any{"currency": "EUR"}),
		200, "the item changes currency")
	if got := browse("?currency=EUR"); got[brl] != "EUR" {
		t.Fatalf("after the change: %v, want the kettle in EUR", got)
	}
}
