package httpapi

import (
	"context"
	"net/http"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
	m "github.com/rampart-dev/rampart/internal/marketplace"
)

func (s *Server) createMerchant(w http.ResponseWriter, r *http.Request) error {
	var in m.MerchantInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (m.Merchant, error) {
		return m.CreateMerchant(ctx, q, in)
	})
}

func (s *Server) listMerchants(w http.ResponseWriter, r *http.Request) error {
	scope := "merchants:" + principal(r).UserID.String()
	p, err := s.page(r, scope)
	if err != nil {
		return err
	}
	return txPage(s, w, r, scope, p, merchantKey, func(ctx context.Context, q db.Querier) ([]m.Merchant, error) {
		return m.ListMerchants(ctx, q, p)
	})
}

func (s *Server) getMerchant(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Merchant, error) {
		return m.GetMerchant(ctx, q, id[0])
	})
}

func (s *Server) updateMerchant(w http.ResponseWriter, r *http.Request) error {
	var in m.MerchantInput
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Merchant, error) {
		return m.UpdateMerchant(ctx, q, id[0], in)
	})
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[m.Member], error) {
		rows, err := m.ListMembers(ctx, q, id[0])
		return list[m.Member]{Data: rows}, err
	})
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request) error {
	var in m.InvitationInput
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	if in.Email == nil || in.Role == nil {
		return invalidField("email", "email and role are required")
	}
	email, err := auth.NormalizeEmail(*in.Email)
	if err != nil {
		return invalidField("email", "is not an email address")
	}
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (m.Invitation, error) {
		return m.Invite(ctx, q, id[0], email, *in.Role)
	})
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[m.Invitation], error) {
		rows, err := m.ListInvitations(ctx, q, id[0])
		return list[m.Invitation]{Data: rows}, err
	})
}

func (s *Server) withdrawInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "invitationID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return m.WithdrawInvitation(ctx, q, id[0], id[1])
	})
}

func (s *Server) myInvitations(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[m.Invitation], error) {
		rows, err := m.MyInvitations(ctx, q)
		return list[m.Invitation]{Data: rows}, err
	})
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token *string `json:"token"`
	}
	id, err := idsAndBody(w, r, &in, "invitationID")
	if err != nil {
		return err
	}
	if in.Token == nil || *in.Token == "" {
		return invalidField("token", "is required: the token the inviter was given")
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.Member, error) {
		return m.AcceptInvitation(ctx, q, id[0], *in.Token)
	})
}

func (s *Server) declineInvitation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token *string `json:"token"`
	}
	id, err := idsAndBody(w, r, &in, "invitationID")
	if err != nil {
		return err
	}
	if in.Token == nil || *in.Token == "" {
		return invalidField("token", "is required: the token the inviter was given")
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return m.DeclineInvitation(ctx, q, id[0], *in.Token)
	})
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID", "userID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return m.RemoveMember(ctx, q, id[0], id[1])
	})
}

func (s *Server) getPage(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.MerchantPage, error) {
		return m.GetPage(ctx, q, id[0])
	})
}

func (s *Server) updatePage(w http.ResponseWriter, r *http.Request) error {
	var in m.PageInput
	id, err := idsAndBody(w, r, &in, "merchantID")
	if err != nil {
		return err
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.MerchantPage, error) {
		return m.UpdatePage(ctx, q, id[0], in)
	})
}

func (s *Server) getPublicPage(w http.ResponseWriter, r *http.Request) error {
	slug, signedIn := chiParam(r, "slug"), principal(r) != nil
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (m.PublicPage, error) {
		return m.GetPublicPage(ctx, q, slug, signedIn)
	})
}
