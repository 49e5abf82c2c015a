package keys_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/dbtest"
	"github.com/rampart-dev/rampart/internal/keys"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/pii"
)

// customerColumns are the sealed columns of app.merchant_customers, by the
// name their values are bound to.
var customerColumns = map[string]string{
	"merchant_customers.name":    "name_sealed",
	"merchant_customers.email":   "email_sealed",
	"merchant_customers.phone":   "phone_sealed",
	"merchant_customers.address": "address_sealed",
}

const (
	customers = 5
	// sealedValues is every value of the fixture: four per customer and
	// the order's shipping address.
	sealedValues = customers*4 + 1
)

// cell is one sealed value's place: its AAD column and row.
type cell struct {
	column string
	id     uuid.UUID
}

// fixture is one merchant with customers and an order whose PII is all
// sealed under key "old", and a keyring that has moved on to key "new".
type fixture struct {
	env   *dbtest.Env
	admin *pgx.Conn
	old   pii.Key
	ring  *pii.Keyring
	// plain is what each sealed value must still open to.
	plain     map[cell]string
	customers []uuid.UUID
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	env := dbtest.New(t, 2)
	admin, err := pgx.Connect(ctx, env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })

	f := &fixture{env: env, admin: admin, old: pii.GenerateKey("old"),
		plain: map[cell]string{}}
	f.ring, err = pii.NewKeyring(pii.GenerateKey("new"), f.old)
	if err != nil {
		t.Fatal(err)
	}
	oldRing := f.keyring(t, f.old)

	var user, merchant uuid.UUID
	f.scan(t, &user, `
insert into auth.users (email, password_hash)
values ('owner@shop.test', 'not-a-real-hash')
returning id`)
	f.scan(t, &merchant, `
insert into app.merchants (name, slug, created_by)
values ('Shop', 'shop', $1)
returning id`, user)

	for i := range customers {
		f.customers = append(f.customers, f.newCustomer(t, oldRing, merchant, i))
	}
	f.newOrder(t, oldRing, merchant, f.customers[0])
	return f
}

func (f *fixture) newCustomer(t *testing.T, ring *pii.Keyring, merchant uuid.UUID, i int) uuid.UUID {
	t.Helper()
	id := uuid.New()
	v := map[string][]byte{}
	for column := range customerColumns {
		plain := fmt.Sprintf("%s of customer %d", column, i)
		v[column] = f.seal(t, ring, cell{column, id}, plain)
	}
	f.exec(t, `
insert into app.merchant_customers (id, merchant_id, name_sealed,
                                    email_sealed, phone_sealed, address_sealed)
values ($1, $2, $3, $4, $5, $6)`, id, merchant,
		v["merchant_customers.name"], v["merchant_customers.email"],
		v["merchant_customers.phone"], v["merchant_customers.address"])
	return id
}

func (f *fixture) newOrder(t *testing.T, ring *pii.Keyring, merchant, customer uuid.UUID) {
	t.Helper()
	id := uuid.New()
	address := f.seal(t, ring, cell{"orders.shipping_address", id},
		`{"street":"Rua das Flores 1"}`)
	f.exec(t, `
insert into app.orders (id, merchant_id, customer_id, shipping_address_sealed)
values ($1, $2, $3, $4)`, id, merchant, customer, address)
}

// seal seals plain for c under ring and records what it must open to.
func (f *fixture) seal(t *testing.T, ring *pii.Keyring, c cell, plain string) []byte {
	t.Helper()
	sealed, err := ring.Seal([]byte(plain), marketplace.AAD(c.column, c.id))
	if err != nil {
		t.Fatal(err)
	}
	f.plain[c] = plain
	return sealed
}

// setCustomer overwrites one customer value behind the service's back.
func (f *fixture) setCustomer(t *testing.T, c cell, value []byte) {
	t.Helper()
	switch c.column {
	case "merchant_customers.name":
		f.exec(t, `update app.merchant_customers set name_sealed = $2 where id = $1`, c.id, value)
	case "merchant_customers.email":
		f.exec(t, `update app.merchant_customers set email_sealed = $2 where id = $1`, c.id, value)
	default:
		t.Fatalf("setCustomer does not handle %s", c.column)
	}
}

// values reads every sealed value, as superuser.
func (f *fixture) values(t *testing.T) map[cell][]byte {
	t.Helper()
	out := map[cell][]byte{}
	rows, err := f.admin.Query(context.Background(), `
select id, name_sealed, email_sealed, phone_sealed, address_sealed
from app.merchant_customers`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		var name, email, phone, address []byte
		if err := rows.Scan(&id, &name, &email, &phone, &address); err != nil {
			t.Fatal(err)
		}
		out[cell{"merchant_customers.name", id}] = name
		out[cell{"merchant_customers.email", id}] = email
		out[cell{"merchant_customers.phone", id}] = phone
		out[cell{"merchant_customers.address", id}] = address
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	var id uuid.UUID
	var address []byte
	f.scan(t, []any{&id, &address}, `
select id, shipping_address_sealed from app.orders`)
	out[cell{"orders.shipping_address", id}] = address
	return out
}

// checkCurrent asserts every value in want is under key "new" and opens
// to its plaintext.
func (f *fixture) checkCurrent(t *testing.T, want map[cell]string) {
	t.Helper()
	got := f.values(t)
	for c, plain := range want {
		id, err := pii.KeyID(got[c])
		if err != nil || id != "new" {
			t.Errorf("%s of %s: key id %q (%v); want \"new\"", c.column, c.id, id, err)
			continue
		}
		opened, err := f.ring.Open(got[c], marketplace.AAD(c.column, c.id))
		if err != nil || string(opened) != plain {
			t.Errorf("%s of %s does not open to its plaintext (%v)", c.column, c.id, err)
		}
	}
}

// rotate runs a rotation as the migrating superuser, as an operator would.
func (f *fixture) rotate(t *testing.T, opt keys.Options) (keys.Stats, []keys.Progress) {
	t.Helper()
	conn := f.connect(t, f.env.AdminURL)
	var seen []keys.Progress
	stats, err := keys.Rotate(context.Background(), conn, f.ring, opt, func(p keys.Progress) {
		seen = append(seen, p)
	})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return stats, seen
}

func (f *fixture) connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func (f *fixture) keyring(t *testing.T, current pii.Key) *pii.Keyring {
	t.Helper()
	ring, err := pii.NewKeyring(current)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.admin.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// scan runs a one-row query; dest is one pointer or a slice of them.
func (f *fixture) scan(t *testing.T, dest any, sql string, args ...any) {
	t.Helper()
	ptrs, ok := dest.([]any)
	if !ok {
		ptrs = []any{dest}
	}
	err := f.admin.QueryRow(context.Background(), sql, args...).Scan(ptrs...)
	if err != nil {
		t.Fatal(err)
	}
}

func without(m map[cell]string, c cell) map[cell]string {
	out := make(map[cell]string, len(m))
	for k, v := range m {
		if k != c {
			out[k] = v
		}
	}
	return out
}

func TestRotate(t *testing.T) {
	t.Parallel()

	t.Run("reseals every value under the current key", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		stats, _ := f.rotate(t, keys.Options{})
		if stats.Scanned != sealedValues || stats.Resealed != sealedValues ||
			len(stats.Failures) != 0 {
			t.Fatalf("stats = %+v; want %d scanned and resealed", stats, sealedValues)
		}
		f.checkCurrent(t, f.plain)
	})

	t.Run("small batches walk every row once", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		stats, seen := f.rotate(t, keys.Options{BatchSize: 2})
		if stats.Scanned != sealedValues || stats.Resealed != sealedValues {
			t.Fatalf("stats = %+v; want %d scanned and resealed", stats, sealedValues)
		}
		// Five customers in batches of two is three batches per column,
		// four columns, and one batch for the single order.
		if len(seen) != 4*3+1 {
			t.Fatalf("%d progress reports; want 13", len(seen))
		}
		last := seen[2]
		if last.Table != "app.merchant_customers" || last.Column != "name_sealed" ||
			last.Counts.Scanned != customers || last.Counts.Resealed != customers {
			t.Fatalf("third report = %+v; want the name column's totals", last)
		}
		f.checkCurrent(t, f.plain)
	})

	t.Run("a second run reseals nothing", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.rotate(t, keys.Options{BatchSize: 3})
		before := f.values(t)
		stats, _ := f.rotate(t, keys.Options{BatchSize: 3})
		if stats.Resealed != 0 || stats.Current != sealedValues {
			t.Fatalf("second run stats = %+v; want 0 resealed, %d current",
				stats, sealedValues)
		}
		for c, v := range f.values(t) {
			if string(v) != string(before[c]) {
				t.Fatalf("second run rewrote %s of %s", c.column, c.id)
			}
		}
	})

	t.Run("a value under a lost key fails alone", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		lost := cell{"merchant_customers.email", f.customers[2]}
		value := f.seal(t, f.keyring(t, pii.GenerateKey("lost")), lost, "gone")
		f.setCustomer(t, lost, value)

		stats, _ := f.rotate(t, keys.Options{BatchSize: 2})
		if len(stats.Failures) != 1 || stats.Failed != 1 {
			t.Fatalf("failures = %+v; want exactly one", stats.Failures)
		}
		got := stats.Failures[0]
		if got.ID != lost.id || got.Column != "email_sealed" ||
			!errors.Is(got.Err, pii.ErrUnknownKey) {
			t.Fatalf("failure = %+v; want %s email_sealed, unknown key", got, lost.id)
		}
		if stats.Resealed != sealedValues-1 {
			t.Fatalf("resealed %d; want %d", stats.Resealed, sealedValues-1)
		}
		f.checkCurrent(t, without(f.plain, lost))
		if string(f.values(t)[lost]) != string(value) {
			t.Fatal("the value under the lost key was changed")
		}
	})

	t.Run("a tampered value fails and is left alone", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		victim := cell{"merchant_customers.name", f.customers[1]}
		value := f.values(t)[victim]
		value[len(value)-1] ^= 1
		f.setCustomer(t, victim, value)

		stats, _ := f.rotate(t, keys.Options{})
		if len(stats.Failures) != 1 || !errors.Is(stats.Failures[0].Err, pii.ErrDecrypt) {
			t.Fatalf("failures = %+v; want one decrypt failure", stats.Failures)
		}
		f.checkCurrent(t, without(f.plain, victim))
	})

	t.Run("plaintext is sealed only when asked", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		legacy := cell{"merchant_customers.name", f.customers[3]}
		f.setCustomer(t, legacy, []byte("Maria Legacy"))
		f.plain[legacy] = "Maria Legacy"

		stats, _ := f.rotate(t, keys.Options{})
		if len(stats.Failures) != 1 || !errors.Is(stats.Failures[0].Err, pii.ErrMalformed) {
			t.Fatalf("without SealPlaintext failures = %+v; want one malformed", stats.Failures)
		}
		if string(f.values(t)[legacy]) != "Maria Legacy" {
			t.Fatal("plaintext was changed without SealPlaintext")
		}

		stats, _ = f.rotate(t, keys.Options{SealPlaintext: true})
		if stats.Sealed != 1 || len(stats.Failures) != 0 || stats.Resealed != 0 {
			t.Fatalf("with SealPlaintext stats = %+v; want 1 sealed", stats)
		}
		f.checkCurrent(t, f.plain)
	})

	t.Run("a concurrent writer wins", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		raced := cell{"merchant_customers.name", f.customers[4]}
		ctx := context.Background()

		// The service writes a new name and holds the row, uncommitted,
		// while the rotation reads the old value and queues behind it.
		service := f.connect(t, f.env.AdminURL)
		writer, err := service.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer writer.Rollback(ctx)
		fresh := f.seal(t, f.ring, raced, "Renamed by the service")
		_, err = writer.Exec(ctx, `
update app.merchant_customers set name_sealed = $2 where id = $1`,
			raced.id, fresh)
		if err != nil {
			t.Fatal(err)
		}

		rotator := f.connect(t, f.env.AdminURL)
		done := make(chan keys.Stats, 1)
		go func() {
			stats, err := keys.Rotate(ctx, rotator, f.ring, keys.Options{}, nil)
			if err != nil {
				t.Errorf("Rotate: %v", err)
			}
			done <- stats
		}()
		f.waitForLockWait(t)
		if err := writer.Commit(ctx); err != nil {
			t.Fatal(err)
		}

		stats := <-done
		if stats.Skipped != 1 || stats.Resealed != sealedValues-1 {
			t.Fatalf("stats = %+v; want 1 skipped, %d resealed", stats, sealedValues-1)
		}
		f.checkCurrent(t, f.plain)
	})

	t.Run("a request role cannot run it", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		conn := f.connect(t, f.env.APIURL)
		_, err := keys.Rotate(context.Background(), conn, f.ring, keys.Options{}, nil)
		if err == nil {
			t.Fatal("Rotate as rampart_api succeeded")
		}
		got := f.values(t)
		for c := range f.plain {
			if id, _ := pii.KeyID(got[c]); id != "old" {
				t.Fatalf("%s of %s moved to key %q", c.column, c.id, id)
			}
		}
	})
}

// waitForLockWait waits until some session of this test's database is
// blocked on a lock: the rotation queued behind the writer.
func (f *fixture) waitForLockWait(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var waiting int
		f.scan(t, &waiting, `
select count(*)
from pg_stat_activity
where datname = current_database()
  and wait_event_type = 'Lock'`)
		if waiting > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the rotation never waited for the writer's lock")
}
