package httpapi_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// tenants is the world of the cross-tenant tests: merchant A with an owner,
// a staff member and rows carrying markers; merchant B whose owner attacks
// A; an anonymous caller; and a platform admin.
type tenants struct {
	h                     *harness
	ownerA, staffA, userB string
	admin                 string
	merchantA, merchantB  string
	ids                   map[string]string
}

// Markers planted in A's private rows. No answer to B or to an anonymous
// caller may ever contain one.
var markers = []string{"MARKERA1", "MARKERA2", "MARKERA3", "MARKERA4", "MARKERA5"}

func plant(t *testing.T) *tenants {
	h := setup(t, 4)
	w := &tenants{h: h, ids: map[string]string{}}
	w.ownerA = h.user("owner@a.example.test")
	w.staffA = h.user("staff@a.example.test")
	h.user("spare@a.example.test")
	h.user("newbie@a.example.test")
	w.userB = h.user("owner@b.example.test")
	w.admin = h.admin("admin@platform.example.test")

	a := h.created("POST", "/v1/merchants", w.ownerA,
		map[string]string{"name": "Shop MARKERA1", "slug": "shop-a"})
	w.merchantA = a["id"].(string)
	b := h.created("POST", "/v1/merchants", w.userB,
		map[string]string{"name": "Shop B", "slug": "shop-b"})
	w.merchantB = b["id"].(string)

	base := "/v1/merchants/" + w.merchantA
	// Adding and removing members needs a recent second factor.
	h.elevate("owner@a.example.test")
	h.join(base, w.ownerA, "staff@a.example.test", "staff")
	spare := h.join(base, w.ownerA, "spare@a.example.test", "staff")
	w.ids["spare"] = spare["user_id"].(string)
	// Open invitations, to an email with no account: one that stays and
	// one for the attacks that withdraw or decline.
	for _, k := range []string{"invitation", "doomed_invitation"} {
		inv := h.created("POST", base+"/invitations", w.ownerA,
			map[string]string{"email": k + "@invitee.example.test", "role": "staff"})
		w.ids[k] = inv["id"].(string)
		w.ids[k+"_token"] = inv["token"].(string)
	}

	h.mustStatus(h.do("PATCH", base+"/page", w.ownerA, map[string]any{
		"description": "MARKERA2", "contact_email": "MARKERA2@a.example.test"}),
		200, "page")
	item := h.created("POST", base+"/items", w.ownerA, map[string]any{
		"sku": "priv-1", "title": "Private MARKERA3", "price_cents": 1000})
	w.ids["item"] = item["id"].(string)
	pub := h.created("POST", base+"/items", w.ownerA, map[string]any{
		"sku": "pub-1", "title": "Public item", "price_cents": 2500,
		"stock": 1000, "published": true})
	w.ids["pub"] = pub["id"].(string)
	pub2 := h.created("POST", base+"/items", w.ownerA, map[string]any{
		"sku": "pub-2", "title": "Public item two", "price_cents": 500,
		"published": true})
	w.ids["pub2"] = pub2["id"].(string)
	gone := h.created("POST", base+"/items", w.ownerA, map[string]any{
		"sku": "del-1", "title": "Doomed", "price_cents": 1})
	w.ids["doomed_item"] = gone["id"].(string)
	listing := h.created("POST", base+"/market", w.ownerA,
		map[string]string{"item_id": w.ids["pub"]})
	w.ids["listing"] = listing["id"].(string)

	cust := h.created("POST", base+"/customers", w.ownerA, map[string]any{
		"external_ref": "MARKERA4", "name": "Maria Silva",
		"email": "maria@example.test", "phone": "+55 11 98765-4321"})
	w.ids["customer"] = cust["id"].(string)
	doomed := h.created("POST", base+"/customers", w.ownerA, map[string]any{
		"name": "Jo Doe", "email": "jo@example.test"})
	w.ids["doomed_customer"] = doomed["id"].(string)
	order := h.created("POST", base+"/orders", w.ownerA, map[string]any{
		"customer_id": w.ids["customer"], "external_ref": "MARKERA5",
		"lines": []map[string]any{{"item_id": w.ids["pub"], "quantity": 2}}})
	w.ids["order"] = order["id"].(string)
	return w
}

// expect is the status each caller gets. A member below the role a write
// needs (staff on a manager or owner write) gets 403: they can see the
// merchant. Callers who are not members get 404, as for a merchant that
// does not exist.
type expect struct{ anon, userB, admin, staff, owner int }

type endpoint struct {
	method, path string
	body         func(role string) any
	want         expect
}

func fixed(v any) func(string) any { return func(string) any { return v } }

func (w *tenants) endpoints() []endpoint {
	m := "/v1/merchants/" + w.merchantA
	id := func(k string) string { return w.ids[k] }
	sku := func(role string) any {
		return map[string]any{"sku": "new-" + role, "title": "t", "price_cents": 1}
	}
	cust := func(role string) any {
		return map[string]any{"name": "New " + role, "email": role + "@example.test"}
	}
	order := fixed(map[string]any{"customer_id": id("customer"),
		"lines": []map[string]any{{"item_id": id("pub"), "quantity": 1}}})
	return []endpoint{
		{"GET", m, nil, expect{401, 404, 200, 200, 200}},
		{"PATCH", m, fixed(map[string]string{"name": "Renamed"}), expect{401, 404, 404, 403, 200}},
		{"GET", m + "/members", nil, expect{401, 404, 404, 200, 200}},
		{"GET", m + "/invitations", nil, expect{401, 404, 404, 403, 200}},
		{"POST", m + "/invitations", fixed(map[string]string{"email": "newbie@a.example.test", "role": "staff"}), expect{401, 404, 404, 403, 201}},
		{"DELETE", m + "/invitations/" + id("doomed_invitation"), nil, expect{401, 404, 404, 403, 204}},
		{"POST", "/v1/me/invitations/" + id("invitation") + "/accept", fixed(map[string]string{"token": id("invitation_token")}), expect{401, 404, 404, 404, 404}},
		{"POST", "/v1/me/invitations/" + id("invitation") + "/decline", fixed(map[string]string{"token": id("invitation_token")}), expect{401, 404, 404, 404, 404}},
		{"DELETE", m + "/members/" + id("spare"), nil, expect{401, 404, 404, 403, 204}},
		{"GET", m + "/page", nil, expect{401, 404, 404, 200, 200}},
		{"PATCH", m + "/page", fixed(map[string]string{"title": "New title"}), expect{401, 404, 404, 403, 200}},
		{"GET", m + "/items", nil, expect{401, 404, 404, 200, 200}},
		{"POST", m + "/items", sku, expect{401, 404, 404, 201, 201}},
		{"GET", m + "/items/" + id("item"), nil, expect{401, 404, 404, 200, 200}},
		{"GET", m + "/items/" + id("pub"), nil, expect{401, 404, 404, 200, 200}},
		{"PATCH", m + "/items/" + id("item"), fixed(map[string]any{"stock": 5}), expect{401, 404, 404, 200, 200}},
		{"POST", m + "/items/" + id("item") + "/suggest-price", nil, expect{401, 404, 404, 200, 200}},
		{"DELETE", m + "/items/" + id("doomed_item"), nil, expect{401, 404, 404, 403, 204}},
		{"GET", m + "/market", nil, expect{401, 404, 404, 200, 200}},
		{"POST", m + "/market", fixed(map[string]string{"item_id": id("pub2")}), expect{401, 404, 404, 201, 409}},
		{"DELETE", m + "/market/" + id("listing"), nil, expect{401, 404, 404, 204, 404}},
		{"GET", m + "/customers", nil, expect{401, 404, 404, 200, 200}},
		{"POST", m + "/customers", cust, expect{401, 404, 404, 201, 201}},
		{"GET", m + "/customers/" + id("customer"), nil, expect{401, 404, 404, 200, 200}},
		{"PATCH", m + "/customers/" + id("customer"), fixed(map[string]any{"phone": "+55 11 91234-0000"}), expect{401, 404, 404, 200, 200}},
		{"DELETE", m + "/customers/" + id("doomed_customer"), nil, expect{401, 404, 404, 403, 204}},
		{"GET", m + "/orders", nil, expect{401, 404, 404, 200, 200}},
		{"POST", m + "/orders", order, expect{401, 404, 404, 201, 201}},
		{"GET", m + "/orders/" + id("order"), nil, expect{401, 404, 404, 200, 200}},
		{"PATCH", m + "/orders/" + id("order"), fixed(map[string]string{"status": "processing"}), expect{401, 404, 404, 200, 200}},
	}
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
var requestIDRE = regexp.MustCompile(`"request_id":"[^"]*"`)

// TestCrossTenantMatrix calls every merchant endpoint as every kind of
// caller, in the order attackers first, and asserts each status; B's
// answers must equal the answers for ids that exist nowhere, and carry no
// marker of A.
func TestCrossTenantMatrix(t *testing.T) {
	t.Parallel()
	w := plant(t)
	h := w.h
	roles := []struct {
		name  string
		token string
		want  func(expect) int
	}{
		{"anonymous", "", func(e expect) int { return e.anon }},
		{"owner of B", w.userB, func(e expect) int { return e.userB }},
		{"platform admin", w.admin, func(e expect) int { return e.admin }},
		{"staff of A", w.staffA, func(e expect) int { return e.staff }},
		{"owner of A", w.ownerA, func(e expect) int { return e.owner }},
	}
	cases := 0
	for _, ep := range w.endpoints() {
		for _, role := range roles {
			var body any
			if ep.body != nil {
				body = ep.body(strings.ReplaceAll(role.name, " ", "-"))
			}
			r := h.do(ep.method, ep.path, role.token, body)
			cases++
			if want := role.want(ep.want); r.Status != want {
				t.Errorf("%s %s as %s: status %d, want %d: %s", ep.method,
					ep.path, role.name, r.Status, want, r.Body)
			}
			if role.token == "" || role.token == w.userB {
				assertNoMarker(t, role.name, ep, r)
			}
			if role.token == w.userB {
				assertLikeMissing(t, h, w, ep, body, r)
			}
		}
	}
	t.Logf("%d cross-tenant cases", cases)

	t.Run("B's own lists never show A", func(t *testing.T) {
		for _, p := range []string{"/v1/merchants", "/v1/me",
			"/v1/merchants/" + w.merchantB + "/items",
			"/v1/merchants/" + w.merchantB + "/customers",
			"/v1/merchants/" + w.merchantB + "/orders"} {
			r := h.do("GET", p, w.userB, nil)
			h.mustStatus(r, 200, p)
			assertNoMarker(t, "owner of B", endpoint{method: "GET", path: p}, r)
			if strings.Contains(string(r.Body), w.merchantA) {
				t.Errorf("GET %s as B names merchant A: %s", p, r.Body)
			}
		}
	})
}

func assertNoMarker(t *testing.T, who string, ep endpoint, r response) {
	t.Helper()
	for _, m := range markers {
		if strings.Contains(strings.ToUpper(string(r.Body)), m) {
			t.Errorf("%s %s as %s leaked %s: %s", ep.method, ep.path, who, m, r.Body)
		}
	}
}

// assertLikeMissing replays B's request with every id replaced by one that
// exists nowhere: status and body (but the request id) must be identical.
func assertLikeMissing(t *testing.T, h *harness, w *tenants, ep endpoint, body any, got response) {
	t.Helper()
	path := uuidRE.ReplaceAllStringFunc(ep.path, func(string) string {
		return uuid.NewString()
	})
	var b any = body
	if body != nil {
		raw := fmt.Sprint(body)
		if uuidRE.MatchString(raw) {
			return // ids in bodies are covered by the write tests
		}
	}
	missing := h.do(ep.method, path, w.userB, b)
	clean := func(r response) string {
		return requestIDRE.ReplaceAllString(string(r.Body), "")
	}
	if missing.Status != got.Status || clean(missing) != clean(got) {
		t.Errorf("%s %s as B differs from a missing id: %d %s vs %d %s",
			ep.method, ep.path, got.Status, got.Body, missing.Status, missing.Body)
	}
}
