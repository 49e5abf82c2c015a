package httpapi_test

// The attack suite (make test-attacks). Every operation of api/openapi.yaml
// is attacked by every kind of caller with the ids of its own tenant, of
// another tenant and of nobody; tokens are forged; client addresses are
// spoofed; bodies carry server-owned fields, garbage and the payload lists
// of ../shared/data/attacks. The operations come from the contract, so a
// new operation joins every attack without an edit here: its path
// parameters are filled by name, its body is generated from its schema.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rampart-dev/rampart/api"
	"github.com/rampart-dev/rampart/internal/contract"
	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/ratelimit"
)

// TestAttackMatrix calls every operation as every kind of caller, with the
// ids of A, of B, of both mixed and of nobody, and holds each answer to what
// that caller may learn.
func TestAttackMatrix(t *testing.T) {
	t.Parallel()
	layers(t, attackMatrix)
}

func attackMatrix(t *testing.T, a *arena) {
	start, cases := time.Now(), 0
	for _, op := range a.ops {
		t.Run(op.Method+" "+op.Path, func(t *testing.T) {
			cases += a.attack(t, op)
		})
	}
	t.Logf("%s: matrix: %d cases over %d operations, %d callers, in %s", a.layer(),
		cases, len(a.ops), len(a.roles), time.Since(start).Round(time.Millisecond))
	for _, rl := range a.roles {
		t.Logf("%s:   %-22s statuses %v", a.layer(), rl.name, a.seen[rl.name])
	}
}

// TestAttackForgedTokens presents forged bearer tokens to every operation
// that reads one: each must answer 401 and nothing else.
func TestAttackForgedTokens(t *testing.T) {
	t.Parallel()
	a := newArena(t, false)
	forged := a.forgeries()

	t.Run("an untampered token made the same way works (control)", func(t *testing.T) {
		r := a.must(t, request{method: "GET", path: "/v1/me", token: forged.control})
		if r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	})

	cases := 0
	for _, op := range a.ops {
		if !op.bearer {
			continue
		}
		for _, f := range forged.list {
			q := request{method: op.Method, path: a.path(op, "A"),
				token: f.token, body: a.body(op, "A")}
			r := a.must(t, q)
			cases++
			if r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with a token (%s): status %d, WWW-Authenticate %q;"+
					" want 401 with the header: %.300s", q.method, q.path, f.name,
					r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
			}
			a.noLeak(t, q, "a forged token", r)
		}
	}
	t.Logf("forged tokens: %d cases", cases)
}

// TestAttackSpoofedClientIP sends 30 failed logins, each claiming another
// client address in X-Forwarded-For, X-Real-IP and True-Client-IP, straight
// to a server that trusts no proxy: the access log must name the real peer
// every time, and the per-address sign-in budget must run out as for one
// address.
func TestAttackSpoofedClientIP(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	h.user("spoofer@example.test")
	core, logs := observer.New(zapcore.InfoLevel)
	srv := h.with(func(d *httpapi.Deps) {
		d.Log = zap.New(core)
		d.Limits = ratelimit.NewGuard(ratelimit.NewMemory(0),
			ratelimit.DefaultPolicies(), nil)
	})
	c := &caller{base: srv.srv.URL, client: h.client}

	const attempts = 30
	statuses := map[int]int{}
	for range attempts {
		hdr := http.Header{}
		for _, name := range []string{"X-Forwarded-For", "X-Real-IP", "True-Client-IP"} {
			hdr.Set(name, randomIP())
		}
		r := c.must(t, request{method: "POST", path: "/v1/auth/login", header: hdr,
			body: []byte(`{"email":"spoofer@example.test","password":"wrong-password-9"}`)})
		statuses[r.Status]++
	}

	lines := logs.FilterMessage("request").All()
	if len(lines) != attempts {
		t.Errorf("%d access-log lines for %d requests", len(lines), attempts)
	}
	for _, l := range lines {
		if ip := l.ContextMap()["client_ip"]; ip != "127.0.0.1" {
			t.Errorf("access log names client %v, want the peer 127.0.0.1", ip)
		}
	}
	// The sign-in budget is 10 per address: the rest must be refused.
	if statuses[429] < attempts-11 || statuses[401]+statuses[429] != attempts {
		t.Errorf("statuses %v: spoofed addresses got fresh sign-in budgets", statuses)
	}
	t.Logf("spoofed client address: %d requests, statuses %v", attempts, statuses)
}

// TestAttackMassAssignment adds server-owned fields to a valid body of every
// write operation, as the most privileged caller of it: each must be
// refused with 400 naming the field, and no row may change.
func TestAttackMassAssignment(t *testing.T) {
	t.Parallel()
	layers(t, massAssignment)
}

func massAssignment(t *testing.T, a *arena) {
	a.elevate("owner@a.example.test", "admin@platform.example.test")
	before, cases := a.fingerprint(t), 0

	for _, op := range a.writes() {
		who, path := a.actor(op), a.path(op, "A")
		for _, inj := range a.injections(op) {
			q := request{method: op.Method, path: path, token: who.token, body: inj.body}
			r := a.must(t, q)
			cases++
			after := a.fingerprint(t)
			if changed := diff(before, after); len(changed) > 0 {
				t.Errorf("%s %s with %s as %s changed %v (status %d)",
					q.method, q.path, inj.field, who.name, changed, r.Status)
			}
			before = after
			a.wantRefused(t, op, q, inj.field, r)
		}
	}
	t.Logf("%s: mass assignment: %d cases over %d write operations",
		a.layer(), cases, len(a.writes()))
}

// TestAttackHostileBodies sends every write operation bodies that are too
// large, malformed, of the wrong types or carrying NUL bytes and invalid
// UTF-8: each must be a 4xx problem, never a 5xx.
func TestAttackHostileBodies(t *testing.T) {
	t.Parallel()
	layers(t, hostile)
}

func hostile(t *testing.T, a *arena) {
	a.elevate("owner@a.example.test", "admin@platform.example.test")
	cases := 0
	for _, op := range a.writes() {
		who, path := a.actor(op), a.path(op, "A")
		for _, hb := range hostileBodies(op, a.body(op, "A")) {
			q := request{method: op.Method, path: path, token: who.token,
				body: hb.body, ctype: hb.ctype}
			r := a.must(t, q)
			cases++
			if msg := hb.judge(r, a.bare); msg != "" {
				t.Errorf("%s %s with %s as %s: status %d, %s: %.300s%s", q.method,
					q.path, hb.name, who.name, r.Status, msg, r.Body, a.serverLog(r))
			}
		}
	}
	t.Logf("%s: hostile bodies: %d cases over %d write operations",
		a.layer(), cases, len(a.writes()))
}

// TestAttackPayloads sends the payload lists in every query parameter of
// every GET operation and in every string field of one write per resource,
// as the owner of B on B's own data (or the caller the operation is for).
// No answer may be a 5xx, carry a marker of A or quote a database error.
func TestAttackPayloads(t *testing.T) {
	t.Parallel()
	payloads := loadPayloads(t)
	layers(t, func(t *testing.T, a *arena) { sendPayloads(t, a, payloads) })
}

func sendPayloads(t *testing.T, a *arena, payloads []payload) {
	a.elevate("admin@platform.example.test")

	queries, fields := a.queryTargets(), a.fieldTargets()
	budget := payloadBudget(t)
	stride := max(1, (len(queries)+len(fields))*len(payloads)/budget)
	start := time.Now()
	// Queries first: the writes add B customers, whose reads count
	// against B's customer-data quota.
	sent := a.fire(t, queries, payloads, stride)
	sent += a.fire(t, fields, payloads, stride)
	t.Logf("%s: payloads: %d lines, %d query parameters and %d body fields, "+
		"one line in %d per target (RAMPART_ATTACK_PAYLOADS=all for every "+
		"line): %d requests in %s", a.layer(), len(payloads), len(queries),
		len(fields), stride, sent, time.Since(start).Round(time.Millisecond))
}

// layers runs an attack twice, each on a world of its own: against the
// server as it is served, and against the handlers alone, with attack
// inspection and request validation off. Each layer must hold as if the
// one in front of it had failed.
func layers(t *testing.T, attack func(t *testing.T, a *arena)) {
	for _, bare := range []bool{false, true} {
		name := "as served"
		if bare {
			name = "handlers alone"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			attack(t, newArena(t, bare))
		})
	}
}

// ---------------------------------------------------------------------------
// The world attacked.

// arena is plant()'s world grown for the suite: B gets rows of its own, A
// gets a manager and a suspended staff member, and requests go to a server
// whose log keeps only errors, to quote in failures.
type arena struct {
	caller
	t    *testing.T
	w    *tenants
	h    *harness
	errs *observer.ObservedLogs // the server's error-level log
	db   *pgx.Conn              // superuser, to arrange and to fingerprint
	bare bool                   // inspection and request validation off

	sides map[string]side // "A" and "B"
	ops   []attackOp

	// roles are the callers of the matrix; the other attacks pick theirs.
	roles                      []*role
	owner, admin, anon, ownerB *role

	seq   atomic.Int64           // makes generated names unique
	fpSQL string                 // the fingerprint query, built once
	seen  map[string]map[int]int // statuses per caller, for the log
}

// side is one tenant's real values by kind: "merchant", "item", "pub" (a
// listed item), "pub2" (published, unlisted), "doomed_item", "listing",
// "customer", "doomed_customer", "order", "member", "session", "slug",
// "feature".
type side map[string]string

// get returns the value of kind, or an id that names nothing.
func (s side) get(kind string) string {
	if v := s[kind]; v != "" {
		return v
	}
	return uuid.NewString()
}

type roleKind int

const (
	anonymous roleKind = iota
	suspended
	ownerOfB
	platformAdmin
	memberOfA
)

// role is one kind of caller.
type role struct {
	name  string
	kind  roleKind
	email string
	token string
	// home is the slot of the caller's own tenant.
	home string
}

// attacker reports whether the caller may never see a marker of A.
func (r *role) attacker() bool {
	return r.kind == anonymous || r.kind == suspended || r.kind == ownerOfB
}

// layer names the server attacked, for logs.
func (a *arena) layer() string {
	if a.bare {
		return "handlers alone"
	}
	return "as served"
}

// newArena plants the world; bare takes attack inspection and request
// validation out of the server.
func newArena(t *testing.T, bare bool) *arena {
	w := plant(t)
	core, errs := observer.New(zapcore.ErrorLevel)
	quiet := w.h.with(func(d *httpapi.Deps) {
		d.Log = zap.New(core)
		if bare {
			d.Inspector, d.Contract = nil, nil
		}
	})
	shown := int64(30)
	if bare {
		shown = 3
	}
	client := &http.Client{Transport: checker.Transport(capped(t, shown, bare),
		&http.Transport{MaxIdleConnsPerHost: 16})}
	a := &arena{t: t, w: w, h: quiet, errs: errs, bare: bare,
		caller: caller{base: quiet.srv.URL, client: client},
		seen:   map[string]map[int]int{}}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.h.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	a.db = conn

	a.sides = map[string]side{"A": a.sideA(), "B": a.plantB()}
	a.addRoles()
	a.ops = loadOps(t)
	return a
}

func (a *arena) exec(sql string, args ...any) {
	a.t.Helper()
	if _, err := a.db.Exec(context.Background(), sql, args...); err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
}

func (a *arena) sideA() side {
	ids := a.w.ids
	s := side{"merchant": a.w.merchantA, "slug": "shop-a", "member": ids["spare"],
		"session": claim(a.t, a.w.ownerA, "session_id"), "feature": a.feature()}
	for _, k := range []string{"item", "pub", "pub2", "doomed_item", "listing",
		"customer", "doomed_customer", "order", "invitation", "invitation_token",
		"doomed_invitation"} {
		s[k] = ids[k]
	}
	return s
}

// plantB gives B what plant() gives A, without markers.
func (a *arena) plantB() side {
	h, tok := a.h, a.w.userB
	base := "/v1/merchants/" + a.w.merchantB
	id := func(path string, body any) string {
		m := h.created("POST", base+path, tok, body)
		if v, ok := m["id"].(string); ok {
			return v
		}
		return m["user_id"].(string)
	}
	item := func(sku string, published bool) string {
		return id("/items", map[string]any{"sku": sku, "title": "B " + sku,
			"price_cents": 700, "stock": 1000, "published": published})
	}

	h.user("spare@b.example.test")
	a.elevate("owner@b.example.test") // adding a member needs aal2
	s := side{"merchant": a.w.merchantB, "slug": "shop-b", "feature": a.feature(),
		"session": claim(a.t, tok, "session_id"),
		"member":  h.join(base, tok, "spare@b.example.test", "staff")["user_id"].(string),
		"doomed_invitation": id("/invitations", map[string]string{
			"email": "doomed@b.example.test", "role": "staff"})}
	inv := h.created("POST", base+"/invitations", tok, map[string]string{
		"email": "invitee@b.example.test", "role": "staff"})
	s["invitation"], s["invitation_token"] = inv["id"].(string), inv["token"].(string)
	s["item"], s["pub"] = item("b-priv", false), item("b-pub", true)
	s["pub2"], s["doomed_item"] = item("b-pub2", true), item("b-doomed", false)
	s["listing"] = id("/market", map[string]string{"item_id": s["pub"]})
	s["customer"] = id("/customers", map[string]any{"name": "Bea Bee",
		"email": "bea@example.test", "external_ref": "b-cust-1"})
	s["doomed_customer"] = id("/customers", map[string]any{"name": "Bo Bee",
		"email": "bo@example.test"})
	s["order"] = id("/orders", map[string]any{"customer_id": s["customer"],
		"lines": []map[string]any{{"item_id": s["pub"], "quantity": 1}}})
	return s
}

func (a *arena) feature() string {
	var f string
	err := a.db.QueryRow(context.Background(),
		`select feature from app.ai_rate_limits_config order by feature limit 1`).Scan(&f)
	if err != nil {
		return "no-feature"
	}
	return f
}

// addRoles makes the callers of the matrix, attackers first. The suspended
// caller is a staff member of A who signed in before the suspension.
func (a *arena) addRoles() {
	h, merchantA := a.h, "/v1/merchants/"+a.w.merchantA
	manager := h.user("manager@a.example.test")
	a.elevate("owner@a.example.test") // naming a manager needs aal2
	h.join(merchantA, a.w.ownerA, "manager@a.example.test", "manager")
	gone := h.user("suspended@a.example.test")
	h.join(merchantA, a.w.ownerA, "suspended@a.example.test", "staff")
	a.exec(`update auth.users set status = 'suspended' where email = $1`,
		"suspended@a.example.test")

	a.anon = &role{name: "anonymous", kind: anonymous}
	a.ownerB = &role{name: "owner of B", kind: ownerOfB, home: "B",
		email: "owner@b.example.test", token: a.w.userB}
	a.admin = &role{name: "platform admin", kind: platformAdmin,
		email: "admin@platform.example.test", token: a.w.admin}
	a.owner = &role{name: "owner of A", kind: memberOfA, home: "A",
		email: "owner@a.example.test", token: a.w.ownerA}
	a.roles = []*role{a.anon,
		{name: "suspended staff of A", kind: suspended, token: gone},
		a.ownerB, a.admin,
		{name: "staff of A", kind: memberOfA, home: "A",
			email: "staff@a.example.test", token: a.w.staffA},
		{name: "manager of A", kind: memberOfA, home: "A",
			email: "manager@a.example.test", token: manager},
	}
}

// elevate gives every live session of these users a second factor verified
// just now, so that attacks reach past the aal2 checks.
func (a *arena) elevate(emails ...string) {
	a.exec(`update auth.sessions s set aal = 'aal2', aal_at = now()
from auth.users u where u.id = s.user_id and u.email = any($1)`, emails)
}

func claim(t *testing.T, token, name string) string {
	v, _ := decodeClaims(t, token)[name].(string)
	return v
}

// cappedTB reports the first failures of the contract checker one by one
// and only counts the rest: one bug hit by a thousand payloads would
// bury every other report. A soft one only logs them: without request
// validation in front, the handlers may store what the document refuses
// and answer it back, which is no failure of theirs.
type cappedTB struct {
	testing.TB
	soft          bool
	left, dropped atomic.Int64
}

func capped(t *testing.T, n int64, soft bool) *cappedTB {
	c := &cappedTB{TB: t, soft: soft}
	c.left.Store(n)
	t.Cleanup(func() {
		d := c.dropped.Load()
		switch {
		case d > 0 && soft:
			t.Logf("%d more answers outside the contract not shown", d)
		case d > 0:
			t.Errorf("%d more contract failures not shown", d)
		}
	})
	return c
}

func (c *cappedTB) Errorf(format string, args ...any) {
	c.TB.Helper()
	shown := c.left.Add(-1) >= 0
	switch {
	case c.soft && shown:
		c.TB.Logf("note, handlers alone: "+format, args...)
	case shown:
		c.TB.Errorf(format, args...)
	case c.soft:
		c.dropped.Add(1)
	default:
		c.dropped.Add(1)
		c.TB.Fail()
	}
}

// ---------------------------------------------------------------------------
// Operations, from the contract.

// attackOp is one operation of api/openapi.yaml with what the suite needs
// to call it.
type attackOp struct {
	contract.Operation
	ID   string
	tags []string
	// bearer reports whether the operation reads a bearer token: required
	// (Secured) or optional.
	bearer bool
	// admin reports whether only platform admins may use it.
	admin  bool
	params []*openapi3.Parameter
	// body is the JSON request body's schema, nil without a body.
	body *openapi3.Schema
}

// adminOnly lists the operations for platform admins outside the admin tag.
var adminOnly = map[string]bool{"putAILimit": true}

// adminReads lists the tenant operations a platform admin may answer 2xx.
var adminReads = map[string]bool{"getMerchant": true}

func loadOps(t *testing.T) []attackOp {
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var ops []attackOp
	for _, o := range checker.Operations() {
		item := doc.Paths.Value(o.Path)
		ops = append(ops, describe(doc, o, item, item.GetOperation(o.Method)))
	}
	// Reads first and deletes last, so that a legitimate write or delete
	// never makes a later attack pass for want of a target.
	slices.SortStableFunc(ops, func(x, y attackOp) int {
		return phase(x.Method) - phase(y.Method)
	})
	return ops
}

func phase(method string) int {
	switch method {
	case "GET", "HEAD":
		return 0
	case "DELETE":
		return 2
	}
	return 1
}

func describe(doc *openapi3.T, o contract.Operation, item *openapi3.PathItem,
	op *openapi3.Operation) attackOp {
	x := attackOp{Operation: o, ID: op.OperationID, tags: op.Tags,
		admin: slices.Contains(op.Tags, "admin") || adminOnly[op.OperationID]}
	security := doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	for _, req := range security {
		x.bearer = x.bearer || len(req) > 0
	}
	for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
		x.params = append(x.params, p.Value)
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			x.body = mt.Schema.Value
		}
	}
	return x
}

func (op attackOp) in(where string) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, p := range op.params {
		if p.In == where {
			out = append(out, p)
		}
	}
	return out
}

func (op attackOp) has(param string) bool {
	return strings.Contains(op.Path, "{"+param+"}")
}

// tenant reports whether the operation works on one merchant's data.
func (op attackOp) tenant() bool { return op.has("merchantID") }

// owned reports whether a path parameter names a row of one tenant or user.
func (op attackOp) owned() bool {
	for _, p := range op.in("path") {
		if pathKinds[p.Name].owned {
			return true
		}
	}
	return false
}

// identifies reports whether a path parameter is an id, not a public name
// such as a slug or a feature, which a PUT may create.
func (op attackOp) identifies() bool {
	for _, p := range op.in("path") {
		if k, known := pathKinds[p.Name]; !known || k.owned {
			return true
		}
	}
	return false
}

// pathKinds names the path parameters the suite fills with real values, by
// the kind of value; owned ones name rows of one tenant or user.
var pathKinds = map[string]struct {
	kind  string
	owned bool
}{
	"merchantID": {"merchant", true}, "itemID": {"item", true},
	"customerID": {"customer", true}, "orderID": {"order", true},
	"listingID": {"listing", true}, "userID": {"member", true},
	"sessionID": {"session", true}, "invitationID": {"invitation", true},
	"slug": {"slug", false}, "feature": {"feature", false},
}

// slots lists whose ids an operation is called with: nobody's ("none"),
// A's merchant with B's rows ("A/B") and the reverse, A's, and B's. An
// operation without path parameters has one slot, "".
func (op attackOp) slots() []string {
	path := op.in("path")
	switch {
	case len(path) == 0:
		return []string{""}
	case op.tenant() && len(path) > 1:
		return []string{"none", "B/A", "A/B", "A", "B"}
	}
	return []string{"none", "A", "B"}
}

// sideOf returns the side that fills the merchant of slot (merchant) or
// its other ids; nil for "none".
func (a *arena) sideOf(slot string, merchant bool) side {
	if slot == "" {
		slot = "A"
	}
	first, second, mixed := strings.Cut(slot, "/")
	if merchant || !mixed {
		return a.sides[first]
	}
	return a.sides[second]
}

// path fills op's path parameters for slot. A delete gets the doomed row
// of a kind when there is one, so that the rows other attacks read stay.
func (a *arena) path(op attackOp, slot string) string {
	p := op.Path
	for _, prm := range op.in("path") {
		p = strings.ReplaceAll(p, "{"+prm.Name+"}",
			url.PathEscape(a.pathValue(op, prm, slot)))
	}
	return p
}

func (a *arena) pathValue(op attackOp, p *openapi3.Parameter, slot string) string {
	s := a.sideOf(slot, p.Name == "merchantID")
	k, known := pathKinds[p.Name]
	if s == nil || !known {
		return nowhere(p.Schema)
	}
	if v := s["doomed_"+k.kind]; v != "" && op.Method == "DELETE" {
		return v
	}
	if v := s[k.kind]; v != "" {
		return v
	}
	return nowhere(p.Schema)
}

// fillable reports whether every path parameter of op gets a real value.
func (op attackOp) fillable() bool {
	for _, p := range op.in("path") {
		if _, ok := pathKinds[p.Name]; !ok {
			return false
		}
	}
	return true
}

// nowhere returns a well-formed value of s that names nothing.
func nowhere(s *openapi3.SchemaRef) string {
	if s != nil && s.Value != nil {
		switch {
		case s.Value.Format == "uuid":
			return uuid.NewString()
		case strings.HasPrefix(s.Value.Pattern, "^[0-9]"):
			return "987654321"
		}
	}
	return "nosuch" + strings.ToLower(rand.Text()[:8])
}

// ---------------------------------------------------------------------------
// Bodies.

// examples are minimal valid bodies of the operations whose schema alone
// cannot say what is valid: real ids, a real member, unique names, codes.
// Every other operation gets a body generated from its schema.
var examples = map[string]func(s side, n int64) any{
	"signup": func(_ side, n int64) any {
		return obj("email", fmt.Sprintf("signup%d@example.test", n), "password", testPassword)
	},
	"login": func(side, int64) any {
		return obj("email", "spare@a.example.test", "password", testPassword)
	},
	"refreshTokens": func(side, int64) any { return obj("refresh_token", "not-a-refresh-token") },
	"verifyTOTP":    func(side, int64) any { return obj("code", "123456") },
	"recoverMFA":    func(side, int64) any { return obj("code", "abcde-fghjk") },
	"createMerchant": func(_ side, n int64) any {
		return obj("name", "Attack shop", "slug", fmt.Sprintf("attack-%d", n))
	},
	// The real token of the side's invitation: only its invitee, who is
	// nobody in the matrix, may use it.
	"acceptInvitation":  func(s side, _ int64) any { return obj("token", s.get("invitation_token")) },
	"declineInvitation": func(s side, _ int64) any { return obj("token", s.get("invitation_token")) },
	"invite": func(_ side, n int64) any {
		return obj("email", fmt.Sprintf("invitee%d@example.test", n), "role", "staff")
	},
	"createItem": func(_ side, n int64) any {
		return obj("sku", fmt.Sprintf("atk-%d", n), "title", "Attack item", "price_cents", 100)
	},
	"createListing": func(s side, _ int64) any { return obj("item_id", s.get("pub2")) },
	"createCustomer": func(_ side, n int64) any {
		return obj("name", "Attack Customer", "email", fmt.Sprintf("atk%d@example.test", n))
	},
	"updateCustomer": func(side, int64) any { return obj("phone", "+55 11 90000-0000") },
	"revealCustomer": func(side, int64) any { return obj("reason", "attack suite: is it guarded?") },
	"createOrder": func(s side, _ int64) any {
		return obj("customer_id", s.get("customer"),
			"lines", []any{obj("item_id", s.get("pub"), "quantity", 1)})
	},
	"updateOrderStatus": func(side, int64) any { return obj("status", "processing") },
	"adminBlock": func(side, int64) any {
		return obj("network", "192.0.2.0/24", "reason", "attack suite")
	},
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// body returns a minimal valid JSON body of op for slot: from examples, else
// from the schema's required properties, else {}. It is nil when op takes
// no body.
func (a *arena) body(op attackOp, slot string) []byte {
	if op.body == nil {
		return nil
	}
	raw, _ := json.Marshal(a.bodyValue(op, slot))
	return raw
}

// bodyValue is body as generic JSON: maps, slices, strings and numbers.
func (a *arena) bodyValue(op attackOp, slot string) map[string]any {
	n, s := a.seq.Add(1), a.sideOf(slot, false)
	var v any
	if f := examples[op.ID]; f != nil {
		v = f(s, n)
	} else {
		v = example(op.body, n, false)
	}
	raw, _ := json.Marshal(v)
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		m = map[string]any{}
	}
	return m
}

// example makes a value of s: its default, first enum value, or a value of
// its type within its bounds. Objects get their required properties (all
// of them when full), or their first when minProperties asks for one.
func example(s *openapi3.Schema, n int64, full bool) any {
	switch {
	case s == nil:
		return nil
	case len(s.AllOf) > 0:
		return example(s.AllOf[0].Value, n, full)
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is("object"):
		return exampleObject(s, n, full)
	case s.Type.Is("array") && s.Items != nil:
		return []any{example(s.Items.Value, n, full)}
	case s.Type.Is("string"):
		return exampleString(s, n)
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil && *s.Min > 1 {
			return int64(*s.Min)
		}
		return 1
	case s.Type.Is("boolean"):
		return true
	}
	return nil
}

func exampleObject(s *openapi3.Schema, n int64, full bool) map[string]any {
	names := slices.Clone(s.Required)
	if full || (len(names) == 0 && s.MinProps > 0) {
		names = names[:0]
		for k := range s.Properties {
			names = append(names, k)
		}
		slices.Sort(names)
		if !full {
			names = names[:min(len(names), int(s.MinProps))]
		}
	}
	out := map[string]any{}
	for _, k := range names {
		if p := s.Properties[k]; p != nil {
			out[k] = example(p.Value, n, full)
		}
	}
	return out
}

// classRE matches the patterns that are one character class repeated, such
// as ^[0-9]{6}$ or ^[A-Z]{3}$.
var classRE = regexp.MustCompile(`^\^\[([^\]]+)\]\{(\d+)(?:,\d+)?\}\$$`)

func exampleString(s *openapi3.Schema, n int64) string {
	switch s.Format {
	case "uuid":
		return uuid.NewString()
	case "email":
		return fmt.Sprintf("atk%d@example.test", n)
	case "date-time":
		return time.Now().UTC().Format(time.RFC3339)
	}
	if m := classRE.FindStringSubmatch(s.Pattern); m != nil {
		count, _ := strconv.Atoi(m[2])
		return strings.Repeat(m[1][:1], count)
	}
	v := fmt.Sprintf("atk%d", n)
	for uint64(len(v)) < s.MinLength {
		v += "x"
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	return v
}

// ---------------------------------------------------------------------------
// Requests.

// caller sends requests through the contract-checking client.
type caller struct {
	base   string
	client *http.Client
}

type request struct {
	method, path, token string
	body                []byte
	// ctype is the Content-Type of a body, application/json when empty.
	ctype  string
	header http.Header
}

// send makes one request; it is safe for concurrent use.
func (c *caller) send(q request) (response, error) {
	var rd io.Reader
	if q.body != nil {
		rd = bytes.NewReader(q.body)
	}
	req, err := http.NewRequest(q.method, c.base+q.path, rd)
	if err != nil {
		return response{}, err
	}
	hdr := req.Header
	for k, v := range q.header {
		hdr[k] = v
	}
	if q.body != nil {
		hdr.Set("Content-Type", orDefault(q.ctype, "application/json"))
	}
	if q.token != "" {
		hdr.Set("Authorization", "Bearer "+q.token)
	}

	res, err := c.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

// must is send for the test goroutine: a failed exchange ends the test.
func (c *caller) must(t *testing.T, q request) response {
	t.Helper()
	r, err := c.send(q)
	if err != nil {
		t.Fatalf("%s %s: %v", q.method, q.path, err)
	}
	return r
}

func orDefault(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

func (a *arena) login(email string) (string, error) {
	r, err := a.send(request{method: "POST", path: "/v1/auth/login",
		body: []byte(`{"email":"` + email + `","password":"` + testPassword + `"}`)})
	if err != nil {
		return "", err
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.Body, &pair); err != nil || r.Status != 200 {
		return "", fmt.Errorf("login %s: %d %s", email, r.Status, r.Body)
	}
	return pair.AccessToken, nil
}

// serverLog returns what the server logged at error level about r.
func (a *arena) serverLog(r response) string {
	id := r.Header.Get("X-Request-Id")
	var out []string
	for _, e := range a.errs.FilterField(zap.String("request_id", id)).All() {
		out = append(out, fmt.Sprintf("%s %v", e.Message, e.ContextMap()))
	}
	if len(out) == 0 {
		return ""
	}
	return "\nserver log: " + strings.Join(out, "\n  ")
}

// leaked returns the first marker of A in body, or "".
func leaked(body []byte) string {
	upper := bytes.ToUpper(body)
	for _, m := range markers {
		if bytes.Contains(upper, []byte(m)) {
			return m
		}
	}
	return ""
}

func (a *arena) noLeak(t *testing.T, q request, who string, r response) {
	t.Helper()
	if m := leaked(r.Body); m != "" {
		t.Errorf("%s %s as %s leaked %s: %.500s", q.method, q.path, who, m, r.Body)
	}
}

// ---------------------------------------------------------------------------
// The matrix.

// attack runs every caller and slot against op and returns the number of
// cases. In each slot the callers whose tenant it is go last, so that their
// legitimate writes and deletes come after every attack on the same rows.
func (a *arena) attack(t *testing.T, op attackOp) int {
	cases := 0
	answers := map[string]response{}
	for _, slot := range op.slots() {
		for _, home := range []bool{false, true} {
			for _, rl := range a.roles {
				if (rl.home == slot) != home {
					continue
				}
				q := request{method: op.Method, path: a.path(op, slot),
					token: rl.token, body: a.body(op, slot)}
				r := a.must(t, q)
				cases++
				a.count(rl.name, r.Status)
				for _, bad := range a.judge(rl, op, slot, r) {
					t.Errorf("%s %s as %s (ids: %s): status %d: %s: %.300s%s",
						q.method, q.path, rl.name, orDefault(slot, "-"), r.Status, bad,
						r.Body, a.serverLog(r))
				}
				if rl.kind == ownerOfB {
					answers[slot] = r
				}
				a.heal(t, rl, op, r)
			}
		}
	}
	if op.owned() {
		a.likeNothing(t, op, answers)
	}
	return cases
}

func (a *arena) count(who string, status int) {
	if a.seen[who] == nil {
		a.seen[who] = map[int]int{}
	}
	a.seen[who][status]++
}

// judge lists what is wrong with answer r to rl calling op for slot.
func (a *arena) judge(rl *role, op attackOp, slot string, r response) []string {
	var bad []string
	need := func(ok bool, what string) {
		if !ok {
			bad = append(bad, "want "+what)
		}
	}
	refused := r.Status == 403 || r.Status == 404
	success := r.Status >= 200 && r.Status < 300

	need(r.Status < 500, "no server error")
	switch {
	case rl.kind == anonymous:
		if op.Secured {
			need(r.Status == 401, "401 for an anonymous caller")
		}
	case rl.kind == suspended:
		if op.bearer {
			need(r.Status == 401, "401 for a suspended user")
		}
	case op.admin && rl.kind != platformAdmin:
		need(refused, "403 or 404: platform admins only")
	case op.admin:
		// The matrix's admin has no second factor, which every admin
		// operation needs.
		need(!success, "no 2xx for a platform admin without a second factor")
	case slot == "none" && op.identifies():
		need(refused || r.Status == 400, "400, 403 or 404 for ids that name nothing")
	case strings.Contains(slot, "/"):
		need(refused, "403 or 404 for ids of two tenants")
	case op.owned() && a.foreign(rl, op, slot):
		need(refused, "403 or 404 for another tenant's or user's ids")
	}
	if rl.kind == platformAdmin && op.tenant() && !adminReads[op.ID] {
		need(!success, "no 2xx for a platform admin on tenant data")
	}
	if rl.attacker() {
		if m := leaked(r.Body); m != "" {
			bad = append(bad, "no marker of A, got "+m)
		}
	}
	return bad
}

// foreign reports whether slot's rows belong to someone else than rl.
// Sessions belong to a user: A's is its owner's, who is not in the matrix.
func (a *arena) foreign(rl *role, op attackOp, slot string) bool {
	if op.has("sessionID") {
		return slot == "A" || rl.kind != ownerOfB
	}
	// The invitations of both sides are addressed to emails of nobody in
	// the matrix: to every caller, they are someone else's.
	if op.has("invitationID") && !op.tenant() {
		return slot != "none"
	}
	switch rl.kind {
	case ownerOfB:
		return slot == "A"
	case memberOfA:
		return slot == "B"
	}
	return false
}

// likeNothing holds B's answers on A's ids to those on ids of nobody: the
// two must be indistinguishable.
func (a *arena) likeNothing(t *testing.T, op attackOp, answers map[string]response) {
	t.Helper()
	onA, onNone := answers["A"], answers["none"]
	if onA.Status != onNone.Status || clean(onA) != clean(onNone) {
		t.Errorf("%s %s as owner of B: A's ids answer %d %s, ids of nobody %d %s",
			op.Method, op.Path, onA.Status, onA.Body, onNone.Status, onNone.Body)
	}
}

func clean(r response) string {
	return requestIDRE.ReplaceAllString(string(r.Body), "")
}

// heal signs rl in again when a successful call ended its session (a
// logout, a revoked session).
func (a *arena) heal(t *testing.T, rl *role, op attackOp, r response) {
	t.Helper()
	if rl.email == "" || op.Method == "GET" || r.Status >= 300 {
		return
	}
	me := a.must(t, request{method: "GET", path: "/v1/me", token: rl.token})
	if me.Status != 401 {
		return
	}
	tok, err := a.login(rl.email)
	if err != nil {
		t.Fatal(err)
	}
	rl.token = tok
}

// ---------------------------------------------------------------------------
// Forged tokens.

type forgery struct{ name, token string }

type forgeries struct {
	control string
	list    []forgery
}

// forgeries makes tokens from the owner of A's claims: signed like the
// server's (the control), unsigned, signed with another key under the
// server's key id, and signed properly but expired.
func (a *arena) forgeries() forgeries {
	claims := decodeClaims(a.t, a.w.ownerA)
	key := a.w.h.jwtKey
	_, stranger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		a.t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour).Unix()
	expired := func(c jwt.MapClaims) {
		c["exp"], c["iat"] = past, past-600
		if _, ok := c["nbf"]; ok {
			c["nbf"] = past - 600
		}
	}
	return forgeries{
		control: a.sign(key.Private, key.ID, claims, nil),
		list: []forgery{
			{"alg none", unsigned(key.ID, claims)},
			{"wrong key", a.sign(stranger, key.ID, claims, nil)},
			{"expired", a.sign(key.Private, key.ID, claims, expired)},
		},
	}
}

func (a *arena) sign(key ed25519.PrivateKey, kid string, claims map[string]any,
	edit func(jwt.MapClaims)) string {
	c := jwt.MapClaims{}
	for k, v := range claims {
		c[k] = v
	}
	if edit != nil {
		edit(c)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}

func unsigned(kid string, claims map[string]any) string {
	head, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	body, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(head) + "." + enc(body) + "."
}

func randomIP() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d.%d.%d.%d", b[0]|1, b[1], b[2], b[3]|1)
}

// ---------------------------------------------------------------------------
// Mass assignment.

// writes lists the operations that take a body.
func (a *arena) writes() []attackOp {
	var out []attackOp
	for _, op := range a.ops {
		if op.body != nil {
			out = append(out, op)
		}
	}
	return out
}

// actor is the caller a body attack is most dangerous from: a platform
// admin for admin operations, nobody for public ones, else A's owner.
func (a *arena) actor(op attackOp) *role {
	switch {
	case op.admin:
		return a.admin
	case !op.bearer:
		return a.anon
	}
	return a.owner
}

type injection struct {
	field string
	body  []byte
}

// serverOwned are fields only the server may set, with values an attacker
// would want in them.
func (a *arena) serverOwned() []struct {
	field string
	value any
} {
	userB := claim(a.t, a.w.userB, "sub")
	return []struct {
		field string
		value any
	}{
		{"merchant_id", a.w.merchantB}, {"id", uuid.NewString()},
		{"created_by", userB}, {"user_id", userB},
		{"created_at", "2001-02-03T04:05:06Z"}, {"updated_at", "2001-02-03T04:05:06Z"},
		{"total_cents", 1}, {"subtotal_cents", 1}, {"status", "delivered"},
		{"role", "owner"}, {"platform_role", "platform_admin"},
		{"password_hash", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"},
		{"aal", "aal2"},
	}
}

// nestedOwned are server-owned fields of nested objects, such as order
// lines.
var nestedOwned = []string{"id", "merchant_id", "unit_price_cents", "line_total_cents"}

// injections lists op's valid body with one server-owned field added. A
// field the schema lists is tried only with a value outside its enum (a
// member's role "owner").
func (a *arena) injections(op attackOp) []injection {
	var out []injection
	for _, f := range a.serverOwned() {
		if p := op.body.Properties[f.field]; p != nil &&
			(p.Value == nil || len(p.Value.Enum) == 0 || slices.Contains(p.Value.Enum, f.value)) {
			continue
		}
		m := a.bodyValue(op, "A")
		m[f.field] = f.value
		raw, _ := json.Marshal(m)
		out = append(out, injection{f.field, raw})
	}
	for _, at := range nestedObjects(a.bodyValue(op, "A"), nil) {
		for _, field := range nestedOwned {
			m := a.bodyValue(op, "A")
			inner := dig(m, at)
			if _, listed := inner[field]; listed {
				continue
			}
			inner[field] = 1
			raw, _ := json.Marshal(m)
			out = append(out, injection{field, raw})
		}
	}
	return out
}

// nestedObjects returns the paths to the objects inside v, not v itself.
func nestedObjects(v any, at []any) [][]any {
	var out [][]any
	switch x := v.(type) {
	case map[string]any:
		if len(at) > 0 {
			out = append(out, slices.Clone(at))
		}
		for _, k := range sortedKeys(x) {
			out = append(out, nestedObjects(x[k], append(at, k))...)
		}
	case []any:
		if len(x) > 0 {
			out = append(out, nestedObjects(x[0], append(at, 0))...)
		}
	}
	return out
}

func dig(v any, at []any) map[string]any {
	for _, step := range at {
		switch k := step.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	m, _ := v.(map[string]any)
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// wantRefused holds an answer to a body with an injected field: 400 naming
// the field. An operation whose path names nothing real may answer 404.
func (a *arena) wantRefused(t *testing.T, op attackOp, q request, field string, r response) {
	t.Helper()
	switch {
	case r.Status == 404 && !op.fillable():
	case r.Status != 400:
		t.Errorf("%s %s with %s: status %d, want 400: %.300s%s",
			q.method, q.path, field, r.Status, r.Body, a.serverLog(r))
	case !bytes.Contains(r.Body, []byte(field)):
		t.Errorf("%s %s with %s: 400 does not name the field: %s",
			q.method, q.path, field, r.Body)
	}
}

// fingerprint returns a digest of every row of every app table and of the
// users, by table.
func (a *arena) fingerprint(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	if a.fpSQL == "" {
		err := a.db.QueryRow(ctx, `
select string_agg(format(
         'select %L, md5(coalesce(string_agg(x::text, %L order by x::text), %L)) from %I.%I x',
         table_schema || '.' || table_name, E'\n', '', table_schema, table_name),
       ' union all ')
from information_schema.tables
where table_type = 'BASE TABLE'
  and (table_schema = 'app' or (table_schema = 'auth' and table_name = 'users'))`).
			Scan(&a.fpSQL)
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := a.db.Query(ctx, a.fpSQL)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var table, sum string
		if err := rows.Scan(&table, &sum); err != nil {
			t.Fatal(err)
		}
		out[table] = sum
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func diff(before, after map[string]string) []string {
	var changed []string
	for k, v := range after {
		if before[k] != v {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	return changed
}

// ---------------------------------------------------------------------------
// Hostile bodies.

type hostileBody struct {
	name  string
	body  []byte
	ctype string
	// want is the one status acceptable, or 0 for any 4xx; anyFine accepts
	// 2xx too (a well-formed body whose only oddity a field may hold).
	want    int
	anyFine bool
	// schema marks a body only the document refuses: the handlers alone,
	// without request validation in front, may accept it.
	schema bool
}

// judge says what is wrong with r, or "", for a server that is bare or not.
func (hb hostileBody) judge(r response, bare bool) string {
	ctype, lenient := r.Header.Get("Content-Type"), bare && hb.schema
	switch {
	case r.Status >= 500:
		return "want no server error"
	case (hb.anyFine || lenient) && r.Status < 400:
		return ""
	case r.Status < 400:
		return "want 4xx"
	case hb.want != 0 && r.Status != hb.want && !lenient:
		return fmt.Sprintf("want %d", hb.want)
	case !strings.HasPrefix(ctype, "application/problem+json"):
		return "want application/problem+json, got " + ctype
	}
	return ""
}

// badBytes stands in a marshalled body for bytes json.Marshal would not
// write: invalid UTF-8 and raw NUL.
const badBytes = "@@BAD@@"

func hostileBodies(op attackOp, valid []byte) []hostileBody {
	pad := strings.Repeat("A", 70<<10)
	list := []hostileBody{
		{name: "a 70 KB body", body: withField(valid, "x", pad), want: 413},
		{name: "truncated JSON", body: valid[:len(valid)/2], want: 400},
		{name: "an empty body", body: []byte{}, want: 400},
		{name: "null", body: []byte("null"), want: 400},
		{name: "an array", body: []byte("[" + string(valid) + "]"), want: 400},
		{name: "two objects", body: append(slices.Clone(valid), valid...), want: 400},
		{name: "20000 nested arrays", body: []byte(strings.Repeat("[", 20000)), want: 400},
		{name: "text/plain", body: valid, ctype: "text/plain", want: 415},
		{name: "a raw NUL byte", body: []byte(`{"a":"x` + "\x00" + `"}`), want: 400},
		{name: "invalid UTF-8 as a key", body: []byte("{\"\xff\xfe\":1}"), want: 400},
	}
	if len(op.body.Required) > 0 || op.body.MinProps > 0 {
		list = append(list, hostileBody{name: "an empty object",
			body: []byte("{}"), want: 400, schema: true})
	}
	for _, name := range sortedProps(op.body) {
		p := op.body.Properties[name].Value
		list = append(list, hostileBody{name: "a wrong type in " + name,
			body: withField(valid, name, wrongType(p)), want: 400})
		if !p.Type.Is("string") {
			continue
		}
		list = append(list,
			hostileBody{name: "an escaped NUL in " + name,
				body: withField(valid, name, "a\x00b"), anyFine: true},
			hostileBody{name: "invalid UTF-8 in " + name,
				body: badField(valid, name, "a\xff\xfeb")},
			hostileBody{name: "a raw NUL in " + name,
				body: badField(valid, name, "a\x00b"), want: 400})
	}
	return list
}

func sortedProps(s *openapi3.Schema) []string {
	var names []string
	for k, p := range s.Properties {
		if p.Value != nil {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// wrongType returns a JSON value of another type than s's.
func wrongType(s *openapi3.Schema) any {
	switch {
	case s.Type.Is("string"):
		return 12345
	case s.Type.Is("integer"), s.Type.Is("number"):
		return "12"
	case s.Type.Is("boolean"):
		return "true"
	case s.Type.Is("array"):
		return map[string]any{"x": 1}
	}
	return []any{"x"}
}

func withField(valid []byte, name string, v any) []byte {
	var m map[string]any
	_ = json.Unmarshal(valid, &m)
	if m == nil {
		m = map[string]any{}
	}
	m[name] = v
	raw, _ := json.Marshal(m)
	return raw
}

// badField sets field name to raw, bytes and all.
func badField(valid []byte, name, raw string) []byte {
	return bytes.Replace(withField(valid, name, badBytes), []byte(badBytes), []byte(raw), 1)
}

// ---------------------------------------------------------------------------
// Payload lists.

type payload struct{ file, text string }

// loadPayloads reads ../shared/data/attacks/*.txt from the module root.
func loadPayloads(t *testing.T) []payload {
	dir := filepath.Join(moduleRoot(t), "..", "shared", "data", "attacks")
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(files) == 0 {
		t.Skipf("no payload lists in %s (../shared/data/attacks from the module root): "+
			"the payload attacks need them", dir)
	}
	var out []payload
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(raw), "\n") {
			if line != "" {
				out = append(out, payload{filepath.Base(f), line})
			}
		}
	}
	return out
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// defaultPayloadBudget bounds the payload requests so that the suite stays
// near three minutes on two cores; every line is still sent, to fewer
// targets.
const defaultPayloadBudget = 24000

func payloadBudget(t *testing.T) int {
	switch v := os.Getenv("RAMPART_ATTACK_PAYLOADS"); v {
	case "":
		if raceEnabled() {
			t.Logf("payloads: the race detector is on (make test), so an " +
				"eighth of the budget; make test-attacks runs it all")
			return defaultPayloadBudget / 8
		}
		return defaultPayloadBudget
	case "all":
		return 1
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RAMPART_ATTACK_PAYLOADS=%q: want all or a number of requests", v)
		}
		return n
	}
}

// raceEnabled reports whether the test binary was built with -race, which
// makes each request several times slower.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// target is one place a payload goes.
type target struct {
	name  string
	who   *role
	build func(payload string) request
}

// payloadCaller is who sends payloads to op: an (elevated) platform admin
// to admin operations, nobody to public ones, else the owner of B, on B's
// own rows, where a payload that escaped its tenant would show A's.
func (a *arena) payloadCaller(op attackOp) *role {
	switch {
	case op.admin:
		return a.admin
	case !op.Secured:
		return a.anon
	}
	return a.ownerB
}

func (a *arena) queryTargets() []target {
	var out []target
	for _, op := range a.ops {
		if op.Method != "GET" {
			continue
		}
		who, path := a.payloadCaller(op), a.path(op, "B")
		for _, p := range op.in("query") {
			name := p.Name
			out = append(out, target{name: "GET " + op.Path + " ?" + name, who: who,
				build: func(v string) request {
					return request{method: "GET", token: who.token,
						path: path + "?" + url.Values{name: {v}}.Encode()}
				}})
		}
	}
	return out
}

// fieldTargets lists every string field, nested ones too, of one write per
// resource (tag): a create when there is one. Each request carries a
// minimal valid body plus the one field.
func (a *arena) fieldTargets() []target {
	var out []target
	done := map[string]bool{}
	for _, op := range a.preferCreates() {
		if len(op.tags) == 0 || done[op.tags[0]] {
			continue
		}
		done[op.tags[0]] = true
		who, path := a.payloadCaller(op), a.path(op, "B")
		rich := a.richBody(op)
		for _, at := range stringLeaves(op.body, rich, nil) {
			out = append(out, target{name: op.ID + " " + leafName(at), who: who,
				build: func(v string) request {
					body := setLeaf(a.bodyValue(op, "B"), rich, at, v)
					raw, _ := json.Marshal(body)
					return request{method: op.Method, path: path, token: who.token, body: raw}
				}})
		}
	}
	return out
}

func (a *arena) preferCreates() []attackOp {
	ops := a.writes()
	slices.SortStableFunc(ops, func(x, y attackOp) int {
		return b2i(x.Method != "POST") - b2i(y.Method != "POST")
	})
	return ops
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// richBody is op's minimal body plus every optional property that is a
// string or an object, filled completely.
func (a *arena) richBody(op attackOp) map[string]any {
	m := a.bodyValue(op, "B")
	for _, k := range sortedProps(op.body) {
		p := op.body.Properties[k].Value
		if _, ok := m[k]; !ok && (p.Type.Is("string") || p.Type.Is("object")) {
			m[k] = example(p, a.seq.Add(1), true)
		}
	}
	raw, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// stringLeaves returns the paths to the string values of v, read with s.
func stringLeaves(s *openapi3.Schema, v any, at []any) [][]any {
	for s != nil && len(s.AllOf) > 0 {
		s = s.AllOf[0].Value
	}
	if s == nil {
		return nil
	}
	var out [][]any
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if p := s.Properties[k]; p != nil {
				out = append(out, stringLeaves(p.Value, x[k], append(slices.Clone(at), k))...)
			}
		}
	case []any:
		if len(x) > 0 && s.Items != nil {
			out = append(out, stringLeaves(s.Items.Value, x[0], append(slices.Clone(at), 0))...)
		}
	case string:
		out = append(out, at)
	}
	return out
}

// setLeaf sets the value at path at in v to s, taking missing parents from
// rich.
func setLeaf(v, rich any, at []any, s string) any {
	if len(at) == 0 {
		return s
	}
	switch k := at[0].(type) {
	case string:
		m, _ := v.(map[string]any)
		r, _ := rich.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		child, ok := m[k]
		if !ok {
			child = deepCopy(r[k])
		}
		m[k] = setLeaf(child, r[k], at[1:], s)
		return m
	case int:
		l, _ := v.([]any)
		r, _ := rich.([]any)
		if len(l) == 0 && len(r) > 0 {
			l = []any{deepCopy(r[0])}
		}
		if len(l) == 0 {
			return v
		}
		var inner any
		if len(r) > 0 {
			inner = r[0]
		}
		l[0] = setLeaf(l[0], inner, at[1:], s)
		return l
	}
	return v
}

func deepCopy(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func leafName(at []any) string {
	var b strings.Builder
	for _, step := range at {
		switch k := step.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

// sqlErrorRE matches database error text a body must never quote.
var sqlErrorRE = regexp.MustCompile(`(?i)sqlstate|syntax error|pq:`)

// payloadWorkers is how many payload requests run at once.
const payloadWorkers = 4

type shot struct {
	target *target
	p      payload
	q      request
}

// fire sends payload i to target j when (i+j) is a multiple of stride,
// so that every payload reaches some target. It returns the number sent.
func (a *arena) fire(t *testing.T, targets []target, payloads []payload, stride int) int {
	shots := make(chan shot)
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	for range payloadWorkers {
		wg.Go(func() {
			for s := range shots {
				sent.Add(1)
				status, ok := a.hit(t, s)
				if !ok {
					failed.Add(1)
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	for j := range targets {
		for i, p := range payloads {
			if (i+j)%stride == 0 {
				shots <- shot{&targets[j], p, targets[j].build(p.text)}
			}
		}
	}
	close(shots)
	wg.Wait()
	t.Logf("%s: %d targets: statuses %v", a.layer(), len(targets), statuses)
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d payload requests failed (some are reported above)", n, sent.Load())
	}
	return int(sent.Load())
}

// reported caps the failures reported one by one.
var reported atomic.Int64

// hit sends one payload and returns the status and whether the answer was
// sound.
func (a *arena) hit(t *testing.T, s shot) (int, bool) {
	r, err := a.send(s.q)
	var bad []string
	switch {
	case err != nil:
		bad = append(bad, err.Error())
	case r.Status >= 500:
		bad = append(bad, "a server error")
	}
	if m := leaked(r.Body); m != "" && s.target.who.kind != platformAdmin {
		bad = append(bad, "a marker of A: "+m)
	}
	if m := sqlErrorRE.FindString(string(r.Body)); m != "" &&
		!strings.Contains(strings.ToLower(s.p.text), strings.ToLower(m)) {
		bad = append(bad, "database error text: "+m)
	}
	if len(bad) > 0 && reported.Add(1) <= 40 {
		t.Errorf("%s as %s with %s payload %q: status %d: %s: %.300s%s",
			s.target.name, s.target.who.name, s.p.file, s.p.text, r.Status,
			strings.Join(bad, "; "), r.Body, a.serverLog(r))
	}
	return r.Status, len(bad) == 0
}
