package marketplace

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/db"
)

// Item is a merchant's catalogue item.
type Item struct {
	ID          uuid.UUID `json:"id"`
	MerchantID  uuid.UUID `json:"merchant_id"`
	SKU         string    `json:"sku"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	PriceCents  int64     `json:"price_cents"`
	Currency    string    `json:"currency"`
	Stock       int32     `json:"stock"`
	Published   bool      `json:"published"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ItemInput is the body of an item create or update.
type ItemInput struct {
	SKU         *string `json:"sku"`
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Category    *string `json:"category"`
	PriceCents  *int64  `json:"price_cents"`
	Currency    *string `json:"currency"`
	Stock       *int32  `json:"stock"`
	Published   *bool   `json:"published"`
}

const itemColumns = `
  id,
  merchant_id,
  sku,
  title,
  description,
  category,
  price_cents,
  currency,
  stock,
  published,
  created_at,
  updated_at`

func scanItem(r scanner) (Item, error) {
	var i Item
	err := r.Scan(&i.ID, &i.MerchantID, &i.SKU, &i.Title, &i.Description,
		&i.Category, &i.PriceCents, &i.Currency, &i.Stock, &i.Published,
		&i.CreatedAt, &i.UpdatedAt)
	return i, err
}

func (in ItemInput) validate(create bool) error {
	if !create && in == (ItemInput{}) {
		return errNothingToChange
	}
	if create && (in.SKU == nil || in.Title == nil || in.PriceCents == nil) {
		return invalid("sku", "sku, title and price_cents are required")
	}
	checks := []struct {
		field    string
		v        *string
		min, max int
	}{
		{"sku", in.SKU, 1, 64}, {"title", in.Title, 1, 200},
		{"description", in.Description, 0, 5000}, {"category", in.Category, 0, 64},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if err := checkLen(c.field, *c.v, c.min, c.max); err != nil {
			return err
		}
	}
	if in.PriceCents != nil && (*in.PriceCents < 0 || *in.PriceCents > 100_000_000_000) {
		return invalid("price_cents", "must be between 0 and 100000000000")
	}
	if in.Currency != nil {
		if err := CheckCurrency(*in.Currency); err != nil {
			return err
		}
	}
	if in.Stock != nil && *in.Stock < 0 {
		return invalid("stock", "must not be negative")
	}
	return nil
}

// CreateItem adds an item to a merchant's catalogue (members).
func CreateItem(ctx context.Context, q db.Querier, merchantID uuid.UUID, in ItemInput) (Item, error) {
	if err := in.validate(true); err != nil {
		return Item{}, err
	}
	i, err := scanItem(q.QueryRow(ctx, `
insert into app.merchant_items
  (merchant_id, sku, title, description, category, price_cents, currency,
   stock, published)
values ($1, $2, $3, coalesce($4, ''), coalesce($5, ''), $6,
        coalesce($7, 'BRL'), coalesce($8, 0), coalesce($9, false))
returning`+itemColumns, merchantID, in.SKU, in.Title, in.Description,
		in.Category, in.PriceCents, in.Currency, in.Stock, in.Published))
	return i, notFoundAs(err, "merchant")
}

// GetItem returns an item to the merchant's members. This is the
// management view (stock included); the public sees items through the
// market.
func GetItem(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) (Item, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return Item{}, err
	}
	i, err := scanItem(q.QueryRow(ctx, `select`+itemColumns+`
from app.merchant_items where merchant_id = $1 and id = $2`, merchantID, id))
	return i, notFoundAs(err, "item")
}

// ListItems lists a merchant's items to its members.
func ListItems(ctx context.Context, q db.Querier, merchantID uuid.UUID, p Page) ([]Item, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `select`+itemColumns+`
from app.merchant_items
where merchant_id = $1
  and ($2::timestamptz is null or (created_at, id) > ($2, $3))
order by created_at, id
limit $4`, merchantID, p.AfterTime, p.AfterID, p.Limit)
	if err != nil {
		return nil, err
	}
	return collectPage(rows, p.Limit, scanItem)
}

// UpdateItem changes an item (members).
func UpdateItem(ctx context.Context, q db.Querier, merchantID, id uuid.UUID, in ItemInput) (Item, error) {
	if err := in.validate(false); err != nil {
		return Item{}, err
	}
	i, err := scanItem(q.QueryRow(ctx, `
update app.merchant_items set
  sku = coalesce($3, sku),
  title = coalesce($4, title),
  description = coalesce($5, description),
  category = coalesce($6, category),
  price_cents = coalesce($7, price_cents),
  currency = coalesce($8, currency),
  stock = coalesce($9, stock),
  published = coalesce($10, published),
  updated_at = now()
where merchant_id = $1 and id = $2
returning`+itemColumns, merchantID, id, in.SKU, in.Title, in.Description,
		in.Category, in.PriceCents, in.Currency, in.Stock, in.Published))
	return i, notFoundAs(err, "item")
}

// DeleteItem removes an item (managers and owners; staff get forbidden);
// its listing goes with it and order lines keep their copy of title and
// price.
func DeleteItem(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) error {
	tag, err := q.Exec(ctx, `
delete from app.merchant_items where merchant_id = $1 and id = $2`,
		merchantID, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return refuseWrite(ctx, q, merchantID, "manager", Missing("item"))
	}
	return nil
}
