// Package mfa is the TOTP second factor: enrolment, verification that lifts
// a session to aal2, single-use recovery codes, and disabling. Every
// method runs inside the caller's request transaction (db.Querier); the
// database functions of migration 000009 take the user and session from
// the claims, count wrong codes and decide, and this package holds what
// the database must never see: the opened TOTP secret and the key of the
// recovery code hashes.
package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/token"
)

// Errors the methods return; each is an *apperr.Error.
var (
	// ErrInvalidCode answers a wrong, replayed or stale code. It counts
	// against the session's challenge.
	ErrInvalidCode = apperr.New(apperr.Unauthenticated, "invalid code")
	// ErrLocked answers every code once a session presented five wrong
	// ones, and every code of every session once the account's sessions
	// presented 20 in the last hour (migration 000017): the session cannot
	// reach aal2 now.
	ErrLocked = apperr.New(apperr.Forbidden,
		"too many invalid codes: sign in again to get a new challenge; "+
			"after many failures on this account, new challenges open after an hour")
	// ErrNoFactor answers a factor id that is unknown or another user's,
	// and a caller without a factor.
	ErrNoFactor = apperr.New(apperr.NotFound, "factor not found")
	// ErrVerifiedExists refuses an enrolment while a verified factor
	// exists.
	ErrVerifiedExists = apperr.New(apperr.Conflict,
		"a verified factor exists; disable it first")
	// ErrRecentAAL2 refuses disabling from a session that did not verify
	// a second factor in the last 15 minutes.
	ErrRecentAAL2 = apperr.New(apperr.MFARequired,
		"a second factor verified in the last 15 minutes is required")
)

// errNoSession is answered when the claims name no live session; the
// request transaction's session check makes it unreachable in practice.
var errNoSession = apperr.New(apperr.Unauthenticated,
	"session is no longer valid")

// Options configure a Service.
type Options struct {
	// Issuer names the service in authenticator apps.
	Issuer string
	// Keys seals TOTP secrets at rest.
	Keys *pii.Keyring
	// RecoveryKey keys the stored hashes of recovery codes; at least 32
	// bytes, and distinct from every other key.
	RecoveryKey []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service enrols and verifies second factors. It is safe for concurrent
// use.
type Service struct {
	opt Options
}

// New returns a Service, or an error when an option is missing or the
// recovery key is too short.
func New(opt Options) (*Service, error) {
	switch {
	case opt.Issuer == "":
		return nil, errors.New("mfa: issuer is required")
	case opt.Keys == nil:
		return nil, errors.New("mfa: keyring is required")
	case len(opt.RecoveryKey) < 32:
		return nil, errors.New("mfa: recovery key must be at least 32 bytes")
	}
	opt.RecoveryKey = append([]byte(nil), opt.RecoveryKey...)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{opt: opt}, nil
}

// Enrollment is a new pending factor. Secret and URL are shown once and
// never stored in the clear.
type Enrollment struct {
	FactorID uuid.UUID `json:"factor_id"`
	Secret   string    `json:"secret"`
	URL      string    `json:"otpauth_url"`
}

// Result is the caller's session after a successful verification.
// RecoveryCodes is set only when the verification activated a factor;
// RecoveryCodesLeft only when a recovery code was spent.
type Result struct {
	AAL               string     `json:"aal"`
	AALAt             time.Time  `json:"aal_at"`
	FactorID          *uuid.UUID `json:"factor_id,omitempty"`
	RecoveryCodes     []string   `json:"recovery_codes,omitempty"`
	RecoveryCodesLeft *int       `json:"recovery_codes_left,omitempty"`
}

// Enroll creates a pending TOTP factor for the caller, replacing a pending
// one, and returns its secret. It returns ErrVerifiedExists when the
// caller already has a verified factor.
func (s *Service) Enroll(ctx context.Context, q db.Querier) (*Enrollment, error) {
	var email string
	err := q.QueryRow(ctx,
		`select email from auth.users where id = (select auth.uid())`).
		Scan(&email)
	if err := db.SessionEndedIfNoRow(err); err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	id := uuid.New()
	key, err := newSecret(s.opt.Issuer, email)
	if err != nil {
		return nil, err
	}

	sealed, err := s.opt.Keys.Seal([]byte(key.Secret()), secretAAD(id))
	if err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	var outcome string
	err = q.QueryRow(ctx, `select auth.mfa_enroll($1, $2, $3)`,
		id, sealed, secretCheck(key.Secret())).Scan(&outcome)
	if err != nil {
		return nil, fmt.Errorf("store factor: %w", err)
	}
	if err := outcomeError(outcome); err != nil {
		return nil, err
	}
	return &Enrollment{FactorID: id, Secret: key.Secret(), URL: key.URL()}, nil
}

// Verify checks a TOTP code against the caller's factor: the one named by
// factorID, or else the verified one, or else the pending one. A correct
// code lifts the session to aal2; on a pending factor it also activates
// the factor and returns ten new recovery codes, shown this once. It
// returns ErrInvalidCode for a wrong or replayed code (counted, and
// committed, against the session), ErrLocked after five, and ErrNoFactor.
func (s *Service) Verify(ctx context.Context, q db.Querier, factorID *uuid.UUID, code string) (*Result, error) {
	f, err := s.factor(ctx, q, factorID)
	if err != nil {
		return nil, err
	}
	secret, err := s.opt.Keys.Open(f.sealed, secretAAD(f.id))
	if err != nil {
		return nil, fmt.Errorf("open factor secret: %w", err)
	}
	step, ok := matchStep(string(secret), code, s.opt.Now())

	var codes []string
	var hashes [][]byte
	if ok && f.status == "pending" {
		codes, hashes = s.newRecoveryCodes()
	}
	out, err := s.verifyTOTP(ctx, q, f.id, string(secret), step, ok, hashes)
	if err != nil {
		return nil, err
	}
	out.FactorID = &f.id
	out.RecoveryCodes = codes
	return out, nil
}

type factor struct {
	id     uuid.UUID
	status string
	sealed []byte
}

func (s *Service) factor(ctx context.Context, q db.Querier, id *uuid.UUID) (*factor, error) {
	var f factor
	err := q.QueryRow(ctx, `
select id,
       status,
       secret_sealed
from auth.mfa_factor($1)`, id).Scan(&f.id, &f.status, &f.sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoFactor
	}
	if err != nil {
		return nil, fmt.Errorf("load factor: %w", err)
	}
	return &f, nil
}

func (s *Service) verifyTOTP(ctx context.Context, q db.Querier, id uuid.UUID,
	secret string, step int64, ok bool, hashes [][]byte) (*Result, error) {
	var matched *int64
	if ok {
		matched = &step
	}
	var outcome string
	var at *time.Time
	err := q.QueryRow(ctx, `
select outcome,
       aal_at
from auth.mfa_verify_totp($1, $2, $3, $4)`,
		id, secretProof(secret), matched, hashes).Scan(&outcome, &at)
	if err != nil {
		return nil, fmt.Errorf("verify code: %w", err)
	}
	if err := outcomeError(outcome); err != nil {
		return nil, err
	}
	return &Result{AAL: token.AAL2, AALAt: *at}, nil
}

// Recover spends one of the caller's recovery codes and lifts the session
// to aal2. A code that does not match an unused one of a user with a
// verified factor is ErrInvalidCode, counted like a wrong TOTP code;
// ErrLocked follows the fifth.
func (s *Service) Recover(ctx context.Context, q db.Querier, code string) (*Result, error) {
	var outcome string
	var at *time.Time
	var left int
	err := q.QueryRow(ctx, `
select outcome,
       aal_at,
       codes_left
from auth.mfa_use_recovery($1)`, s.recoveryHash(code)).
		Scan(&outcome, &at, &left)
	if err != nil {
		return nil, fmt.Errorf("use recovery code: %w", err)
	}
	if err := outcomeError(outcome); err != nil {
		return nil, err
	}
	return &Result{AAL: token.AAL2, AALAt: *at, RecoveryCodesLeft: &left}, nil
}

// Disable removes the caller's factors and recovery codes. The session
// must have verified a second factor in the last 15 minutes
// (ErrRecentAAL2); a caller without a factor gets ErrNoFactor.
func (s *Service) Disable(ctx context.Context, q db.Querier) error {
	var outcome string
	if err := q.QueryRow(ctx, `select auth.mfa_disable()`).Scan(&outcome); err != nil {
		return fmt.Errorf("disable factor: %w", err)
	}
	return outcomeError(outcome)
}

// outcomeError maps the outcome of an auth.mfa_* function to its error.
// Refusals that counted a wrong code must commit, so they are wrapped in
// db.CommitAndFail.
func outcomeError(outcome string) error {
	switch outcome {
	case "ok", "activated":
		return nil
	case "invalid":
		return db.CommitAndFail(ErrInvalidCode)
	case "locked":
		return db.CommitAndFail(ErrLocked)
	case "not_found":
		return ErrNoFactor
	case "verified_exists":
		return ErrVerifiedExists
	case "mfa_required":
		return ErrRecentAAL2
	case "unauthenticated":
		return errNoSession
	}
	return fmt.Errorf("unknown mfa outcome %q", outcome)
}

func secretAAD(id uuid.UUID) []byte {
	return []byte("mfa_factors.secret|" + id.String())
}
