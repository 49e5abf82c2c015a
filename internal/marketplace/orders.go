package marketplace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
)

// OrderStatuses are the states an order can be in.
var OrderStatuses = map[string]bool{
	"pending": true, "processing": true, "invoiced": true, "shipped": true,
	"delivered": true, "canceled": true, "unavailable": true,
}

// OrderTransitions lists, for each status, the statuses an order may move
// to from it (migration 000021 holds every writer to the same table).
// Setting the status an order has is always allowed and changes nothing.
var OrderTransitions = map[string][]string{
	"pending":     {"processing", "invoiced", "canceled", "unavailable"},
	"processing":  {"invoiced", "shipped", "canceled", "unavailable"},
	"invoiced":    {"processing", "shipped", "canceled", "unavailable"},
	"shipped":     {"delivered"},
	"unavailable": {"canceled"},
	"canceled":    {"pending"},
	"delivered":   nil,
}

// StatusPath returns the shortest series of statuses that moves an order
// from one status to another, not counting from; nil when from is to or
// when no series leads there. Importers use it to bring an order to the
// status its history ended in, one allowed step at a time.
func StatusPath(from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		if at == to {
			break
		}
		for _, next := range OrderTransitions[at] {
			if _, seen := prev[next]; !seen {
				prev[next] = at
				queue = append(queue, next)
			}
		}
	}
	if _, ok := prev[to]; !ok || from == to {
		return nil
	}
	var path []string
	for at := to; at != from; at = prev[at] {
		path = append([]string{at}, path...)
	}
	return path
}

// PaymentMethods are the accepted payment methods.
var PaymentMethods = map[string]bool{
	"credit_card": true, "debit_card": true, "boleto": true, "voucher": true,
	"pix": true,
}

var last4RE = regexp.MustCompile(`^[0-9]{4}$`)

// Order is an order with its lines and payments.
type Order struct {
	ID              uuid.UUID  `json:"id"`
	MerchantID      uuid.UUID  `json:"merchant_id"`
	CustomerID      uuid.UUID  `json:"customer_id"`
	ExternalRef     *string    `json:"external_ref"`
	Status          string     `json:"status"`
	Currency        string     `json:"currency"`
	SubtotalCents   int64      `json:"subtotal_cents"`
	FreightCents    int64      `json:"freight_cents"`
	TotalCents      int64      `json:"total_cents"`
	ShippingAddress *string    `json:"shipping_address"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	Lines           *[]Line    `json:"lines,omitempty"`
	Payments        *[]Payment `json:"payments,omitempty"`
}

// Line is one order line. Its price is the item's at order time.
type Line struct {
	LineNo         int32      `json:"line_no"`
	ItemID         *uuid.UUID `json:"item_id"`
	Title          string     `json:"title"`
	Quantity       int32      `json:"quantity"`
	UnitPriceCents int64      `json:"unit_price_cents"`
	FreightCents   int64      `json:"freight_cents"`
	LineTotalCents int64      `json:"line_total_cents"`
}

// Payment is a payment as stored: never a card number.
type Payment struct {
	Seq          int32   `json:"seq"`
	Method       string  `json:"method"`
	Brand        *string `json:"brand"`
	Last4        *string `json:"last4"`
	Installments int32   `json:"installments"`
	AmountCents  int64   `json:"amount_cents"`
}

// OrderInput is the body of an order creation.
type OrderInput struct {
	CustomerID  *uuid.UUID `json:"customer_id"`
	ExternalRef *string    `json:"external_ref"`
	// Currency is optional: the order's currency is its items'. When
	// given, it must be theirs.
	Currency        *string        `json:"currency"`
	ShippingAddress *Address       `json:"shipping_address"`
	Lines           []LineInput    `json:"lines"`
	Payments        []PaymentInput `json:"payments"`

	// HistoricalImport records the payments as given even when they add up
	// to more than the total the lines make. Only the dataset importer
	// (internal/seed) sets it: the dataset's payments are history, while
	// its line prices are rebuilt from one price per item, and installment
	// interest makes payments exceed totals too. It is never read from a
	// request body. Stock and currency are checked all the same.
	HistoricalImport bool `json:"-"`
}

// LineInput names an item and a quantity; the price comes from the item.
type LineInput struct {
	ItemID       *uuid.UUID `json:"item_id"`
	Quantity     int32      `json:"quantity"`
	FreightCents int64      `json:"freight_cents"`
}

// PaymentInput is a payment reference from a payment provider.
type PaymentInput struct {
	Method        string  `json:"method"`
	ProviderToken *string `json:"provider_token"`
	Brand         *string `json:"brand"`
	Last4         *string `json:"last4"`
	Installments  *int32  `json:"installments"`
	AmountCents   int64   `json:"amount_cents"`
}

// OrderStatusInput is the body of a status change.
type OrderStatusInput struct {
	Status *string `json:"status"`
}

func (in OrderInput) validate() error {
	if in.CustomerID == nil {
		return invalid("customer_id", "is required")
	}
	if len(in.Lines) < 1 || len(in.Lines) > 100 {
		return invalid("lines", "must hold 1 to 100 lines")
	}
	if len(in.Payments) > 10 {
		return invalid("payments", "must hold at most 10 payments")
	}
	if in.Currency != nil {
		if err := CheckCurrency(*in.Currency); err != nil {
			return err
		}
	}
	if in.ExternalRef != nil {
		if err := checkLen("external_ref", *in.ExternalRef, 1, 64); err != nil {
			return err
		}
	}
	if in.ShippingAddress != nil {
		if err := in.ShippingAddress.validate("shipping_address"); err != nil {
			return err
		}
	}
	for i, l := range in.Lines {
		if err := l.validate(fmt.Sprintf("lines[%d].", i)); err != nil {
			return err
		}
	}
	for i, p := range in.Payments {
		if err := p.validate(fmt.Sprintf("payments[%d].", i)); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one line; at is its place in the body, "lines[2].".
func (l LineInput) validate(at string) error {
	switch {
	case l.ItemID == nil:
		return invalid(at+"item_id", "is required")
	case l.Quantity < 1 || l.Quantity > 10000:
		return invalid(at+"quantity", "must be 1 to 10000")
	case l.FreightCents < 0 || l.FreightCents > 100_000_000:
		return invalid(at+"freight_cents", "must be 0 to 100000000")
	}
	return nil
}

// validate checks one payment; at is its place in the body, "payments[0].".
func (p PaymentInput) validate(at string) error {
	switch {
	case !PaymentMethods[p.Method]:
		return invalid(at+"method", "is not a known payment method")
	case p.Last4 != nil && !last4RE.MatchString(*p.Last4):
		return invalid(at+"last4", "must be four digits")
	case p.Installments != nil && (*p.Installments < 1 || *p.Installments > 48):
		return invalid(at+"installments", "must be 1 to 48")
	case p.AmountCents < 0 || p.AmountCents > 100_000_000_000:
		return invalid(at+"amount_cents", "is out of range")
	case p.ProviderToken != nil && len(*p.ProviderToken) > 128:
		return invalid(at+"provider_token", "is too long")
	case p.Brand != nil && len(*p.Brand) > 32:
		return invalid(at+"brand", "is too long")
	}
	if p.ProviderToken != nil {
		if err := checkLen(at+"provider_token", *p.ProviderToken, 1, 128); err != nil {
			return err
		}
	}
	if p.Brand != nil {
		if err := checkLen(at+"brand", *p.Brand, 1, 32); err != nil {
			return err
		}
	}
	return nil
}

// CreateOrder records an order for one of the merchant's customers, with
// lines priced from the merchant's own items. The customer and every item
// must belong to the merchant: composite foreign keys refuse anything else,
// and the answer is the same not_found as for a missing one.
//
// The order reserves its items' stock, takes its items' currency and may
// not be paid more than its total. The database enforces all three
// (migration 000015) while the order is inserted, in the same batch, so
// they hold for every writer and cost no extra round trip; orderError
// turns its refusals into answers. Not enough stock is a conflict: nothing
// of the order is written, and the caller's transaction must roll back.
func (v *Vault) CreateOrder(ctx context.Context, q db.Querier, merchantID uuid.UUID, in OrderInput) (Order, error) {
	if err := in.validate(); err != nil {
		return Order{}, err
	}
	id := uuid.New()
	var addr sealedField
	if in.ShippingAddress != nil {
		b, _ := json.Marshal(in.ShippingAddress)
		var err error
		addr, err = v.seal("orders.shipping_address", id, string(b),
			in.ShippingAddress.mask(), nil)
		if err != nil {
			return Order{}, err
		}
	}

	b := &pgx.Batch{}
	if in.HistoricalImport {
		b.Queue(`select set_config('rampart.historical_import', 'on', true)`)
	}
	// Without a currency in the request, the order takes the first line's
	// item's; the lines trigger holds every line to it.
	b.Queue(`
insert into app.orders (id, merchant_id, customer_id, external_ref, currency,
                        shipping_address_sealed, shipping_address_mask)
values ($1, $2, $3, $4,
        coalesce($5, (select i.currency from app.merchant_items i
                      where i.merchant_id = $2 and i.id = $8), 'BRL'),
        $6, $7)`, id, merchantID, in.CustomerID, in.ExternalRef, in.Currency,
		addr.sealed, addr.mask, in.Lines[0].ItemID)
	queueLines(b, id, merchantID, in.Lines)
	for i, p := range in.Payments {
		b.Queue(`
insert into app.order_payments (order_id, merchant_id, seq, method,
  provider_token, brand, last4, installments, amount_cents)
values ($1, $2, $3, $4, $5, $6, $7, coalesce($8, 1), $9)`, id, merchantID,
			i+1, p.Method, p.ProviderToken, p.Brand, p.Last4, p.Installments,
			p.AmountCents)
	}
	if in.HistoricalImport {
		b.Queue(`select set_config('rampart.historical_import', '', true)`)
	}
	if err := execBatch(ctx, q, b); err != nil {
		// Lines are numbered from 1 in the order, from 0 in the request.
		return Order{}, notFoundAs(orderError(err, func(lineNo int) string {
			return fmt.Sprintf("line %d: not enough stock", lineNo-1)
		}), "customer or item")
	}
	return GetOrder(ctx, q, merchantID, id)
}

// orderError turns the database's refusals of an order (migration 000015)
// into answers and returns any other error as it is. The error's detail
// is the 1-based line_no of the line at fault; noStock words the conflict
// for it. Messages name lines, never values.
func orderError(err error, noStock func(lineNo int) string) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	lineNo, _ := strconv.Atoi(pe.Detail)
	field := func(name, reason string) error {
		return &apperr.Error{Code: apperr.Invalid,
			Message: "request has invalid fields", Cause: err,
			Fields: []apperr.FieldError{{Field: name, Reason: reason}}}
	}
	switch pe.Code {
	case "RA002":
		return apperr.Wrap(apperr.Conflict, noStock(lineNo), err)
	case "RA003":
		return field(fmt.Sprintf("lines[%d].item_id", lineNo-1),
			"is in another currency than the other lines; an order has one currency")
	case "RA004":
		return field("currency", "must be the currency of the items")
	case "RA005":
		return field("payments", "add up to more than the order total")
	case "RA008":
		return apperr.Wrap(apperr.Conflict, fmt.Sprintf(
			"line %d: its item was deleted; the order cannot reopen", lineNo-1), err)
	case "RA007":
		return apperr.Wrap(apperr.Conflict, fmt.Sprintf(
			"an order that is %s cannot move to that status; from %s it can move to: %s",
			pe.Detail, pe.Detail, allowedNext(pe.Detail)), err)
	}
	return err
}

func allowedNext(from string) string {
	next := OrderTransitions[from]
	if len(next) == 0 {
		return "nothing, it is final"
	}
	return strings.Join(next, ", ")
}

// queueLines inserts all lines in one statement, so the totals trigger runs
// once per order.
func queueLines(b *pgx.Batch, orderID, merchantID uuid.UUID, lines []LineInput) {
	items := make([]uuid.UUID, len(lines))
	qty := make([]int32, len(lines))
	freight := make([]int64, len(lines))
	for i, l := range lines {
		items[i], qty[i], freight[i] = *l.ItemID, l.Quantity, l.FreightCents
	}
	b.Queue(`
insert into app.order_lines (order_id, merchant_id, line_no, item_id, title,
  quantity, unit_price_cents, freight_cents, line_total_cents)
select $1, $2, l.n, l.item_id, coalesce(i.title, ''), l.qty,
       coalesce(i.price_cents, 0), l.freight, 0
from unnest($3::uuid[], $4::int[], $5::bigint[])
       with ordinality as l(item_id, qty, freight, n)
-- A missing or foreign item leaves the join empty and then fails the
-- composite foreign key: not_found, as for any other tenant's row.
left join app.merchant_items i
  on i.id = l.item_id and i.merchant_id = $2`, orderID, merchantID, items,
		qty, freight)
}

func execBatch(ctx context.Context, q db.Querier, b *pgx.Batch) error {
	br := q.SendBatch(ctx, b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

const orderColumns = `
  id,
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

func scanOrder(r scanner) (Order, error) {
	var o Order
	err := r.Scan(&o.ID, &o.MerchantID, &o.CustomerID, &o.ExternalRef,
		&o.Status, &o.Currency, &o.SubtotalCents, &o.FreightCents,
		&o.TotalCents, &o.ShippingAddress, &o.CreatedAt, &o.UpdatedAt)
	return o, err
}

// GetOrder returns an order with its lines and payments (members).
func GetOrder(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) (Order, error) {
	b := &pgx.Batch{}
	b.Queue(`select`+orderColumns+`
from app.orders where merchant_id = $1 and id = $2`, merchantID, id)
	b.Queue(`
select line_no, item_id, title, quantity, unit_price_cents, freight_cents,
       line_total_cents
from app.order_lines where merchant_id = $1 and order_id = $2
order by line_no`, merchantID, id)
	b.Queue(`
select seq, method, brand, last4, installments, amount_cents
from app.order_payments where merchant_id = $1 and order_id = $2
order by seq`, merchantID, id)
	br := q.SendBatch(ctx, b)
	defer br.Close()

	o, err := scanOrder(br.QueryRow())
	if err != nil {
		return o, notFoundAs(err, "order")
	}
	lines, err := collect(must(br.Query()), scanLine)
	if err != nil {
		return o, err
	}
	pays, err := collect(must(br.Query()), scanPayment)
	if err != nil {
		return o, err
	}
	o.Lines, o.Payments = &lines, &pays
	return o, br.Close()
}

func must(rows pgx.Rows, _ error) pgx.Rows { return rows }

func scanLine(r scanner) (Line, error) {
	var l Line
	err := r.Scan(&l.LineNo, &l.ItemID, &l.Title, &l.Quantity,
		&l.UnitPriceCents, &l.FreightCents, &l.LineTotalCents)
	return l, err
}

func scanPayment(r scanner) (Payment, error) {
	var p Payment
	err := r.Scan(&p.Seq, &p.Method, &p.Brand, &p.Last4, &p.Installments,
		&p.AmountCents)
	return p, err
}

// ListOrders lists a merchant's orders, newest first (members).
func ListOrders(ctx context.Context, q db.Querier, merchantID uuid.UUID, status *string, p Page) ([]Order, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `select`+orderColumns+`
from app.orders
where merchant_id = $1
  and ($2::text is null or status = $2)
  and ($3::timestamptz is null or (created_at, id) < ($3, $4))
order by created_at desc, id desc
limit $5`, merchantID, status, p.AfterTime, p.AfterID, p.Limit)
	if err != nil {
		return nil, err
	}
	return collectPage(rows, p.Limit, scanOrder)
}

// SetOrderStatus changes an order's status (members), along
// OrderTransitions only: any other change answers 409. Canceling an order
// gives its items' stock back, once; reopening a canceled order takes the
// stock again, and answers 409 when it is no longer there (both in the
// database, migrations 000015 and 000021).
func SetOrderStatus(ctx context.Context, q db.Querier, merchantID, id uuid.UUID, in OrderStatusInput) (Order, error) {
	if in.Status == nil || !OrderStatuses[*in.Status] {
		return Order{}, invalid("status", "is not a known order status")
	}
	tag, err := q.Exec(ctx, `
update app.orders set status = $3, updated_at = now()
where merchant_id = $1 and id = $2`, merchantID, id, *in.Status)
	if err != nil {
		return Order{}, orderError(err, func(lineNo int) string {
			return fmt.Sprintf("line %d: not enough stock to reopen "+
				"the order", lineNo-1)
		})
	}
	if tag.RowsAffected() == 0 {
		return Order{}, Missing("order")
	}
	return GetOrder(ctx, q, merchantID, id)
}

// customerOrders returns every order of one customer with its lines and
// payments, oldest first, for an export.
func customerOrders(ctx context.Context, q db.Querier, merchantID, customerID uuid.UUID) ([]Order, error) {
	rows, err := q.Query(ctx, `select id from app.orders
where merchant_id = $1 and customer_id = $2
order by created_at, id
limit 10000`, merchantID, customerID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	out := make([]Order, 0, len(ids))
	for _, id := range ids {
		o, err := GetOrder(ctx, q, merchantID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
