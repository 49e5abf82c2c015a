package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

func (s *Server) createMerchant(w http.ResponseWriter, r *http.Request) error {
	var in m.MerchantInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Merchant
	err := s.tx(r, func(q db.Querier) (err error) {
		out, err = m.CreateMerchant(r.Context(), q, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listMerchants(w http.ResponseWriter, r *http.Request) error {
	scope := "merchants:" + principal(r).UserID.String()
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	var out []m.Merchant
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListMerchants(r.Context(), q, p)
		return err
	})
	if err != nil {
		return err
	}
	return respondPage(s, w, scope, p, out, func(x m.Merchant) cursor.Position {
		return cursor.Position{Time: x.CreatedAt, ID: x.ID}
	})
}

func (s *Server) getMerchant(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var out m.Merchant
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.GetMerchant(r.Context(), q, id)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateMerchant(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in m.MerchantInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.Merchant
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.UpdateMerchant(r.Context(), q, id, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var out []m.Member
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.ListMembers(r.Context(), q, id)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[m.Member]{Data: out})
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in m.MemberInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Email == nil || in.Role == nil {
		return invalidField("email", "email and role are required")
	}
	var out m.Member
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.AddMember(r.Context(), q, id, normalizedEmail(*in.Email),
			*in.Role)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	mid, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	uid, err := idParam(r, "userID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(q db.Querier) error {
		return m.RemoveMember(r.Context(), q, mid, uid)
	})
}

func (s *Server) getPage(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var out m.MerchantPage
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.GetPage(r.Context(), q, id)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updatePage(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r, "merchantID")
	if err != nil {
		return err
	}
	var in m.PageInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var out m.MerchantPage
	err = s.tx(r, func(q db.Querier) (err error) {
		out, err = m.UpdatePage(r.Context(), q, id, in)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPublicPage(w http.ResponseWriter, r *http.Request) error {
	var out m.PublicPage
	slug := chiParam(r, "slug")
	err := s.tx(r, func(q db.Querier) (err error) {
		out, err = m.GetPublicPage(r.Context(), q, slug, principal(r) != nil)
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// noContent runs fn in the request transaction and answers 204.
func (s *Server) noContent(w http.ResponseWriter, r *http.Request, fn func(q db.Querier) error) error {
	if err := s.tx(r, fn); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func merchantScope(kind string, id uuid.UUID) string {
	return kind + ":" + id.String()
}
