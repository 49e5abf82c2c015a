package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
)

// enrolment is a user whose factor was enrolled and, when verified, the
// session that verified it.
type enrolment struct {
	tok      string
	email    string
	factorID string
	secret   string
	codes    []string
}

// enrol signs a new user up and enrols a factor, leaving it pending.
func enrol(h *harness, email string) *enrolment {
	h.t.Helper()
	e := &enrolment{tok: h.user(email), email: email}
	r := h.do("POST", "/v1/auth/mfa/totp/enroll", e.tok, nil)
	h.mustStatus(r, 201, "enrol")
	var out struct {
		FactorID string `json:"factor_id"`
		Secret   string `json:"secret"`
		URL      string `json:"otpauth_url"`
	}
	r.json(h.t, &out)
	if !strings.Contains(out.URL, "secret="+out.Secret) {
		h.t.Fatalf("otpauth_url does not carry the secret: %s", out.URL)
	}
	e.factorID, e.secret = out.FactorID, out.Secret
	return e
}

// enrolVerified enrols a factor and verifies it with the current code.
func enrolVerified(h *harness, email string) *enrolment {
	h.t.Helper()
	e := enrol(h, email)
	r := h.do("POST", "/v1/auth/mfa/totp/verify", e.tok, map[string]string{
		"factor_id": e.factorID, "code": totpCode(h.t, e.secret, time.Now())})
	h.mustStatus(r, 200, "activate factor")
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.json(h.t, &out)
	e.codes = out.RecoveryCodes
	return e
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextCode is the code of the step after the current one, which the
// server accepts (skew 1) and which no earlier verification can have used.
func nextCode(t *testing.T, secret string) string {
	return totpCode(t, secret, time.Now().Add(30*time.Second))
}

// wrong is a code that differs from c in its last digit.
func wrong(c string) string {
	return c[:5] + string(rune('0'+(c[5]-'0'+1)%10))
}

// sessionAAL reads the level of tok's session from the database, the
// source of truth.
func sessionAAL(h *harness, tok string) (string, *time.Time) {
	h.t.Helper()
	var aal string
	var at *time.Time
	sid := decodeClaims(h.t, tok)["session_id"]
	if err := h.adminQuery(`select aal, aal_at from auth.sessions where id = $1`,
		sid).Scan(&aal, &at); err != nil {
		h.t.Fatal(err)
	}
	return aal, at
}

func verify(h *harness, tok string, body map[string]string) response {
	h.t.Helper()
	return h.do("POST", "/v1/auth/mfa/totp/verify", tok, body)
}

func TestTOTPEnrolAndVerify(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrol(h, "mfa@example.test")

	t.Run("the secret is stored sealed", func(t *testing.T) {
		var sealed []byte
		if err := h.adminQuery(`select secret_sealed from auth.mfa_factors
where id = $1 and status = 'pending'`, e.factorID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte(e.secret)) {
			t.Fatal("secret_sealed holds the base32 secret")
		}
	})

	t.Run("a pending factor does not lift the session", func(t *testing.T) {
		if aal, _ := sessionAAL(h, e.tok); aal != "aal1" {
			t.Fatalf("aal %s before verification", aal)
		}
	})

	code := totpCode(t, e.secret, time.Now())
	t.Run("a correct code activates the factor and lifts the session", func(t *testing.T) {
		r := verify(h, e.tok, map[string]string{"factor_id": e.factorID, "code": code})
		h.mustStatus(r, 200, "verify")
		var out struct {
			AAL           string   `json:"aal"`
			RecoveryCodes []string `json:"recovery_codes"`
		}
		r.json(t, &out)
		if out.AAL != "aal2" || len(out.RecoveryCodes) != 10 {
			t.Fatalf("aal %q with %d recovery codes", out.AAL, len(out.RecoveryCodes))
		}
		aal, at := sessionAAL(h, e.tok)
		if aal != "aal2" || at == nil || time.Since(*at) > time.Minute {
			t.Fatalf("session at %s since %v", aal, at)
		}
	})

	t.Run("the same code is refused the second time", func(t *testing.T) {
		r := verify(h, e.tok, map[string]string{"code": code})
		h.mustStatus(r, 401, "replayed code")
		if !strings.Contains(string(r.Body), "invalid code") {
			t.Errorf("replay answered %s", r.Body)
		}
	})

	t.Run("a verified factor cannot be replaced by enrolling again", func(t *testing.T) {
		h.mustStatus(h.do("POST", "/v1/auth/mfa/totp/enroll", e.tok, nil),
			409, "re-enrol")
	})

	t.Run("a new sign-in starts at aal1 and reaches aal2 with a code", func(t *testing.T) {
		r := h.do("POST", "/v1/auth/login", "", map[string]string{
			"email": e.email, "password": testPassword})
		h.mustStatus(r, 200, "login")
		var pair auth.TokenPair
		r.json(t, &pair)
		if aal, _ := sessionAAL(h, pair.AccessToken); aal != "aal1" {
			t.Fatalf("fresh session at %s", aal)
		}

		r = verify(h, pair.AccessToken, map[string]string{"code": nextCode(t, e.secret)})
		h.mustStatus(r, 200, "second step")
		if aal, _ := sessionAAL(h, pair.AccessToken); aal != "aal2" {
			t.Fatalf("session at %s after the second step", aal)
		}

		r = h.do("POST", "/v1/auth/refresh", "", map[string]string{
			"refresh_token": pair.RefreshToken})
		h.mustStatus(r, 200, "refresh")
		var next auth.TokenPair
		r.json(t, &next)
		if c := decodeClaims(t, next.AccessToken); c["aal"] != "aal2" || c["aal_at"] == nil {
			t.Fatalf("refreshed claims: aal %v aal_at %v", c["aal"], c["aal_at"])
		}
	})
}

func TestTOTPWrongCodesKillTheChallenge(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrolVerified(h, "guess@example.test")
	tok := h.login(e.email)
	right := nextCode(t, e.secret)

	for i := 1; i <= 5; i++ {
		r := verify(h, tok, map[string]string{"code": wrong(right)})
		want := 401
		if i == 5 {
			want = 403
		}
		h.mustStatus(r, want, "wrong code")
	}

	t.Run("the right code is refused after five wrong ones", func(t *testing.T) {
		h.mustStatus(verify(h, tok, map[string]string{"code": right}), 403,
			"right code on a dead challenge")
		if aal, _ := sessionAAL(h, tok); aal != "aal1" {
			t.Fatalf("session at %s", aal)
		}
	})

	t.Run("a recovery code is refused too", func(t *testing.T) {
		r := h.do("POST", "/v1/auth/mfa/recovery", tok,
			map[string]string{"code": e.codes[0]})
		h.mustStatus(r, 403, "recovery on a dead challenge")
	})

	t.Run("the lockout is recorded as a security event", func(t *testing.T) {
		var n int
		if err := h.adminQuery(`select count(*) from security.security_events
where kind = 'mfa_challenge_locked'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("no mfa_challenge_locked event")
		}
	})

	t.Run("a new sign-in gets a new challenge", func(t *testing.T) {
		fresh := h.login(e.email)
		h.mustStatus(verify(h, fresh, map[string]string{"code": right}), 200,
			"verify in a new session")
	})
}

// TestTOTPGuessesAcrossSessions: wrong codes add up per account, so
// signing in again does not buy five more guesses for ever. After four
// sessions' worth (20 wrong codes) in an hour, a new session's challenge
// is dead from the start, even for the right code, and the account is
// flagged.
func TestTOTPGuessesAcrossSessions(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrolVerified(h, "many-tries@example.test")
	right := nextCode(t, e.secret)

	// Ten sessions each open a challenge with one wrong code while the
	// account is far from its budget...
	sessions := make([]string, 10)
	for s := range sessions {
		sessions[s] = h.login(e.email)
		h.mustStatus(verify(h, sessions[s], map[string]string{"code": wrong(right)}), 401,
			fmt.Sprintf("session %d, first wrong code", s))
	}
	// ...then spend the rest of their challenges. The account's budget is
	// counted at every guess: after 20 wrong codes in all, every session
	// is refused, whatever is left of its own five.
	statuses := map[int]int{}
	for s := range 9 {
		for range 4 {
			statuses[verify(h, sessions[s], map[string]string{"code": wrong(right)}).Status]++
		}
	}
	// Sessions 0 and 1 answer 401, 401, 401 and then 403 for their fifth
	// code (the challenge dies); session 2's first extra code is the 19th
	// wrong one (401), its second the 20th (403), and every code after
	// that is refused unchecked.
	if statuses[401] != 7 || statuses[403] != 29 {
		t.Fatalf("wrong codes 11 to 46 answered %v, want 7 x 401 and 29 x 403", statuses)
	}
	h.mustStatus(verify(h, sessions[9], map[string]string{"code": right}), 403,
		"the right code in a session that had wrong codes to spare")
	fresh := h.login(e.email)
	h.mustStatus(verify(h, fresh, map[string]string{"code": right}), 403,
		"the right code in a new session")
	if aal, _ := sessionAAL(h, fresh); aal != "aal1" {
		t.Fatalf("session at %s", aal)
	}
	var n, failures int
	if err := h.adminQuery(`select (select coalesce(sum(count), 0) from security.security_events
where kind = 'mfa_guessing'), (select count(*) from auth.mfa_failures)`).Scan(&n, &failures); err != nil || n != 1 || failures != 20 {
		t.Fatalf("mfa_guessing counted %d times, %d failures logged (%v); want 1 and 20", n, failures, err)
	}
	var status string
	if err := h.adminQuery(`select status from auth.users where email = $1`,
		e.email).Scan(&status); err != nil || status != "active" {
		t.Fatalf("account %q (%v), want active", status, err)
	}

	// Refused attempts do not extend the lock: an hour after the wrong
	// codes, the owner's right code works again.
	if err := h.adminQuery(`with x as (update auth.mfa_failures set at = at - interval '61 minutes'
returning 1) select count(*) from x`).Scan(&failures); err != nil || failures != 20 {
		t.Fatalf("aged %d failures (%v)", failures, err)
	}
	later := h.login(e.email)
	h.mustStatus(verify(h, later, map[string]string{"code": nextCode(t, e.secret)}), 200,
		"the right code an hour later")
}

// TestTOTPGuessesInParallel: a burst of wrong codes from one session is
// counted exactly, so parallel requests do not buy extra guesses.
func TestTOTPGuessesInParallel(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrolVerified(h, "burst@example.test")
	tok := h.login(e.email)
	right := nextCode(t, e.secret)

	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := verify(h, tok, map[string]string{"code": wrong(right)})
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[401] != 4 || statuses[403] != 8 {
		t.Fatalf("statuses %v, want 4 x 401 and 8 x 403", statuses)
	}
	var attempts int
	sid := decodeClaims(t, tok)["session_id"]
	if err := h.adminQuery(`select sum(attempts) from auth.mfa_challenges
where session_id = $1`, sid).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 5 {
		t.Fatalf("%d attempts recorded, want 5", attempts)
	}
	h.mustStatus(verify(h, tok, map[string]string{"code": right}), 403,
		"right code after the burst")
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrolVerified(h, "lost-phone@example.test")
	recover := func(tok, code string) response {
		return h.do("POST", "/v1/auth/mfa/recovery", tok, map[string]string{"code": code})
	}

	t.Run("a recovery code lifts a new session to aal2", func(t *testing.T) {
		tok := h.login(e.email)
		r := recover(tok, e.codes[0])
		h.mustStatus(r, 200, "recovery")
		var out struct {
			Left int `json:"recovery_codes_left"`
		}
		r.json(t, &out)
		if out.Left != 9 {
			t.Errorf("%d codes left, want 9", out.Left)
		}
		if aal, _ := sessionAAL(h, tok); aal != "aal2" {
			t.Fatalf("session at %s", aal)
		}
	})

	t.Run("the same code does not work twice", func(t *testing.T) {
		tok := h.login(e.email)
		h.mustStatus(recover(tok, e.codes[0]), 401, "spent code")
		if aal, _ := sessionAAL(h, tok); aal != "aal1" {
			t.Fatalf("session at %s", aal)
		}
	})

	t.Run("case and dashes do not matter", func(t *testing.T) {
		tok := h.login(e.email)
		typed := strings.ToUpper(strings.ReplaceAll(e.codes[1], "-", " "))
		h.mustStatus(recover(tok, typed), 200, "typed code")
	})
}

func TestDisableNeedsRecentAAL2(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrolVerified(h, "disable@example.test")

	t.Run("a session at aal1 cannot disable", func(t *testing.T) {
		r := h.do("DELETE", "/v1/auth/mfa/totp", h.login(e.email), nil)
		h.mustStatus(r, 403, "disable at aal1")
		if !strings.Contains(string(r.Body), `"mfa_required"`) {
			t.Errorf("body %s", r.Body)
		}
	})

	t.Run("aal2 older than 15 minutes is not enough", func(t *testing.T) {
		var one int
		sid := decodeClaims(t, e.tok)["session_id"]
		if err := h.adminQuery(`update auth.sessions
set aal_at = now() - interval '16 minutes' where id = $1 returning 1`,
			sid).Scan(&one); err != nil {
			t.Fatal(err)
		}
		h.mustStatus(h.do("DELETE", "/v1/auth/mfa/totp", e.tok, nil), 403,
			"disable at stale aal2")
	})

	t.Run("a fresh aal2 session disables, and the codes go too", func(t *testing.T) {
		h.mustStatus(verify(h, e.tok, map[string]string{"code": nextCode(t, e.secret)}),
			200, "verify again")
		h.mustStatus(h.do("DELETE", "/v1/auth/mfa/totp", e.tok, nil), 204, "disable")

		var factors, codes int
		if err := h.adminQuery(`select
  (select count(*) from auth.mfa_factors),
  (select count(*) from auth.mfa_recovery_codes)`).Scan(&factors, &codes); err != nil {
			t.Fatal(err)
		}
		if factors != 0 || codes != 0 {
			t.Fatalf("%d factors and %d recovery codes left", factors, codes)
		}
		h.mustStatus(h.do("DELETE", "/v1/auth/mfa/totp", e.tok, nil), 404,
			"disable again")
		h.mustStatus(h.do("POST", "/v1/auth/mfa/totp/enroll", e.tok, nil), 201,
			"enrol after disabling")
	})
}

// TestMFAFactorsAreMine: a user who learns another user's factor id, and
// even a valid code or recovery code of theirs, gains nothing.
func TestMFAFactorsAreMine(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	victim := enrolVerified(h, "victim@example.test")
	pending := enrol(h, "pending@example.test")
	attacker := h.user("attacker@example.test")

	t.Run("another user's verified factor is not found", func(t *testing.T) {
		r := verify(h, attacker, map[string]string{"factor_id": victim.factorID,
			"code": nextCode(t, victim.secret)})
		h.mustStatus(r, 404, "foreign verified factor")
	})

	t.Run("another user's pending factor is not found", func(t *testing.T) {
		r := verify(h, attacker, map[string]string{"factor_id": pending.factorID,
			"code": totpCode(t, pending.secret, time.Now())})
		h.mustStatus(r, 404, "foreign pending factor")
		var status string
		if err := h.adminQuery(`select status from auth.mfa_factors where id = $1`,
			pending.factorID).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status != "pending" {
			t.Fatalf("victim's factor is %s", status)
		}
	})

	t.Run("another user's recovery code does not work", func(t *testing.T) {
		h.mustStatus(h.do("POST", "/v1/auth/mfa/recovery", attacker,
			map[string]string{"code": victim.codes[0]}), 401, "foreign recovery code")
		if aal, _ := sessionAAL(h, attacker); aal != "aal1" {
			t.Fatalf("attacker's session at %s", aal)
		}
	})

	t.Run("an attacker without a factor cannot disable the victim's", func(t *testing.T) {
		h.mustStatus(h.do("DELETE", "/v1/auth/mfa/totp", attacker, nil), 403,
			"disable at aal1")
		var n int
		if err := h.adminQuery(`select count(*) from auth.mfa_factors
where id = $1`, victim.factorID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatal("victim's factor is gone")
		}
	})

	t.Run("the victim's code still works for the victim", func(t *testing.T) {
		tok := h.login(victim.email)
		h.mustStatus(h.do("POST", "/v1/auth/mfa/recovery", tok,
			map[string]string{"code": victim.codes[0]}), 200, "own recovery code")
	})
}

// TestMFAUnderInjection: a statement injected into a request transaction
// runs as the caller's role with the caller's claims. It must not be able
// to lift the session without the secret, nor read factors or codes.
func TestMFAUnderInjection(t *testing.T) {
	t.Parallel()
	h := setup(t, 4)
	e := enrolVerified(h, "injected@example.test")
	tok := h.login(e.email)
	p, err := h.authSvc.Authenticate(tok)
	if err != nil {
		t.Fatal(err)
	}
	inject := func(sql string, args ...any) (string, error) {
		var out string
		err := h.env.DB.Tx(context.Background(), auth.DBPrincipal(p, auth.Meta{}),
			func(q db.Querier) error {
				return q.QueryRow(context.Background(), sql, args...).Scan(&out)
			})
		return out, err
	}

	refused := map[string]string{
		"elevate directly":    `select auth.elevate_session()::text`,
		"read the factors":    `select secret_sealed::text from auth.mfa_factors`,
		"read recovery codes": `select code_hash::text from auth.mfa_recovery_codes`,
		"reset the challenge": `with d as (delete from auth.mfa_challenges returning 1)
select count(*)::text from d`,
	}
	for name, sql := range refused {
		t.Run(name, func(t *testing.T) {
			// Permission denied answers not_found at the boundary.
			if out, err := inject(sql); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("answered %q, %v", out, err)
			}
		})
	}

	t.Run("a verdict without the secret's proof is a wrong code", func(t *testing.T) {
		step := time.Now().Unix()/30 + 1
		out, err := inject(`select outcome from auth.mfa_verify_totp($1, $2, $3, null)`,
			e.factorID, bytes.Repeat([]byte{1}, 32), step)
		if err != nil || out != "invalid" {
			t.Fatalf("outcome %q, err %v", out, err)
		}
		if aal, _ := sessionAAL(h, tok); aal != "aal1" {
			t.Fatalf("session at %s", aal)
		}
	})
}
