// Package seed loads data through the same code paths the API uses: users
// sign up and sign in, and everything else is created in their request
// transactions, under row-level security.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/mfa"
)

// Deps are what seeding needs.
type Deps struct {
	DB    *db.DB
	Auth  *auth.Service
	Vault *marketplace.Vault
	MFA   *mfa.Service
	// Listen is the server's listen address (RAMPART_LISTEN), used only
	// to print sign-in commands that reach it; empty means ":8080".
	Listen string
}

// userAgent marks the sessions the seed opens, so they can be told apart
// from a person's.
const userAgent = "rampart-seed"

func meta(requestID string) auth.Meta {
	return auth.Meta{RequestID: requestID, UserAgent: userAgent}
}

// signIn logs in as the API's login endpoint does and returns the principal
// request transactions run as. A missing account or a wrong password is
// auth.ErrBadCredentials.
func signIn(ctx context.Context, d Deps, requestID, email, pw string) (*auth.Principal, error) {
	pair, err := d.Auth.Login(ctx, meta(requestID), email, pw)
	if err != nil {
		return nil, err
	}
	return d.Auth.Authenticate(pair.AccessToken)
}

// register signs up and then signs in. Signing up an email that is taken
// is a silent no-op, as in the API; the login then tells whether the
// account is usable with pw.
func register(ctx context.Context, d Deps, requestID, email, pw string) (*auth.Principal, error) {
	if err := d.Auth.Signup(ctx, meta(requestID), email, pw); err != nil {
		return nil, fmt.Errorf("sign up %s: %w", email, err)
	}
	p, err := signIn(ctx, d, requestID, email, pw)
	if isBadCredentials(err) {
		return nil, fmt.Errorf("sign in %s: the account exists with "+
			"another password or is not active", email)
	}
	if err != nil {
		return nil, fmt.Errorf("sign in %s: %w", email, err)
	}
	return p, nil
}

// signInOrRegister signs in, and signs up first when the account does not
// exist yet.
func signInOrRegister(ctx context.Context, d Deps, requestID, email, pw string) (*auth.Principal, error) {
	p, err := signIn(ctx, d, requestID, email, pw)
	if isBadCredentials(err) {
		return register(ctx, d, requestID, email, pw)
	}
	if err != nil {
		return nil, fmt.Errorf("sign in %s: %w", email, err)
	}
	return p, nil
}

// signOut revokes the session the seed opened for p: nobody holds its
// tokens, so it should not stay live until it expires. It runs even when
// ctx is cancelled.
func signOut(ctx context.Context, d Deps, requestID string, p *auth.Principal) error {
	err := d.Auth.Logout(context.WithoutCancel(ctx), meta(requestID), p)
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// asUser runs fn in one request transaction as p.
func asUser(ctx context.Context, d Deps, p *auth.Principal, requestID string, fn func(db.Querier) error) error {
	return d.DB.Tx(ctx, auth.DBPrincipal(p, meta(requestID)), fn)
}

// findMerchant returns the caller's merchant with the given slug, or nil
// when the caller is not a member of one.
func findMerchant(ctx context.Context, q db.Querier, slug string) (*marketplace.Merchant, error) {
	page := marketplace.Page{Limit: marketplace.MaxPageSize}
	for {
		ms, err := marketplace.ListMerchants(ctx, q, page)
		if err != nil {
			return nil, fmt.Errorf("list merchants: %w", err)
		}
		for i := range ms {
			if ms[i].Slug == slug {
				return &ms[i], nil
			}
		}
		if len(ms) < page.Limit {
			return nil, nil
		}
		last := ms[len(ms)-1]
		page.AfterTime, page.AfterID = &last.CreatedAt, last.ID
	}
}

func ptr[T any](v T) *T { return &v }

// loginCurl is a command line that signs in against a server listening
// on listen (":8080", "127.0.0.1:9000", ...) on this machine.
func loginCurl(listen, email, pw string) string {
	body, _ := json.Marshal(struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}{email, pw})
	return "curl -s " + localURL(listen) + "/v1/auth/login " +
		"-H 'content-type: application/json' -d '" + string(body) + "'"
}

// localURL is the base URL of a server listening on listen, as seen from
// this machine: a wildcard or missing host becomes localhost.
func localURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		return "localhost:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func isBadCredentials(err error) bool {
	return errors.Is(err, auth.ErrBadCredentials)
}

// advanceOrder brings a new (pending) order to status one allowed step at
// a time, as a merchant would move it along.
func advanceOrder(ctx context.Context, q db.Querier, merchantID, orderID uuid.UUID, status string) error {
	path := marketplace.StatusPath("pending", status)
	if path == nil {
		return fmt.Errorf("no way from pending to status %q", status)
	}
	for _, st := range path {
		_, err := marketplace.SetOrderStatus(ctx, q, merchantID, orderID,
			marketplace.OrderStatusInput{Status: &st})
		if err != nil {
			return err
		}
	}
	return nil
}
