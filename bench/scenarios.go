package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/rampart-dev/rampart/internal/pii"
)

// scenario is one endpoint under load: how to build its requests, and the
// pgbench script of the SQL its handler sends, round trip for round trip.
type scenario struct {
	name  string
	title string
	// target builds the requests against the server at base.
	target func(f *fixture, base string) vegeta.Targeter
	// script is the pgbench script acting as seller s; pgbench runs one
	// seller's script per transaction, at random, as the load picks one
	// seller per request.
	script func(s *seller) string
	// differs says what pgbench leaves out, if anything.
	differs string
	// readsCustomers marks a scenario whose reads fill the customer-data
	// quota windows; its runs are spaced by the window (bench.settle).
	readsCustomers bool
}

// pageSize is the page the list scenarios ask for: the 20-row select of
// the measured figures in DESIGN.md.
const pageSize = 20

var scenarios = []*scenario{
	{
		name:   "market_browse",
		title:  "public market browse (anonymous, newest 20 listings)",
		target: marketTarget,
		script: marketScript,
	},
	{
		name:   "merchant_orders",
		title:  "merchant order list (owner, newest 20 orders)",
		target: ordersTarget,
		script: ordersScript,
	},
	{
		name:           "customer_read",
		title:          "customer read with audit (owner, one masked customer)",
		target:         customerTarget,
		script:         customerScript,
		readsCustomers: true,
	},
	{
		name:   "order_create",
		title:  "order create (owner, one line, one payment, sealed address)",
		target: orderTarget,
		script: orderScript,
		differs: "pgbench inserts one address ciphertext sealed in advance " +
			"and derives the order id from pgbench variables",
	},
	{
		name:   "login",
		title:  "login (seller owner, password)",
		target: loginTarget,
		script: loginScript,
		differs: "pgbench runs the three sign-in transactions without the " +
			"argon2id check (19 MiB, 2 passes) and token signing between them",
	},
}

// selectScenarios returns the scenarios named in only, or all of them.
func selectScenarios(only []string) []*scenario {
	if len(only) == 0 {
		return scenarios
	}
	var out []*scenario
	for _, sc := range scenarios {
		if slices.Contains(only, sc.name) {
			out = append(out, sc)
		}
	}
	return out
}

// The targets. Each request picks a seller, and a customer or item of
// its merchant, at random.

func marketTarget(_ *fixture, base string) vegeta.Targeter {
	url := fmt.Sprintf("%s/v1/market?limit=%d", base, pageSize)
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, url
		return nil
	}
}

func ordersTarget(f *fixture, base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		s := f.pick()
		t.Method = http.MethodGet
		t.URL = fmt.Sprintf("%s/v1/merchants/%s/orders?limit=%d", base,
			s.MerchantID, pageSize)
		t.Header = s.authz
		return nil
	}
}

func customerTarget(f *fixture, base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		s := f.pick()
		t.Method = http.MethodGet
		t.URL = fmt.Sprintf("%s/v1/merchants/%s/customers/%s", base,
			s.MerchantID, anyOf(s.Customers))
		t.Header = s.authz
		return nil
	}
}

// benchAddress is the shipping address of every order the load creates.
var benchAddress = map[string]string{"street": "Rua da Carga 100",
	"city": "Sao Paulo", "state": "SP", "zip": "01000-000"}

func orderTarget(f *fixture, base string) vegeta.Targeter {
	json := jsonHeader()
	return func(t *vegeta.Target) error {
		s := f.pick()
		it, qty := anyOf(s.Items), 1+mrand.IntN(3)
		body, err := orderBody(anyOf(s.Customers), it, qty)
		if err != nil {
			return err
		}
		t.Method = http.MethodPost
		t.URL = fmt.Sprintf("%s/v1/merchants/%s/orders", base, s.MerchantID)
		t.Header = withAuth(json, s.authz)
		t.Body = body
		return nil
	}
}

func orderBody(customer uuid.UUID, it item, qty int) ([]byte, error) {
	return json.Marshal(map[string]any{
		"customer_id": customer,
		"lines": []map[string]any{{"item_id": it.ID, "quantity": qty,
			"freight_cents": 1500}},
		"payments": []map[string]any{{"method": "credit_card",
			"provider_token": "tok_bench", "brand": "visa", "last4": "4242",
			"installments": 1, "amount_cents": it.Price*int64(qty) + 1500}},
		"shipping_address": benchAddress,
	})
}

func loginTarget(f *fixture, base string) vegeta.Targeter {
	json := jsonHeader()
	return func(t *vegeta.Target) error {
		t.Method = http.MethodPost
		t.URL = base + "/v1/auth/login"
		t.Header = json
		t.Body = loginBody(f.pick().Email)
		return nil
	}
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}

func withAuth(h, authz http.Header) http.Header {
	out := h.Clone()
	for k, v := range authz {
		out[k] = v
	}
	return out
}

func anyOf[T any](s []T) T { return s[mrand.IntN(len(s))] }

// The pgbench scripts. Each mirrors its handler's round trips: pgx sends
// the transaction's start (begin, the request settings and the session
// check) as one batch, and the commit with the resets as another, so
// those are pipelines here. Parameters the handler sends as NULL are NULL
// literals; ids are literals of the seller acting.

const clientIP = "127.0.0.1"

// begin opens a request transaction as the server does; with claims it
// also checks the session, as every authenticated request does.
func begin(claims string) string {
	role, check := "anon", ""
	if claims != "" {
		role, check = "authenticated", "select auth.session_ok();\n"
	}
	return `\startpipeline
begin;
select set_config('role', '` + role + `', true),
       set_config('request.jwt.claims', '` + claims + `', true),
       set_config('request.ip', '` + clientIP + `', true),
       set_config('request.id', 'pgbench', true);
` + check + `\endpipeline
`
}

const commit = `\startpipeline
commit;
reset role;
reset all;
\endpipeline
`

// claims is what the server puts in request.jwt.claims for s.
func claims(s *seller) string {
	b, _ := json.Marshal(struct {
		Sub       string `json:"sub"`
		Role      string `json:"role"`
		SessionID string `json:"session_id"`
		AAL       string `json:"aal"`
	}{s.UserID.String(), "authenticated", s.SessionID.String(), "aal1"})
	return string(b)
}

// uuidArray is a uuid[] literal; `(array)[:k]` picks one at random with
// \set k random(1, n).
func uuidArray(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return "'{" + strings.Join(s, ",") + "}'::uuid[]"
}

func marketScript(*seller) string {
	return begin("") + fmt.Sprintf(`select id,
       merchant_id,
       item_id,
       title,
       category,
       price_cents,
       currency,
       listed_at
from app.market_items
where (null::text is null or category = null::text)
  and (null::bigint is null or price_cents >= null::bigint)
  and (null::bigint is null or price_cents <= null::bigint)
  and (null::uuid is null or merchant_id = null::uuid)
  and (null::timestamptz is null
       or (listed_at, id) < (null::timestamptz, null::uuid))
  and (null::text is null or currency = null::text)
order by listed_at desc, id desc
limit %d;
`, pageSize) + commit
}

const orderColumns = `id,
       merchant_id,
       customer_id,
       external_ref,
       status,
       currency,
       subtotal_cents,
       freight_cents,
       total_cents,
       shipping_address_mask,
       created_at,
       updated_at`

func ordersScript(s *seller) string {
	return begin(claims(s)) + fmt.Sprintf(`select '%[1]s'::uuid
       = any ((select app.my_merchant_ids('staff'))::uuid[]);
select %[2]s
from app.orders
where merchant_id = '%[1]s'
  and (null::text is null or status = null::text)
  and (null::timestamptz is null
       or (created_at, id) < (null::timestamptz, null::uuid))
order by created_at desc, id desc
limit %[3]d;
`, s.MerchantID, orderColumns, pageSize) + commit
}

func customerScript(s *seller) string {
	return fmt.Sprintf("\\set k random(1, %d)\n", len(s.Customers)) +
		begin(claims(s)) + fmt.Sprintf(`select status,
       retry_after,
       id,
       merchant_id,
       external_ref,
       coalesce(name_mask, ''),
       coalesce(email_mask, ''),
       phone_mask,
       address_mask,
       created_at,
       updated_at,
       name_sealed,
       email_sealed,
       phone_sealed,
       address_sealed
from security.get_customer_data_secure('%s', 'view', (%s)[:k],
  null::uuid[], null::bytea, null::bytea, null::timestamptz, null::uuid, 0,
  null::text);
`, s.MerchantID, uuidArray(s.Customers)) + commit
}

// sealedAddress stands for the address ciphertext the server makes per
// order: random bytes of the same length, made once.
var sealedAddress = func() string {
	plain, _ := json.Marshal(benchAddress)
	// Key id, nonce, ciphertext and tag, as internal/pii seals.
	b := make([]byte, 2+12+len(plain)+16)
	_, _ = rand.Read(b)
	return `'\x` + hex.EncodeToString(b) + `'::bytea`
}()

func orderScript(s *seller) string {
	const oid = "md5(:client_id::text || '-' || :r::text)::uuid"
	mask := pii.MaskAddress(benchAddress["street"], benchAddress["city"],
		benchAddress["state"], benchAddress["zip"])
	vars := fmt.Sprintf(`\set k random(1, %d)
\set j random(1, %d)
\set q random(1, 3)
\set r random(1, 9000000000000000000)
`, len(s.Customers), len(s.Items))
	insert := fmt.Sprintf(`\startpipeline
insert into app.orders (id, merchant_id, customer_id, external_ref, currency,
                        shipping_address_sealed, shipping_address_mask)
values (%[1]s, '%[2]s', (%[3]s)[:k], null,
        coalesce(null, (select i.currency from app.merchant_items i
                        where i.merchant_id = '%[2]s' and i.id = (%[6]s)[:j]),
                 'BRL'),
        %[4]s, '%[5]s');
insert into app.order_lines (order_id, merchant_id, line_no, item_id, title,
  quantity, unit_price_cents, freight_cents, line_total_cents)
select %[1]s, '%[2]s', l.n, l.item_id, coalesce(i.title, ''), l.qty,
       coalesce(i.price_cents, 0), l.freight, 0
from unnest(array[(%[6]s)[:j]], array[:q]::int[], array[1500]::bigint[])
       with ordinality as l(item_id, qty, freight, n)
left join app.merchant_items i
  on i.id = l.item_id and i.merchant_id = '%[2]s';
insert into app.order_payments (order_id, merchant_id, seq, method,
  provider_token, brand, last4, installments, amount_cents)
values (%[1]s, '%[2]s', 1, 'credit_card', 'tok_bench', 'visa', '4242',
        coalesce(1, 1), (%[7]s)[:j] * :q + 1500);
\endpipeline
`, oid, s.MerchantID, uuidArray(s.Customers), sealedAddress,
		strings.ReplaceAll(mask, "'", "''"), uuidArray(itemIDs(s.Items)),
		priceArray(s.Items))
	read := fmt.Sprintf(`\startpipeline
select %[3]s
from app.orders where merchant_id = '%[2]s' and id = %[1]s;
select line_no, item_id, title, quantity, unit_price_cents, freight_cents,
       line_total_cents
from app.order_lines where merchant_id = '%[2]s' and order_id = %[1]s
order by line_no;
select seq, method, brand, last4, installments, amount_cents
from app.order_payments where merchant_id = '%[2]s' and order_id = %[1]s
order by seq;
\endpipeline
`, oid, s.MerchantID, orderColumns)
	return vars + begin(claims(s)) + insert + read + commit
}

// priceArray is the items' prices as a SQL array, in the order of
// itemIDs: the script pays what the load pays, the order's total (one
// line's price times quantity, plus its freight), so the database's
// payments check passes as it does for the server.
func priceArray(items []item) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = strconv.FormatInt(it.Price, 10)
	}
	return "array[" + strings.Join(parts, ",") + "]::bigint[]"
}

func itemIDs(items []item) []uuid.UUID {
	ids := make([]uuid.UUID, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// loginScript is the sign-in's three transactions: the lockout count for
// the account and network, the account lookup, and the new session. The
// account tag is a stand-in of the same length as the server's keyed one.
func loginScript(s *seller) string {
	sum := sha256.Sum256([]byte(s.Email))
	tag := hex.EncodeToString(sum[:16])
	return begin("") + fmt.Sprintf(`select auth.login_failures_recent('%s', '%s');
`, tag, clientIP) + commit +
		begin("") + fmt.Sprintf(`select user_id, password_hash, status, platform_role
from auth.login_candidate('%s');
`, s.Email) + commit +
		begin("") + fmt.Sprintf(`select auth.open_session('%s', sha256(random()::text::bytea),
  '%s', 'Go-http-client/1.1', interval '30 minutes', interval '168 hours');
`, s.UserID, clientIP) + commit
}
