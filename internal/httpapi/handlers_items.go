package httpapi

import (
	"net/http"

	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	scope := merchantScope("items", mid)
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	var out []m.Item
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListItems(r.Context(), q, mid, p)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, out, func(x m.Item) cursor.Position {
		return cursor.Position{Time: x.CreatedAt, ID: x.ID}
	})
}

func (s *Server) createItem(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in m.ItemInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Item
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.CreateItem(r.Context(), q, mid, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "itemID")
	if err != nil {
		return err
	}
	var out m.Item
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.GetItem(r.Context(), q, mid, id)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateItem(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "itemID")
	if err != nil {
		return err
	}
	var in m.ItemInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Item
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.UpdateItem(r.Context(), q, mid, id, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "itemID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(q db.Querier) error {
		return m.DeleteItem(r.Context(), q, mid, id)
	})
}

func (s *Server) browseMarket(w http.ResponseWriter, r *http.Request) error {
	const scope = "market"
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	f := m.MarketFilter{Category: optString(r, "category")}
	if f.MinPrice, err = optInt(r, "min_price_cents"); err != nil {
		return err
	}
	if f.MaxPrice, err = optInt(r, "max_price_cents"); err != nil {
		return err
	}
	if v := optString(r, "merchant_id"); v != nil {
		id, err := parseUUID("merchant_id", *v)
		if err != nil {
			return err
		}
		f.MerchantID = &id
	}
	var out []m.Listing
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.BrowseMarket(r.Context(), q, f, p)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, out, listingKey)
}

func listingKey(x m.Listing) cursor.Position {
	return cursor.Position{Time: x.ListedAt, ID: x.ID}
}

func (s *Server) listMerchantListings(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	scope := merchantScope("listings", mid)
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	var out []m.Listing
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListMerchantListings(r.Context(), q, mid, p)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, out, listingKey)
}

func (s *Server) listItem(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in struct {
		ItemID *string `json:"item_id"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.ItemID == nil {
		return invalidField("item_id", "is required")
	}
	itemID, err := parseUUID("item_id", *in.ItemID)
	if err != nil {
		return err
	}
	var out m.Listing
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListItem(r.Context(), q, mid, itemID)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) delistItem(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "listingID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(q db.Querier) error {
		return m.DelistItem(r.Context(), q, mid, id)
	})
}
