package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/contract"
	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/dbtest"
	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/inspect"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/mfa"
	"github.com/rampart-dev/rampart/internal/password"
	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/threat"
	"github.com/rampart-dev/rampart/internal/token"
)

const (
	testIssuer   = "rampart-test"
	testAudience = "rampart-api-test"
	testPassword = "correct-horse-battery-staple-42"
)

// harness is one test's running API on its own database.
type harness struct {
	t       *testing.T
	env     *dbtest.Env
	srv     *httptest.Server
	client  *http.Client
	jwtKey  token.Key
	api     *httpapi.Server
	authSvc *auth.Service
	blocks  *threat.Blocklist
	events  *threat.Recorder
}

var (
	checkerOnce sync.Once
	checker     *contract.Checker
	checkerErr  error
)

func setup(t *testing.T, maxConns int32) *harness {
	t.Helper()
	env := dbtest.New(t, maxConns)
	h := &harness{t: t, env: env, jwtKey: token.GenerateKey("test")}

	issuer, err := token.NewIssuer(testIssuer, testAudience, 5*time.Minute,
		[]token.Key{h.jwtKey})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.NewKeyring(pii.GenerateKey("t1"))
	if err != nil {
		t.Fatal(err)
	}
	index, err := pii.NewIndexer(randomKey())
	if err != nil {
		t.Fatal(err)
	}
	cursors, err := cursor.NewSigner(randomKey())
	if err != nil {
		t.Fatal(err)
	}
	h.authSvc = auth.New(env.DB, auth.Options{
		Hasher:        password.Hasher{Params: password.TestParams},
		Issuer:        issuer,
		AccessTTL:     5 * time.Minute,
		SessionIdle:   time.Hour,
		SessionMaxAge: 24 * time.Hour,
		RefreshGrace:  2 * time.Second,
		RefreshKey:    randomKey(),
		LockoutKey:    randomKey(),
		LockoutDelay:  time.Millisecond,
	})
	checkerOnce.Do(func() { checker, checkerErr = contract.Load() })
	if checkerErr != nil {
		t.Fatalf("load OpenAPI contract: %v", checkerErr)
	}
	log := testLogger(t)
	inspector, err := inspect.New()
	if err != nil {
		t.Fatal(err)
	}
	h.blocks = threat.NewBlocklist(env.DB, log)
	h.events = threat.NewRecorder(env.DB, log, randomKey())
	mfaSvc, err := mfa.New(mfa.Options{Issuer: "Rampart test", Keys: keys,
		RecoveryKey: randomKey()})
	if err != nil {
		t.Fatal(err)
	}
	h.api = httpapi.New(httpapi.Deps{
		DB: env.DB, Auth: h.authSvc, Cursors: cursors,
		Vault:  &marketplace.Vault{Keys: keys, Index: index},
		Log:    log,
		Blocks: h.blocks, Threats: h.events, Inspector: inspector,
		Contract: checker,
		MFA:      mfaSvc,
	})
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)

	h.client = &http.Client{Transport: checker.Transport(t, http.DefaultTransport)}
	return h
}

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// response is a finished exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// do sends a request with an optional bearer token and JSON body.
func (h *harness) do(method, path, bearer string, body any) response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				h.t.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// user signs up and in and returns the access token.
func (h *harness) user(email string) string {
	h.t.Helper()
	if r := h.do("POST", "/v1/auth/signup", "", map[string]string{
		"email": email, "password": testPassword}); r.Status != 202 {
		h.t.Fatalf("signup %s: %d %s", email, r.Status, r.Body)
	}
	return h.login(email)
}

func (h *harness) login(email string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/auth/login", "", map[string]string{
		"email": email, "password": testPassword})
	if r.Status != 200 {
		h.t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	var p auth.TokenPair
	r.json(h.t, &p)
	return p.AccessToken
}

// admin creates a platform admin over the owner connection, as the
// bootstrap command does, and signs in.
func (h *harness) admin(email string) string {
	h.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.env.AdminURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(ctx context.Context, sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		return db.Translate(err)
	}
	_, err = auth.CreatePlatformAdmin(ctx, exec,
		password.Hasher{Params: password.TestParams}, email, testPassword)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.login(email)
}

// adminQuery runs SQL as the superuser, to arrange or inspect what the API
// cannot.
func (h *harness) adminQuery(sql string, args ...any) pgx.Row {
	h.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.env.AdminURL)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close(ctx) })
	return conn.QueryRow(ctx, sql, args...)
}

func (h *harness) mustStatus(r response, want int, what string) {
	h.t.Helper()
	if r.Status != want {
		h.t.Fatalf("%s: status %d, want %d: %s", what, r.Status, want, r.Body)
	}
}

func (h *harness) created(method, path, bearer string, body any) map[string]any {
	h.t.Helper()
	r := h.do(method, path, bearer, body)
	h.mustStatus(r, 201, method+" "+path)
	var m map[string]any
	r.json(h.t, &m)
	return m
}

// elevate marks every live session of a user as having passed a second
// factor just now, as the TOTP flow does.
func (h *harness) elevate(email string) {
	h.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.env.AdminURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `update auth.sessions s set aal = 'aal2', aal_at = now()
from auth.users u where u.id = s.user_id and u.email = $1`, email); err != nil {
		h.t.Fatal(err)
	}
}

// join makes the account of email a member of the merchant at base (a
// path such as /v1/merchants/ID) the way people do it: the owner, whose
// session must be at aal2, invites the email and passes the token on, and
// its holder signs in and accepts with it. It returns the membership.
func (h *harness) join(base, owner, email, role string) map[string]any {
	h.t.Helper()
	inv := h.created("POST", base+"/invitations", owner,
		map[string]string{"email": email, "role": role})
	r := h.do("POST", "/v1/me/invitations/"+inv["id"].(string)+"/accept",
		h.login(email), map[string]any{"token": inv["token"]})
	h.mustStatus(r, 200, "accept the invitation of "+email)
	var m map[string]any
	r.json(h.t, &m)
	return m
}
