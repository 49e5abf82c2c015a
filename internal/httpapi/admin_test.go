package httpapi_test

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	c := customers(t)
	h := c.h
	const adminEmail = "admin@platform.example.test"

	t.Run("a platform admin without a recent second factor is asked for one", func(t *testing.T) {
		r := h.do("GET", "/v1/admin/security/metrics", c.tenants.admin, nil)
		h.mustStatus(r, 403, "aal1 admin")
		if !strings.Contains(string(r.Body), `"mfa_required"`) {
			t.Fatalf("code: %s", r.Body)
		}
	})

	t.Run("other users are refused, even at aal2", func(t *testing.T) {
		c.elevate(t, "owner@a.example.test")
		h.mustStatus(h.do("GET", "/v1/admin/security/events", c.ownerA, nil), 403, "owner")
		h.mustStatus(h.do("GET", "/v1/admin/security/events", "", nil), 401, "anonymous")
	})

	c.elevate(t, adminEmail)

	t.Run("events: list, filter, acknowledge and resolve", func(t *testing.T) {
		h.do("POST", "/v1/auth/login", "", map[string]string{
			"email": "owner@a.example.test", "password": "wrong-password-77"})
		h.settle()
		r := h.do("GET", "/v1/admin/security/events?kind=login_failed&status=open", c.tenants.admin, nil)
		h.mustStatus(r, 200, "events")
		var page struct {
			Data []struct {
				ID      int64             `json:"id"`
				Details map[string]string `json:"details"`
			} `json:"data"`
		}
		r.json(t, &page)
		if len(page.Data) != 1 {
			t.Fatalf("%d login_failed events, want 1: %s", len(page.Data), r.Body)
		}
		if strings.Contains(string(r.Body), "owner@a.example.test") {
			t.Fatal("an event carries the account's email")
		}
		id := page.Data[0].ID
		path := "/v1/admin/security/events/" + itoa(id)
		h.mustStatus(h.do("POST", path+"/acknowledge", c.tenants.admin, map[string]any{}), 204, "ack")
		h.mustStatus(h.do("POST", path+"/resolve", c.tenants.admin,
			map[string]string{"note": "owner mistyped"}), 204, "resolve")
		h.mustStatus(h.do("POST", "/v1/admin/security/events/999999/resolve", c.tenants.admin,
			map[string]string{"note": "x"}), 404, "missing event")
		h.mustStatus(h.do("GET", "/v1/admin/security/events?severity=extreme", c.tenants.admin, nil), 400, "bad severity")
	})

	t.Run("a platform admin lists every merchant; an owner only theirs", func(t *testing.T) {
		ids := func(bearer string) string {
			r := h.do("GET", "/v1/merchants?limit=100", bearer, nil)
			h.mustStatus(r, 200, "list merchants")
			return string(r.Body)
		}
		all := ids(c.tenants.admin)
		if !strings.Contains(all, c.tenants.merchantA) || !strings.Contains(all, c.tenants.merchantB) {
			t.Errorf("the admin's list lacks a tenant: %s", all)
		}
		own := ids(c.ownerA)
		if !strings.Contains(own, c.tenants.merchantA) || strings.Contains(own, c.tenants.merchantB) {
			t.Errorf("owner of A's list: %s", own)
		}
	})

	t.Run("a filter the query parser would drop is refused, not ignored", func(t *testing.T) {
		for q, field := range map[string]string{
			"ip=192.0.2.1;x":     `"field":"query"`,
			"kind=login_failed;": `"field":"query"`,
			"kind=%zz":           `"field":"query"`,
			"kind=x%00y":         `"field":"kind"`,
			"ip=not-an-address":  `"field":"ip"`,
		} {
			r := h.do("GET", "/v1/admin/security/events?"+q, c.tenants.admin, nil)
			h.mustStatus(r, 400, q)
			if !strings.Contains(string(r.Body), field) {
				t.Errorf("?%s: want %s in %s", q, field, r.Body)
			}
		}
		// The same rule holds on public routes.
		h.mustStatus(h.do("GET", "/v1/market?limit=5;x", "", nil), 400, "market with ';'")
	})

	t.Run("blocks: add, enforced, lifted", func(t *testing.T) {
		srv := behindProxy(t, h)
		r := h.do("POST", "/v1/admin/security/blocks", c.tenants.admin, map[string]any{
			"network": "198.51.100.0/24", "reason": "test block", "duration_seconds": 600})
		h.mustStatus(r, 201, "block")
		var b struct {
			ID int64 `json:"id"`
		}
		r.json(t, &b)
		h.settle()
		if st := loginFrom(t, srv, "198.51.100.44", "owner@a.example.test", testPassword); st != 403 {
			t.Fatalf("blocked range answered %d", st)
		}
		h.mustStatus(h.do("GET", "/v1/admin/security/blocks", c.tenants.admin, nil), 200, "list")
		h.mustStatus(h.do("DELETE", "/v1/admin/security/blocks/"+itoa(b.ID), c.tenants.admin, nil), 204, "unblock")
		h.settle()
		if h.blocks.BlockedIP(netip.MustParseAddr("198.51.100.44")) {
			t.Fatal("lifted block still enforced")
		}
	})

	t.Run("suspend and unsuspend a user", func(t *testing.T) {
		var uid string
		if err := h.adminQuery(`select id::text from auth.users where email = 'owner@b.example.test'`).Scan(&uid); err != nil {
			t.Fatal(err)
		}
		h.mustStatus(h.do("POST", "/v1/admin/users/"+uid+"/suspend", c.tenants.admin,
			map[string]string{"reason": "investigation"}), 204, "suspend")
		h.mustStatus(h.do("GET", "/v1/me", c.userB, nil), 401, "suspended user's token")
		if st := h.do("POST", "/v1/auth/login", "", map[string]string{
			"email": "owner@b.example.test", "password": testPassword}).Status; st != 401 {
			t.Fatalf("suspended user signed in: %d", st)
		}
		h.mustStatus(h.do("POST", "/v1/admin/users/"+uid+"/unsuspend", c.tenants.admin, nil), 204, "unsuspend")
		h.login("owner@b.example.test")
	})

	t.Run("access audit and metrics", func(t *testing.T) {
		h.do("GET", c.base+"/customers/"+c.ids["customer"], c.ownerA, nil)
		r := h.do("GET", "/v1/admin/security/access-audit?customer_id="+c.ids["customer"], c.tenants.admin, nil)
		h.mustStatus(r, 200, "audit")
		if !strings.Contains(string(r.Body), `"kind":"view"`) {
			t.Fatalf("audit lacks the view: %s", r.Body)
		}
		r = h.do("GET", "/v1/admin/security/metrics", c.tenants.admin, nil)
		h.mustStatus(r, 200, "metrics")
		var m map[string]any
		r.json(t, &m)
		if m["customer_reads_1h"].(float64) < 1 {
			t.Fatalf("metrics: %s", r.Body)
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
