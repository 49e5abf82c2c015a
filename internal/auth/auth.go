// Package auth signs users up and in, rotates refresh tokens and turns a
// bearer token into the principal a request transaction runs as. Sessions
// live in the database and are checked on every request, so a logout or a
// revocation takes effect at once.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/confusable"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/password"
	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/token"
)

// ErrBadCredentials is the one answer to every failed login: unknown email,
// wrong password or an account that may not sign in look the same.
var ErrBadCredentials = apperr.New(apperr.Unauthenticated,
	"invalid email or password")

// errBadRefresh answers every refresh that does not succeed.
var errBadRefresh = apperr.New(apperr.Unauthenticated,
	"refresh token is invalid or expired")

// Options configure a Service.
type Options struct {
	Hasher        password.Hasher
	Issuer        *token.Issuer
	AccessTTL     time.Duration
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	RefreshGrace  time.Duration
	// RefreshKey keys the stored hashes of refresh tokens.
	RefreshKey []byte
	// LockoutKey keys the account tags that failed sign-ins are counted
	// under (with the client's network), so the table holds no email.
	LockoutKey []byte
	// LockoutDelay is the delay after the third failure of an account
	// from one network; it doubles with each failure, up to MaxDelay, until
	// the tenth locks the pair for 30 minutes. Zero disables the delay.
	LockoutDelay time.Duration
}

// Service implements authentication over the database.
type Service struct {
	db         *db.DB
	opt        Options
	refreshKey []byte
}

// New returns a Service.
func New(d *db.DB, opt Options) *Service {
	return &Service{db: d, opt: opt, refreshKey: opt.RefreshKey}
}

// Meta is what the edge knows about the caller.
type Meta struct {
	IP        string
	RequestID string
	UserAgent string
}

// TokenPair is what a login or refresh hands the client.
type TokenPair struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int       `json:"expires_in"`
	RefreshToken string    `json:"refresh_token"`
	SessionID    uuid.UUID `json:"session_id"`
}

// Principal is a verified caller.
type Principal struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	Role      string
	AAL       string
	AALAt     int64
}

// dbClaims is what policies read through auth.jwt().
type dbClaims struct {
	Sub       string `json:"sub"`
	Role      string `json:"role"`
	SessionID string `json:"session_id"`
	AAL       string `json:"aal"`
	AALAt     int64  `json:"aal_at,omitempty"`
}

// DBPrincipal returns the request transaction's principal for p; a nil p
// is an anonymous caller.
func DBPrincipal(p *Principal, m Meta) db.Principal {
	if p == nil {
		return db.Principal{Role: db.RoleAnon, IP: m.IP, RequestID: m.RequestID}
	}
	return db.Principal{
		Role: p.Role,
		Claims: dbClaims{Sub: p.UserID.String(), Role: p.Role,
			SessionID: p.SessionID.String(), AAL: p.AAL, AALAt: p.AALAt},
		IP:           m.IP,
		RequestID:    m.RequestID,
		CheckSession: true,
	}
}

// NormalizeEmail validates an email address and returns its canonical form
// (NFKC, trimmed, lower-cased), the form stored and compared.
func NormalizeEmail(s string) (string, error) {
	e := pii.NormalizeEmail(s)
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" || invisibleRune(e) ||
		len(e) > 254 || !strings.Contains(e[strings.LastIndex(e, "@"):], ".") {
		return "", apperr.InvalidFields(apperr.FieldError{Field: "email",
			Reason: "must be a plain email address"})
	}
	return e, nil
}

// invisibleRune reports a character no address needs and that changes how
// one displays: controls, format characters (bidirectional overrides, zero
// width joiners, the byte order mark) and line or paragraph separators.
// "evil\u202etset.elpmaxe@x.test" would otherwise show as someone else's.
func invisibleRune(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
	}) >= 0
}

// Signup creates an account. It answers the same whether or not the email
// was free, so it cannot be used to discover accounts; only a bad email or
// a password the policy refuses is an error.
func (s *Service) Signup(ctx context.Context, m Meta, email, pw string) error {
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := password.Validate(pw, e); err != nil {
		var pe *password.PolicyError
		if errors.As(err, &pe) {
			return apperr.InvalidFields(apperr.FieldError{Field: "password",
				Reason: pe.Reason})
		}
		return err
	}
	hash, err := s.opt.Hasher.Hash(pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	_, err = s.register(ctx, m, e, hash, "")
	return err
}

// register inserts an account and returns its id, or uuid.Nil when the email
// is taken. platformRole "platform_admin" also grants that role; it is used
// only by the admin bootstrap command, never by the API.
func (s *Service) register(ctx context.Context, m Meta, email, hash, platformRole string) (uuid.UUID, error) {
	var id *uuid.UUID
	err := s.db.Tx(ctx, DBPrincipal(nil, m), func(q db.Querier) error {
		return q.QueryRow(ctx, `select auth.register_user($1, $2, $3)`, email,
			hash, confusable.Skeleton(email)).Scan(&id)
	})
	if err != nil || id == nil {
		return uuid.Nil, err
	}
	return *id, nil
}
