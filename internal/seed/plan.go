package seed

import (
	"fmt"
	"strings"

	"github.com/rampart-dev/rampart/internal/marketplace"
)

// maxPayments is the most payments CreateOrder accepts for one order.
const maxPayments = 10

// sellerPlan is everything one Olist seller becomes: a merchant with its
// items and, for each order it took part in, that order's share.
type sellerPlan struct {
	seller   olistSeller
	products []productPlan
	parts    []orderPart
}

// productPlan is one product as an item of one seller.
type productPlan struct {
	sku, title, category, description string
	price                             int64 // cents
	// stock is every unit of the product the seller's orders take: each
	// order reserves its units as it is created, so the item starts with
	// exactly what its history sells (canceled orders give theirs back).
	stock int32
}

// orderPart is the part of an Olist order that one seller fulfilled.
type orderPart struct {
	orderID  string
	status   string
	customer olistCustomer
	lines    []linePlan
	payments []marketplace.PaymentInput
	// skipped counts payments left out: method 'not_defined' or unknown.
	skipped int
}

type linePlan struct {
	sku      string
	quantity int32
	freight  int64 // cents
}

// planSellers maps the dataset onto merchants: the first maxSellers sellers
// in file order (all when maxSellers is 0), each with its products and its
// parts of orders, in the order of the orders file.
func planSellers(ds *dataset, maxSellers int) []*sellerPlan {
	sellers := ds.sellers
	if maxSellers > 0 && maxSellers < len(sellers) {
		sellers = sellers[:maxSellers]
	}
	plans := make([]*sellerPlan, len(sellers))
	byID := make(map[string]*sellerPlan, len(sellers))
	for i, s := range sellers {
		plans[i] = &sellerPlan{seller: s}
		byID[s.id] = plans[i]
	}
	planProducts(ds, byID)
	planOrders(ds, byID)
	for _, sp := range plans {
		sp.planStock()
	}
	return plans
}

// planStock gives each product the units the seller's order parts take.
func (sp *sellerPlan) planStock() {
	units := map[string]int32{}
	for _, part := range sp.parts {
		for _, ln := range part.lines {
			units[ln.sku] += ln.quantity
		}
	}
	for i := range sp.products {
		sp.products[i].stock = units[sp.products[i].sku]
	}
}

// planProducts gives each seller one item per product it sold, priced at
// the first price seen for that seller and product.
func planProducts(ds *dataset, byID map[string]*sellerPlan) {
	seen := map[[2]string]bool{}
	for _, it := range ds.items {
		sp := byID[it.sellerID]
		key := [2]string{it.sellerID, it.productID}
		if sp == nil || seen[key] {
			continue
		}
		seen[key] = true
		sp.products = append(sp.products,
			productItem(ds, ds.products[it.productID], it.price))
	}
}

func productItem(ds *dataset, p olistProduct, price int64) productPlan {
	category := p.category
	if en, ok := ds.categories[category]; ok && en != "" {
		category = en
	}
	label := strings.ReplaceAll(category, "_", " ")
	if label == "" {
		label = "uncategorized"
	}
	desc := "Olist product " + p.id + "."
	if p.weight != "" && p.length != "" && p.height != "" && p.width != "" {
		desc += fmt.Sprintf(" %s g, %s x %s x %s cm.", p.weight, p.length,
			p.height, p.width)
	}
	return productPlan{sku: p.id, title: label + " " + p.id[:8],
		category: truncate(category, 64), description: desc, price: price}
}

// planOrders splits every order into one part per seller.
func planOrders(ds *dataset, byID map[string]*sellerPlan) {
	byOrder := map[string][]olistItem{}
	for _, it := range ds.items {
		byOrder[it.orderID] = append(byOrder[it.orderID], it)
	}
	for _, o := range ds.orders {
		parts, sellers := splitOrder(ds, o, byOrder[o.id])
		for i, part := range parts {
			if sp := byID[sellers[i]]; sp != nil {
				sp.parts = append(sp.parts, part)
			}
		}
	}
}

// splitOrder returns one part per seller of the order's items, in the
// order the sellers first appear, and the sellers. Items of the same
// product become one line whose quantity is their number and whose
// freight is their sum.
func splitOrder(ds *dataset, o olistOrder, items []olistItem) ([]orderPart, []string) {
	var sellers []string
	index := map[string]int{}
	var weights []int64
	var parts []orderPart
	for _, it := range items {
		i, ok := index[it.sellerID]
		if !ok {
			i = len(parts)
			index[it.sellerID] = i
			sellers = append(sellers, it.sellerID)
			weights = append(weights, 0)
			parts = append(parts, orderPart{orderID: o.id,
				status:   orderStatus(o.status),
				customer: ds.customers[o.customerID]})
		}
		parts[i].addItem(it)
		weights[i] += it.price + it.freight
	}

	shares, skipped := splitPayments(ds.payments[o.id], weights)
	for i := range parts {
		parts[i].payments = shares[i]
		if i == 0 {
			parts[i].skipped = skipped
		}
	}
	return parts, sellers
}

func (p *orderPart) addItem(it olistItem) {
	for i := range p.lines {
		if p.lines[i].sku == it.productID {
			p.lines[i].quantity++
			p.lines[i].freight += it.freight
			return
		}
	}
	p.lines = append(p.lines, linePlan{sku: it.productID, quantity: 1,
		freight: it.freight})
}

// orderStatus maps an Olist status onto ours; 'created', 'approved' and
// anything unknown are pending.
func orderStatus(s string) string {
	if marketplace.OrderStatuses[s] {
		return s
	}
	return "pending"
}

// splitPayments divides an order's payments among its sellers' parts in
// proportion to each part's value (prices plus freight). Every payment is
// split, and the last part takes the rounding remainder, so the shares of
// a payment add up to it exactly. Payments whose method is 'not_defined'
// (or unknown) are skipped and counted.
func splitPayments(pays []olistPayment, weights []int64) ([][]marketplace.PaymentInput, int) {
	var total int64
	for _, w := range weights {
		total += w
	}
	shares := make([][]marketplace.PaymentInput, len(weights))
	skipped := 0
	for _, p := range pays {
		method, ok := paymentMethod(p.method)
		if !ok {
			skipped++
			continue
		}
		rest := p.amount
		for i, w := range weights {
			amount := rest
			if i < len(weights)-1 {
				amount = share(p.amount, w, total)
				rest -= amount
			}
			shares[i] = append(shares[i], marketplace.PaymentInput{
				Method:       method,
				Installments: ptr(int32(min(max(p.installments, 1), 48))),
				AmountCents:  amount,
			})
		}
	}
	for i := range shares {
		shares[i] = mergePayments(shares[i])
	}
	return shares, skipped
}

// share is amount * w / total, rounded down. An order of no value at all
// gives nothing to the early parts, so the last one takes everything.
func share(amount, w, total int64) int64 {
	if total == 0 {
		return 0
	}
	return amount * w / total
}

func paymentMethod(t string) (string, bool) {
	switch t {
	case "credit_card", "debit_card", "boleto", "voucher":
		return t, true
	}
	return "", false
}

// mergePayments folds the payments of an order that has more than
// CreateOrder accepts (some Olist orders carry a dozen vouchers) into one
// payment per method, keeping the first one's installments.
func mergePayments(pays []marketplace.PaymentInput) []marketplace.PaymentInput {
	if len(pays) <= maxPayments {
		return pays
	}
	var out []marketplace.PaymentInput
	index := map[string]int{}
	for _, p := range pays {
		if i, ok := index[p.Method]; ok {
			out[i].AmountCents += p.AmountCents
			continue
		}
		index[p.Method] = len(out)
		out = append(out, p)
	}
	return out
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
