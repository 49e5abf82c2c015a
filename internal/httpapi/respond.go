package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// txJSON runs fn in the caller's request transaction and answers its result
// with status.
func txJSON[T any](s *Server, w http.ResponseWriter, r *http.Request, status int,
	fn func(ctx context.Context, q db.Querier) (T, error)) error {
	var out T
	err := s.tx(r, func(q db.Querier) (err error) {
		out, err = fn(r.Context(), q)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, status, out)
}

// txPage runs a list query for page p in the caller's request transaction
// and answers the page, with a cursor bound to scope when it is full.
func txPage[T any](s *Server, w http.ResponseWriter, r *http.Request, scope string,
	p marketplace.Page, key func(T) cursor.Position,
	fn func(ctx context.Context, q db.Querier) ([]T, error)) error {
	var rows []T
	err := s.tx(r, func(q db.Querier) (err error) {
		rows, err = fn(r.Context(), q)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, rows, key)
}

// noContent runs fn in the request transaction and answers 204.
func (s *Server) noContent(w http.ResponseWriter, r *http.Request,
	fn func(ctx context.Context, q db.Querier) error) error {
	err := s.tx(r, func(q db.Querier) error { return fn(r.Context(), q) })
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ids reads the named uuid path parameters, in order.
func ids(r *http.Request, names ...string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, len(names))
	for i, n := range names {
		id, err := idParam(r, n)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// idsAndBody reads the named uuid path parameters and then the JSON body.
func idsAndBody(w http.ResponseWriter, r *http.Request, dst any, names ...string) ([]uuid.UUID, error) {
	id, err := ids(r, names...)
	if err != nil {
		return nil, err
	}
	return id, decode(w, r, dst)
}

// pageOf reads the merchant id and the page of a merchant's list named
// kind, and returns the cursor scope the page belongs to.
func (s *Server) pageOf(r *http.Request, kind string) (uuid.UUID, string, marketplace.Page, error) {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return uuid.Nil, "", marketplace.Page{}, err
	}
	scope := kind + ":" + mid.String()
	p, err := s.page(r, scope)
	return mid, scope, p, err
}

// Keyset positions of each list's rows, for their cursors.
func merchantKey(x marketplace.Merchant) cursor.Position {
	return cursor.Position{Time: x.CreatedAt, ID: x.ID}
}
func itemKey(x marketplace.Item) cursor.Position { return cursor.Position{Time: x.CreatedAt, ID: x.ID} }
func listingKey(x marketplace.Listing) cursor.Position {
	return cursor.Position{Time: x.ListedAt, ID: x.ID}
}
func customerKey(x marketplace.Customer) cursor.Position {
	return cursor.Position{Time: x.CreatedAt, ID: x.ID}
}
func orderKey(x marketplace.Order) cursor.Position {
	return cursor.Position{Time: x.CreatedAt, ID: x.ID}
}
