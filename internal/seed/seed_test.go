package seed

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/dbtest"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/mfa"
	"github.com/rampart-dev/rampart/internal/password"
	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/token"
)

// setup wires the seed's dependencies as cmd/rampart does, on a fresh
// database, with cheap password hashing and generated keys.
func setup(t *testing.T) (Deps, *dbtest.Env) {
	t.Helper()
	env := dbtest.New(t, 4)
	issuer, err := token.NewIssuer("rampart-test", "rampart-api-test",
		5*time.Minute, []token.Key{token.GenerateKey("test")})
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
	a := auth.New(env.DB, auth.Options{
		Hasher:        password.Hasher{Params: password.TestParams},
		Issuer:        issuer,
		AccessTTL:     5 * time.Minute,
		SessionIdle:   time.Hour,
		SessionMaxAge: 24 * time.Hour,
		RefreshGrace:  10 * time.Second,
		RefreshKey:    randomKey(),
	})
	factors, err := mfa.New(mfa.Options{Issuer: "Rampart test", Keys: keys,
		RecoveryKey: randomKey()})
	if err != nil {
		t.Fatal(err)
	}
	return Deps{DB: env.DB, Auth: a, MFA: factors,
		Vault: &marketplace.Vault{Keys: keys, Index: index}}, env
}

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// admin connects as the migrating superuser, which row-level security
// does not restrict, to see what the seed really stored.
func admin(t *testing.T, env *dbtest.Env) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// tableCounts counts the rows of every table the seed writes.
func tableCounts(t *testing.T, conn *pgx.Conn) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"auth.users", "app.merchants",
		"app.merchant_members", "app.merchant_pages", "app.merchant_items",
		"app.market_items", "app.merchant_customers", "app.orders",
		"app.order_lines", "app.order_payments"} {
		out[table] = count(t, conn, "select count(*) from "+table)
	}
	return out
}

// badTotals counts orders whose total is not the sum of their lines and
// freight, or whose subtotal and freight do not match their lines.
const badTotals = `
select count(*)
from app.orders o
left join lateral (
  select coalesce(sum(l.line_total_cents), 0) as sub,
         coalesce(sum(l.freight_cents), 0) as freight,
         count(*) as n
  from app.order_lines l
  where l.order_id = o.id
) l on true
where l.n = 0
   or o.subtotal_cents <> l.sub
   or o.freight_cents <> l.freight
   or o.total_cents <> l.sub + l.freight`

func TestDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, env := setup(t)
	conn := admin(t, env)

	var out bytes.Buffer
	if err := Demo(ctx, d, &out); err != nil {
		t.Fatalf("demo: %v", err)
	}
	first := tableCounts(t, conn)

	t.Run("creates three merchants with members, items, customers and orders", func(t *testing.T) {
		want := map[string]int64{"auth.users": 10, "app.merchants": 3,
			"app.merchant_members": 9, "app.merchant_pages": 3,
			"app.merchant_items": 24, "app.market_items": 18,
			"app.merchant_customers": 30, "app.orders": 30}
		for table, n := range want {
			if first[table] != n {
				t.Errorf("%s: %d rows, want %d", table, first[table], n)
			}
		}
		if n := count(t, conn, badTotals); n != 0 {
			t.Errorf("%d orders have totals that do not match their lines", n)
		}
		if n := count(t, conn, `select count(*) from app.merchant_pages
where not published or contact_email is null or contact_phone is null`); n != 0 {
			t.Errorf("%d pages are unpublished or lack contacts", n)
		}
	})

	t.Run("leaves no session of its own open", func(t *testing.T) {
		checkNoSessions(t, conn)
	})

	t.Run("prints how to sign in", func(t *testing.T) {
		for _, s := range []string{"owner@acme-coffee.example.test",
			demoOwner.password, "curl -s localhost:8080/v1/auth/login"} {
			if !strings.Contains(out.String(), s) {
				t.Errorf("output lacks %q:\n%s", s, out.String())
			}
		}
	})

	t.Run("a second run adds nothing", func(t *testing.T) {
		var again bytes.Buffer
		if err := Demo(ctx, d, &again); err != nil {
			t.Fatalf("second demo: %v", err)
		}
		if !strings.Contains(again.String(), "demo data already present") {
			t.Errorf("second run did not notice the data:\n%s", again.String())
		}
		if got := tableCounts(t, conn); !equalCounts(got, first) {
			t.Errorf("second run changed counts: %v, first %v", got, first)
		}
	})

	t.Run("every demo account signs in with its printed password", func(t *testing.T) {
		for _, m := range demoMerchants {
			for _, r := range []demoRole{demoOwner, demoManager, demoStaff} {
				checkMember(t, d, m.email(r), r.password, m.slug, r.role)
			}
		}
		p, err := signIn(ctx, d, "test", demoShopperEmail,
			demoShopper.password)
		if err != nil {
			t.Fatalf("shopper cannot sign in: %v", err)
		}
		if err := signOut(ctx, d, "test", p); err != nil {
			t.Error(err)
		}
	})

	t.Run("customer PII is stored sealed and masked", func(t *testing.T) {
		checkSealed(t, d, conn)
	})

	t.Run("payments hold no card data beyond brand and last four", func(t *testing.T) {
		n := count(t, conn, `select count(*) from app.order_payments
where provider_token is not null
   or (method = 'credit_card' and (brand is null or last4 !~ '^[0-9]{4}$'))
   or (method <> 'credit_card' and (brand is not null or last4 is not null))`)
		if n != 0 {
			t.Errorf("%d payments carry unexpected card data", n)
		}
	})
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkMember signs in and checks, through the API's own query, that the
// account holds role in the merchant with slug.
func checkMember(t *testing.T, d Deps, email, pw, slug, role string) {
	t.Helper()
	ctx := context.Background()
	p, err := signIn(ctx, d, "test", email, pw)
	if err != nil {
		t.Errorf("%s cannot sign in: %v", email, err)
		return
	}
	err = asUser(ctx, d, p, "test", func(q db.Querier) error {
		m, err := findMerchant(ctx, q, slug)
		if err != nil {
			return err
		}
		if m == nil || m.Role == nil || *m.Role != role {
			return errors.New("merchant missing or role wrong")
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s in %s as %s: %v", email, slug, role, err)
	}
	if err := signOut(ctx, d, "test", p); err != nil {
		t.Error(err)
	}
}

// checkNoSessions fails when a session the seed opened is still live: its
// tokens were never handed to anyone.
func checkNoSessions(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	n := count(t, conn, `select count(*) from auth.sessions
where user_agent = $1 and revoked_at is null`, userAgent)
	if n != 0 {
		t.Errorf("%d seed sessions are still live", n)
	}
}

var maskedEmail = regexp.MustCompile(`^[a-z0-9]\*\*\*@[a-z0-9]\*\*\*\.test$`)

// checkSealed reads customers as the database holds them: the email is a
// ciphertext that opens only with the service's key for that row and
// column, and the readable column is a mask.
func checkSealed(t *testing.T, d Deps, conn *pgx.Conn) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `
select id, email_sealed, email_mask, name_sealed, name_mask
from app.merchant_customers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id uuid.UUID
		var sealed, nameSealed []byte
		var mask, nameMask string
		if err := rows.Scan(&id, &sealed, &mask, &nameSealed, &nameMask); err != nil {
			t.Fatal(err)
		}
		n++
		plain, err := d.Vault.Keys.Open(sealed,
			marketplace.AAD("merchant_customers.email", id))
		if err != nil {
			t.Fatalf("email of %s does not open: %v", id, err)
		}
		if bytes.Contains(sealed, plain) || bytes.Contains(sealed, []byte("example")) {
			t.Errorf("email of %s is stored in clear", id)
		}
		if !maskedEmail.MatchString(mask) || strings.Contains(string(plain), mask) {
			t.Errorf("email mask %q of %s does not hide %q", mask, id, plain)
		}
		if bytes.Contains(nameSealed, []byte("Example")) || len(nameMask) > 5 {
			t.Errorf("name of %s is not sealed and masked (%q)", id, nameMask)
		}
	}
	if rows.Err() != nil || n == 0 {
		t.Fatalf("no customers read: %v", rows.Err())
	}
}

func TestPasswordsPassThePolicy(t *testing.T) {
	t.Parallel()
	for _, m := range demoMerchants {
		for _, r := range []demoRole{demoOwner, demoManager, demoStaff} {
			if err := password.Validate(r.password, m.email(r)); err != nil {
				t.Errorf("%s: %v", m.email(r), err)
			}
		}
	}
	if err := password.Validate(demoShopper.password, demoShopperEmail); err != nil {
		t.Errorf("%s: %v", demoShopperEmail, err)
	}
	seller := olistSeller{id: strings.Repeat("ab", 16)}
	if err := password.Validate(MarketplacePassword, sellerEmail(seller)); err != nil {
		t.Errorf("seller password: %v", err)
	}
}

func TestSplitPayments(t *testing.T) {
	t.Parallel()
	pays := []olistPayment{
		{method: "credit_card", installments: 3, amount: 10001},
		{method: "not_defined", installments: 1, amount: 500},
		{method: "voucher", installments: 0, amount: 999},
	}
	shares, skipped := splitPayments(pays, []int64{1000, 2000, 0})
	if skipped != 1 {
		t.Errorf("skipped %d payments, want 1", skipped)
	}
	for i, want := range []int64{10001, 999} {
		var sum int64
		for _, s := range shares {
			sum += s[i].AmountCents
		}
		if sum != want {
			t.Errorf("payment %d split into %d cents, want %d", i, sum, want)
		}
	}
	if got := shares[0][0].AmountCents; got != 3333 {
		t.Errorf("first part's card share is %d, want 3333", got)
	}
	if got := *shares[0][1].Installments; got != 1 {
		t.Errorf("installments 0 became %d, want 1", got)
	}
}

func TestMergePaymentsKeepsTheLimit(t *testing.T) {
	t.Parallel()
	var pays []marketplace.PaymentInput
	for i := range 14 {
		pays = append(pays, marketplace.PaymentInput{Method: "voucher",
			AmountCents: int64(i)})
	}
	pays = append(pays, marketplace.PaymentInput{Method: "credit_card",
		AmountCents: 100})
	got := mergePayments(pays)
	if len(got) != 2 || got[0].AmountCents != 91 || got[1].AmountCents != 100 {
		t.Errorf("merged into %+v", got)
	}
}

func TestMarketplaceNamesTheMissingFile(t *testing.T) {
	t.Parallel()
	err := Marketplace(context.Background(), Deps{}, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), fileSellers) {
		t.Fatalf("error %v does not name %s", err, fileSellers)
	}
}

// datasetDir finds the shared marketplace dataset beside the repository.
func datasetDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data", "marketplace")
	if _, err := os.Stat(filepath.Join(data, fileSellers)); err != nil {
		t.Skipf("marketplace dataset not found at %s: skipping", data)
	}
	return data
}

func TestMarketplace(t *testing.T) {
	t.Parallel()
	dir := datasetDir(t)
	ctx := context.Background()
	d, env := setup(t)
	conn := admin(t, env)
	const sellers = 5

	ds, err := loadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	plans := planSellers(ds, sellers)
	want := planned(plans)

	var out bytes.Buffer
	opt := MarketplaceOptions{MaxSellers: sellers}
	if err := MarketplaceWithOptions(ctx, d, dir, &out, opt); err != nil {
		t.Fatalf("marketplace: %v\n%s", err, out.String())
	}
	first := tableCounts(t, conn)

	t.Run("creates what the dataset holds for the sellers", func(t *testing.T) {
		if first["app.orders"] == 0 {
			t.Fatal("no orders loaded")
		}
		for table, n := range want {
			if first[table] != n {
				t.Errorf("%s: %d rows, want %d", table, first[table], n)
			}
		}
	})

	t.Run("leaves no session of its own open", func(t *testing.T) {
		checkNoSessions(t, conn)
	})

	t.Run("order totals are the sum of their lines and freight", func(t *testing.T) {
		if n := count(t, conn, badTotals); n != 0 {
			t.Errorf("%d orders have inconsistent totals", n)
		}
	})

	t.Run("payments are kept as the dataset paid them", func(t *testing.T) {
		// Orders reserve stock and refuse payments above their total; the
		// import is let through with the dataset's own payments, which
		// often exceed the total rebuilt from one price per item.
		paid := map[string]int64{}
		rows, err := conn.Query(ctx, `select o.external_ref,
  coalesce(sum(p.amount_cents), 0)::bigint
from app.orders o left join app.order_payments p on p.order_id = o.id
group by o.external_ref`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var ref string
			var sum int64
			if err := rows.Scan(&ref, &sum); err != nil {
				t.Fatal(err)
			}
			paid[ref] = sum
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		over := count(t, conn, `select count(*) from app.orders o
where o.total_cents < (select sum(p.amount_cents) from app.order_payments p
                       where p.order_id = o.id)`)
		t.Logf("%d imported orders were paid more than their rebuilt total", over)
		for _, sp := range plans {
			for _, part := range sp.parts {
				var want int64
				for _, p := range part.payments {
					want += p.AmountCents
				}
				if paid[part.orderID] != want {
					t.Fatalf("order %s: paid %d, dataset %d", part.orderID,
						paid[part.orderID], want)
				}
			}
		}
	})

	t.Run("statuses follow the dataset", func(t *testing.T) {
		for _, sp := range plans {
			for _, part := range sp.parts {
				n := count(t, conn, `select count(*) from app.orders
where external_ref = $1 and status = $2`, part.orderID, part.status)
				if n != 1 {
					t.Fatalf("order %s: not found with status %s",
						part.orderID, part.status)
				}
			}
		}
	})

	t.Run("a second run resumes and adds nothing", func(t *testing.T) {
		var again bytes.Buffer
		if err := MarketplaceWithOptions(ctx, d, dir, &again, opt); err != nil {
			t.Fatalf("second run: %v", err)
		}
		if got := tableCounts(t, conn); !equalCounts(got, first) {
			t.Errorf("second run changed counts: %v, first %v", got, first)
		}
		if !strings.Contains(again.String(), "5 already complete") {
			t.Errorf("second run did not skip the sellers:\n%s", again.String())
		}
	})

	t.Run("a seller's owner signs in and owns its merchant", func(t *testing.T) {
		s := plans[0].seller
		checkMember(t, d, sellerEmail(s), MarketplacePassword, sellerSlug(s),
			"owner")
	})
}

// planned is the number of rows the plans should create per table.
func planned(plans []*sellerPlan) map[string]int64 {
	want := map[string]int64{}
	n := int64(len(plans))
	want["app.merchants"], want["app.merchant_members"] = n, n
	want["app.merchant_pages"], want["auth.users"] = n, n
	for _, sp := range plans {
		people := map[string]bool{}
		want["app.merchant_items"] += int64(len(sp.products))
		want["app.market_items"] += int64(len(sp.products))
		want["app.orders"] += int64(len(sp.parts))
		for _, part := range sp.parts {
			people[part.customer.uniqueID] = true
			want["app.order_lines"] += int64(len(part.lines))
			want["app.order_payments"] += int64(len(part.payments))
		}
		want["app.merchant_customers"] += int64(len(people))
	}
	return want
}

func TestLocalURL(t *testing.T) {
	for listen, want := range map[string]string{
		"":               "localhost:8080",
		":8080":          "localhost:8080",
		":9001":          "localhost:9001",
		"0.0.0.0:9002":   "localhost:9002",
		"[::]:9003":      "localhost:9003",
		"127.0.0.1:9004": "127.0.0.1:9004",
		"[::1]:9005":     "[::1]:9005",
	} {
		if got := localURL(listen); got != want {
			t.Errorf("localURL(%q) = %q, want %q", listen, got, want)
		}
	}
}
