package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/dbtest"
	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/threat"
)

// behindProxy serves the same API as h, but trusts 127.0.0.0/8 as a proxy,
// so X-Forwarded-For names the client, as behind a real load balancer.
func behindProxy(t *testing.T, h *harness) *httptest.Server {
	d := h.api.Deps
	d.ClientIP = httpapi.NewClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	srv := httptest.NewServer(httpapi.New(d))
	t.Cleanup(srv.Close)
	return srv
}

func loginFrom(t *testing.T, srv *httptest.Server, ip, email, password string) int {
	t.Helper()
	body := `{"email":"` + email + `","password":"` + password + `"}`
	req, _ := http.NewRequest("POST", srv.URL+"/v1/auth/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// settle writes pending events (which applies the response rules) and
// reloads the blocklist, as the background loops do within a second.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	if err := h.events.Flush(ctx); err != nil {
		h.t.Fatal(err)
	}
	if err := h.blocks.Reload(ctx); err != nil {
		h.t.Fatal(err)
	}
}

func TestFailedLoginsBlockTheAddressNotTheAccount(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("victim@example.test")
	srv := behindProxy(t, h)

	for range 50 {
		if st := loginFrom(t, srv, "198.51.100.7", "victim@example.test", "wrong-password-123"); st != 401 && st != 403 {
			t.Fatalf("failed login answered %d", st)
		}
	}
	h.settle()

	if st := loginFrom(t, srv, "198.51.100.7", "victim@example.test", testPassword); st != 403 {
		t.Fatalf("the attacking address still reaches login: %d", st)
	}
	if st := loginFrom(t, srv, "203.0.113.9", "victim@example.test", testPassword); st != 200 {
		t.Fatalf("the owner from another address cannot log in: %d", st)
	}
	var status string
	if err := h.adminQuery(`select status from auth.users where email = 'victim@example.test'`).Scan(&status); err != nil || status != "active" {
		t.Fatalf("account status %q (%v), want active", status, err)
	}
}

func TestSpoofedForwardedForBlocksTheSender(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("someone@example.test")
	// Straight to the server: no trusted proxy, so the header is ignored.
	for range 30 {
		req, _ := http.NewRequest("POST", h.srv.URL+"/v1/auth/login",
			strings.NewReader(`{"email":"someone@example.test","password":"wrong-password-123"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "192.0.2.66")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	h.settle()
	if h.blocks.BlockedIP(netip.MustParseAddr("192.0.2.66")) {
		t.Fatal("the victim named in X-Forwarded-For was blocked")
	}
	if !h.blocks.BlockedIP(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("the real sender was not blocked")
	}
}

func TestBurstIsCoalesced(t *testing.T) {
	t.Parallel()
	h := setup(t, 8)
	h.user("target@example.test")
	legit := h.user("legit@example.test")
	srv := behindProxy(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.events.Run(ctx, 200*time.Millisecond)
	go h.blocks.Run(ctx, time.Second)

	const total = 10_000
	attackers := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				loginFrom(t, srv, attackers[i%len(attackers)], "target@example.test", "wrong-password-123")
			}
		}()
	}
	legitFailures := 0
	for i := range total {
		work <- i
		if i%1000 == 0 && h.do("GET", "/v1/me", legit, nil).Status != 200 {
			legitFailures++
		}
	}
	close(work)
	wg.Wait()
	cancel()
	if err := h.events.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var rows, counted int
	err := h.adminQuery(`select count(*), coalesce(sum(count), 0)
from security.security_events where kind in ('login_failed', 'blocked_request')`).Scan(&rows, &counted)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d attack requests became %d event rows", total, rows)
	if counted != total {
		t.Errorf("event counts add up to %d, want %d", counted, total)
	}
	if rows > 300 {
		t.Errorf("%d event rows for one burst; coalescing failed", rows)
	}
	if legitFailures > 0 {
		t.Errorf("%d legitimate requests failed during the burst", legitFailures)
	}
}

func TestBlocksPropagateBetweenInstances(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other := threat.NewBlocklist(h.env.DB, h.api.Deps.Log)
	if os.Getenv(dbtest.EnvAPIURL) != "" {
		// Behind a transaction-mode pooler, LISTEN needs a direct
		// connection, as RAMPART_LISTEN_DATABASE_URL gives the service.
		other.ListenURL = h.env.AdminURL
	}
	go other.Run(ctx, time.Minute)
	time.Sleep(200 * time.Millisecond) // the listener is up

	conn, err := pgx.Connect(ctx, h.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	start := time.Now()
	if _, err := conn.Exec(ctx, `select security.block_ip('203.0.113.0/24', 'admin', 'test', null)`); err != nil {
		t.Fatal(err)
	}
	for !other.BlockedIP(netip.MustParseAddr("203.0.113.77")) {
		if time.Since(start) > time.Second {
			t.Fatal("a block made elsewhere did not arrive within a second")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("block propagated in %s", time.Since(start).Round(time.Millisecond))
}

func TestAuditChainNamesTheEditedRow(t *testing.T) {
	t.Parallel()
	c := customers(t)
	c.h.do("GET", c.base+"/customers/"+c.ids["customer"], c.ownerA, nil)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.h.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `select security.seal_chains()`); err != nil {
		t.Fatal(err)
	}
	reports, err := threat.Verify(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Break != nil || r.Verified == 0 && r.Chain == "customer_access_audit" {
			t.Fatalf("untouched chain does not verify: %+v", r)
		}
	}

	var id int64
	err = conn.QueryRow(ctx, `update security.customer_access_audit
set reason = 'nothing to see' where id = (select min(id) from security.customer_access_audit)
returning id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	reports, err = threat.Verify(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Chain == "customer_access_audit" && (r.Break == nil || r.Break.RowID != id) {
			t.Fatalf("edited row %d not named: %+v", id, r.Break)
		}
	}
}

func TestLockoutIsPerAccountAndAddress(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("locked@example.test")
	h.user("neighbour@example.test")
	srv := behindProxy(t, h)

	for range 10 {
		if st := loginFrom(t, srv, "198.51.100.20", "locked@example.test", "wrong-password-123"); st != 401 {
			t.Fatalf("failed login answered %d", st)
		}
	}
	t.Run("the pair is locked, even with the right password", func(t *testing.T) {
		if st := loginFrom(t, srv, "198.51.100.20", "locked@example.test", testPassword); st != 401 {
			t.Fatalf("locked pair signed in: %d", st)
		}
	})
	t.Run("the owner signs in from another address", func(t *testing.T) {
		if st := loginFrom(t, srv, "203.0.113.20", "locked@example.test", testPassword); st != 200 {
			t.Fatalf("owner elsewhere: %d", st)
		}
	})
	t.Run("another account from the locked address still signs in", func(t *testing.T) {
		if st := loginFrom(t, srv, "198.51.100.20", "neighbour@example.test", testPassword); st != 200 {
			t.Fatalf("neighbour: %d", st)
		}
	})
	t.Run("the table holds no email", func(t *testing.T) {
		var n int
		if err := h.adminQuery(`select count(*) from auth.login_failures
where account_tag like '%@%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows name an email (%v)", n, err)
		}
	})
}

// TestEnumerationCountsIdsThatExistElsewhere holds cross_tenant_probe to
// what it claims: a 404 under a merchant path is a probe when the merchant
// is someone else's or the id belongs to another merchant, and not when
// the id exists nowhere (a typo, a stale link).
func TestEnumerationCountsIdsThatExistElsewhere(t *testing.T) {
	t.Parallel()
	w := plant(t)
	h := w.h
	a, b := "/v1/merchants/"+w.merchantA, "/v1/merchants/"+w.merchantB
	nowhere := uuid.NewString()

	cases := []struct {
		path  string
		probe bool
	}{
		{a + "/items/" + w.ids["item"], true},         // A's merchant, B not a member
		{a, true},                                     // the merchant itself
		{b + "/items/" + w.ids["item"], true},         // A's item through B's own path
		{b + "/customers/" + w.ids["customer"], true}, // A's customer through B's path
		{b + "/orders/" + w.ids["order"], true},       // A's order through B's path
		{b + "/items/" + nowhere, false},              // B's path, id exists nowhere
		{"/v1/merchants/" + nowhere + "/items/" + nowhere, false},
		{b + "/orders/" + nowhere, false},
	}
	want := 0
	for _, c := range cases {
		h.mustStatus(h.do("GET", c.path, w.userB, nil), 404, c.path)
		if c.probe {
			want++
		}
	}
	h.settle()
	var got int
	if err := h.adminQuery(`select coalesce(sum(count), 0) from security.security_events
where kind = 'cross_tenant_probe'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("cross_tenant_probe counted %d requests, want %d", got, want)
	}

	// Without a live session the function answers no, whatever the ids:
	// a session that ends mid-request never reads as a probe.
	var elsewhere bool
	if err := h.adminQuery(`select security.probe_target_elsewhere($1, 'item', $2)`,
		w.merchantB, w.ids["item"]).Scan(&elsewhere); err != nil {
		t.Fatal(err)
	}
	if elsewhere {
		t.Error("probe_target_elsewhere answered yes without a session")
	}
}

// TestDistributedGuessingFlagsTheAccount spreads failed logins for one
// account over many networks, each too few to block its address: the
// account is flagged once for the admins, no address is blocked, and the
// owner still signs in.
func TestDistributedGuessingFlagsTheAccount(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("popular@example.test")
	h.user("bystander@example.test")
	srv := behindProxy(t, h)

	// A bystander's few failures from two networks flag nothing.
	for _, ip := range []string{"192.0.2.10", "192.0.2.11"} {
		loginFrom(t, srv, ip, "bystander@example.test", "wrong-password-123")
	}
	// IPv6 addresses in one /64 are one network; four of them plus four
	// IPv4 addresses make five networks, each with three failures.
	ips := []string{"2001:db8:1:1::1", "2001:db8:1:1::2", "2001:db8:1:1::3",
		"2001:db8:1:1::4", "198.51.100.21", "198.51.100.22",
		"198.51.100.23", "198.51.100.24"}
	for i, ip := range ips {
		n := 3
		if i < 4 {
			n = 1
		}
		for range n {
			if st := loginFrom(t, srv, ip, "popular@example.test", "wrong-password-123"); st != 401 {
				t.Fatalf("failed login from %s answered %d", ip, st)
			}
		}
		h.settle()
	}

	var flagged int
	var networks int
	err := h.adminQuery(`select count(*), coalesce(max((details ->> 'networks')::int), 0)
from security.security_events where kind = 'account_targeted'`).Scan(&flagged, &networks)
	if err != nil {
		t.Fatal(err)
	}
	if flagged != 1 || networks != 5 {
		t.Errorf("account_targeted rows %d over %d networks, want 1 over 5", flagged, networks)
	}
	var blocks int
	if err := h.adminQuery(`select count(*) from security.blocked_ips`).Scan(&blocks); err != nil {
		t.Fatal(err)
	}
	if blocks != 0 {
		t.Errorf("%d addresses blocked by a spread attack; none crossed its own threshold", blocks)
	}
	if st := loginFrom(t, srv, "203.0.113.9", "popular@example.test", testPassword); st != 200 {
		t.Fatalf("the owner cannot sign in: %d", st)
	}
}
