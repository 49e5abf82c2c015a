package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/internal/db"
)

// view is what one request transaction saw of itself.
type view struct {
	user, claims, ip, requestID string
	itemsOfA                    int64
}

const viewSQL = `
select current_user::text,
       coalesce(current_setting('request.jwt.claims', true), ''),
       coalesce(current_setting('request.ip', true), ''),
       coalesce(current_setting('request.id', true), ''),
       (select count(*) from app.merchant_items where merchant_id = $1)`

// look runs one request transaction as p and returns what it saw.
func (f *fixture) look(ctx context.Context, p db.Principal) (view, error) {
	var v view
	err := f.env.DB.Tx(ctx, p, func(q db.Querier) error {
		return q.QueryRow(ctx, viewSQL, f.merchantA).
			Scan(&v.user, &v.claims, &v.ip, &v.requestID, &v.itemsOfA)
	})
	return v, err
}

// signedIn is user acting in session, as the service would present them.
func signedIn(user, session string) db.Principal {
	claims := map[string]string{
		"sub": user, "role": "authenticated", "aal": "aal1",
	}
	if session != "" {
		claims["session_id"] = session
	}
	return db.Principal{
		Role:         db.RoleAuthenticated,
		Claims:       claims,
		CheckSession: session != "",
	}
}

// assertClean fails t unless, within two seconds, the pool hands out a
// connection that is outside any transaction and carries nothing of an
// earlier request, and a request transaction on it works.
func (f *fixture) assertClean(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f.assertIdleConn(ctx, t)

	v, err := f.look(ctx, signedIn(f.userA, f.sessionA))
	if err != nil {
		t.Fatalf("next request transaction: %v", err)
	}
	if v.user != db.RoleAuthenticated || v.itemsOfA != 1 {
		t.Fatalf("next request transaction saw %+v", v)
	}
}

// assertIdleConn fails t unless the pool's connection is outside any
// transaction and has no role, claim or setting left by a request.
func (f *fixture) assertIdleConn(ctx context.Context, t *testing.T) {
	t.Helper()
	conn, err := f.env.DB.Pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire the pool's connection: %v", err)
	}
	defer conn.Release()
	if s := conn.Conn().PgConn().TxStatus(); s != 'I' {
		t.Fatalf("connection handed out in transaction status %q", s)
	}

	var v view
	err = conn.QueryRow(ctx, viewSQL, f.merchantA).
		Scan(&v.user, &v.claims, &v.ip, &v.requestID, &v.itemsOfA)
	if err == nil {
		t.Fatalf("a query outside any request was served: %+v", v)
	}
	err = conn.QueryRow(ctx, `
select current_user::text,
       coalesce(current_setting('request.jwt.claims', true), ''),
       coalesce(current_setting('request.ip', true), ''),
       coalesce(current_setting('request.id', true), '')`).
		Scan(&v.user, &v.claims, &v.ip, &v.requestID)
	if err != nil {
		t.Fatal(err)
	}
	if v != (view{user: "rampart_api"}) {
		t.Fatalf("connection carries an earlier request: %+v", v)
	}

	var changed string
	err = conn.QueryRow(ctx, `
select coalesce(string_agg(name || '=' || setting, ', '), '')
from pg_settings where source = 'session'
  -- A pooler such as PgBouncer sets these on every server connection.
  and name not in ('application_name', 'client_encoding', 'DateStyle',
                   'TimeZone', 'standard_conforming_strings')`).Scan(&changed)
	if err != nil {
		t.Fatal(err)
	}
	if changed != "" {
		t.Fatalf("connection carries an earlier request's settings: %s",
			changed)
	}
}

// assertNoBackendRuns fails t unless, within two seconds, no backend of
// the test database is running a query containing text: an abandoned
// request must not keep the server busy after the caller has gone.
func (f *fixture) assertNoBackendRuns(t *testing.T, text string) {
	t.Helper()
	const q = `
select count(*) from pg_stat_activity
where datname = current_database()
  and pid <> pg_backend_pid()
  and state = 'active'
  and strpos(query, $1) > 0`
	deadline := time.Now().Add(2 * time.Second)
	for {
		var n int64
		err := f.admin.QueryRow(context.Background(), q, text).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends still run %q", n, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *fixture) itemCount(t *testing.T, sku string) int64 {
	t.Helper()
	var n int64
	err := f.admin.QueryRow(context.Background(),
		`select count(*) from app.merchant_items where sku = $1`, sku).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func insertItem(ctx context.Context, q db.Querier, merchant, sku string) error {
	_, err := q.Exec(ctx, `
insert into app.merchant_items (merchant_id, sku, title, price_cents)
values ($1, $2, 'must not persist', 1)`, merchant, sku)
	return err
}

// recovered runs fn and returns what it panicked with, if anything.
func recovered(fn func()) (r any) {
	defer func() { r = recover() }()
	fn()
	return nil
}

func TestTxInterleavedPrincipalsShareOneConnection(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	if n := f.env.DB.Pool.Config().MaxConns; n != 1 {
		t.Fatalf("pool of %d connections, want 1", n)
	}
	ctx := context.Background()
	principals := []struct {
		name      string
		p         db.Principal
		itemsOfA  int64
		wantClaim bool
	}{
		{"A", signedIn(f.userA, f.sessionA), 1, true},
		{"anon", db.Principal{Role: db.RoleAnon}, 0, false},
		{"B", signedIn(f.userB, f.sessionB), 0, true},
	}

	for i := range 30 {
		who := principals[i%len(principals)]
		p := who.p
		p.IP = fmt.Sprintf("198.51.100.%d", i)
		p.RequestID = fmt.Sprintf("req-%d", i)
		want := view{user: p.Role, ip: p.IP, requestID: p.RequestID,
			itemsOfA: who.itemsOfA}
		if who.wantClaim {
			b, err := json.Marshal(p.Claims)
			if err != nil {
				t.Fatal(err)
			}
			want.claims = string(b)
		}

		got, err := f.look(ctx, p)
		if err != nil {
			t.Fatalf("request %d as %s: %v", i, who.name, err)
		}
		if got != want {
			t.Fatalf("request %d as %s saw %+v, want %+v", i, who.name,
				got, want)
		}
	}
	f.assertIdleConn(ctx, t)
}

func TestTxLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	a := signedIn(f.userA, f.sessionA)
	a.IP, a.RequestID = "203.0.113.9", "req-failing"

	t.Run("a panicking handler commits nothing", func(t *testing.T) {
		ctx := context.Background()
		r := recovered(func() {
			_ = f.env.DB.Tx(ctx, a, func(q db.Querier) error {
				if err := insertItem(ctx, q, f.merchantA, "panicked"); err != nil {
					t.Error(err)
				}
				panic("handler bug")
			})
		})
		if r != "handler bug" {
			t.Fatalf("recovered %v, want the handler's panic", r)
		}
		if n := f.itemCount(t, "panicked"); n != 0 {
			t.Fatalf("panicked transaction committed %d items", n)
		}
		f.assertClean(t)
	})

	t.Run("a handler panicking with rows open frees the connection", func(t *testing.T) {
		ctx := context.Background()
		r := recovered(func() {
			_ = f.env.DB.Tx(ctx, a, func(q db.Querier) error {
				rows, err := q.Query(ctx, `select generate_series(1, 100000)`)
				if err != nil {
					t.Error(err)
				}
				_ = rows
				panic("handler bug")
			})
		})
		if r == nil {
			t.Fatal("the panic was swallowed")
		}
		f.assertClean(t)
	})

	t.Run("a request cancelled mid-query returns promptly", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(100*time.Millisecond, cancel)

		start := time.Now()
		err := f.env.DB.Tx(ctx, a, func(q db.Querier) error {
			_, err := q.Exec(ctx, `select pg_sleep(5)`)
			return err
		})
		if err == nil {
			t.Fatal("a cancelled request transaction succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("returned after %v, want promptly", d)
		}
		f.assertClean(t)
		f.assertNoBackendRuns(t, "pg_sleep(5)")
	})

	t.Run("a handler error commits nothing", func(t *testing.T) {
		ctx := context.Background()
		errHandler := errors.New("handler refused")
		err := f.env.DB.Tx(ctx, a, func(q db.Querier) error {
			if err := insertItem(ctx, q, f.merchantA, "errored"); err != nil {
				return err
			}
			return errHandler
		})
		if !errors.Is(err, errHandler) {
			t.Fatalf("got %v, want the handler's error", err)
		}
		if n := f.itemCount(t, "errored"); n != 0 {
			t.Fatalf("failed transaction committed %d items", n)
		}
		f.assertClean(t)
	})

	t.Run("a handler that swallowed an error is not told it committed", func(t *testing.T) {
		ctx := context.Background()
		err := f.env.DB.Tx(ctx, a, func(q db.Querier) error {
			if err := insertItem(ctx, q, f.merchantA, "swallowed"); err != nil {
				return err
			}
			_, _ = q.Exec(ctx, `select 1 / 0`)
			return nil
		})
		if n := f.itemCount(t, "swallowed"); n != 0 || err == nil {
			t.Fatalf("Tx returned %v with %d items committed; want an "+
				"error, since the aborted transaction was rolled back", err, n)
		}
		f.assertClean(t)
	})

	t.Run("control: a handler that succeeds commits", func(t *testing.T) {
		ctx := context.Background()
		err := f.env.DB.Tx(ctx, a, func(q db.Querier) error {
			return insertItem(ctx, q, f.merchantA, "committed")
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := f.itemCount(t, "committed"); n != 1 {
			t.Fatalf("committed %d items, want 1", n)
		}
	})
}

// A handler that runs attacker-controlled SQL may change settings for the
// whole session, not just its transaction; the next user of the pooled
// connection must not inherit them.
func TestTxInjectedSessionSettingsDoNotOutliveTheRequest(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	ctx := context.Background()

	err := f.env.DB.Tx(ctx, db.Principal{Role: db.RoleAnon},
		func(q db.Querier) error {
			_, err := q.Exec(ctx, `
select set_config('role', 'platform_admin', false),
       set_config('request.jwt.claims', $1, false),
       set_config('statement_timeout', '1', false),
       set_config('search_path', 'app', false)`,
				`{"sub":"`+f.userB+`"}`)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	f.assertClean(t)
}

func TestTxRefusesUnknownRoles(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)

	// Hold the pool's only connection: a Tx that reached for the database
	// would wait for it until its context ran out.
	held, err := f.env.DB.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	claims := signedIn(f.userA, "").Claims
	for _, role := range []string{
		"", "postgres", "rampart_owner", "rampart_api", "pg_read_all_data",
		"Authenticated", " authenticated", "authenticated; reset role",
		"anon', true), set_config('role', 'postgres",
	} {
		t.Run(fmt.Sprintf("role %q is refused", role), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(),
				2*time.Second)
			defer cancel()
			called := false
			start := time.Now()
			err := f.env.DB.Tx(ctx, db.Principal{Role: role, Claims: claims},
				func(db.Querier) error { called = true; return nil })
			if err == nil || called {
				t.Fatalf("ran the handler as %q (err %v)", role, err)
			}
			if errors.Is(err, context.DeadlineExceeded) ||
				time.Since(start) > time.Second {
				t.Fatalf("waited for the database before refusing: %v", err)
			}
		})
	}
}

func TestTxChecksSession(t *testing.T) {
	t.Parallel()
	f := setup(t, 1)
	ctx := context.Background()

	cases := []struct {
		name    string
		arrange func(t *testing.T) db.Principal
	}{
		{"A's revoked session is refused", func(t *testing.T) db.Principal {
			sid := f.openSession(t, f.userA)
			if _, err := f.look(ctx, signedIn(f.userA, sid)); err != nil {
				t.Fatalf("live session refused before revocation: %v", err)
			}
			f.adminExec(t, `
update auth.sessions set revoked_at = now() where id = $1`, sid)
			return signedIn(f.userA, sid)
		}},
		{"A's expired session is refused", func(t *testing.T) db.Principal {
			sid := f.openSession(t, f.userA)
			f.adminExec(t, `
update auth.sessions set expires_at = now() - interval '1 second'
where id = $1`, sid)
			return signedIn(f.userA, sid)
		}},
		{"A's idle session is refused", func(t *testing.T) db.Principal {
			sid := f.openSession(t, f.userA)
			f.adminExec(t, `
update auth.sessions set last_seen_at = now() - interval '2 hours'
where id = $1`, sid)
			return signedIn(f.userA, sid)
		}},
		{"A presenting B's session is refused", func(t *testing.T) db.Principal {
			return signedIn(f.userA, f.sessionB)
		}},
		{"a suspended user's session is refused", func(t *testing.T) db.Principal {
			c := f.newUser(t, "c@users.test")
			sid := f.openSession(t, c)
			f.adminExec(t,
				`update auth.users set status = 'suspended' where id = $1`, c)
			return signedIn(c, sid)
		}},
		{"claims naming no session are refused", func(t *testing.T) db.Principal {
			p := signedIn(f.userA, "")
			p.CheckSession = true
			return p
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.arrange(t)
			called := false
			err := f.env.DB.Tx(ctx, p,
				func(db.Querier) error { called = true; return nil })
			if !db.IsSessionInvalid(err) {
				t.Fatalf("got %v, want an invalid session", err)
			}
			if called {
				t.Fatal("ran the handler for an invalid session")
			}
			f.assertClean(t)
		})
	}

	t.Run("control: A's live session is served", func(t *testing.T) {
		v, err := f.look(ctx, signedIn(f.userA, f.openSession(t, f.userA)))
		if err != nil || v.itemsOfA != 1 {
			t.Fatalf("got %+v, %v; want A's item", v, err)
		}
	})
}
