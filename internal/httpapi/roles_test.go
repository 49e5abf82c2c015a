package httpapi_test

import (
	"testing"
)

// TestRoleRefusals: a member below the role a write needs gets 403
// forbidden (not 404: they can read the merchant), before any second-factor
// check; the row is left as it was; a manager may do what managers may.
func TestRoleRefusals(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	owner := h.user("owner@roles.example.test")
	staff := h.user("staff@roles.example.test")
	manager := h.user("manager@roles.example.test")
	h.user("newbie@roles.example.test")
	m := h.created("POST", "/v1/merchants", owner,
		map[string]string{"name": "Roles", "slug": "roles-shop"})
	base := "/v1/merchants/" + m["id"].(string)
	h.elevate("owner@roles.example.test")
	h.join(base, owner, "staff@roles.example.test", "staff")
	mgr := h.join(base, owner, "manager@roles.example.test", "manager")
	h.mustStatus(h.do("PATCH", base+"/page", owner, map[string]any{
		"contact_email": "shop@roles.example.test", "published": true}), 200, "owner edits page")
	item := h.created("POST", base+"/items", owner, map[string]any{
		"sku": "r-1", "title": "Kept", "price_cents": 100})
	cust := h.created("POST", base+"/customers", owner, map[string]any{
		"name": "Kept Customer", "email": "kept@example.test"})
	// Staff with a fresh second factor: the refusal is about the role.
	h.elevate("staff@roles.example.test")

	code := func(r response) string {
		var p struct{ Code string }
		r.json(t, &p)
		return p.Code
	}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", base, map[string]string{"name": "Staff rename"}},
		{"PATCH", base + "/page", map[string]any{"contact_email": "phish@evil.example.test"}},
		{"PATCH", base + "/page", map[string]any{"published": false}},
		{"DELETE", base + "/items/" + item["id"].(string), nil},
		// An item id that exists nowhere: the role decides first.
		{"DELETE", base + "/items/00000000-0000-4000-8000-000000000000", nil},
		{"DELETE", base + "/customers/" + cust["id"].(string), nil},
		{"POST", base + "/invitations", map[string]string{"email": "newbie@roles.example.test", "role": "staff"}},
		{"GET", base + "/invitations", nil},
		{"DELETE", base + "/members/" + mgr["user_id"].(string), nil},
	} {
		r := h.do(tc.method, tc.path, staff, tc.body)
		if r.Status != 403 || code(r) != "forbidden" {
			t.Errorf("%s %s as staff: %d %s, want 403 forbidden", tc.method, tc.path, r.Status, r.Body)
		}
	}

	t.Run("nothing changed", func(t *testing.T) {
		r := h.do("GET", base+"/page", owner, nil)
		h.mustStatus(r, 200, "page")
		var p struct {
			ContactEmail string `json:"contact_email"`
			Published    bool
		}
		r.json(t, &p)
		if p.ContactEmail != "shop@roles.example.test" || !p.Published {
			t.Errorf("staff changed the page: %s", r.Body)
		}
		h.mustStatus(h.do("GET", base+"/items/"+item["id"].(string), owner, nil), 200, "item kept")
		h.mustStatus(h.do("GET", base+"/customers/"+cust["id"].(string), owner, nil), 200, "customer kept")
		r = h.do("GET", base, owner, nil)
		var mm struct{ Name string }
		r.json(t, &mm)
		if mm.Name != "Roles" {
			t.Errorf("staff renamed the merchant: %s", r.Body)
		}
	})

	t.Run("managers edit the page, not the members", func(t *testing.T) {
		h.mustStatus(h.do("PATCH", base+"/page", manager,
			map[string]any{"title": "Managed"}), 200, "manager edits page")
		h.elevate("manager@roles.example.test")
		r := h.do("POST", base+"/invitations", manager,
			map[string]string{"email": "newbie@roles.example.test", "role": "staff"})
		if r.Status != 403 || code(r) != "forbidden" {
			t.Errorf("manager adds a member: %d %s, want 403 forbidden", r.Status, r.Body)
		}
	})

	t.Run("an owner cannot be removed: 409, and the owner stays", func(t *testing.T) {
		var me struct{ ID string }
		h.do("GET", "/v1/me", owner, nil).json(t, &me)
		r := h.do("DELETE", base+"/members/"+me.ID, owner, nil)
		if r.Status != 409 || code(r) != "conflict" {
			t.Errorf("owner removes the owner: %d %s, want 409 conflict", r.Status, r.Body)
		}
		h.mustStatus(h.do("GET", base+"/items/"+item["id"].(string), owner, nil), 200, "owner still in")
	})

	t.Run("owners still need a second factor", func(t *testing.T) {
		h.adminQuery(`update auth.sessions s set aal = 'aal1', aal_at = null
from auth.users u where u.id = s.user_id and u.email = 'owner@roles.example.test'
returning 1`).Scan(new(int))
		r := h.do("POST", base+"/invitations", owner,
			map[string]string{"email": "newbie@roles.example.test", "role": "staff"})
		if r.Status != 403 || code(r) != "mfa_required" {
			t.Errorf("owner at aal1 adds a member: %d %s, want 403 mfa_required", r.Status, r.Body)
		}
	})

	t.Run("a manager's own not-found stays 404", func(t *testing.T) {
		r := h.do("DELETE", base+"/items/00000000-0000-4000-8000-000000000000", manager, nil)
		if r.Status != 404 {
			t.Errorf("manager deletes a missing item: %d %s, want 404", r.Status, r.Body)
		}
	})
}
