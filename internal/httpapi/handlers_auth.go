package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
)

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := s.Auth.Signup(r.Context(), meta(r), in.Email, in.Password); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := decode(w, r, &in); err != nil {
		return err
	}
	pair, err := s.Auth.Login(r.Context(), meta(r), in.Email, in.Password)
	s.Metrics.Auth("login", outcome(err))
	if errors.Is(err, auth.ErrBadCredentials) && s.Threats != nil {
		s.event(r, "login_failed", "low",
			map[string]string{"account": s.Threats.AccountTag(in.Email)})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pair)
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	pair, err := s.Auth.Refresh(r.Context(), meta(r), in.RefreshToken)
	var reuse *auth.ReuseError
	s.Metrics.Auth("refresh", outcome(err))
	if errors.As(err, &reuse) {
		s.event(r, "refresh_token_reuse", "high",
			map[string]string{"session": reuse.SessionID.String()})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pair)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.Logout(r.Context(), meta(r), principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.LogoutAll(r.Context(), meta(r), principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (list[auth.Session], error) {
		rows, err := s.Auth.Sessions(ctx, q, principal(r))
		return list[auth.Session]{Data: rows}, err
	})
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "sessionID")
	if err != nil {
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		return auth.RevokeSession(ctx, q, id[0])
	})
}

type user struct {
	ID           uuid.UUID `json:"id"`
	Email        string    `json:"email"`
	PlatformRole string    `json:"platform_role"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (user, error) {
		var u user
		err := q.QueryRow(ctx, `
select id, email, platform_role, status, created_at
from auth.users where id = (select auth.uid())`).
			Scan(&u.ID, &u.Email, &u.PlatformRole, &u.Status, &u.CreatedAt)
		return u, db.SessionEndedIfNoRow(err)
	})
}

// requirePlatformAdmin answers 403 unless the caller's token is a
// platform admin's. A token whose session is gone gets 401 first, as on
// every other endpoint, so a revoked or suspended user learns nothing
// about the route.
func (s *Server) requirePlatformAdmin(r *http.Request) error {
	if p := principal(r); p != nil && p.Role == db.RolePlatformAdmin {
		return nil
	}
	if err := s.tx(r, func(db.Querier) error { return nil }); err != nil {
		return err
	}
	return apperr.New(apperr.Forbidden, "platform admins only")
}

// outcome names an authentication result for metrics: a fixed set.
func outcome(err error) string {
	var reuse *auth.ReuseError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &reuse):
		return "token_reuse"
	case errors.Is(err, auth.ErrBadCredentials):
		return "bad_credentials"
	case apperr.Is(err, apperr.Unauthenticated):
		return "invalid"
	case apperr.Is(err, apperr.Invalid):
		return "malformed"
	}
	return "error"
}

func (s *Server) exportMe(w http.ResponseWriter, r *http.Request) error {
	return txJSON(s, w, r, http.StatusOK, func(ctx context.Context, q db.Querier) (json.RawMessage, error) {
		var raw json.RawMessage
		err := q.QueryRow(ctx, `select auth.export_me()`).Scan(&raw)
		return raw, err
	})
}

// deleteMe erases the caller's account after checking the password again:
// a stolen access token alone cannot erase an account.
func (s *Server) deleteMe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := principal(r)
	if err := s.Auth.CheckPassword(r.Context(), meta(r), p, in.Password); err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			s.Metrics.Auth("reauth", "bad_credentials")
			// Counted with failed sign-ins, so the address rules apply.
			s.event(r, "login_failed", "low",
				map[string]string{"reauth": "erase_account"})
		}
		return err
	}
	return s.noContent(w, r, func(ctx context.Context, q db.Querier) error {
		var outcome string
		if err := q.QueryRow(ctx, `select auth.erase_me()`).Scan(&outcome); err != nil {
			return err
		}
		if outcome == "owner" {
			return apperr.New(apperr.Conflict,
				"hand over the merchants you own before erasing your account")
		}
		return nil
	})
}
