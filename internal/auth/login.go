package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/token"
)

type candidate struct {
	id           uuid.UUID
	hash         string
	status       string
	platformRole string
}

// Login checks a password and opens a session. Every failure returns
// ErrBadCredentials after the same amount of hashing work, whether or not
// the account exists.
//
// An account and client network pair that failed 10 times in 30 minutes is
// locked: it answers the same failure without checking the password (after
// the same hashing work), so the lock tells an attacker nothing. Failures
// from 3 on are slowed down progressively.
func (s *Service) Login(ctx context.Context, m Meta, email, pw string) (*TokenPair, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		s.opt.Hasher.Decoy(pw)
		return nil, ErrBadCredentials
	}
	tag := s.accountTag(e)
	failures, err := s.recentFailures(ctx, m, tag)
	if err != nil {
		return nil, err
	}
	if failures >= maxFailures {
		s.opt.Hasher.Decoy(pw)
		return nil, s.fail(ctx, m, tag)
	}

	c, err := s.candidate(ctx, m, e)
	if err != nil {
		return nil, err
	}
	if c == nil {
		s.opt.Hasher.Decoy(pw)
		return nil, s.fail(ctx, m, tag)
	}
	ok, rehash, err := s.opt.Hasher.Verify(c.hash, pw)
	if err != nil || !ok || c.status != "active" {
		return nil, s.fail(ctx, m, tag)
	}

	pair, p, err := s.openSession(ctx, m, c)
	if err != nil {
		return nil, err
	}
	if failures > 0 {
		s.clearFailures(ctx, m, tag)
	}
	if rehash {
		s.rehash(ctx, m, p, c.hash, pw)
	}
	return pair, nil
}

func (s *Service) candidate(ctx context.Context, m Meta, email string) (*candidate, error) {
	var c candidate
	err := s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		return q.QueryRow(ctx, `
select user_id, password_hash, status, platform_role
from auth.login_candidate($1)`, email).
			Scan(&c.id, &c.hash, &c.status, &c.platformRole)
	})
	if errors.Is(err, pgx.ErrNoRows) || isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up account: %w", err)
	}
	return &c, nil
}

func (s *Service) openSession(ctx context.Context, m Meta, c *candidate) (*TokenPair, *Principal, error) {
	plain, hash := token.NewRefreshToken(s.refreshKey)
	var sid *uuid.UUID
	err := s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		return q.QueryRow(ctx,
			`select auth.open_session($1, $2, $3, $4, $5, $6)`,
			c.id, hash, nullIP(m.IP), m.UserAgent,
			s.opt.SessionIdle, s.opt.SessionMaxAge).Scan(&sid)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open session: %w", err)
	}
	if sid == nil {
		return nil, nil, ErrBadCredentials
	}
	p := &Principal{UserID: c.id, SessionID: *sid,
		Role: requestRole(c.platformRole), AAL: token.AAL1}
	pair, err := s.issue(p, plain)
	return pair, p, err
}

// rehash upgrades a stored hash made with weaker parameters. A failure is
// not the caller's problem: the old hash still works.
func (s *Service) rehash(ctx context.Context, m Meta, p *Principal, old, pw string) {
	h, err := s.opt.Hasher.Hash(pw)
	if err != nil {
		return
	}
	_ = s.db.Tx(ctx, DBPrincipal(p, m), func(q db.Querier) error {
		_, err := q.Exec(ctx, `select auth.rehash_password($1, $2)`, old, h)
		return err
	})
}

func (s *Service) issue(p *Principal, refresh string) (*TokenPair, error) {
	c := token.Claims{Role: p.Role, SessionID: p.SessionID.String(),
		AAL: p.AAL, AALAt: p.AALAt}
	c.Subject = p.UserID.String()
	access, exp, err := s.opt.Issuer.Issue(c)
	if err != nil {
		return nil, fmt.Errorf("issue access token: %w", err)
	}
	return &TokenPair{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    int(time.Until(exp).Round(time.Second).Seconds()),
		RefreshToken: refresh,
		SessionID:    p.SessionID,
	}, nil
}

// Refresh exchanges a refresh token for a new pair. A token reused outside
// the grace window revokes its session (ErrRefreshReused is wrapped so the
// edge can count and report it); every other failure looks the same.
func (s *Service) Refresh(ctx context.Context, m Meta, refresh string) (*TokenPair, error) {
	if len(refresh) > 128 {
		return nil, errBadRefresh
	}
	plain, hash := token.Successor(s.refreshKey, refresh)
	old := token.HashRefreshToken(s.refreshKey, refresh)

	var r struct {
		outcome string
		sid     *uuid.UUID
		uid     *uuid.UUID
		prole   *string
		aal     *string
		aalAt   *time.Time
	}
	err := s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		return q.QueryRow(ctx, `
select outcome, session_id, user_id, platform_role, aal, aal_at
from auth.rotate_refresh($1, $2, $3)`, old, hash, s.opt.RefreshGrace).
			Scan(&r.outcome, &r.sid, &r.uid, &r.prole, &r.aal, &r.aalAt)
	})
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	switch r.outcome {
	case "ok":
	case "reused":
		return nil, &ReuseError{SessionID: *r.sid, UserID: *r.uid}
	default:
		return nil, errBadRefresh
	}

	p := &Principal{UserID: *r.uid, SessionID: *r.sid,
		Role: requestRole(*r.prole), AAL: *r.aal}
	if r.aalAt != nil {
		p.AALAt = r.aalAt.Unix()
	}
	return s.issue(p, plain)
}

// ReuseError reports a refresh token presented again after its grace
// window: the session it belonged to is now revoked. Clients see the same
// 401 as any bad refresh.
type ReuseError struct {
	SessionID uuid.UUID
	UserID    uuid.UUID
}

func (e *ReuseError) Error() string { return "refresh token reused; session revoked" }

// Unwrap makes a ReuseError answer like any failed refresh.
func (e *ReuseError) Unwrap() error { return errBadRefresh }

func requestRole(platformRole string) string {
	if platformRole == "platform_admin" {
		return db.RolePlatformAdmin
	}
	return db.RoleAuthenticated
}

func nullIP(ip string) any {
	if ip == "" {
		return nil
	}
	return ip
}

// maxFailures is how many failed sign-ins of one account from one network
// are allowed in 30 minutes (PCI DSS 8.3.4 allows at most 10).
const maxFailures = 10

// maxDelay caps the progressive delay of failed sign-ins.
const maxDelay = 2 * time.Second

func (s *Service) accountTag(email string) string {
	mac := hmac.New(sha256.New, s.opt.LockoutKey)
	mac.Write([]byte(email))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func (s *Service) recentFailures(ctx context.Context, m Meta, tag string) (int, error) {
	if m.IP == "" {
		return 0, nil
	}
	var n int
	err := s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		return q.QueryRow(ctx, `select auth.login_failures_recent($1, $2)`,
			tag, m.IP).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count failed sign-ins: %w", err)
	}
	return n, nil
}

// fail records a failed sign-in, waits the progressive delay, and returns
// the one answer every failure gets.
func (s *Service) fail(ctx context.Context, m Meta, tag string) error {
	if m.IP == "" {
		return ErrBadCredentials
	}
	var n int
	err := s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		return q.QueryRow(ctx, `select auth.note_login_failure($1, $2)`,
			tag, m.IP).Scan(&n)
	})
	if err != nil {
		return fmt.Errorf("record failed sign-in: %w", err)
	}
	if d := s.delay(n); d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return ErrBadCredentials
}

func (s *Service) delay(failures int) time.Duration {
	if s.opt.LockoutDelay <= 0 || failures < 3 || failures >= maxFailures {
		return 0
	}
	return min(s.opt.LockoutDelay<<(failures-3), maxDelay)
}

func (s *Service) clearFailures(ctx context.Context, m Meta, tag string) {
	_ = s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		_, err := q.Exec(ctx, `select auth.clear_login_failures($1, $2)`, tag, m.IP)
		return err
	})
}
