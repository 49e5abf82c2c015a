package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/auth"
)

// TestForgedTokens presents tokens an attacker could make; every one must
// be refused with 401 and nothing else.
func TestForgedTokens(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	good := h.user("victim@example.test")
	claims := decodeClaims(t, good)

	sign := func(key ed25519.PrivateKey, kid string, mutate func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		mutate(c)
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	same := func(jwt.MapClaims) {}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, _ := json.Marshal(claims)

	forgeries := map[string]string{
		"alg none": header + "." +
			base64.RawURLEncoding.EncodeToString(payload) + ".",
		"unknown kid":   sign(stranger, "other", same),
		"foreign key":   sign(stranger, h.jwtKey.ID, same),
		"missing kid":   sign(h.jwtKey.Private, "", same),
		"wrong aud":     sign(h.jwtKey.Private, h.jwtKey.ID, func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"missing aud":   sign(h.jwtKey.Private, h.jwtKey.ID, func(c jwt.MapClaims) { delete(c, "aud") }),
		"wrong iss":     sign(h.jwtKey.Private, h.jwtKey.ID, func(c jwt.MapClaims) { c["iss"] = "evil" }),
		"missing iss":   sign(h.jwtKey.Private, h.jwtKey.ID, func(c jwt.MapClaims) { delete(c, "iss") }),
		"expired":       sign(h.jwtKey.Private, h.jwtKey.ID, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
		"missing exp":   sign(h.jwtKey.Private, h.jwtKey.ID, func(c jwt.MapClaims) { delete(c, "exp") }),
		"role upgraded": sign(stranger, h.jwtKey.ID, func(c jwt.MapClaims) { c["role"] = "platform_admin" }),
		"garbage":       "not.a.token",
	}
	for name, tok := range forgeries {
		t.Run(name, func(t *testing.T) {
			r := h.do("GET", "/v1/me", tok, nil)
			if r.Status != 401 {
				t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
			}
		})
	}

	t.Run("the genuine token works (control)", func(t *testing.T) {
		h.mustStatus(h.do("GET", "/v1/me", good, nil), 200, "me")
	})

	t.Run("a logged-out session's token is refused at once", func(t *testing.T) {
		tok := h.login("victim@example.test")
		h.mustStatus(h.do("GET", "/v1/me", tok, nil), 200, "before logout")
		h.mustStatus(h.do("POST", "/v1/auth/logout", tok, nil), 204, "logout")
		h.mustStatus(h.do("GET", "/v1/me", tok, nil), 401, "after logout")
	})
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoginLeaksNothing(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("known@example.test")
	h.user("suspended@example.test")
	if err := h.adminQuery(`update auth.users set status = 'suspended'
where email = 'suspended@example.test' returning 1`).Scan(new(int)); err != nil {
		t.Fatal(err)
	}

	bad := []map[string]string{
		{"email": "known@example.test", "password": "wrong-password-123456"},
		{"email": "unknown@example.test", "password": testPassword},
		{"email": "suspended@example.test", "password": testPassword},
	}
	var bodies []string
	for _, c := range bad {
		r := h.do("POST", "/v1/auth/login", "", c)
		h.mustStatus(r, 401, "login "+c["email"])
		bodies = append(bodies, requestIDRE.ReplaceAllString(string(r.Body), ""))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("login failures differ:\n%s\n%s", bodies[0], b)
		}
	}

	t.Run("signup of a taken email answers like a new one", func(t *testing.T) {
		r := h.do("POST", "/v1/auth/signup", "", map[string]string{
			"email": "KNOWN@example.test", "password": testPassword})
		h.mustStatus(r, 202, "signup taken")
	})

	t.Run("a weak password is refused with its reason", func(t *testing.T) {
		r := h.do("POST", "/v1/auth/signup", "", map[string]string{
			"email": "new@example.test", "password": "short"})
		h.mustStatus(r, 400, "weak password")
		if !strings.Contains(string(r.Body), `"field":"password"`) {
			t.Errorf("the refusal does not name the field: %s", r.Body)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("rot@example.test")
	r := h.do("POST", "/v1/auth/login", "", map[string]string{
		"email": "rot@example.test", "password": testPassword})
	h.mustStatus(r, 200, "login")
	var first auth.TokenPair
	r.json(t, &first)

	r = h.do("POST", "/v1/auth/refresh", "", map[string]string{
		"refresh_token": first.RefreshToken})
	h.mustStatus(r, 200, "refresh")
	var second auth.TokenPair
	r.json(t, &second)
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh token was not rotated")
	}
	if second.SessionID != first.SessionID {
		t.Fatal("refresh moved to another session")
	}

	t.Run("a stolen token replayed after the grace window revokes the session", func(t *testing.T) {
		time.Sleep(2500 * time.Millisecond) // grace is 2s in tests
		r := h.do("POST", "/v1/auth/refresh", "", map[string]string{
			"refresh_token": first.RefreshToken})
		h.mustStatus(r, 401, "replay")
		h.mustStatus(h.do("GET", "/v1/me", second.AccessToken, nil), 401,
			"access token of the revoked session")
		r = h.do("POST", "/v1/auth/refresh", "", map[string]string{
			"refresh_token": second.RefreshToken})
		h.mustStatus(r, 401, "the legitimate client's newer token")
	})

	t.Run("an unknown refresh token is refused", func(t *testing.T) {
		r := h.do("POST", "/v1/auth/refresh", "", map[string]string{
			"refresh_token": "rt_" + uuid.NewString()})
		h.mustStatus(r, 401, "unknown refresh")
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	one := h.user("multi@example.test")
	two := h.login("multi@example.test")
	other := h.user("other@example.test")

	r := h.do("GET", "/v1/auth/sessions", one, nil)
	h.mustStatus(r, 200, "sessions")
	var list struct {
		Data []auth.Session `json:"data"`
	}
	r.json(t, &list)
	if len(list.Data) != 2 {
		t.Fatalf("want 2 sessions, got %d", len(list.Data))
	}
	var twoID uuid.UUID
	for _, s := range list.Data {
		if !s.Current {
			twoID = s.ID
		}
		// The harness's idle timeout is an hour (setup).
		if idle := s.IdleExpiresAt.Sub(s.LastSeenAt); idle != time.Hour || s.IdleExpiresAt.After(s.ExpiresAt) {
			t.Errorf("idle_expires_at %v for last use %v and end %v: want an hour after the use, before the end",
				s.IdleExpiresAt, s.LastSeenAt, s.ExpiresAt)
		}
	}

	t.Run("a session past its idle timeout is not listed", func(t *testing.T) {
		third := h.login("multi@example.test")
		var n int
		if err := h.adminQuery(`with idle as (
  update auth.sessions set last_seen_at = now() - interval '1 hour'
  where id = (select id from auth.sessions order by created_at desc limit 1)
  returning 1)
select count(*) from idle`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("idled %d sessions: %v", n, err)
		}
		h.mustStatus(h.do("GET", "/v1/me", third, nil), 401, "idle session")
		var now struct {
			Data []auth.Session `json:"data"`
		}
		r := h.do("GET", "/v1/auth/sessions", one, nil)
		h.mustStatus(r, 200, "sessions")
		r.json(t, &now)
		if len(now.Data) != 2 {
			t.Fatalf("listed %d sessions, want the 2 live ones", len(now.Data))
		}
	})

	t.Run("another user cannot revoke my session", func(t *testing.T) {
		h.mustStatus(h.do("DELETE", "/v1/auth/sessions/"+twoID.String(), other, nil),
			404, "foreign revoke")
		h.mustStatus(h.do("GET", "/v1/me", two, nil), 200, "still alive")
	})

	t.Run("I can revoke my other session", func(t *testing.T) {
		h.mustStatus(h.do("DELETE", "/v1/auth/sessions/"+twoID.String(), one, nil),
			204, "revoke")
		h.mustStatus(h.do("GET", "/v1/me", two, nil), 401, "revoked")
		h.mustStatus(h.do("GET", "/v1/me", one, nil), 200, "current")
	})

	t.Run("sign out everywhere", func(t *testing.T) {
		h.mustStatus(h.do("POST", "/v1/auth/logout-all", one, nil), 204, "all")
		h.mustStatus(h.do("GET", "/v1/me", one, nil), 401, "after all")
	})
}

func TestAccountExportAndErasure(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	tok := h.user("leaving@example.test")

	r := h.do("GET", "/v1/me/export", tok, nil)
	h.mustStatus(r, 200, "export")
	if !strings.Contains(string(r.Body), "leaving@example.test") {
		t.Fatalf("export lacks the account: %s", r.Body)
	}

	h.mustStatus(h.do("DELETE", "/v1/me", tok, map[string]string{"password": "wrong-password-9"}),
		401, "erase with a wrong password")
	h.mustStatus(h.do("DELETE", "/v1/me", tok, map[string]string{"password": testPassword}),
		204, "erase")
	h.mustStatus(h.do("GET", "/v1/me", tok, nil), 401, "token of an erased account")
	var n int
	if err := h.adminQuery(`select count(*) from auth.users where email = 'leaving@example.test'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the email is still held (%d, %v)", n, err)
	}

	t.Run("an owner must hand over first", func(t *testing.T) {
		owner := h.user("owner@keep.example.test")
		h.created("POST", "/v1/merchants", owner, map[string]string{"name": "Keep", "slug": "keep-shop"})
		h.mustStatus(h.do("DELETE", "/v1/me", owner, map[string]string{"password": testPassword}),
			409, "owner erase")
	})
}

// TestPasswordGuessingThroughErasure holds re-authentication to the
// sign-in lockout: a thief with an access token who guesses the password
// at DELETE /v1/me is counted like a failed sign-in, the tenth guess
// revokes the stolen session and locks the account for that network.
func TestPasswordGuessingThroughErasure(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	stolen := h.user("guessed@example.test")

	for i := 1; i < 10; i++ {
		h.mustStatus(h.do("DELETE", "/v1/me", stolen,
			map[string]string{"password": fmt.Sprintf("guess-number-%d", i)}), 401, "a wrong guess")
	}
	h.mustStatus(h.do("GET", "/v1/me", stolen, nil), 200, "nine guesses keep the session")
	h.mustStatus(h.do("DELETE", "/v1/me", stolen,
		map[string]string{"password": "guess-number-10"}), 401, "the tenth guess")
	h.mustStatus(h.do("GET", "/v1/me", stolen, nil), 401, "the session after ten guesses")

	// The guesses count as failed sign-ins of the account from this
	// network: the pair is now locked for half an hour, right password
	// or not.
	h.mustStatus(h.do("POST", "/v1/auth/login", "", map[string]string{
		"email": "guessed@example.test", "password": testPassword}), 401,
		"sign-in from the guessing network")

	var failures int
	if err := h.adminQuery(`select count(*) from auth.users where email = 'guessed@example.test'`).Scan(&failures); err != nil || failures != 1 {
		t.Fatalf("the account was erased or lost (%d, %v)", failures, err)
	}
	h.settle()
	var events int
	if err := h.adminQuery(`select coalesce(sum(count), 0) from security.security_events
where kind = 'login_failed' and details ->> 'reauth' = 'erase_account'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 10 {
		t.Errorf("%d failed re-authentications recorded, want 10", events)
	}
}

func TestLookAlikeSignupIsRefusedSilently(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	h.user("paypal@example.test")
	r := h.do("POST", "/v1/auth/signup", "", map[string]string{
		"email": "pаypal@example.test", "password": testPassword}) // Cyrillic а
	h.mustStatus(r, 202, "look-alike signup answers like any signup")
	if st := h.do("POST", "/v1/auth/login", "", map[string]string{
		"email": "pаypal@example.test", "password": testPassword}).Status; st != 401 {
		t.Fatalf("the look-alike account exists: login answered %d", st)
	}
}

func TestParallelRefreshesShareOneSuccessor(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("tabs@example.test")
	r := h.do("POST", "/v1/auth/login", "", map[string]string{
		"email": "tabs@example.test", "password": testPassword})
	var first auth.TokenPair
	r.json(t, &first)

	var a, b auth.TokenPair
	ra := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
	rb := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
	h.mustStatus(ra, 200, "first tab")
	h.mustStatus(rb, 200, "second tab within the grace window")
	ra.json(t, &a)
	rb.json(t, &b)
	if a.RefreshToken != b.RefreshToken {
		t.Fatal("parallel refreshes got different successors")
	}
	h.mustStatus(h.do("POST", "/v1/auth/refresh", "", map[string]string{
		"refresh_token": a.RefreshToken}), 200, "the shared successor rotates on")
}

// TestLoginTimingLeaksNothing interleaves failed sign-ins for an existing,
// an unknown, a suspended and a second-factor account: the answers must
// be identical and the median latencies close (they are logged; the bound
// asserted is loose because the test machine is shared).
func TestLoginTimingLeaksNothing(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	h.user("exists@example.test")
	h.user("suspend-me@example.test")
	mfaTok := h.user("factor@example.test")
	h.adminQuery(`update auth.users set status = 'suspended'
where email = 'suspend-me@example.test' returning 1`).Scan(new(int))
	h.mustStatus(h.do("POST", "/v1/auth/mfa/totp/enroll", mfaTok, nil), 201, "enrol")

	cases := []string{"exists@example.test", "nobody@example.test",
		"suspend-me@example.test", "factor@example.test"}
	times := map[string][]time.Duration{}
	var bodies = map[string]string{}
	for range 40 {
		for _, email := range cases {
			start := time.Now()
			r := h.do("POST", "/v1/auth/login", "", map[string]string{
				"email": email, "password": "not-the-password-1"})
			times[email] = append(times[email], time.Since(start))
			h.mustStatus(r, 401, email)
			bodies[email] = requestIDRE.ReplaceAllString(string(r.Body), "")
		}
	}
	var medians []time.Duration
	for _, email := range cases {
		if bodies[email] != bodies[cases[0]] {
			t.Errorf("%s answers differently: %s", email, bodies[email])
		}
		d := times[email]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		medians = append(medians, d[len(d)/2])
		t.Logf("median sign-in failure, %-24s %s", email, d[len(d)/2])
	}
	lo, hi := medians[0], medians[0]
	for _, m := range medians {
		lo, hi = min(lo, m), max(hi, m)
	}
	if hi > 2*lo {
		t.Errorf("median latencies differ too much: %s to %s", lo, hi)
	}
}
