package seed

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// orderBatch is how many orders go in one transaction: big enough to save
// commits, small enough that a failure loses little.
const orderBatch = 100

// merchantState is what a seller's merchant already holds, by the keys
// the dataset knows: SKU (product id), customer external reference
// (customer_unique_id) and order external reference (order id).
type merchantState struct {
	id        uuid.UUID
	items     map[string]uuid.UUID
	customers map[string]uuid.UUID
	orders    map[string]bool
}

func newState(id uuid.UUID) *merchantState {
	return &merchantState{id: id, items: map[string]uuid.UUID{},
		customers: map[string]uuid.UUID{}, orders: map[string]bool{}}
}

// seller loads one seller: its owner signs up and in, then creates the
// merchant with its items and its orders in batches.
func (l *loader) seller(ctx context.Context, sp *sellerPlan) (err error) {
	reqID := "seed-olist-" + sp.seller.id[:10]
	p, err := l.owner(ctx, reqID, sellerEmail(sp.seller))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, signOut(ctx, l.d, reqID, p)) }()

	ms, existed, err := l.merchant(ctx, p, reqID, sp)
	if err != nil {
		return err
	}
	created, err := l.orders(ctx, p, reqID, sp, ms)
	if err != nil {
		return err
	}
	l.st.sellerDone(existed && !created)
	return nil
}

// owner signs the seller's owner in, signing up first on a fresh load or
// when a resumed load finds no account.
func (l *loader) owner(ctx context.Context, reqID, email string) (*auth.Principal, error) {
	if l.resume {
		return signInOrRegister(ctx, l.d, reqID, email, MarketplacePassword)
	}
	return register(ctx, l.d, reqID, email, MarketplacePassword)
}

// merchant creates the seller's merchant, page, items and listings in one
// transaction, or reads what an earlier run created and adds any missing
// item. It reports whether the merchant existed and nothing was added.
func (l *loader) merchant(ctx context.Context, p *auth.Principal, reqID string, sp *sellerPlan) (*merchantState, bool, error) {
	var ms *merchantState
	var made counts
	var existed bool
	err := asUser(ctx, l.d, p, reqID+"-items", func(q db.Querier) error {
		made = counts{}
		m, err := findMerchant(ctx, q, sellerSlug(sp.seller))
		if err != nil {
			return err
		}
		existed = m != nil
		if existed {
			ms, err = l.loadState(ctx, q, m.ID, sp)
		} else {
			ms, err = createMerchant(ctx, q, sp, &made)
		}
		if err != nil {
			return err
		}
		return createItems(ctx, q, sp, ms, &made)
	})
	if err != nil {
		return nil, false, err
	}
	l.st.add(made)
	return ms, existed && made.items == 0, nil
}

func createMerchant(ctx context.Context, q db.Querier, sp *sellerPlan, made *counts) (*merchantState, error) {
	s := sp.seller
	name, slug := sellerName(s), sellerSlug(s)
	m, err := marketplace.CreateMerchant(ctx, q,
		marketplace.MerchantInput{Name: &name, Slug: &slug})
	if err != nil {
		return nil, fmt.Errorf("create merchant: %w", err)
	}
	desc := fmt.Sprintf("Olist seller from %s, %s.", titleCase(s.city),
		s.state)
	_, err = marketplace.UpdatePage(ctx, q, m.ID,
		marketplace.PageInput{Description: &desc, Published: ptr(true)})
	if err != nil {
		return nil, fmt.Errorf("publish page: %w", err)
	}
	made.users++
	made.merchants++
	return newState(m.ID), nil
}

// createItems creates, publishes and lists every product of the seller
// that is not an item yet.
func createItems(ctx context.Context, q db.Querier, sp *sellerPlan, ms *merchantState, made *counts) error {
	for _, pp := range sp.products {
		if _, ok := ms.items[pp.sku]; ok {
			continue
		}
		item, err := marketplace.CreateItem(ctx, q, ms.id, marketplace.ItemInput{
			SKU: &pp.sku, Title: &pp.title, Description: &pp.description,
			Category: &pp.category, PriceCents: &pp.price,
			Stock: &pp.stock, Published: ptr(true),
		})
		if err != nil {
			return fmt.Errorf("create item %s: %w", pp.sku, err)
		}
		if _, err := marketplace.ListItem(ctx, q, ms.id, item.ID); err != nil {
			return fmt.Errorf("list item %s: %w", pp.sku, err)
		}
		ms.items[pp.sku] = item.ID
		made.items++
	}
	return nil
}

// orders creates the seller's orders that do not exist yet, a batch per
// transaction, and reports whether it created any.
func (l *loader) orders(ctx context.Context, p *auth.Principal, reqID string, sp *sellerPlan, ms *merchantState) (bool, error) {
	var todo []*orderPart
	for i := range sp.parts {
		if !ms.orders[sp.parts[i].orderID] {
			todo = append(todo, &sp.parts[i])
		}
	}
	for n := 0; n*orderBatch < len(todo); n++ {
		batch := todo[n*orderBatch : min((n+1)*orderBatch, len(todo))]
		id := reqID + "-orders-" + strconv.Itoa(n+1)
		if err := l.orderBatch(ctx, p, id, ms, batch); err != nil {
			return false, err
		}
	}
	return len(todo) > 0, nil
}

// orderBatch creates a batch of orders, and their customers, in one
// transaction. ms learns the new rows only once they are committed.
func (l *loader) orderBatch(ctx context.Context, p *auth.Principal, reqID string, ms *merchantState, batch []*orderPart) error {
	var made counts
	fresh := map[string]uuid.UUID{}
	err := asUser(ctx, l.d, p, reqID, func(q db.Querier) error {
		made = counts{}
		clear(fresh)
		for _, part := range batch {
			if err := l.order(ctx, q, ms, fresh, part, &made); err != nil {
				return fmt.Errorf("order %s: %w", part.orderID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	maps.Copy(ms.customers, fresh)
	for _, part := range batch {
		ms.orders[part.orderID] = true
	}
	l.st.add(made)
	return nil
}

// order creates one order part, and its customer when the merchant does
// not have it yet, then sets its status.
func (l *loader) order(ctx context.Context, q db.Querier, ms *merchantState, fresh map[string]uuid.UUID, part *orderPart, made *counts) error {
	cid, err := l.customer(ctx, q, ms, fresh, part.customer, made)
	if err != nil {
		return err
	}
	in := marketplace.OrderInput{
		CustomerID:      &cid,
		ExternalRef:     &part.orderID,
		ShippingAddress: syntheticAddress(part.customer),
		Payments:        part.payments,
		// The dataset's payments are kept as they were paid, even where
		// they exceed the total rebuilt from one price per item (about
		// one order in nine: prices changed, installments bore interest).
		HistoricalImport: true,
	}
	for _, ln := range part.lines {
		id, ok := ms.items[ln.sku]
		if !ok {
			return fmt.Errorf("no item for product %s", ln.sku)
		}
		in.Lines = append(in.Lines, marketplace.LineInput{ItemID: &id,
			Quantity: ln.quantity, FreightCents: ln.freight})
	}

	o, err := l.d.Vault.CreateOrder(ctx, q, ms.id, in)
	if err != nil {
		return fmt.Errorf("create order: %w", err)
	}
	made.orders++
	made.lines += int64(len(in.Lines))
	made.payments += int64(len(in.Payments))
	made.skippedPayments += int64(part.skipped)
	if part.status == "pending" {
		return nil
	}
	if err := advanceOrder(ctx, q, ms.id, o.ID, part.status); err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	made.statuses++
	return nil
}

// customer returns the merchant's customer for an Olist person, creating
// it on first use.
func (l *loader) customer(ctx context.Context, q db.Querier, ms *merchantState, fresh map[string]uuid.UUID, c olistCustomer, made *counts) (uuid.UUID, error) {
	if id, ok := ms.customers[c.uniqueID]; ok {
		return id, nil
	}
	if id, ok := fresh[c.uniqueID]; ok {
		return id, nil
	}
	created, err := l.d.Vault.CreateCustomer(ctx, q, ms.id, customerInput(c))
	if err != nil {
		return uuid.Nil, fmt.Errorf("create customer: %w", err)
	}
	fresh[c.uniqueID] = created.ID
	made.customers++
	return created.ID, nil
}

// customerInput is an Olist person as a merchant customer. The dataset has
// no names, emails, phones or streets; these are made up from the person's
// hashed id, under the reserved example.test domain and the nonexistent
// Brazilian area code 00.
func customerInput(c olistCustomer) marketplace.CustomerInput {
	u := c.uniqueID
	return marketplace.CustomerInput{
		ExternalRef: &c.uniqueID,
		Name:        ptr("Customer " + u[:8]),
		Email:       ptr("customer-" + u[:12] + "@example.test"),
		Phone:       ptr(syntheticPhone(u)),
		Address:     syntheticAddress(c),
	}
}

func syntheticAddress(c olistCustomer) *marketplace.Address {
	n, _ := strconv.ParseUint(c.uniqueID[:4], 16, 32)
	return &marketplace.Address{
		Street: fmt.Sprintf("%d Synthetic St", n%999+1),
		City:   c.city,
		State:  c.state,
		Zip:    c.zip,
	}
}

// syntheticPhone is a mobile number made of the id's first eight decimal
// digits.
func syntheticPhone(id string) string {
	d := make([]byte, 0, 8)
	for i := 0; i < len(id) && len(d) < 8; i++ {
		if id[i] >= '0' && id[i] <= '9' {
			d = append(d, id[i])
		}
	}
	for len(d) < 8 {
		d = append(d, '0')
	}
	return "+55 00 9" + string(d[:4]) + "-" + string(d[4:])
}
