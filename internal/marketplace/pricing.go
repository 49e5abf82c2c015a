package marketplace

import (
	"context"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/db"
)

// The bases a price suggestion can rest on, from the closest comparison
// to the loosest.
const (
	BasisCategory = "category" // listings of the item's category
	BasisTitle    = "title"    // listings whose title shares a word with the item's
	BasisMarket   = "market"   // every listing in the item's currency
	BasisNone     = "none"     // no listing to compare with
)

const (
	// minComparables is how many listings a category or title match needs
	// before it is trusted over the next, looser basis: quartiles of one
	// or two prices say little.
	minComparables = 3
	// suggestionWindow bounds the listings one suggestion reads to the
	// most recent ones, so its cost stays flat however large the market
	// grows, and a suggestion follows current prices rather than old ones.
	suggestionWindow = 5000
)

// PriceSuggestion is a price for an item read off comparable listings of
// the shared market. Amounts are in cents of Currency, like every price;
// they are null when there is nothing to compare with.
type PriceSuggestion struct {
	ItemID            uuid.UUID `json:"item_id"`
	Currency          string    `json:"currency"`
	CurrentPriceCents int64     `json:"current_price_cents"`
	// SuggestedPriceCents is the median of the comparables.
	SuggestedPriceCents *int64 `json:"suggested_price_cents"`
	LowPriceCents       *int64 `json:"low_price_cents"`    // first quartile
	MedianPriceCents    *int64 `json:"median_price_cents"` // second quartile
	HighPriceCents      *int64 `json:"high_price_cents"`   // third quartile
	Comparables         int64  `json:"comparables"`
	Basis               string `json:"basis"`
}

// SuggestPrice suggests a price for item, which the caller must already
// have read through GetItem (so another tenant's item never gets here).
//
// It is plain statistics, not a language model: the quartiles of the
// prices of other listings in the item's currency, from the closest basis
// that has at least minComparables of them among the most recent
// suggestionWindow listings: same category, else a title sharing a word
// of three or more letters, else the whole market. The item's own listing
// is left out. All three bases are computed in one statement over one
// read of the window, so a suggestion costs one round trip.
func SuggestPrice(ctx context.Context, q db.Querier, item Item) (PriceSuggestion, error) {
	rows, err := q.Query(ctx, `
with words as (
  select array(
    select distinct w
    from unnest(regexp_split_to_array(lower($4::text), '[^[:alnum:]]+')) w
    where length(w) >= 3) as list
),
recent as (
  select l.item_id, l.merchant_id, l.category, l.title, l.price_cents
  from app.market_items l
  order by l.listed_at desc, l.id desc
  limit $5::int
),
comparable as (
  select r.price_cents,
         $2::text <> '' and r.category = $2::text as same_category,
         regexp_split_to_array(lower(r.title), '[^[:alnum:]]+')
           && (select list from words) as similar_title
  from recent r
  join app.merchant_items i on i.id = r.item_id and i.merchant_id = r.merchant_id
  where r.item_id <> $1::uuid and i.currency = $3::text
),
bases (basis, rank, price_cents) as (
  select 'category', 1, price_cents from comparable where same_category
  union all
  select 'title', 2, price_cents from comparable where similar_title
  union all
  select 'market', 3, price_cents from comparable
)
select basis, count(*),
  round(percentile_cont(0.25) within group (order by price_cents)::numeric)::bigint,
  round(percentile_cont(0.5) within group (order by price_cents)::numeric)::bigint,
  round(percentile_cont(0.75) within group (order by price_cents)::numeric)::bigint
from bases
group by basis, rank
order by rank`, item.ID, item.Category, item.Currency, item.Title,
		suggestionWindow)
	if err != nil {
		return PriceSuggestion{}, err
	}
	type quartiles struct {
		basis         string
		n             int64
		low, mid, top *int64
	}
	all, err := collect(rows, func(r scanner) (quartiles, error) {
		var x quartiles
		err := r.Scan(&x.basis, &x.n, &x.low, &x.mid, &x.top)
		return x, err
	})
	if err != nil {
		return PriceSuggestion{}, err
	}
	out := PriceSuggestion{ItemID: item.ID, Currency: item.Currency,
		CurrentPriceCents: item.PriceCents, Basis: BasisNone}
	for _, x := range all {
		if x.n >= minComparables || x.basis == BasisMarket {
			out.Basis, out.Comparables = x.basis, x.n
			out.LowPriceCents, out.MedianPriceCents, out.HighPriceCents = x.low, x.mid, x.top
			out.SuggestedPriceCents = x.mid
			break
		}
	}
	return out, nil
}
