package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	mid, scope, p, err := s.pageOf(r, "customers")
	if err != nil {
		return err
	}
	f, err := customerFilter(r)
	if err != nil {
		return err
	}
	return s.access("list", txPage(s, w, r, scope, p, customerKey, func(ctx context.Context, q db.Querier) ([]m.Customer, error) {
		return s.Vault.ListCustomers(ctx, q, mid, f, p)
	}))
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) error {
	var in m.CustomerInput
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (m.Customer, error) {
		return s.Vault.CreateCustomer(ctx, q, id[0], in)
	})
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "customerID")
	if err != nil {
		return err
	}
	return s.access("view", txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Customer, error) {
		return m.GetCustomer(ctx, q, id[0], id[1])
	}))
}

func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	var in m.CustomerInput
	id, err := idsAndBody(w, r, &in, "merchantID", "customerID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Customer, error) {
		return s.Vault.UpdateCustomer(ctx, q, id[0], id[1], in)
	})
}

func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "customerID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return m.EraseCustomer(ctx, q, id[0], id[1])
	})
}

func (s *Server) revealCustomer(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason *string `json:"reason"`
	}
	id, err := idsAndBody(w, r, &in, "merchantID", "customerID")
	if err != nil {
		return err
	}
	if in.Reason == nil || len([]rune(*in.Reason)) < 5 || len(*in.Reason) > 500 {
		return invalidField("reason", "say why, in 5 to 500 characters")
	}
	// The reason is stored in the audit trail as given: no line breaks or
	// escape sequences that would forge or hide a row when it is read.
	if err := m.CheckText("reason", *in.Reason, 5, 500); err != nil {
		return err
	}
	return s.access("reveal", txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.PlainCustomer, error) {
		return s.Vault.Reveal(ctx, q, id[0], id[1], *in.Reason)
	}))
}

func (s *Server) exportCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "customerID")
	if err != nil {
		return err
	}
	return s.access("export", txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.CustomerExport, error) {
		return s.Vault.Export(ctx, q, id[0], id[1])
	}))
}

// customerFilter reads the only filters customer lists accept. Sorting or
// searching on PII is refused outright: masked fields cannot be ordered or
// matched, and an exact email or phone goes through the blind index.
func customerFilter(r *http.Request) (m.CustomerFilter, error) {
	for k := range r.URL.Query() {
		switch k {
		case "limit", "cursor", "email", "phone", "ids":
		default:
			return m.CustomerFilter{}, invalidField(k,
				"customers can only be filtered by exact email, phone or ids")
		}
	}
	f := m.CustomerFilter{Email: optString(r, "email"), Phone: optString(r, "phone")}
	if v := optString(r, "ids"); v != nil {
		parts := strings.Split(*v, ",")
		if len(parts) > m.MaxPageSize {
			return f, invalidField("ids", "at most 100 ids at a time")
		}
		for _, p := range parts {
			id, err := parseUUID("ids", strings.TrimSpace(p))
			if err != nil {
				return f, err
			}
			f.IDs = append(f.IDs, id)
		}
	}
	return f, nil
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) error {
	mid, scope, p, err := s.pageOf(r, "orders")
	if err != nil {
		return err
	}
	status := optString(r, "status")
	if status != nil && !m.OrderStatuses[*status] {
		return invalidField("status", "is not a known order status")
	}
	return txPage(s, w, r, scope, p, orderKey, func(ctx context.Context, q db.Querier) ([]m.Order, error) {
		return m.ListOrders(ctx, q, mid, status, p)
	})
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) error {
	var in m.OrderInput
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (m.Order, error) {
		return s.Vault.CreateOrder(ctx, q, id[0], in)
	})
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "orderID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Order, error) {
		return m.GetOrder(ctx, q, id[0], id[1])
	})
}

func (s *Server) setOrderStatus(w http.ResponseWriter, r *http.Request) error {
	var in m.OrderStatusInput
	id, err := idsAndBody(w, r, &in, "merchantID", "orderID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Order, error) {
		return m.SetOrderStatus(ctx, q, id[0], id[1], in)
	})
}

func (s *Server) listAILimits(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[m.AILimit], error) {
		rows, err := m.ListAILimits(ctx, q)
		return list[m.AILimit]{Data: rows}, err
	})
}

func (s *Server) putAILimit(w http.ResponseWriter, r *http.Request) error {
	if err := s.requirePlatformAdmin(r); err != nil {
		return err
	}
	var in m.AILimitInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	feature := chiParam(r, "feature")
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.AILimit, error) {
		return m.PutAILimit(ctx, q, feature, in)
	})
}

// access counts a customer-data access by kind and result, and passes err
// on.
func (s *Server) access(kind string, err error) error {
	result := "allowed"
	switch {
	case err == nil:
	case apperr.Is(err, apperr.NotFound):
		result = "not_found"
	case apperr.Is(err, apperr.RateLimited):
		result = "over_quota"
	case apperr.Is(err, apperr.Forbidden), apperr.Is(err, apperr.MFARequired):
		result = "denied"
	case apperr.Is(err, apperr.Invalid):
		result = "invalid"
	default:
		result = "error"
	}
	s.Metrics.CustomerAccess(kind, result)
	return err
}
