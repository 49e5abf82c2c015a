package httpapi

import (
	"context"
	"net/http"

	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) error {
	mid, scope, p, err := s.pageOf(r, "items")
	if err != nil {
		return err
	}
	return txPage(s, w, r, scope, p, itemKey, func(ctx context.Context, q db.Querier) ([]m.Item, error) {
		return m.ListItems(ctx, q, mid, p)
	})
}

func (s *Server) createItem(w http.ResponseWriter, r *http.Request) error {
	var in m.ItemInput
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (m.Item, error) {
		return m.CreateItem(ctx, q, id[0], in)
	})
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "itemID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Item, error) {
		return m.GetItem(ctx, q, id[0], id[1])
	})
}

func (s *Server) updateItem(w http.ResponseWriter, r *http.Request) error {
	var in m.ItemInput
	id, err := idsAndBody(w, r, &in, "merchantID", "itemID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Item, error) {
		return m.UpdateItem(ctx, q, id[0], id[1], in)
	})
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "itemID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return m.DeleteItem(ctx, q, id[0], id[1])
	})
}

func (s *Server) browseMarket(w http.ResponseWriter, r *http.Request) error {
	const scope = "market"
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	f, err := marketFilter(r)
	if err != nil {
		return err
	}
	if err := s.publicListLimit(w, r, scope, p); err != nil {
		return err
	}
	return txPage(s, w, r, scope, p, listingKey, func(ctx context.Context, q db.Querier) ([]m.Listing, error) {
		return m.BrowseMarket(ctx, q, f, p)
	})
}

func marketFilter(r *http.Request) (m.MarketFilter, error) {
	f := m.MarketFilter{Category: optString(r, "category")}
	var err error
	if f.MinPrice, err = optInt(r, "min_price_cents"); err != nil {
		return f, err
	}
	if f.MaxPrice, err = optInt(r, "max_price_cents"); err != nil {
		return f, err
	}
	if v := optString(r, "currency"); v != nil {
		if err := m.CheckCurrency(*v); err != nil {
			return f, err
		}
		f.Currency = v
	}
	if (f.MinPrice != nil || f.MaxPrice != nil) && f.Currency == nil {
		return f, invalidField("currency",
			"is required with min_price_cents or max_price_cents: prices compare within one currency")
	}
	if v := optString(r, "merchant_id"); v != nil {
		id, err := parseUUID("merchant_id", *v)
		if err != nil {
			return f, err
		}
		f.MerchantID = &id
	}
	return f, nil
}

func (s *Server) listMerchantListings(w http.ResponseWriter, r *http.Request) error {
	mid, scope, p, err := s.pageOf(r, "listings")
	if err != nil {
		return err
	}
	return txPage(s, w, r, scope, p, listingKey, func(ctx context.Context, q db.Querier) ([]m.Listing, error) {
		return m.ListMerchantListings(ctx, q, mid, p)
	})
}

func (s *Server) listItem(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ItemID *string `json:"item_id"`
	}
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	if in.ItemID == nil {
		return invalidField("item_id", "is required")
	}
	itemID, err := parseUUID("item_id", *in.ItemID)
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (m.Listing, error) {
		return m.ListItem(ctx, q, id[0], itemID)
	})
}

func (s *Server) delistItem(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "listingID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return m.DelistItem(ctx, q, id[0], id[1])
	})
}
