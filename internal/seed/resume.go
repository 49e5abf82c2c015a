package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// loadState reads what an earlier run created for a merchant, page by
// page through the same list calls the API serves.
func (l *loader) loadState(ctx context.Context, q db.Querier, id uuid.UUID, sp *sellerPlan) (*merchantState, error) {
	ms := newState(id)
	customerOf := make(map[string]string, len(sp.parts))
	for _, part := range sp.parts {
		customerOf[part.orderID] = part.customer.uniqueID
	}
	err := eachPage(func(p marketplace.Page) (int, *time.Time, uuid.UUID, error) {
		items, err := marketplace.ListItems(ctx, q, id, p)
		for _, it := range items {
			ms.items[it.SKU] = it.ID
		}
		return pageEnd(items, err, func(it marketplace.Item) (time.Time, uuid.UUID) {
			return it.CreatedAt, it.ID
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}

	err = eachPage(func(p marketplace.Page) (int, *time.Time, uuid.UUID, error) {
		orders, err := marketplace.ListOrders(ctx, q, id, nil, p)
		for _, o := range orders {
			if o.ExternalRef != nil {
				ms.orders[*o.ExternalRef] = true
				// Customers are found through their orders: reading
				// them back would draw on the audited customer-data
				// quota, which a seed is subject to like anyone.
				if c, ok := customerOf[*o.ExternalRef]; ok {
					ms.customers[c] = o.CustomerID
				}
			}
		}
		return pageEnd(orders, err, func(o marketplace.Order) (time.Time, uuid.UUID) {
			return o.CreatedAt, o.ID
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return ms, nil
}

// eachPage calls list with successive keyset pages until one comes back
// short.
func eachPage(list func(marketplace.Page) (int, *time.Time, uuid.UUID, error)) error {
	p := marketplace.Page{Limit: marketplace.MaxPageSize}
	for {
		n, at, id, err := list(p)
		if err != nil || n < p.Limit {
			return err
		}
		p.AfterTime, p.AfterID = at, id
	}
}

// pageEnd returns a page's length and the keyset position of its last row.
func pageEnd[T any](rows []T, err error, key func(T) (time.Time, uuid.UUID)) (int, *time.Time, uuid.UUID, error) {
	if err != nil || len(rows) == 0 {
		return 0, nil, uuid.Nil, err
	}
	at, id := key(rows[len(rows)-1])
	return len(rows), &at, id, nil
}
