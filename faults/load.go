//go:build faults

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// op is one kind of request the load sends.
type op string

const (
	opRead   op = "customer_read"
	opOrder  op = "order_create"
	opMarket op = "market_browse"
)

var allOps = []op{opRead, opOrder, opMarket}

// record is one request as the client saw it.
type record struct {
	op     op
	start  time.Time
	end    time.Time
	status int // 0: no HTTP answer (connection refused, timeout)
	code   string
	err    string
	reqID  string // ours until the server answers, then the server's
	ref    string // order external_ref
	total  int64  // order total the request should produce
	// leak is set when a customer read that did not succeed still carried
	// customer fields in its body.
	leak bool
	// wrong is set when a 2xx answer did not hold what was asked for.
	wrong string
}

func (r record) ok() bool               { return r.status >= 200 && r.status < 300 }
func (r record) latency() time.Duration { return r.end.Sub(r.start) }

// item is a merchant's item and its price.
type item struct {
	ID         string `json:"id"`
	PriceCents int64  `json:"price_cents"`
}

// principal is a signed-in demo member and the merchant it works on.
type principal struct {
	email     string
	token     string
	merchant  string
	customers []string
	items     []item
}

// load sends requests from a few workers until stopped, recording each.
type load struct {
	client *http.Client
	base   string
	who    []principal
	phase  string
	pace   time.Duration
	run    string

	seq  atomic.Int64
	mu   sync.Mutex
	recs []record
}

func newLoad(base string, who []principal) *load {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &load{
		client: &http.Client{Transport: tr, Timeout: 15 * time.Second},
		base:   base,
		who:    who,
		run:    fmt.Sprintf("%06x", rand.Uint32()&0xffffff),
	}
}

// start runs workers until ctx ends; the returned function waits for them
// and hands over the phase's records.
func (l *load) start(ctx context.Context, phase string, workers int,
	pace time.Duration) func() []record {
	l.mu.Lock()
	l.phase, l.pace, l.recs = phase, pace, nil
	l.mu.Unlock()

	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker(ctx, l.who[i%len(l.who)])
		}()
	}
	return func() []record {
		wg.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.recs
	}
}

func (l *load) worker(ctx context.Context, p principal) {
	for ctx.Err() == nil {
		var r record
		switch x := rand.Float64(); {
		case x < 0.45:
			r = l.read(p)
		case x < 0.9:
			r = l.order(p)
		default:
			r = l.market()
		}
		l.mu.Lock()
		l.recs = append(l.recs, r)
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(l.pace):
		}
	}
}

// id is unique across runs: a request id and external_ref at once.
func (l *load) id() string {
	return fmt.Sprintf("flt-%s-%s-%d", l.run, l.phase, l.seq.Add(1))
}

func (l *load) read(p principal) record {
	cid := p.customers[rand.IntN(len(p.customers))]
	r := record{op: opRead, reqID: l.id()}
	body := l.send(&r, "GET", "/v1/merchants/"+p.merchant+"/customers/"+cid,
		p.token, nil)
	if r.ok() {
		var c struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &c) != nil || c.ID != cid {
			r.wrong = "read answered another customer or no JSON"
		}
	} else if r.status != 0 {
		r.leak = carriesCustomer(body)
	}
	return r
}

func (l *load) order(p principal) record {
	r := record{op: opOrder, reqID: l.id()}
	r.ref = r.reqID
	a := p.items[rand.IntN(len(p.items))]
	b := p.items[rand.IntN(len(p.items))]
	qa := int64(1 + rand.IntN(3))
	in := map[string]any{
		"customer_id":  p.customers[rand.IntN(len(p.customers))],
		"external_ref": r.ref,
		"currency":     "BRL",
		"lines": []map[string]any{
			{"item_id": a.ID, "quantity": qa, "freight_cents": 250},
			{"item_id": b.ID, "quantity": 1, "freight_cents": 0},
		},
	}
	r.total = qa*a.PriceCents + b.PriceCents + 250
	body := l.send(&r, "POST", "/v1/merchants/"+p.merchant+"/orders",
		p.token, in)
	if r.ok() {
		var o struct {
			ExternalRef string `json:"external_ref"`
			TotalCents  int64  `json:"total_cents"`
		}
		if json.Unmarshal(body, &o) != nil || o.ExternalRef != r.ref ||
			o.TotalCents != r.total {
			r.wrong = fmt.Sprintf("order answered ref %q total %d, want %q %d",
				o.ExternalRef, o.TotalCents, r.ref, r.total)
		}
	}
	return r
}

func (l *load) market() record {
	r := record{op: opMarket, reqID: l.id()}
	l.send(&r, "GET", "/v1/market?limit=20", "", nil)
	return r
}

// send performs one request, fills r's timing, status and problem code,
// and returns the body.
func (l *load) send(r *record, method, path, token string, in any) []byte {
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, l.base+path, rd)
	req.Header.Set("X-Request-Id", r.reqID)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	r.start = time.Now()
	res, err := l.client.Do(req)
	if err != nil {
		r.end, r.err = time.Now(), err.Error()
		return nil
	}
	// The server numbers requests itself (a client's X-Request-Id is only
	// logged beside its own): audit rows carry the id it answers with.
	if id := res.Header.Get("X-Request-Id"); id != "" {
		r.reqID = id
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	r.end, r.status = time.Now(), res.StatusCode
	if err != nil {
		r.err = "read body: " + err.Error()
	}
	if !r.ok() {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(body, &p)
		r.code = p.Code
	}
	return body
}

// problemKeys are the members of an RFC 9457 answer; anything else in a
// failed customer read is data that should not be there.
var problemKeys = map[string]bool{"type": true, "title": true,
	"status": true, "detail": true, "code": true, "request_id": true,
	"errors": true, "instance": true}

// carriesCustomer reports whether a failed answer holds customer fields.
func carriesCustomer(body []byte) bool {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		// Not JSON: look for the masked renderings' telltale fields.
		s := string(body)
		return strings.Contains(s, "email") || strings.Contains(s, "phone")
	}
	for k := range m {
		if !problemKeys[k] {
			return true
		}
	}
	return false
}
