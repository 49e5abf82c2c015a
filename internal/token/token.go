// Package token issues and verifies short-lived JWT access tokens signed
// with Ed25519, and makes opaque refresh tokens.
//
// Access tokens are bearer credentials checked without a database round
// trip, so they live at most MaxTTL; the server-side session named by their
// session_id is still checked on every request by the caller.
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Roles and assurance levels an access token may carry.
const (
	RoleAuthenticated = "authenticated"
	RolePlatformAdmin = "platform_admin"
	AAL1              = "aal1"
	AAL2              = "aal2"
)

// Limits on tokens and their verification.
const (
	MaxTTL   = 15 * time.Minute
	Leeway   = 30 * time.Second
	maxBytes = 4096 // longer strings are refused before parsing
)

// ErrInvalidToken wraps every reason Verify refuses a token. Callers answer
// 401 for it and never show the wrapped detail to clients.
var ErrInvalidToken = errors.New("invalid token")

// Claims are the claims of a Rampart access token. Subject is the user's
// UUID.
type Claims struct {
	jwt.RegisteredClaims
	Role      string `json:"role"`
	SessionID string `json:"session_id"`
	AAL       string `json:"aal"`
	AALAt     int64  `json:"aal_at,omitempty"`
}

// Issuer signs and verifies access tokens for one issuer and audience.
type Issuer struct {
	issuer   string
	audience string
	ttl      time.Duration
	signer   Key
	public   map[string]ed25519.PublicKey
	parser   *jwt.Parser
}

// NewIssuer returns an Issuer that signs with keys[0] and verifies with any
// of keys. It refuses an empty issuer or audience, a ttl outside
// (0, MaxTTL], no keys, and duplicate or invalid key ids.
func NewIssuer(issuer, audience string, ttl time.Duration, keys []Key) (*Issuer, error) {
	if err := checkIssuerArgs(issuer, audience, ttl, keys); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}

	public := make(map[string]ed25519.PublicKey, len(keys))
	for _, k := range keys {
		if err := checkKey(k, public); err != nil {
			return nil, fmt.Errorf("new issuer: %w", err)
		}
		public[k.ID] = k.Public()
	}

	return &Issuer{
		issuer:   issuer,
		audience: audience,
		ttl:      ttl,
		signer:   keys[0],
		public:   public,
		parser:   newParser(issuer, audience),
	}, nil
}

// checkIssuerArgs validates the scalar arguments of NewIssuer.
func checkIssuerArgs(issuer, audience string, ttl time.Duration, keys []Key) error {
	switch {
	case issuer == "" || audience == "":
		return errors.New("issuer and audience are required")
	case ttl <= 0 || ttl > MaxTTL:
		return fmt.Errorf("ttl %v outside (0, %v]", ttl, MaxTTL)
	case len(keys) == 0:
		return errors.New("no keys")
	}
	return nil
}

// checkKey validates one key against those already accepted.
func checkKey(k Key, seen map[string]ed25519.PublicKey) error {
	if err := checkKeyID(k.ID); err != nil {
		return err
	}
	if _, dup := seen[k.ID]; dup {
		return fmt.Errorf("duplicate kid %q", k.ID)
	}
	if len(k.Private) != ed25519.PrivateKeySize {
		return fmt.Errorf("kid %q: private key is %d bytes", k.ID, len(k.Private))
	}
	return nil
}

// newParser pins the algorithm and the claims every token must carry.
func newParser(issuer, audience string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithStrictDecoding(),
	)
}

// Issue signs c with the current key after setting iss, aud, iat, nbf, exp
// and a random jti; other registered claims of c are dropped. It returns
// the token and its expiry, or an error when c's subject, session, role or
// assurance level are invalid.
func (i *Issuer) Issue(c Claims) (string, time.Time, error) {
	now := time.Now()
	exp := jwt.NewNumericDate(now.Add(i.ttl))
	c.RegisteredClaims = jwt.RegisteredClaims{
		Issuer:    i.issuer,
		Subject:   c.Subject,
		Audience:  jwt.ClaimStrings{i.audience},
		ExpiresAt: exp,
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        rand.Text(),
	}
	if err := checkClaims(&c); err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}

	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = i.signer.ID
	s, err := t.SignedString(i.signer.Private)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return s, exp.Time, nil
}

// Verify checks tok's signature, algorithm, key id, issuer, audience and
// times, then the Rampart claims, and returns them. Every error wraps
// ErrInvalidToken.
func (i *Issuer) Verify(tok string) (*Claims, error) {
	if len(tok) > maxBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxBytes)
	}

	c := new(Claims)
	if _, err := i.parser.ParseWithClaims(tok, c, i.key); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if err := checkClaims(c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return c, nil
}

// key returns the public key named by the token's kid header.
func (i *Issuer) key(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodEdDSA {
		return nil, fmt.Errorf("alg %v", t.Header["alg"])
	}
	kid, ok := t.Header["kid"].(string)
	if !ok {
		return nil, errors.New("missing or non-string kid")
	}
	pub, ok := i.public[kid]
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	return pub, nil
}

// checkClaims validates the claims the jwt library does not know about.
func checkClaims(c *Claims) error {
	if err := checkUUID(c.Subject); err != nil {
		return fmt.Errorf("sub: %w", err)
	}
	if err := checkUUID(c.SessionID); err != nil {
		return fmt.Errorf("session_id: %w", err)
	}

	switch {
	case c.Role != RoleAuthenticated && c.Role != RolePlatformAdmin:
		return fmt.Errorf("role %q", c.Role)
	case c.AAL != AAL1 && c.AAL != AAL2:
		return fmt.Errorf("aal %q", c.AAL)
	case c.AALAt < 0:
		return fmt.Errorf("aal_at %d", c.AALAt)
	case c.IssuedAt == nil || c.ExpiresAt == nil:
		return errors.New("missing iat or exp")
	case c.ExpiresAt.Sub(c.IssuedAt.Time) > MaxTTL:
		return errors.New("lifetime longer than the maximum ttl")
	case c.ID == "":
		return errors.New("missing jti")
	}
	return nil
}

// checkUUID accepts only the canonical, lower-case, non-nil form of a UUID,
// the form Rampart writes, so that one user has one spelling.
func checkUUID(s string) error {
	u, err := uuid.Parse(s)
	if err != nil {
		return err
	}
	if u == uuid.Nil || u.String() != s {
		return fmt.Errorf("%q is not a canonical uuid", s)
	}
	return nil
}
