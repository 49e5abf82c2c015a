package marketplace

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/db"
)

// Listing is an item on the shared market.
type Listing struct {
	ID         uuid.UUID `json:"id"`
	MerchantID uuid.UUID `json:"merchant_id"`
	ItemID     uuid.UUID `json:"item_id"`
	Title      string    `json:"title"`
	Category   string    `json:"category"`
	PriceCents int64     `json:"price_cents"`
	Currency   string    `json:"currency"`
	ListedAt   time.Time `json:"listed_at"`
}

// MarketFilter narrows the public browse. Price bounds are in cents of
// Currency, which they need.
type MarketFilter struct {
	Category   *string
	Currency   *string
	MinPrice   *int64
	MaxPrice   *int64
	MerchantID *uuid.UUID
}

const listingColumns = `
  id,
  merchant_id,
  item_id,
  title,
  category,
  price_cents,
  currency,
  listed_at`

func scanListing(r scanner) (Listing, error) {
	var l Listing
	err := r.Scan(&l.ID, &l.MerchantID, &l.ItemID, &l.Title, &l.Category,
		&l.PriceCents, &l.Currency, &l.ListedAt)
	return l, err
}

// BrowseMarket is the public market, newest first.
func BrowseMarket(ctx context.Context, q db.Querier, f MarketFilter, p Page) ([]Listing, error) {
	rows, err := q.Query(ctx, `select`+listingColumns+`
from app.market_items
where ($1::text is null or category = $1)
  and ($2::bigint is null or price_cents >= $2)
  and ($3::bigint is null or price_cents <= $3)
  and ($4::uuid is null or merchant_id = $4)
  and ($5::timestamptz is null or (listed_at, id) < ($5, $6))
  and ($8::text is null or currency = $8)
order by listed_at desc, id desc
limit $7`, f.Category, f.MinPrice, f.MaxPrice, f.MerchantID, p.AfterTime,
		p.AfterID, p.Limit, f.Currency)
	if err != nil {
		return nil, err
	}
	return collectPage(rows, p.Limit, scanListing)
}

// ListMerchantListings lists one merchant's listings to its members.
func ListMerchantListings(ctx context.Context, q db.Querier, merchantID uuid.UUID, p Page) ([]Listing, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return nil, err
	}
	f := MarketFilter{MerchantID: &merchantID}
	return BrowseMarket(ctx, q, f, p)
}

// ListItem puts a published item of the merchant on the market. Another
// merchant's item, an unpublished one and a missing one are all not_found.
func ListItem(ctx context.Context, q db.Querier, merchantID, itemID uuid.UUID) (Listing, error) {
	l, err := scanListing(q.QueryRow(ctx, `
insert into app.market_items (merchant_id, item_id, category, price_cents,
                              title, currency)
select i.merchant_id, i.id, i.category, i.price_cents, i.title, i.currency
from app.merchant_items i
where i.merchant_id = $1 and i.id = $2 and i.published
  and i.merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[])
returning`+listingColumns, merchantID, itemID))
	return l, notFoundAs(err, "item")
}

// DelistItem removes a listing (members).
func DelistItem(ctx context.Context, q db.Querier, merchantID, listingID uuid.UUID) error {
	tag, err := q.Exec(ctx, `
delete from app.market_items where merchant_id = $1 and id = $2`,
		merchantID, listingID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return Missing("listing")
	}
	return nil
}
