package httpapi

import (
	"net/http"

	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	scope := merchantScope("customers", mid)
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	f := m.CustomerFilter{Email: optString(r, "email"), Phone: optString(r, "phone")}
	var out []m.Customer
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = s.Vault.ListCustomers(r.Context(), q, mid, f, p)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, out, func(x m.Customer) cursor.Position {
		return cursor.Position{Time: x.CreatedAt, ID: x.ID}
	})
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in m.CustomerInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Customer
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = s.Vault.CreateCustomer(r.Context(), q, mid, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "customerID")
	if err != nil {
		return err
	}
	var out m.Customer
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.GetCustomer(r.Context(), q, mid, id)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "customerID")
	if err != nil {
		return err
	}
	var in m.CustomerInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Customer
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = s.Vault.UpdateCustomer(r.Context(), q, mid, id, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "customerID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(q db.Querier) error {
		return m.DeleteCustomer(r.Context(), q, mid, id)
	})
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	scope := merchantScope("orders", mid)
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	status := optString(r, "status")
	if status != nil && !m.OrderStatuses[*status] {
		return invalidField("status", "is not a known order status")
	}
	var out []m.Order
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListOrders(r.Context(), q, mid, status, p)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, out, func(x m.Order) cursor.Position {
		return cursor.Position{Time: x.CreatedAt, ID: x.ID}
	})
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in m.OrderInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Order
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = s.Vault.CreateOrder(r.Context(), q, mid, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "orderID")
	if err != nil {
		return err
	}
	var out m.Order
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.GetOrder(r.Context(), q, mid, id)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) setOrderStatus(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	id, err := idParam(r, "orderID")
	if err != nil {
		return err
	}
	var in m.OrderStatusInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Order
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.SetOrderStatus(r.Context(), q, mid, id, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listAILimits(w http.ResponseWriter, r *http.Request) error {
	var out []m.AILimit
	err := s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListAILimits(r.Context(), q)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[m.AILimit]{Data: out})
}

func (s *Server) putAILimit(w http.ResponseWriter, r *http.Request) error {
	if err := requirePlatformAdmin(r); err != nil {
		return err
	}
	var in m.AILimitInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.AILimit
	err := s.tx(r, func(q db.Querier) (err error) {
		out, err = m.PutAILimit(r.Context(), q, chiParam(r, "feature"), in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
