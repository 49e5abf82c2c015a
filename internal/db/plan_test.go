package db_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestOrderListStopsAtItsPage: listing a merchant's newest orders reads
// the page it returns, not every order the merchant has. With planner
// statistics in place, as on any database in service, the row-level
// security test on merchant_id must not lead the planner to think a
// merchant with thousands of orders has a handful, fetch them all and
// sort them (migration 24).
func TestOrderListStopsAtItsPage(t *testing.T) {
	t.Parallel()
	f := setup(t, 2)
	ctx := context.Background()

	// Merchant A: 2,000 orders; 2,000 other merchants with 8 each. What
	// matters is that A is big and merchants are many: the planner's guess
	// for the membership test falls with the number of merchants, while
	// A's orders to skip grow with A.
	f.adminExec(t, `
insert into app.orders (merchant_id, customer_id, shipping_address_sealed,
                        created_at)
select $1, $2, '\x5345414c4544'::bytea, now() - make_interval(secs => g)
from generate_series(1, 2000) g`, f.merchantA, f.customerA)
	f.adminExec(t, `
with m as (
  insert into app.merchants (name, slug, created_by)
  select 'bulk-' || g, 'bulk-' || g, $1 from generate_series(1, 2000) g
  returning id, slug),
c as (
  insert into app.merchant_customers (merchant_id, external_ref,
    name_sealed, name_mask, email_sealed, email_mask, address_sealed)
  select id, slug, '\x01'::bytea, 'M****', '\x02'::bytea, 'm***@***',
         '\x03'::bytea
  from m
  returning id, merchant_id)
insert into app.orders (merchant_id, customer_id, shipping_address_sealed,
                        created_at)
select c.merchant_id, c.id, '\x5345414c4544'::bytea,
       now() - make_interval(secs => g)
from c, generate_series(1, 8) g`, f.userB)
	f.adminExec(t, `analyze app.orders`)

	tx := f.beginAsA(t, "")
	var plan []struct {
		Plan planNode `json:"Plan"`
	}
	var raw []byte
	if err := tx.QueryRow(ctx, `
explain (analyze, format json)
select id, status, total_cents, created_at from app.orders
where merchant_id = $1
order by created_at desc, id desc
limit 20`, f.merchantA).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	root := plan[0].Plan
	if root.ActualRows != 20 {
		t.Fatalf("the page has %v rows, want 20", root.ActualRows)
	}
	if read := root.rowsFrom("orders"); read > 100 {
		t.Errorf("read %v orders for a page of 20:\n%s", read, raw)
	}
}

// beginAsA begins a transaction on the API connection acting as user A
// through A's session, as a request would, with the planner's
// plan_cache_mode set to planCache unless it is empty. It rolls back when
// the test ends.
func (f *fixture) beginAsA(t *testing.T, planCache string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := f.connect(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `
select set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', $1, true),
       case when $2 <> '' then set_config('plan_cache_mode', $2, true) end`,
		claimsOf(t, f.userA, f.sessionA), planCache); err != nil {
		t.Fatal(err)
	}
	return tx
}

// planNode is the part of EXPLAIN (FORMAT JSON) the test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	Plans        []planNode `json:"Plans"`
}

// rowsFrom sums the rows that scans of table produced across the plan.
func (n planNode) rowsFrom(table string) float64 {
	var rows float64
	if n.RelationName == table {
		rows += n.ActualRows * n.ActualLoops
	}
	for _, c := range n.Plans {
		rows += c.rowsFrom(table)
	}
	return rows
}

// TestCustomerListStopsAtItsPage: a page of a merchant's customers, read
// through the audited door, fetches about the rows of the page, not every
// customer of the merchant (migration 25). PL/pgSQL settles on a generic
// plan after a few calls in a session; the test forces it from the first.
func TestCustomerListStopsAtItsPage(t *testing.T) {
	t.Parallel()
	f := setup(t, 2)
	ctx := context.Background()

	f.adminExec(t, `
insert into app.merchant_customers (merchant_id, external_ref, name_sealed,
  name_mask, email_sealed, email_mask, address_sealed, created_at)
select $1, 'bulk-' || g, '\x01'::bytea, 'M****', '\x02'::bytea, 'm***@***',
       '\x03'::bytea, now() - make_interval(secs => g)
from generate_series(1, 2000) g`, f.merchantA)
	f.adminExec(t, `
with m as (
  insert into app.merchants (name, slug, created_by)
  select 'bulk-' || g, 'bulk-' || g, $1 from generate_series(1, 2000) g
  returning id, slug)
insert into app.merchant_customers (merchant_id, external_ref, name_sealed,
  name_mask, email_sealed, email_mask, address_sealed)
select m.id, m.slug || '-' || g, '\x01'::bytea, 'M****', '\x02'::bytea,
       'm***@***', '\x03'::bytea
from m, generate_series(1, 4) g`, f.userB)
	f.adminExec(t, `analyze app.merchant_customers`)

	tx := f.beginAsA(t, "force_generic_plan")
	var rows int
	var fetched int64
	err := tx.QueryRow(ctx, `
with page as (
  select status from security.get_customer_data_secure(
    $1, 'list', null, null, null, null, null, null, 20, null))
select (select count(*) from page where status = 'ok'),
       pg_stat_get_xact_tuples_fetched('app.merchant_customers'::regclass)`,
		f.merchantA).Scan(&rows, &fetched)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 20 {
		t.Fatalf("the page has %d customers, want 20", rows)
	}
	if fetched > 100 {
		t.Errorf("fetched %d customer rows for a page of 20", fetched)
	}
}
