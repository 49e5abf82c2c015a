package httpapi

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/mfa"
)

// mfaRoutes registers the second-factor endpoints; they belong in the
// authenticated group.
func (s *Server) mfaRoutes(r chi.Router) {
	r.Post("/auth/mfa/totp/enroll", s.wrap(s.enrollTOTP))
	r.Post("/auth/mfa/totp/verify", s.wrap(s.verifyTOTP))
	r.Delete("/auth/mfa/totp", s.wrap(s.disableTOTP))
	r.Post("/auth/mfa/recovery", s.wrap(s.recoverMFA))
}

func (s *Server) enrollTOTP(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusCreated, func(ctx context.Context, q db.Querier) (*mfa.Enrollment, error) {
		return s.MFA.Enroll(ctx, q)
	})
}

func (s *Server) verifyTOTP(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FactorID *uuid.UUID `json:"factor_id"`
		Code     string     `json:"code"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if len(in.Code) != 6 {
		return invalidField("code", "must be the 6 digits the app shows")
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (*mfa.Result, error) {
		return s.MFA.Verify(ctx, q, in.FactorID, in.Code)
	})
}

func (s *Server) recoverMFA(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if len(in.Code) < 10 || len(in.Code) > 32 {
		return invalidField("code", "must be one of the recovery codes")
	}
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (*mfa.Result, error) {
		return s.MFA.Recover(ctx, q, in.Code)
	})
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return s.MFA.Disable(ctx, q)
	})
}
