package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/inspect"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// idParam reads a uuid path parameter. A malformed id names nothing, so it
// answers not_found like any other id that names nothing.
func idParam(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, name))
	if err != nil || len(chi.URLParam(r, name)) != 36 {
		return uuid.Nil, apperr.New(apperr.NotFound, "resource not found")
	}
	return id, nil
}

// page reads limit and cursor. Limits outside 1..MaxPageSize are refused
// rather than clamped; cursors must have been issued for the same list.
func (s *Server) page(r *http.Request, scope string) (marketplace.Page, error) {
	p := marketplace.Page{Limit: marketplace.DefaultPageSize}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > marketplace.MaxPageSize {
			return p, apperr.InvalidFields(apperr.FieldError{Field: "limit",
				Reason: "must be an integer from 1 to 100"})
		}
		p.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		pos, err := s.Cursors.Decode(scope, c)
		if err != nil {
			return p, apperr.InvalidFields(apperr.FieldError{Field: "cursor",
				Reason: "is not a cursor of this list"})
		}
		p.AfterTime, p.AfterID = &pos.Time, pos.ID
	}
	return p, nil
}

// respondPage writes a list page, with a cursor to the next page when this
// one is full.
func respondPage[T any](s *Server, w http.ResponseWriter, scope string, p marketplace.Page, rows []T, key func(T) cursor.Position) error {
	out := list[T]{Data: rows}
	if len(rows) == p.Limit && len(rows) > 0 {
		c := s.Cursors.Encode(scope, key(rows[len(rows)-1]))
		out.NextCursor = &c
	}
	return writeJSON(w, http.StatusOK, out)
}

func optString(r *http.Request, name string) *string {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil
	}
	v := q.Get(name)
	return &v
}

func optInt(r *http.Request, name string) (*int64, error) {
	v := optString(r, name)
	if v == nil {
		return nil, nil
	}
	n, err := strconv.ParseInt(*v, 10, 64)
	if err != nil || n < 0 {
		return nil, apperr.InvalidFields(apperr.FieldError{Field: name,
			Reason: "must be a non-negative integer"})
	}
	return &n, nil
}

func chiParam(r *http.Request, name string) string { return chi.URLParam(r, name) }

func invalidField(field, reason string) error {
	return apperr.InvalidFields(apperr.FieldError{Field: field, Reason: reason})
}

func parseUUID(field, v string) (uuid.UUID, error) {
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return uuid.Nil, invalidField(field, "must be a UUID")
	}
	return id, nil
}

// wellFormedQuery refuses a query string that does not parse, or that
// carries a NUL byte, before any handler reads it (attack inspection, which
// splits the raw query itself, has looked at it first). Go's parser skips a pair
// it cannot read (a ';' separator, a bad %-escape) and keeps the rest, so
// "?ip=192.0.2.1;x" would otherwise reach a handler as no filter at all
// and answer with every row; a NUL would travel to PostgreSQL, which
// refuses it without naming the parameter.
func (s *Server) wellFormedQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		if strings.Contains(r.URL.RawQuery, ";") {
			s.writeError(w, r, invalidField("query",
				"separates parameters with ';'; use '&'"))
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			s.writeError(w, r, invalidField("query", "is not a valid query string"))
			return
		}
		for k, vs := range q {
			if strings.IndexByte(k, 0) >= 0 || slices.ContainsFunc(vs, func(v string) bool {
				return strings.IndexByte(v, 0) >= 0
			}) {
				field := inspect.SafeName(k)
				if field == "*" {
					field = "query"
				}
				s.writeError(w, r, invalidField(field, "contains a NUL byte"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
