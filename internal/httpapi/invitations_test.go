package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestInvitations: people join a merchant only by accepting an invitation
// to their own email, and inviting tells the owner nothing about which
// emails have accounts.
func TestInvitations(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	owner := h.user("owner@inv.example.test")
	h.user("has-account@inv.example.test")
	stranger := h.user("stranger@inv.example.test")
	shop := h.created("POST", "/v1/merchants", owner,
		map[string]string{"name": "Invite Shop", "slug": "invite-shop"})
	base := "/v1/merchants/" + shop["id"].(string)
	h.elevate("owner@inv.example.test")

	invite := func(email, role string) map[string]any {
		t.Helper()
		return h.created("POST", base+"/invitations", owner,
			map[string]string{"email": email, "role": role})
	}

	t.Run("an email with an account and one without are answered alike", func(t *testing.T) {
		with := invite("has-account@inv.example.test", "staff")
		without := invite("no-account@inv.example.test", "staff")
		for _, k := range []string{"id", "email", "created_at", "expires_at"} {
			delete(with, k)
			delete(without, k)
		}
		if fmt.Sprint(with) != fmt.Sprint(without) {
			t.Fatalf("answers differ: %v / %v", with, without)
		}
	})

	t.Run("nobody is a member before accepting", func(t *testing.T) {
		tok := h.login("has-account@inv.example.test")
		h.mustStatus(h.do("GET", base, tok, nil), 404, "merchant before accepting")
		r := h.do("GET", base+"/members", owner, nil)
		h.mustStatus(r, 200, "members")
		if n := strings.Count(string(r.Body), `"user_id"`); n != 1 {
			t.Fatalf("%d members before any acceptance, want the owner alone: %s", n, r.Body)
		}
	})

	t.Run("only the invitee sees, accepts or declines", func(t *testing.T) {
		inv := invite("has-account@inv.example.test", "manager") // renews
		id := inv["id"].(string)
		r := h.do("GET", "/v1/me/invitations", stranger, nil)
		h.mustStatus(r, 200, "stranger's invitations")
		if strings.Contains(string(r.Body), id) {
			t.Fatalf("a stranger sees another's invitation: %s", r.Body)
		}
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+id+"/accept", stranger, nil), 404, "stranger accepts")
		h.mustStatus(h.do("DELETE", "/v1/me/invitations/"+id, stranger, nil), 404, "stranger declines")
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+id+"/accept", owner, nil), 404, "the inviter accepts")

		tok := h.login("has-account@inv.example.test")
		r = h.do("GET", "/v1/me/invitations", tok, nil)
		h.mustStatus(r, 200, "my invitations")
		if !strings.Contains(string(r.Body), id) || !strings.Contains(string(r.Body), "Invite Shop") {
			t.Fatalf("the invitee does not see the invitation and the merchant's name: %s", r.Body)
		}
		r = h.do("POST", "/v1/me/invitations/"+id+"/accept", tok, nil)
		h.mustStatus(r, 200, "accept")
		if !strings.Contains(string(r.Body), `"role":"manager"`) {
			t.Fatalf("accepted as %s, want the renewed role manager", r.Body)
		}
		h.mustStatus(h.do("GET", base, tok, nil), 200, "merchant after accepting")
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+id+"/accept", tok, nil), 404, "accept twice")
	})

	t.Run("an email is matched as sign-in matches it", func(t *testing.T) {
		inv := invite("Later@INV.example.test", "staff")
		if inv["email"] != "later@inv.example.test" {
			t.Fatalf("stored email %q", inv["email"])
		}
		// The account is made after the invitation.
		tok := h.user("later@inv.example.test")
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+inv["id"].(string)+"/accept", tok, nil),
			200, "accept after signing up")
	})

	t.Run("withdrawn, declined and expired invitations cannot be accepted", func(t *testing.T) {
		tok := h.user("late@inv.example.test")
		w := invite("late@inv.example.test", "staff")["id"].(string)
		h.mustStatus(h.do("DELETE", base+"/invitations/"+w, owner, nil), 204, "withdraw")
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+w+"/accept", tok, nil), 404, "withdrawn")

		d := invite("late@inv.example.test", "staff")["id"].(string)
		h.mustStatus(h.do("DELETE", "/v1/me/invitations/"+d, tok, nil), 204, "decline")
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+d+"/accept", tok, nil), 404, "declined")

		e := invite("late@inv.example.test", "staff")["id"].(string)
		var n int
		if err := h.adminQuery(`with x as (update app.merchant_invitations
set expires_at = now() - interval '1 second' where id = $1 returning 1)
select count(*) from x`, e).Scan(&n); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		h.mustStatus(h.do("POST", "/v1/me/invitations/"+e+"/accept", tok, nil), 404, "expired")
		h.mustStatus(h.do("GET", base, tok, nil), 404, "still not a member")
	})

	t.Run("a merchant holds at most 100 open invitations", func(t *testing.T) {
		r := h.do("GET", base+"/invitations", owner, nil)
		h.mustStatus(r, 200, "list")
		open := strings.Count(string(r.Body), `"expires_at"`)
		for i := open; i < 100; i++ {
			invite(fmt.Sprintf("bulk%03d@inv.example.test", i), "staff")
		}
		r = h.do("POST", base+"/invitations", owner,
			map[string]string{"email": "one-too-many@inv.example.test", "role": "staff"})
		h.mustStatus(r, 409, "the 101st open invitation")
	})
}
