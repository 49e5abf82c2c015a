package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/seed"
)

// sellersDomain is the mail domain of the owner accounts the marketplace
// seed creates (seller-<id>@sellers.example.test).
const sellersDomain = "@sellers.example.test"

// reloginAfter is when a fixture's access tokens are renewed; the servers
// issue them for 15 minutes.
const reloginAfter = 8 * time.Minute

// item is a published item of a seller, as an order line needs it.
type item struct {
	ID    uuid.UUID
	Price int64
}

// seller is one seller owner the load acts as, with ids of its merchant's
// own customers and items.
type seller struct {
	UserID     uuid.UUID
	Email      string
	MerchantID uuid.UUID
	Customers  []uuid.UUID
	Items      []item

	// Set by login.
	SessionID uuid.UUID
	authz     http.Header
}

// fixture is the sellers a run acts as. Requests pick one at random, so
// the load is spread over several users and merchants, as real traffic
// is: the customer-data quota check serialises the reads of one user and
// merchant, and one user alone would measure that lock.
type fixture struct {
	sellers  []*seller
	loggedAt time.Time
}

// loadFixture picks the n seller owners whose merchants have the most
// orders, with up to 64 customers and 16 published items each.
func loadFixture(ctx context.Context, admin *pgx.Conn, n int) (*fixture, error) {
	rows, err := admin.Query(ctx, `
select u.id,
       u.email,
       mm.merchant_id
from app.merchant_members mm
join auth.users u on u.id = mm.user_id
where mm.role = 'owner'
  and u.email like '%' || $1::text
  and u.status = 'active'
order by (select count(*) from app.orders o
          where o.merchant_id = mm.merchant_id) desc,
         u.email
limit $2`, sellersDomain, n)
	if err != nil {
		return nil, fmt.Errorf("pick sellers: %w", err)
	}
	sellers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*seller, error) {
		s := &seller{}
		return s, r.Scan(&s.UserID, &s.Email, &s.MerchantID)
	})
	if err != nil {
		return nil, fmt.Errorf("pick sellers: %w", err)
	}

	f := &fixture{}
	for _, s := range sellers {
		if err := s.loadIDs(ctx, admin); err != nil {
			return nil, err
		}
		if len(s.Customers) > 0 && len(s.Items) > 0 {
			f.sellers = append(f.sellers, s)
		}
	}
	if len(f.sellers) == 0 {
		return nil, errors.New("no seller owner with customers and items: " +
			"is the marketplace dataset loaded?")
	}
	logf("acting as %d seller owners (%s, ...)", len(f.sellers), f.sellers[0].Email)
	return f, nil
}

func (s *seller) loadIDs(ctx context.Context, admin *pgx.Conn) error {
	rows, err := admin.Query(ctx, `
select id
from app.merchant_customers
where merchant_id = $1 and erased_at is null
order by id
limit 64`, s.MerchantID)
	if err != nil {
		return fmt.Errorf("load customers: %w", err)
	}
	if s.Customers, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return fmt.Errorf("load customers: %w", err)
	}

	rows, err = admin.Query(ctx, `
select id,
       price_cents
from app.merchant_items
where merchant_id = $1 and published
order by id
limit 16`, s.MerchantID)
	if err != nil {
		return fmt.Errorf("load items: %w", err)
	}
	s.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[item])
	if err != nil {
		return fmt.Errorf("load items: %w", err)
	}
	// Orders reserve stock, and the import leaves each item with what its
	// history sold: the items the load orders get enough for every run.
	_, err = admin.Exec(ctx, `
update app.merchant_items
set stock = $2
where id = any($1) and stock < $2`, itemIDs(s.Items), benchStock)
	if err != nil {
		return fmt.Errorf("stock items: %w", err)
	}
	return nil
}

// benchStock is the stock the fixture's items get before a run: far more
// than order_create takes (up to 3 units an order, over 16 items a seller).
const benchStock = 1_000_000_000

func (f *fixture) pick() *seller { return f.sellers[rand.IntN(len(f.sellers))] }

func (f *fixture) stale() bool { return time.Since(f.loggedAt) > reloginAfter }

// login signs every seller in through the server at base and keeps its
// access token and session.
func (f *fixture) login(ctx context.Context, base string) error {
	for _, s := range f.sellers {
		pair, err := signIn(ctx, base, s.Email)
		if err != nil {
			return fmt.Errorf("sign in %s: %w", s.Email, err)
		}
		s.SessionID = pair.SessionID
		s.authz = http.Header{"Authorization": {"Bearer " + pair.AccessToken}}
	}
	f.loggedAt = time.Now()
	return nil
}

type tokenPair struct {
	AccessToken string    `json:"access_token"`
	SessionID   uuid.UUID `json:"session_id"`
}

func loginBody(email string) []byte {
	b, _ := json.Marshal(map[string]string{"email": email,
		"password": seed.MarketplacePassword})
	return b
}

func signIn(ctx context.Context, base, email string) (*tokenPair, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		base+"/v1/auth/login", bytes.NewReader(loginBody(email)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login answered %s", resp.Status)
	}
	var p tokenPair
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, fmt.Errorf("decode login answer: %w", err)
	}
	return &p, nil
}
