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
	accept := func(inv map[string]any, tok string) response {
		t.Helper()
		return h.do("POST", "/v1/me/invitations/"+inv["id"].(string)+"/accept", tok,
			map[string]any{"token": inv["token"]})
	}
	decline := func(inv map[string]any, tok string, token any) response {
		t.Helper()
		return h.do("POST", "/v1/me/invitations/"+inv["id"].(string)+"/decline", tok,
			map[string]any{"token": token})
	}

	t.Run("an email with an account and one without are answered alike", func(t *testing.T) {
		with := invite("has-account@inv.example.test", "staff")
		without := invite("no-account@inv.example.test", "staff")
		for _, k := range []string{"id", "email", "created_at", "expires_at", "token"} {
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
		h.mustStatus(accept(inv, stranger), 404, "stranger accepts with the token")
		h.mustStatus(decline(inv, stranger, inv["token"]), 404, "stranger declines with the token")
		h.mustStatus(accept(inv, owner), 404, "the inviter accepts")

		tok := h.login("has-account@inv.example.test")
		r = h.do("GET", "/v1/me/invitations", tok, nil)
		h.mustStatus(r, 200, "my invitations")
		if !strings.Contains(string(r.Body), id) || !strings.Contains(string(r.Body), "Invite Shop") {
			t.Fatalf("the invitee does not see the invitation and the merchant's name: %s", r.Body)
		}
		if strings.Contains(string(r.Body), `"token"`) {
			t.Fatalf("the invitee's list carries the token: %s", r.Body)
		}
		r = accept(inv, tok)
		h.mustStatus(r, 200, "accept")
		if !strings.Contains(string(r.Body), `"role":"manager"`) {
			t.Fatalf("accepted as %s, want the renewed role manager", r.Body)
		}
		h.mustStatus(h.do("GET", base, tok, nil), 200, "merchant after accepting")
		h.mustStatus(accept(inv, tok), 404, "accept twice")
	})

	t.Run("an email is matched as sign-in matches it", func(t *testing.T) {
		inv := invite("Later@INV.example.test", "staff")
		if inv["email"] != "later@inv.example.test" {
			t.Fatalf("stored email %q", inv["email"])
		}
		// The account is made after the invitation.
		tok := h.user("later@inv.example.test")
		h.mustStatus(accept(inv, tok), 200, "accept after signing up")
	})

	t.Run("registering the invited email is not enough without the token", func(t *testing.T) {
		inv := invite("new.hire@inv.example.test", "manager")
		// Sign-up does not prove the mailbox is the signer's: anyone can
		// register the invited address before its owner does.
		squatter := h.user("new.hire@inv.example.test")
		path := "/v1/me/invitations/" + inv["id"].(string) + "/accept"
		h.mustStatus(h.do("POST", path, squatter, map[string]any{}), 400, "no token")
		h.mustStatus(h.do("POST", path, squatter, map[string]any{
			"token": "inv_" + strings.Repeat("A", 43)}), 404, "a guessed token")
		h.mustStatus(h.do("GET", base, squatter, nil), 404, "still outside the merchant")
		h.mustStatus(decline(inv, squatter, "inv_"+strings.Repeat("C", 43)), 404,
			"throwing the invitation away without the token")
		// With the token the owner handed to the person they meant, it
		// works, from that person's account.
		h.mustStatus(accept(inv, squatter), 200, "with the token")
	})

	t.Run("withdrawn, declined and expired invitations cannot be accepted", func(t *testing.T) {
		tok := h.user("late@inv.example.test")
		w := invite("late@inv.example.test", "staff")
		h.mustStatus(h.do("DELETE", base+"/invitations/"+w["id"].(string), owner, nil), 204, "withdraw")
		h.mustStatus(accept(w, tok), 404, "withdrawn")

		d := invite("late@inv.example.test", "staff")
		h.mustStatus(decline(d, tok, "inv_"+strings.Repeat("B", 43)), 404, "decline with a wrong token")
		h.mustStatus(decline(d, tok, d["token"]), 204, "decline")
		h.mustStatus(accept(d, tok), 404, "declined")

		old := invite("late@inv.example.test", "staff")
		renewed := invite("late@inv.example.test", "staff")
		if renewed["id"] != old["id"] || renewed["token"] == old["token"] {
			t.Fatalf("renewal: id %v -> %v, token changed %v", old["id"], renewed["id"],
				renewed["token"] != old["token"])
		}
		h.mustStatus(accept(old, tok), 404, "the token of before the renewal")

		einv := invite("late@inv.example.test", "staff")
		e := einv["id"].(string)
		var n int
		if err := h.adminQuery(`with x as (update app.merchant_invitations
set expires_at = now() - interval '1 second' where id = $1 returning 1)
select count(*) from x`, e).Scan(&n); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		h.mustStatus(accept(einv, tok), 404, "expired")
		h.mustStatus(h.do("GET", base, tok, nil), 404, "still not a member")
	})

	t.Run("a merchant holds at most 100 open invitations, renewals included", func(t *testing.T) {
		r := h.do("GET", base+"/invitations", owner, nil)
		h.mustStatus(r, 200, "list")
		open := strings.Count(string(r.Body), `"expires_at"`)
		for i := open; i < 100; i++ {
			invite(fmt.Sprintf("bulk%03d@inv.example.test", i), "staff")
		}
		r = h.do("POST", base+"/invitations", owner,
			map[string]string{"email": "one-too-many@inv.example.test", "role": "staff"})
		h.mustStatus(r, 409, "the 101st open invitation")
		// Expired invitations free their places; renewing one takes a
		// place again, and is refused when there is none.
		var n int
		var expired string
		if err := h.adminQuery(`with x as (update app.merchant_invitations
set expires_at = now() - interval '1 second'
where id in (select id from app.merchant_invitations where email like 'bulk%'
             order by email limit 10)
returning email) select count(*), min(email) from x`).Scan(&n, &expired); err != nil || n != 10 {
			t.Fatalf("expired %d invitations (%v), want 10", n, err)
		}
		for i := range 10 {
			invite(fmt.Sprintf("fresh%02d@inv.example.test", i), "staff")
		}
		r = h.do("POST", base+"/invitations", owner,
			map[string]string{"email": expired, "role": "staff"})
		h.mustStatus(r, 409, "renewing an expired invitation past the cap")
	})
}
