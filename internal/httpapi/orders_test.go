package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// shop is one merchant with an owner, a customer and items, for the order
// integrity tests.
type shop struct {
	h        *harness
	owner    string
	base     string
	customer string
}

func newShop(t *testing.T) *shop {
	t.Helper()
	h := setup(t, 12)
	s := &shop{h: h, owner: h.user("owner@stock.example.test")}
	m := h.created("POST", "/v1/merchants", s.owner,
		map[string]string{"name": "Stock Shop", "slug": "stock-shop"})
	s.base = "/v1/merchants/" + m["id"].(string)
	c := h.created("POST", s.base+"/customers", s.owner, map[string]any{
		"name": "Cleo Buyer", "email": "cleo@example.test"})
	s.customer = c["id"].(string)
	return s
}

// item creates an item with a price, a currency and a stock.
func (s *shop) item(sku, currency string, price, stock int) string {
	s.h.t.Helper()
	it := s.h.created("POST", s.base+"/items", s.owner, map[string]any{
		"sku": sku, "title": "Item " + sku, "price_cents": price,
		"currency": currency, "stock": stock, "published": true})
	return it["id"].(string)
}

func (s *shop) setStock(item string, stock int) {
	s.h.t.Helper()
	s.h.mustStatus(s.h.do("PATCH", s.base+"/items/"+item, s.owner,
		map[string]any{"stock": stock}), 200, "set stock")
}

// stock reads an item's stock as the database holds it.
func (s *shop) stock(item string) int {
	s.h.t.Helper()
	var n int
	if err := s.h.adminQuery(`select stock from app.merchant_items
where id = $1`, item).Scan(&n); err != nil {
		s.h.t.Fatal(err)
	}
	return n
}

// rows counts the orders, lines and payments of every merchant.
func (s *shop) rows() string {
	s.h.t.Helper()
	var o, l, p int
	if err := s.h.adminQuery(`select (select count(*) from app.orders),
  (select count(*) from app.order_lines),
  (select count(*) from app.order_payments)`).Scan(&o, &l, &p); err != nil {
		s.h.t.Fatal(err)
	}
	return fmt.Sprintf("%d orders, %d lines, %d payments", o, l, p)
}

type line struct {
	item string
	qty  int
}

func (s *shop) body(lines ...line) map[string]any {
	ls := make([]map[string]any, len(lines))
	for i, l := range lines {
		ls[i] = map[string]any{"item_id": l.item, "quantity": l.qty}
	}
	return map[string]any{"customer_id": s.customer, "lines": ls}
}

func (s *shop) order(body map[string]any) response {
	s.h.t.Helper()
	return s.h.do("POST", s.base+"/orders", s.owner, body)
}

// refused checks that r is a problem with status and the text want, and
// that nothing was written: the same rows and the same stock as before.
func (s *shop) refused(r response, status int, want, rowsBefore string, stocks map[string]int) {
	s.h.t.Helper()
	if r.Status != status || !strings.Contains(string(r.Body), want) {
		s.h.t.Errorf("status %d %s, want %d with %q", r.Status, r.Body, status, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		s.h.t.Errorf("content type %q", ct)
	}
	if got := s.rows(); got != rowsBefore {
		s.h.t.Errorf("refused order wrote rows: %s, before %s", got, rowsBefore)
	}
	for item, n := range stocks {
		if got := s.stock(item); got != n {
			s.h.t.Errorf("refused order changed stock: %d, want %d", got, n)
		}
	}
}

// send is do for goroutines: it reports errors instead of failing the test.
func (s *shop) send(method, path string, body any) (int, []byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(method, s.h.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.owner)
	res, err := s.h.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// together sends n requests at once and returns their statuses.
func (s *shop) together(n int, method, path string, body any) map[int]int {
	s.h.t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], _, errs[i] = s.send(method, path, body)
		}()
	}
	close(start)
	wg.Wait()
	got := map[int]int{}
	for i := range n {
		if errs[i] != nil {
			s.h.t.Fatal(errs[i])
		}
		got[statuses[i]]++
	}
	return got
}

// TestOrderStock: an order reserves its units in the transaction that
// creates it, refuses what is not there with 409 and writes nothing then.
func TestOrderStock(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	mug := s.item("mug", "BRL", 12900, 35)
	cup := s.item("cup", "BRL", 500, 100)

	t.Run("a normal order succeeds and takes its units", func(t *testing.T) {
		r := s.order(s.body(line{mug, 5}))
		h.mustStatus(r, 201, "order")
		var o struct {
			Currency   string `json:"currency"`
			TotalCents int64  `json:"total_cents"`
		}
		r.json(t, &o)
		if o.Currency != "BRL" || o.TotalCents != 5*12900 {
			t.Errorf("order %+v, want BRL %d", o, 5*12900)
		}
		if n := s.stock(mug); n != 30 {
			t.Errorf("stock %d after ordering 5 of 35, want 30", n)
		}
	})

	t.Run("an order beyond stock answers 409 and writes nothing", func(t *testing.T) {
		before := s.rows()
		s.refused(s.order(s.body(line{mug, 10000})), 409,
			"line 0: not enough stock", before, map[string]int{mug: 30})
		// The line at fault is named; the lines before it reserve nothing.
		s.refused(s.order(s.body(line{cup, 1}, line{mug, 31})), 409,
			"line 1: not enough stock", before, map[string]int{mug: 30, cup: 100})
	})

	t.Run("lines of one item add up", func(t *testing.T) {
		before := s.rows()
		s.refused(s.order(s.body(line{mug, 20}, line{cup, 1}, line{mug, 11})),
			409, "line 2: not enough stock", before,
			map[string]int{mug: 30, cup: 100})
		h.mustStatus(s.order(s.body(line{mug, 20}, line{mug, 10})), 201,
			"two lines taking the last units")
		if n := s.stock(mug); n != 0 {
			t.Errorf("stock %d, want 0", n)
		}
	})

	t.Run("concurrent orders for the last units: exactly one succeeds", func(t *testing.T) {
		s.setStock(mug, 10)
		before := s.rows()
		got := s.together(8, "POST", s.base+"/orders", s.body(line{mug, 6}))
		if got[201] != 1 || got[409] != 7 {
			t.Fatalf("statuses %v, want one 201 and seven 409", got)
		}
		if n := s.stock(mug); n != 4 {
			t.Errorf("stock %d, want 4", n)
		}
		var orders, lines int
		if err := h.adminQuery(`select count(*), sum(
  (select count(*) from app.order_lines l where l.order_id = o.id))
from app.orders o`).Scan(&orders, &lines); err != nil {
			t.Fatal(err)
		}
		var was, wasLines int
		if _, err := fmt.Sscanf(before, "%d orders, %d lines", &was, &wasLines); err != nil {
			t.Fatal(err)
		}
		if orders != was+1 || lines != wasLines+1 {
			t.Errorf("%d orders and %d lines, want %d and %d: only the "+
				"winner may write", orders, lines, was+1, wasLines+1)
		}
	})
}

// TestOrderCancelRestoresStock: canceling gives the units back exactly once,
// however often and however concurrently it is asked; reopening takes them
// again, or answers 409 when they are gone.
func TestOrderCancelRestoresStock(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	mug := s.item("mug", "BRL", 1000, 10)
	cup := s.item("cup", "BRL", 500, 10)
	o := h.created("POST", s.base+"/orders", s.owner,
		s.body(line{mug, 3}, line{cup, 2}, line{mug, 1}))
	path := s.base + "/orders/" + o["id"].(string)
	status := func(st string) response {
		return h.do("PATCH", path, s.owner, map[string]string{"status": st})
	}
	want := func(what string, m, c int) {
		t.Helper()
		if gm, gc := s.stock(mug), s.stock(cup); gm != m || gc != c {
			t.Errorf("%s: stock mug %d cup %d, want %d %d", what, gm, gc, m, c)
		}
	}
	want("after the order", 6, 8)

	h.mustStatus(status("processing"), 200, "processing")
	want("a status change that is not a cancel", 6, 8)

	got := s.together(6, "PATCH", path, map[string]string{"status": "canceled"})
	if got[200] != 6 {
		t.Fatalf("concurrent cancels: %v", got)
	}
	want("after six concurrent cancels", 10, 10)
	h.mustStatus(status("canceled"), 200, "cancel again")
	want("after canceling a canceled order", 10, 10)

	h.mustStatus(status("pending"), 200, "reopen")
	want("after reopening", 6, 8)
	h.mustStatus(status("canceled"), 200, "cancel")
	want("after canceling again", 10, 10)

	s.setStock(mug, 3)
	r := status("pending")
	if r.Status != 409 || !strings.Contains(string(r.Body), "line 0: not enough stock") {
		t.Errorf("reopening without stock: %d %s, want 409", r.Status, r.Body)
	}
	want("after a refused reopen", 3, 10)
	var st string
	if err := h.adminQuery(`select status from app.orders where id = $1`,
		o["id"]).Scan(&st); err != nil || st != "canceled" {
		t.Errorf("status %q (%v) after a refused reopen, want canceled", st, err)
	}
}

// TestOrderCurrency: an order is in its items' currency; a request that
// names another one, or lines in different currencies, are refused.
func TestOrderCurrency(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	brl := s.item("brl", "BRL", 12900, 10)
	usd := s.item("usd", "USD", 2500, 10)
	stocks := map[string]int{brl: 10, usd: 10}

	t.Run("a request currency other than the items' is refused", func(t *testing.T) {
		b := s.body(line{brl, 1})
		b["currency"] = "USD"
		s.refused(s.order(b), 400, `"field":"currency"`, s.rows(), stocks)
	})

	t.Run("lines in different currencies are refused", func(t *testing.T) {
		s.refused(s.order(s.body(line{brl, 1}, line{usd, 1})), 400,
			`"field":"lines[1].item_id"`, s.rows(), stocks)
		b := s.body(line{usd, 1}, line{brl, 1})
		b["currency"] = "USD"
		s.refused(s.order(b), 400, `"field":"lines[1].item_id"`, s.rows(), stocks)
	})

	t.Run("the order takes its items' currency", func(t *testing.T) {
		for _, c := range []struct {
			item, currency string
			given          bool
		}{{usd, "USD", false}, {usd, "USD", true}, {brl, "BRL", false}} {
			b := s.body(line{c.item, 1})
			if c.given {
				b["currency"] = c.currency
			}
			var o struct {
				Currency   string `json:"currency"`
				TotalCents int64  `json:"total_cents"`
			}
			r := s.order(b)
			h.mustStatus(r, 201, "order in "+c.currency)
			r.json(t, &o)
			if o.Currency != c.currency {
				t.Errorf("order in %s, want %s", o.Currency, c.currency)
			}
		}
	})
}

// TestOrderPayments: payments may not add up to more than the order total.
// Less is allowed (an order paid in part, or not yet); the importer's
// exception cannot be asked for in a request.
func TestOrderPayments(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	mug := s.item("mug", "BRL", 12900, 10)
	pay := func(amounts ...int) map[string]any {
		b := s.body(line{mug, 1})
		ps := make([]map[string]any, len(amounts))
		for i, a := range amounts {
			ps[i] = map[string]any{"method": "pix", "amount_cents": a}
		}
		b["payments"] = ps
		return b
	}

	t.Run("overpayment is refused", func(t *testing.T) {
		s.refused(s.order(pay(999999999)), 400, `"field":"payments"`,
			s.rows(), map[string]int{mug: 10})
		s.refused(s.order(pay(6450, 6451)), 400, `"field":"payments"`,
			s.rows(), map[string]int{mug: 10})
	})

	t.Run("the importer's exception is not a request field", func(t *testing.T) {
		b := pay(999999999)
		b["HistoricalImport"] = true
		s.refused(s.order(b), 400, "HistoricalImport", s.rows(),
			map[string]int{mug: 10})
	})

	t.Run("payments up to the total are accepted", func(t *testing.T) {
		for _, amounts := range [][]int{{12900}, {6450, 6450}, {100}, {}} {
			h.mustStatus(s.order(pay(amounts...)), 201,
				fmt.Sprintf("payments %v", amounts))
		}
		if n := s.stock(mug); n != 6 {
			t.Errorf("stock %d after four orders of one, want 6", n)
		}
	})
}

// TestOrderStatusMovesForwardOnly: an order moves along its life cycle,
// never back; a delivered order cannot be canceled to put its units back
// in stock.
func TestOrderStatusMovesForwardOnly(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	mug := s.item("mug", "BRL", 1000, 10)
	o := h.created("POST", s.base+"/orders", s.owner, s.body(line{mug, 4}))
	path := s.base + "/orders/" + o["id"].(string)
	status := func(st string) response {
		return h.do("PATCH", path, s.owner, map[string]string{"status": st})
	}
	for _, st := range []string{"processing", "processing", "shipped", "delivered"} {
		h.mustStatus(status(st), 200, "to "+st)
	}
	for _, st := range []string{"canceled", "pending", "shipped", "unavailable"} {
		r := status(st)
		if r.Status != 409 || !strings.Contains(string(r.Body), "delivered") {
			t.Errorf("delivered to %s: %d %s, want 409 naming the status", st, r.Status, r.Body)
		}
	}
	if got := s.stock(mug); got != 6 {
		t.Errorf("stock %d after refused moves of a delivered order, want 6", got)
	}
	var st string
	if err := h.adminQuery(`select status from app.orders where id = $1`,
		o["id"]).Scan(&st); err != nil || st != "delivered" {
		t.Errorf("status %q (%v), want delivered", st, err)
	}
	// The database holds every writer to the table, not only the API.
	var refused bool
	err := h.adminQuery(`select true from (select 1) x
where not exists (select 1 from app.order_transitions
                  where from_status = 'shipped' and to_status = 'pending')`).Scan(&refused)
	if err != nil || !refused {
		t.Errorf("shipped -> pending is in the transition table (%v)", err)
	}
}

// TestCanceledOrderOfADeletedItemStaysCanceled: reopening takes the units
// again, so an order whose item was deleted meanwhile cannot reopen.
func TestCanceledOrderOfADeletedItemStaysCanceled(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	mug := s.item("mug", "BRL", 1000, 10)
	cup := s.item("cup", "BRL", 500, 10)
	o := h.created("POST", s.base+"/orders", s.owner, s.body(line{mug, 1}, line{cup, 2}))
	path := s.base + "/orders/" + o["id"].(string)
	h.mustStatus(h.do("PATCH", path, s.owner, map[string]string{"status": "canceled"}), 200, "cancel")
	h.mustStatus(h.do("DELETE", s.base+"/items/"+cup, s.owner, nil), 204, "delete the cup")
	r := h.do("PATCH", path, s.owner, map[string]string{"status": "pending"})
	if r.Status != 409 || !strings.Contains(string(r.Body), "line 1: its item was deleted") {
		t.Fatalf("reopen without the cup: %d %s, want 409 naming line 1", r.Status, r.Body)
	}
	if got := s.stock(mug); got != 10 {
		t.Errorf("mug stock %d after the refused reopen, want 10", got)
	}
	// A move the life cycle forbids is answered as such, before any
	// stock is looked at.
	r = h.do("PATCH", path, s.owner, map[string]string{"status": "delivered"})
	if r.Status != 409 || !strings.Contains(string(r.Body), "cannot move to that status") {
		t.Fatalf("canceled to delivered: %d %s, want the transition refused", r.Status, r.Body)
	}
}

// TestOrdersFromBeforeReservationGiveNothingBack: an order placed before
// orders reserved stock holds no units, so canceling it must not add any.
func TestOrdersFromBeforeReservationGiveNothingBack(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	h := s.h
	mug := s.item("mug", "BRL", 1000, 10)
	o := h.created("POST", s.base+"/orders", s.owner, s.body(line{mug, 4}))
	// As the migration leaves an order that existed before it.
	var n int
	if err := h.adminQuery(`with x as (update app.orders set stock_reserved = false
where id = $1 returning 1) select count(*) from x`, o["id"]).Scan(&n); err != nil || n != 1 {
		t.Fatalf("mark the order as older: %d %v", n, err)
	}
	s.setStock(mug, 10)
	path := s.base + "/orders/" + o["id"].(string)
	h.mustStatus(h.do("PATCH", path, s.owner, map[string]string{"status": "canceled"}), 200, "cancel")
	if got := s.stock(mug); got != 10 {
		t.Fatalf("stock %d after canceling an order that held none, want 10", got)
	}
	// Reopening takes the units, and from then on the order holds them.
	h.mustStatus(h.do("PATCH", path, s.owner, map[string]string{"status": "pending"}), 200, "reopen")
	h.mustStatus(h.do("PATCH", path, s.owner, map[string]string{"status": "canceled"}), 200, "cancel again")
	if got := s.stock(mug); got != 10 {
		t.Fatalf("stock %d after reopening and canceling, want 10", got)
	}
}
