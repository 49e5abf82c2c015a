package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-dev/rampart/internal/dbtest"
)

// SQLSTATEs the attacks below must end in.
const (
	insufficientPrivilege = "42501"
	foreignKeyViolation   = "23503"
)

// fixture is two tenants arranged as superuser, as no request role could:
// user A owns merchant A, with an unpublished item, a customer with sealed
// PII, an order with one line and a published page; user B owns merchant
// B, with a customer of its own. Each user has a live session.
type fixture struct {
	env   *dbtest.Env
	admin *pgx.Conn

	userA, userB         string
	merchantA, merchantB string
	// draftA is a second merchant of A whose page is not yet published.
	draftA               string
	itemA                string
	customerA, customerB string
	orderA               string
	sessionA, sessionB   string
}

func setup(t *testing.T, maxConns int32) *fixture {
	t.Helper()
	ctx := context.Background()
	env := dbtest.New(t, maxConns)
	admin, err := pgx.Connect(ctx, env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	f := &fixture{env: env, admin: admin}

	f.userA = f.newUser(t, "a@users.test")
	f.userB = f.newUser(t, "b@users.test")
	f.merchantA = f.newMerchant(t, "shop-a", f.userA)
	f.merchantB = f.newMerchant(t, "shop-b", f.userB)
	f.draftA = f.newMerchant(t, "drafts-a", f.userA)
	f.sessionA = f.openSession(t, f.userA)
	f.sessionB = f.openSession(t, f.userB)

	f.itemA = f.id(t, `
insert into app.merchant_items (merchant_id, sku, title, price_cents,
                                stock, created_by)
values ($1, 'sku-a', 'MARKER-A', 1000, 10, $2)
returning id::text`, f.merchantA, f.userA)
	f.customerA = f.newCustomer(t, f.merchantA, "MARKER-A")
	f.customerB = f.newCustomer(t, f.merchantB, "MARKER-B")

	f.orderA = f.id(t, `
insert into app.orders (merchant_id, customer_id, shipping_address_sealed)
values ($1, $2, '\x5345414c4544'::bytea)
returning id::text`, f.merchantA, f.customerA)
	f.adminExec(t, `
insert into app.order_lines (order_id, merchant_id, line_no, item_id, title,
                             quantity, unit_price_cents, line_total_cents)
values ($1, $2, 1, $3, 'MARKER-A', 1, 1000, 1000)`,
		f.orderA, f.merchantA, f.itemA)

	f.adminExec(t, `
insert into app.merchant_pages (merchant_id, slug, title, contact_email,
                                published)
values ($1, 'shop-a', 'Shop A', 'a@contact.test', true),
       ($2, 'drafts-a', 'Drafts of A', 'a@contact.test', false)`,
		f.merchantA, f.draftA)
	return f
}

func (f *fixture) newUser(t *testing.T, email string) string {
	t.Helper()
	return f.id(t, `
insert into auth.users (email, password_hash)
values ($1, 'not-a-real-hash')
returning id::text`, email)
}

// newMerchant creates a merchant owned by user, as create_merchant would.
func (f *fixture) newMerchant(t *testing.T, slug, user string) string {
	t.Helper()
	id := f.id(t, `
insert into app.merchants (name, slug, created_by)
values ($1, $1, $2)
returning id::text`, slug, user)
	f.adminExec(t, `
insert into app.merchant_members (merchant_id, user_id, role, added_by)
values ($1, $2, 'owner', $2)`, id, user)
	return id
}

func (f *fixture) newCustomer(t *testing.T, merchant, ref string) string {
	t.Helper()
	return f.id(t, `
insert into app.merchant_customers (merchant_id, external_ref, name_sealed,
                                    name_mask, email_sealed, email_mask,
                                    address_sealed)
values ($1, $2, '\x01'::bytea, 'M****', '\x02'::bytea, 'm***@***',
        '\x03'::bytea)
returning id::text`, merchant, ref)
}

// openSession starts a live session for user the way the service does
// after a password check, with a refresh token nobody holds.
func (f *fixture) openSession(t *testing.T, user string) string {
	t.Helper()
	return f.id(t, `
select auth.open_session($1, gen_random_uuid()::text::bytea,
                         '127.0.0.1', 'fixture', '1 hour', '1 day')::text`,
		user)
}

func (f *fixture) id(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var id string
	err := f.admin.QueryRow(context.Background(), sql, args...).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) adminExec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.admin.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// fingerprint digests every row an attack could touch, read as superuser,
// so an attack that "failed" can be shown to have changed nothing.
func (f *fixture) fingerprint(t *testing.T) string {
	t.Helper()
	return f.id(t, `
select md5(concat_ws('|',
  (select string_agg(x::text, ',' order by x::text) from auth.users x),
  (select string_agg(x::text, ',' order by x::text) from auth.sessions x),
  (select string_agg(x::text, ',' order by x::text) from auth.refresh_tokens x),
  (select string_agg(x::text, ',' order by x::text) from app.merchants x),
  (select string_agg(x::text, ',' order by x::text) from app.merchant_members x),
  (select string_agg(x::text, ',' order by x::text) from app.merchant_pages x),
  (select string_agg(x::text, ',' order by x::text) from app.merchant_items x),
  (select string_agg(x::text, ',' order by x::text) from app.merchant_customers x),
  (select string_agg(x::text, ',' order by x::text) from app.orders x),
  (select string_agg(x::text, ',' order by x::text) from app.order_lines x)))`)
}

// connect opens a connection as rampart_api, the service's login, the way
// a compromised service would hold one.
func (f *fixture) connect(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.env.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// claimsOf returns the claims the service would set for user's session.
func claimsOf(t *testing.T, user, session string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{
		"sub": user, "role": "authenticated", "session_id": session,
		"aal": "aal1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// attempt runs sql in a transaction of its own on conn as role with claims
// and commits it when it succeeds. It returns the rows affected.
func attempt(t *testing.T, conn *pgx.Conn, role, claims, sql string,
	args ...any) (int64, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)

	_, err = tx.Exec(ctx, `
select set_config('role', $1, true),
       set_config('request.jwt.claims', $2, true)`, role, claims)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := tx.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// refused runs an attack and fails t unless the database refuses it with
// code and nothing changed.
func (f *fixture) refused(t *testing.T, conn *pgx.Conn, code, role,
	claims, sql string, args ...any) {
	t.Helper()
	before := f.fingerprint(t)
	_, err := attempt(t, conn, role, claims, sql, args...)
	wantCode(t, err, code)
	if f.fingerprint(t) != before {
		t.Fatal("a refused statement changed rows")
	}
}

// noRows runs an attack and fails t unless it matched no row and nothing
// changed.
func (f *fixture) noRows(t *testing.T, conn *pgx.Conn, role, claims,
	sql string, args ...any) {
	t.Helper()
	before := f.fingerprint(t)
	n, err := attempt(t, conn, role, claims, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("affected %d rows of another tenant", n)
	}
	if f.fingerprint(t) != before {
		t.Fatal("the statement changed rows")
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("got %v, want SQLSTATE %s", err, code)
	}
}

// tenantReads are the reads a stranger to merchant A must get nothing
// from: every table holding A's rows, filtered to A's merchant ($1), and
// A's unpublished page ($2).
var tenantReads = []struct{ table, sql string }{
	{"merchants", `select count(*) from app.merchants
		where id = $1 and $2::uuid is not null`},
	{"merchant_items", `select count(*) from app.merchant_items
		where merchant_id = $1 and $2::uuid is not null`},
	{"merchant_customers (through the audited door)", `select count(*)
		from security.get_customer_data_secure($1, 'list', null, null, null,
		  null, null, null, 100, null)
		where status = 'ok' and $2::uuid is not null`},
	{"orders", `select count(*) from app.orders
		where merchant_id = $1 and $2::uuid is not null`},
	{"order_lines", `select count(*) from app.order_lines
		where merchant_id = $1 and $2::uuid is not null`},
	{"merchant_members", `select count(*) from app.merchant_members
		where merchant_id = $1 and $2::uuid is not null`},
	{"unpublished merchant_pages", `select count(*) from app.merchant_pages
		where merchant_id = $2 and not published and $1::uuid is not null`},
}

// readTenantA reads every table of merchant A on a fresh connection as
// authenticated with claims (none set when nil), rolls back, and checks
// that the connection works and kept none of it.
func readTenantA(t *testing.T, f *fixture, claims *string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	conn := f.connect(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)

	if claims == nil {
		_, err = tx.Exec(ctx, `select set_config('role', 'authenticated', true)`)
	} else {
		_, err = tx.Exec(ctx, `
select set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', $1, true)`, *claims)
	}
	if err != nil {
		t.Fatal(err)
	}

	counts := map[string]int64{}
	for _, r := range tenantReads {
		var n int64
		err := tx.QueryRow(ctx, r.sql, f.merchantA, f.draftA).Scan(&n)
		if err != nil {
			t.Fatalf("read %s: %v", r.table, err)
		}
		counts[r.table] = n
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	var user, left string
	err = conn.QueryRow(ctx, `
select current_user::text,
       coalesce(current_setting('request.jwt.claims', true), '')`).
		Scan(&user, &left)
	if err != nil {
		t.Fatalf("connection unusable after rollback: %v", err)
	}
	if user != "rampart_api" || left != "" {
		t.Fatalf("after rollback: current_user %q, claims %q", user, left)
	}
	return counts
}

func TestRLSClaimsFailClosed(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	claimsB := claimsOf(t, f.userB, f.sessionB)
	claimsA := claimsOf(t, f.userA, f.sessionA)
	text := func(s string) *string { return &s }

	strangers := []struct {
		name   string
		claims *string
	}{
		{"user B with valid claims", &claimsB},
		{"no claims set at all", nil},
		{"empty claims", text("")},
		{"JSON null", text("null")},
		{"empty array", text("[]")},
		{"array of numbers", text("[1,2]")},
		{"JSON string", text(`"string"`)},
		{"sub not a uuid", text(`{"sub":"not-a-uuid"}`)},
		{"sub null", text(`{"sub":null}`)},
		{"sub a number", text(`{"sub":123}`)},
		{"broken JSON", text(`{broken json`)},
		{"sub a uuid with a suffix", text(`{"sub":"` + f.userA + `x"}`)},
		{"sub a uuid inside an array", text(`{"sub":["` + f.userA + `"]}`)},
	}
	for _, s := range strangers {
		t.Run(s.name+" reads nothing of merchant A", func(t *testing.T) {
			for table, n := range readTenantA(t, f, s.claims) {
				if n != 0 {
					t.Errorf("%s: saw %d rows of merchant A", table, n)
				}
			}
		})
	}

	t.Run("control: user A reads merchant A", func(t *testing.T) {
		for table, n := range readTenantA(t, f, &claimsA) {
			if n == 0 {
				t.Errorf("%s: A sees none of their own rows", table)
			}
		}
	})
}

func TestRLSLoginWithoutRequestRole(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	conn := f.connect(t)
	ctx := context.Background()

	// A query path that forgot to switch role runs as rampart_api.
	attacks := []struct{ name, sql string }{
		{"reading items", `select * from app.merchant_items`},
		{"counting customers", `select count(*) from app.merchant_customers`},
		{"reading users", `select * from auth.users`},
		{"reading the claims helper", `select auth.uid()`},
		{"checking a session", `select auth.session_ok()`},
		{"opening a session", `
select auth.open_session(gen_random_uuid(), '\x00', null, null, '1 hour',
                         '1 day')`},
	}
	for _, a := range attacks {
		t.Run("rampart_api is refused "+a.name, func(t *testing.T) {
			_, err := conn.Exec(ctx, a.sql)
			wantCode(t, err, insufficientPrivilege)
		})
	}
}

func TestRLSRawPII(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	conn := f.connect(t)
	claimsA := claimsOf(t, f.userA, f.sessionA)

	// Even inside their own tenant, a member reads masks, never sealed
	// values or secrets.
	secrets := []struct{ name, sql string }{
		{"sealed customer names",
			`select name_sealed from app.merchant_customers`},
		{"sealed customer emails",
			`select email_sealed from app.merchant_customers`},
		{"sealed customer addresses",
			`select address_sealed from app.merchant_customers`},
		{"whole customer rows", `select * from app.merchant_customers`},
		{"sealed shipping addresses",
			`select shipping_address_sealed from app.orders`},
		{"password hashes", `select password_hash from auth.users`},
		{"whole user rows", `select * from auth.users`},
		{"refresh token hashes",
			`select token_hash from auth.refresh_tokens`},
	}
	for _, s := range secrets {
		t.Run("A cannot read "+s.name, func(t *testing.T) {
			f.refused(t, conn, insufficientPrivilege, "authenticated",
				claimsA, s.sql)
		})
	}

	t.Run("even masks are not readable outside the audited door", func(t *testing.T) {
		f.refused(t, conn, insufficientPrivilege, "authenticated", claimsA,
			`select name_mask, email_mask from app.merchant_customers`)
	})

	t.Run("control: A reads the masks of A's customer through the door", func(t *testing.T) {
		n, err := attempt(t, conn, "authenticated", claimsA, `
select name_mask, email_mask
from security.get_customer_data_secure($1, 'list', null, null, null, null,
  null, null, 100, null)
where status = 'ok'`, f.merchantA)
		if err != nil || n != 1 {
			t.Fatalf("got %d rows, %v; want A's one customer", n, err)
		}
	})

	contacts := []struct{ name, sql string }{
		{"contact emails", `select contact_email from app.merchant_pages`},
		{"contact phones of published pages",
			`select contact_phone from app.merchant_pages where published`},
		{"whole page rows", `select * from app.merchant_pages`},
	}
	for _, c := range contacts {
		t.Run("anon cannot read "+c.name, func(t *testing.T) {
			f.refused(t, conn, insufficientPrivilege, "anon", "", c.sql)
		})
	}

	t.Run("anon reads the public fields of published pages", func(t *testing.T) {
		titles := anonTitles(t, conn)
		if len(titles) != 1 || titles[0] != "Shop A" {
			t.Fatalf("anon saw pages %v, want only [Shop A]", titles)
		}
	})
}

// anonTitles lists the page titles anon can see.
func anonTitles(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx,
		`select set_config('role', 'anon', true)`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `
select title from app.merchant_pages where published order by title`)
	if err != nil {
		t.Fatal(err)
	}
	titles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return titles
}

func TestRLSCrossTenantWrites(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	conn := f.connect(t)
	claimsA := claimsOf(t, f.userA, f.sessionA)

	t.Run("A cannot move A's item into merchant B", func(t *testing.T) {
		f.refused(t, conn, insufficientPrivilege, "authenticated", claimsA,
			`update app.merchant_items set merchant_id = $1`, f.merchantB)
	})

	t.Run("A cannot insert an item into merchant B", func(t *testing.T) {
		f.refused(t, conn, insufficientPrivilege, "authenticated", claimsA, `
insert into app.merchant_items (merchant_id, sku, title, price_cents)
values ($1, 'planted', 'planted by A', 1)`, f.merchantB)
	})

	t.Run("A cannot rename B's customers", func(t *testing.T) {
		f.refused(t, conn, insufficientPrivilege, "authenticated", claimsA, `
update app.merchant_customers set external_ref = 'x'
where merchant_id = $1`, f.merchantB)
		f.noRows(t, conn, "authenticated", claimsA, `
select 1 from app.update_customer($1, $2, 'x', null, null, null, null, null,
  null, null, null, null, null) ok where ok`, f.merchantB, f.customerB)
	})

	t.Run("A cannot order for B's customer", func(t *testing.T) {
		f.refused(t, conn, foreignKeyViolation, "authenticated", claimsA, `
insert into app.orders (merchant_id, customer_id) values ($1, $2)`,
			f.merchantA, f.customerB)
	})

	t.Run("A cannot remove B's members", func(t *testing.T) {
		f.noRows(t, conn, "authenticated", claimsA,
			`delete from app.merchant_members where merchant_id = $1`,
			f.merchantB)
	})

	t.Run("A cannot make themself a member of merchant B", func(t *testing.T) {
		f.refused(t, conn, insufficientPrivilege, "authenticated", claimsA, `
insert into app.merchant_members (merchant_id, user_id, role)
values ($1, $2, 'owner')`, f.merchantB, f.userA)
	})

	t.Run("A cannot delete B's items or customers", func(t *testing.T) {
		f.refused(t, conn, insufficientPrivilege, "authenticated", claimsA,
			`delete from app.merchant_customers where merchant_id = $1`,
			f.merchantB)
		f.noRows(t, conn, "authenticated", claimsA,
			`select 1 from app.erase_customer($1, $2) ok where ok`,
			f.merchantB, f.customerB)
		f.noRows(t, conn, "authenticated", claimsA,
			`delete from app.merchant_items where merchant_id = $1`,
			f.merchantB)
	})
}

func TestRLSServerOwnedColumns(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	conn := f.connect(t)
	claimsA := claimsOf(t, f.userA, f.sessionA)

	refused := []struct {
		name string
		sql  string
		args []any
	}{
		{"A cannot set an order's total on insert", `
insert into app.orders (merchant_id, customer_id, total_cents)
values ($1, $2, 1)`, []any{f.merchantA, f.customerA}},
		{"A cannot rewrite an order's total",
			`update app.orders set total_cents = 1 where id = $1`,
			[]any{f.orderA}},
		{"A cannot forge an order's creator", `
insert into app.orders (merchant_id, customer_id, created_by)
values ($1, $2, $3)`, []any{f.merchantA, f.customerA, f.userB}},
		{"A cannot forge an item's creator", `
insert into app.merchant_items (merchant_id, sku, title, price_cents,
                                created_by)
values ($1, 'forged', 'forged', 1, $2)`, []any{f.merchantA, f.userB}},
		{"A cannot rewrite an item's creator",
			`update app.merchant_items set created_by = $1 where id = $2`,
			[]any{f.userB, f.itemA}},
		{"A cannot create an order past pending", `
insert into app.orders (merchant_id, customer_id, status)
values ($1, $2, 'canceled')`, []any{f.merchantA, f.customerA}},
		{"A cannot mark an order as holding no stock", `
update app.orders set stock_reserved = false where id = $1`, []any{f.orderA}},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			f.refused(t, conn, insufficientPrivilege, "authenticated",
				claimsA, r.sql, r.args...)
		})
	}

	t.Run("lines cannot be added to a canceled order", func(t *testing.T) {
		// Its units went back to stock; a line added now would take units
		// that canceling again never returns.
		orderB := f.id(t, `
insert into app.orders (merchant_id, customer_id, status)
values ($1, $2, 'canceled')
returning id::text`, f.merchantB, f.customerB)
		claimsB := claimsOf(t, f.userB, f.sessionB)
		f.refused(t, conn, "RA009", "authenticated", claimsB, `
insert into app.order_lines (order_id, merchant_id, line_no, title, quantity,
                             unit_price_cents, line_total_cents)
values ($1, $2, 9, 'late', 1, 100, 100)`, orderB, f.merchantB)
	})

	t.Run("A's forged line total is recomputed", func(t *testing.T) {
		_, err := attempt(t, conn, "authenticated", claimsA, `
insert into app.order_lines (order_id, merchant_id, line_no, title, quantity,
                             unit_price_cents, line_total_cents)
values ($1, $2, 2, 'second', 2, 500, 1)`, f.orderA, f.merchantA)
		if err != nil {
			t.Fatal(err)
		}
		var line, total string
		err = f.admin.QueryRow(context.Background(), `
select l.line_total_cents::text, o.total_cents::text
from app.order_lines l join app.orders o on o.id = l.order_id
where l.order_id = $1 and l.line_no = 2`, f.orderA).Scan(&line, &total)
		if err != nil {
			t.Fatal(err)
		}
		if line != "1000" || total != "2000" {
			t.Fatalf("line total %s, order total %s; want 1000, 2000",
				line, total)
		}
	})
}

func TestRLSSessionFunctions(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	conn := f.connect(t)
	claimsA := claimsOf(t, f.userA, f.sessionA)

	anonCalls := []struct{ name, sql string }{
		{"check a session", `select auth.session_ok()`},
		{"revoke all sessions", `select auth.revoke_all_sessions('x')`},
		{"revoke a session", `select auth.revoke_session(null, 'x')`},
		{"replace a password hash",
			`select auth.rehash_password('not-a-real-hash', 'mine')`},
		{"list users", `select * from auth.users`},
		{"list sessions", `select id from auth.sessions`},
	}
	for _, c := range anonCalls {
		// Stolen claims do not help: anon is refused by privilege.
		t.Run("anon with A's claims cannot "+c.name, func(t *testing.T) {
			f.refused(t, conn, insufficientPrivilege, "anon", claimsA, c.sql)
		})
	}

	// The login flow's functions are anon's; a signed-in request that
	// reaches them is a compromised one.
	authCalls := []struct{ name, sql string }{
		{"open a session for any user", `
select auth.open_session(id, '\x00', null, null, '1 hour', '1 day')
from auth.users`},
		{"read another user's password hash",
			`select auth.login_candidate('b@users.test')`},
		{"register an account", `select auth.register_user('c@x.test', 'x', null)`},
		{"rotate a refresh token",
			`select auth.rotate_refresh('\x00', '\x01', '1 second')`},
	}
	for _, c := range authCalls {
		t.Run("A cannot "+c.name, func(t *testing.T) {
			f.refused(t, conn, insufficientPrivilege, "authenticated",
				claimsA, c.sql)
		})
	}
}

func TestRLSAuthTablesClosed(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	conn := f.connect(t)
	claimsA := claimsOf(t, f.userA, f.sessionA)

	// Each statement names A's session as $1.
	attacks := []struct{ name, sql string }{
		{"read refresh tokens",
			`select * from auth.refresh_tokens where session_id = $1`},
		{"count refresh tokens",
			`select count(*) from auth.refresh_tokens where session_id = $1`},
		{"plant a refresh token", `
insert into auth.refresh_tokens (session_id, token_hash)
values ($1, '\x00')`},
		{"revive a used refresh token", `
update auth.refresh_tokens set used_at = null where session_id = $1`},
		{"erase the refresh token trail",
			`delete from auth.refresh_tokens where session_id = $1`},
		{"mint an endless session", `
insert into auth.sessions (user_id, idle_timeout, expires_at)
select user_id, '100 years', 'infinity' from auth.sessions where id = $1`},
		{"revive a session", `
update auth.sessions set revoked_at = null, expires_at = 'infinity'
where id = $1`},
		{"erase a session", `delete from auth.sessions where id = $1`},
		{"promote a user to platform admin", `
update auth.users set platform_role = 'platform_admin'
where id = (select user_id from auth.sessions where id = $1)`},
	}
	for _, role := range []string{"anon", "authenticated", "platform_admin"} {
		for _, a := range attacks {
			t.Run(role+" cannot "+a.name, func(t *testing.T) {
				f.refused(t, conn, insufficientPrivilege, role, claimsA,
					a.sql, f.sessionA)
			})
		}
	}
}

// TestQuotaCheckWithoutASessionAllowsNothing: a caller whose session is
// gone (revoked while its request ran) gets no customer-data budget, even
// when the door is past its own check (the check is run directly, as its
// owner may).
func TestQuotaCheckWithoutASessionAllowsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, f.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	claims := `{"sub":"` + f.userA + `","role":"authenticated",` +
		`"session_id":"00000000-0000-4000-8000-000000000001","aal":"aal1"}`
	if _, err := tx.Exec(ctx, `select set_config('request.jwt.claims', $1, true)`, claims); err != nil {
		t.Fatal(err)
	}
	var allowed bool
	err = tx.QueryRow(ctx, `select allowed from security.check_customer_data_access_limit(
		$1, 'view', array[gen_random_uuid()])`, f.merchantA).Scan(&allowed)
	if err != nil || allowed {
		t.Fatalf("a dead session was allowed (%v)", err)
	}
}
