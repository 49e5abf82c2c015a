package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// customerWorld is merchant A of plant() plus helpers to read the audit.
type customerWorld struct {
	*tenants
	base string
}

func customers(t *testing.T) *customerWorld {
	w := plant(t)
	return &customerWorld{tenants: w, base: "/v1/merchants/" + w.merchantA}
}

func (c *customerWorld) admin(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.h.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (c *customerWorld) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := c.h.adminQuery(sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// elevate marks every live session of a user as having passed a second
// factor just now, as the TOTP flow will.
func (c *customerWorld) elevate(t *testing.T, email string) {
	c.h.elevate(email)
}

func TestRevealNeedsRoleSecondFactorAndReason(t *testing.T) {
	t.Parallel()
	c := customers(t)
	path := c.base + "/customers/" + c.ids["customer"] + "/reveal"
	body := map[string]string{"reason": "customer called about a parcel"}

	t.Run("staff never reveal", func(t *testing.T) {
		c.elevate(t, "staff@a.example.test")
		r := c.h.do("POST", path, c.staffA, body)
		c.h.mustStatus(r, 403, "staff reveal")
		if !strings.Contains(string(r.Body), `"forbidden"`) {
			t.Errorf("code: %s", r.Body)
		}
	})

	t.Run("an owner at aal1 is asked for a second factor", func(t *testing.T) {
		c.admin(t, `update auth.sessions s set aal = 'aal1', aal_at = null
from auth.users u where u.id = s.user_id and u.email = 'owner@a.example.test'`)
		r := c.h.do("POST", path, c.ownerA, body)
		c.h.mustStatus(r, 403, "aal1 reveal")
		if !strings.Contains(string(r.Body), `"mfa_required"`) {
			t.Errorf("code: %s", r.Body)
		}
	})

	t.Run("a reason is required", func(t *testing.T) {
		c.h.mustStatus(c.h.do("POST", path, c.ownerA, map[string]string{}),
			400, "no reason")
		// The reason goes into the audit trail: nothing that would forge a
		// line or hide text when the trail is read.
		for _, reason := range []string{"parcel\nresult=allowed", "parcel\x1b[2J", "parcel \u202eok"} {
			r := c.h.do("POST", path, c.ownerA, map[string]string{"reason": reason})
			c.h.mustStatus(r, 400, fmt.Sprintf("reason %q", reason))
		}
	})

	t.Run("an owner at aal2 sees the plain values, audited with the reason", func(t *testing.T) {
		c.elevate(t, "owner@a.example.test")
		r := c.h.do("POST", path, c.ownerA, body)
		c.h.mustStatus(r, 200, "aal2 reveal")
		if !strings.Contains(string(r.Body), "maria@example.test") ||
			!strings.Contains(string(r.Body), "Maria Silva") {
			t.Fatalf("not revealed: %s", r.Body)
		}
		n := c.count(t, `select count(*) from security.customer_access_audit
where kind = 'reveal' and result = 'allowed' and reason = $1
  and customer_id = $2`, body["reason"], c.ids["customer"])
		if n != 1 {
			t.Fatalf("%d allowed reveal audit rows, want 1", n)
		}
		denied := c.count(t, `select count(*) from security.customer_access_audit
where kind = 'reveal' and result = 'denied'`)
		if denied != 2 {
			t.Fatalf("%d denied reveal audit rows, want 2 (staff, aal1)", denied)
		}
	})

	t.Run("another tenant's owner at aal2 gets 404 and an audit row", func(t *testing.T) {
		c.elevate(t, "owner@b.example.test")
		c.h.mustStatus(c.h.do("POST", path, c.userB, body), 404, "B reveal")
		n := c.count(t, `select count(*) from security.customer_access_audit
where kind = 'reveal' and result = 'not_found' and customer_id = $1`,
			c.ids["customer"])
		if n != 1 {
			t.Fatalf("%d not_found audit rows, want 1", n)
		}
	})

	t.Run("export is for owners at aal2 and carries the orders", func(t *testing.T) {
		r := c.h.do("GET", c.base+"/customers/"+c.ids["customer"]+"/export",
			c.ownerA, nil)
		c.h.mustStatus(r, 200, "export")
		if !strings.Contains(string(r.Body), "MARKERA5") {
			t.Fatalf("export lacks the order: %s", r.Body)
		}
	})
}

func TestCustomerQuotaUnderConcurrency(t *testing.T) {
	t.Parallel()
	c := customers(t)
	c.admin(t, `update security.customer_access_limits set records = 10`)
	ids := make([]string, 100)
	for i := range ids {
		cu := c.h.created("POST", c.base+"/customers", c.ownerA, map[string]any{
			"name": fmt.Sprintf("Person %d", i), "email": fmt.Sprintf("p%d@example.test", i)})
		ids[i] = cu["id"].(string)
	}

	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.h.do("GET", c.base+"/customers/"+id, c.staffA, nil)
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
			if r.Status == 429 && r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}()
	}
	wg.Wait()
	// Past the quota every read is refused; a client that keeps pulling
	// after 50 refusals is suspended (its own reads caused it), and its
	// later requests die at the session check.
	// A read whose session is revoked between the session check and the
	// door finds nothing: 404, with no data.
	if statuses[200] != 10 || statuses[429]+statuses[401]+statuses[404] != 90 || statuses[429] < 50 {
		t.Fatalf("statuses %v, want exactly 10 x 200 and the rest 429 (then 401)", statuses)
	}
	allowed := c.count(t, `select count(*) from security.customer_access_audit
where kind = 'view' and result = 'allowed'`)
	over := c.count(t, `select count(*) from security.customer_access_audit
where kind = 'view' and result = 'over_quota'`)
	if allowed != 10 || over != statuses[429] {
		t.Fatalf("audit: %d allowed, %d over quota; want 10 and %d", allowed,
			over, statuses[429])
	}
	events := c.count(t, `select coalesce(sum(count), 0) from security.security_events
where kind = 'bulk_export_suspected'`)
	if events != over {
		t.Fatalf("bulk_export_suspected counted %d times, want %d", events, over)
	}
	if statuses[401] > 0 && c.count(t, `select count(*) from auth.users
where email = 'staff@a.example.test' and status = 'suspended'`) != 1 {
		t.Fatal("requests were refused at the session check but the user is not suspended")
	}
}

func TestCustomerListRefusesBulkShapes(t *testing.T) {
	t.Parallel()
	c := customers(t)
	list := c.base + "/customers"
	many := strings.TrimSuffix(strings.Repeat(c.ids["customer"]+",", 500), ",")
	for name, q := range map[string]string{
		"limit=100000": "limit=100000", "limit=-1": "limit=-1",
		"limit=abc": "limit=abc", "sort=email": "sort=email",
		"q on a masked field": "q=maria", "order by a mask": "order=email_mask",
		"500 ids in one batch": "ids=" + many, "a malformed id": "ids=nope",
	} {
		t.Run(name, func(t *testing.T) {
			c.h.mustStatus(c.h.do("GET", list+"?"+q, c.ownerA, nil), 400, name)
		})
	}

	t.Run("exact email goes through the blind index", func(t *testing.T) {
		r := c.h.do("GET", list+"?email=MARIA@example.test", c.ownerA, nil)
		c.h.mustStatus(r, 200, "by email")
		if !strings.Contains(string(r.Body), c.ids["customer"]) {
			t.Fatalf("not found by email: %s", r.Body)
		}
	})

	t.Run("a walk over many pages is cut off with 429", func(t *testing.T) {
		c.admin(t, `update security.customer_access_limits set records = 40`)
		for i := range 40 {
			c.h.created("POST", list, c.ownerA, map[string]any{
				"name": "Walk", "email": fmt.Sprintf("w%d@example.test", i)})
		}
		status, pages := 200, 0
		next := list + "?limit=5"
		for pages < 60 && status == 200 {
			r := c.h.do("GET", next, c.ownerA, nil)
			status = r.Status
			pages++
			var page struct {
				NextCursor *string `json:"next_cursor"`
			}
			if status == 200 {
				r.json(t, &page)
				if page.NextCursor == nil {
					break
				}
				next = list + "?limit=5&cursor=" + *page.NextCursor
			}
		}
		if status != http.StatusTooManyRequests {
			t.Fatalf("walked %d pages without a 429 (last %d)", pages, status)
		}
	})
}

func TestAuditIsDurableAndFailsClosed(t *testing.T) {
	t.Parallel()
	c := customers(t)
	one := c.base + "/customers/" + c.ids["customer"]

	t.Run("a read that fails after the fetch keeps its audit row", func(t *testing.T) {
		c.elevate(t, "owner@a.example.test")
		// Seal the name under another row's context: it no longer opens.
		c.admin(t, `update app.merchant_customers set name_sealed = (
  select email_sealed from app.merchant_customers where id = $1)
where id = $1`, c.ids["customer"])
		r := c.h.do("POST", one+"/reveal", c.ownerA,
			map[string]string{"reason": "checking a broken record"})
		c.h.mustStatus(r, 500, "reveal of a value that does not open")
		if strings.Contains(string(r.Body), "maria") {
			t.Fatalf("answer leaks: %s", r.Body)
		}
		n := c.count(t, `select count(*) from security.customer_access_audit
where kind = 'reveal' and reason = 'checking a broken record'`)
		if n != 1 {
			t.Fatalf("%d audit rows, want 1", n)
		}
	})

	t.Run("if the audit row cannot be written, no data is sent", func(t *testing.T) {
		c.admin(t, `
create function security.refuse() returns trigger language plpgsql as $$
begin raise exception 'audit disk full'; end $$;
create trigger refuse before insert on security.customer_access_audit
for each row execute function security.refuse()`)
		r := c.h.do("GET", one, c.ownerA, nil)
		if r.Status < 500 {
			t.Fatalf("read without audit answered %d: %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "M. S.") || strings.Contains(string(r.Body), "audit disk") {
			t.Fatalf("answer leaks: %s", r.Body)
		}
	})
}

// TestDumpHoldsNoPII dumps the whole database and looks for every planted
// plaintext value.
func TestDumpHoldsNoPII(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump not installed: skipping the dump check")
	}
	c := customers(t)
	c.h.created("POST", c.base+"/customers", c.ownerA, map[string]any{
		"name": "Joaquina Planted", "email": "joaquina.planted@example.test",
		"phone": "+55 21 99876-5432", "address": map[string]string{
			"street": "Rua Plantada 742", "city": "Niteroi", "state": "RJ",
			"zip": "24220-031"}})
	c.h.created("POST", c.base+"/orders", c.ownerA, map[string]any{
		"customer_id": c.ids["customer"],
		"shipping_address": map[string]string{"street": "Avenida Escondida 99",
			"city": "Recife", "state": "PE", "zip": "50000-000"},
		"lines": []map[string]any{{"item_id": c.ids["pub"], "quantity": 1}}})

	out, err := exec.Command("pg_dump", "--no-owner", c.h.env.AdminURL).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	dump := strings.ToLower(string(out))
	if !strings.Contains(dump, "merchant_customers") {
		t.Fatal("dump holds no customer table (control)")
	}
	for _, planted := range []string{"joaquina", "planted@example", "maria silva",
		"maria@example.test", "99876", "98765-4321", "rua plantada",
		"avenida escondida", "24220-031"} {
		if strings.Contains(dump, planted) {
			t.Errorf("dump contains %q", planted)
		}
	}
}

// TestOverQuotaUpdateWritesNothing: an update is a read of the customer
// too. Past the read quota it is refused, changes nothing, and its audit
// row names the customer asked for.
func TestOverQuotaUpdateWritesNothing(t *testing.T) {
	t.Parallel()
	c := customers(t)
	c.admin(t, `update security.customer_access_limits set records = 1`)
	mk := func(ref string) string {
		cu := c.h.created("POST", c.base+"/customers", c.ownerA, map[string]any{
			"name": "Quota " + ref, "email": ref + "@example.test", "external_ref": ref})
		return cu["id"].(string)
	}
	seen, unseen := mk("quota-seen"), mk("quota-unseen")
	c.h.mustStatus(c.h.do("GET", c.base+"/customers/"+seen, c.staffA, nil), 200, "the one read the quota allows")

	r := c.h.do("PATCH", c.base+"/customers/"+unseen, c.staffA,
		map[string]any{"external_ref": "changed", "email": "attacker@example.test"})
	c.h.mustStatus(r, 429, "update past the quota")
	if n := c.count(t, `select count(*) from app.merchant_customers
where id = $1 and external_ref = 'quota-unseen' and updated_at = created_at`, unseen); n != 1 {
		t.Fatal("the refused update changed the customer")
	}
	if n := c.count(t, `select count(*) from security.customer_access_audit
where customer_id = $1 and result = 'over_quota'`, unseen); n != 1 {
		t.Fatalf("%d over-quota audit rows name the customer, want 1", n)
	}

	// A customer already read this window costs nothing more: its update
	// goes through and answers the new values, masked.
	r = c.h.do("PATCH", c.base+"/customers/"+seen, c.staffA,
		map[string]any{"external_ref": "changed-seen", "email": "new@example.test"})
	c.h.mustStatus(r, 200, "update of a customer read already")
	if !strings.Contains(string(r.Body), `"external_ref":"changed-seen"`) ||
		strings.Contains(string(r.Body), "new@example.test") {
		t.Fatalf("answer %s: want the new external_ref and a masked email", r.Body)
	}
	if n := c.count(t, `select count(*) from app.merchant_customers
where id = $1 and external_ref = 'changed-seen'`, seen); n != 1 {
		t.Fatal("the allowed update was not written")
	}
}
