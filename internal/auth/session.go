package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
)

// ErrBadToken answers every bearer token that does not verify.
var ErrBadToken = apperr.New(apperr.Unauthenticated,
	"access token is invalid or expired")

// Authenticate verifies a bearer token's signature and claims. Whether its
// session is still live is checked by the request transaction itself
// (db.Principal.CheckSession), in the same round trip as the claims.
func (s *Service) Authenticate(bearer string) (*Principal, error) {
	c, err := s.opt.Issuer.Verify(bearer)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unauthenticated, ErrBadToken.Message, err)
	}
	uid, err1 := uuid.Parse(c.Subject)
	sid, err2 := uuid.Parse(c.SessionID)
	if err := errors.Join(err1, err2); err != nil {
		return nil, apperr.Wrap(apperr.Unauthenticated, ErrBadToken.Message, err)
	}
	return &Principal{UserID: uid, SessionID: sid, Role: c.Role,
		AAL: c.AAL, AALAt: c.AALAt}, nil
}

// Logout revokes the caller's current session.
func (s *Service) Logout(ctx context.Context, m Meta, p *Principal) error {
	return s.db.Tx(ctx, DBPrincipal(p, m), func(q db.Querier) error {
		_, err := q.Exec(ctx, `select auth.revoke_session(null, 'logout')`)
		return err
	})
}

// LogoutAll revokes every session of the caller.
func (s *Service) LogoutAll(ctx context.Context, m Meta, p *Principal) error {
	return s.db.Tx(ctx, DBPrincipal(p, m), func(q db.Querier) error {
		_, err := q.Exec(ctx, `select auth.revoke_all_sessions('logout_all')`)
		return err
	})
}

// Session is one of a user's sessions as the user sees it.
type Session struct {
	ID         uuid.UUID `json:"id"`
	Current    bool      `json:"current"`
	AAL        string    `json:"aal"`
	IP         *string   `json:"ip"`
	UserAgent  *string   `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// IdleExpiresAt is when the session ends unless it is used before:
	// its last use plus the idle timeout, never after ExpiresAt.
	IdleExpiresAt time.Time `json:"idle_expires_at"`
	// ExpiresAt is the absolute end of the session, however it is used.
	ExpiresAt time.Time `json:"expires_at"`
}

// Sessions lists the caller's live sessions, newest first. A session past
// its idle timeout is dead (check_session refuses it) and is not listed.
func (s *Service) Sessions(ctx context.Context, q db.Querier, p *Principal) ([]Session, error) {
	rows, err := q.Query(ctx, `
select id,
       aal,
       host(ip),
       user_agent,
       created_at,
       last_seen_at,
       least(last_seen_at + idle_timeout, expires_at),
       expires_at
from auth.sessions
where revoked_at is null and expires_at > now()
  and last_seen_at + idle_timeout > now()
order by created_at desc
limit 100`)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		var x Session
		if err := rows.Scan(&x.ID, &x.AAL, &x.IP, &x.UserAgent, &x.CreatedAt,
			&x.LastSeenAt, &x.IdleExpiresAt, &x.ExpiresAt); err != nil {
			return nil, err
		}
		x.Current = x.ID == p.SessionID
		out = append(out, x)
	}
	return out, rows.Err()
}

// RevokeSession revokes one of the caller's sessions; another user's
// session, or none, is not_found.
func RevokeSession(ctx context.Context, q db.Querier, id uuid.UUID) error {
	var ok bool
	err := q.QueryRow(ctx, `select auth.revoke_session($1, 'revoked_by_user')`,
		id).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.NotFound, "session not found")
	}
	return nil
}

func isNotFound(err error) bool { return apperr.Is(err, apperr.NotFound) }

// CheckPassword confirms the signed-in user's password, for operations
// that must not rest on a token alone. A wrong password answers
// ErrBadCredentials and counts as a failed sign-in of the account from the
// caller's network, so the sign-in lockout covers it: a pair that is locked
// is refused without the password being checked, as at sign-in. Reaching
// the lock this way also revokes the session the guesses came through,
// since whoever holds it does not know the password.
func (s *Service) CheckPassword(ctx context.Context, m Meta, p *Principal, pw string) error {
	var email string
	err := s.db.Tx(ctx, DBPrincipal(p, m), func(q db.Querier) error {
		return db.SessionEndedIfNoRow(q.QueryRow(ctx,
			`select email from auth.users where id = (select auth.uid())`).Scan(&email))
	})
	if err != nil {
		return err
	}
	tag := s.accountTag(email)
	failures, err := s.recentFailures(ctx, m, tag)
	if err != nil {
		return err
	}
	if failures >= maxFailures {
		s.opt.Hasher.Decoy(pw)
		return s.lockedOut(ctx, m, p, tag)
	}
	c, err := s.candidate(ctx, m, email)
	if err != nil || c == nil {
		s.opt.Hasher.Decoy(pw)
		return ErrBadCredentials
	}
	if ok, _, err := s.opt.Hasher.Verify(c.hash, pw); err != nil || !ok {
		if failures+1 >= maxFailures {
			return s.lockedOut(ctx, m, p, tag)
		}
		return s.fail(ctx, m, tag)
	}
	return nil
}

// lockedOut records one more failure of a re-authentication that reached
// the lockout and revokes the session it came through.
func (s *Service) lockedOut(ctx context.Context, m Meta, p *Principal, tag string) error {
	err := s.fail(ctx, m, tag)
	if rerr := s.db.Tx(ctx, DBPrincipal(p, m), func(q db.Querier) error {
		_, err := q.Exec(ctx, `select auth.revoke_session(null, 'password_guessing')`)
		return err
	}); rerr != nil {
		return fmt.Errorf("revoke a guessing session: %w", rerr)
	}
	return err
}
