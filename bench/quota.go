package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// quotaResult is the latency of one statement called again and again on
// one connection, one call per transaction.
type quotaResult struct {
	Name      string  `json:"name"`
	Title     string  `json:"title"`
	AuditRows int64   `json:"audit_rows"`
	Window    int64   `json:"window_rows"`
	Calls     int     `json:"calls"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	PerSecond float64 `json:"calls_per_second"`
}

func (r *quotaResult) String() string {
	return fmt.Sprintf("%s: p50 %.3f ms, p99 %.3f ms over %d calls "+
		"(%d audit rows, %d in the caller's window)", r.Name, r.P50, r.P99,
		r.Calls, r.AuditRows, r.Window)
}

// quotaWarmup calls are made before the measured ones and not counted.
const quotaWarmup = 100

// quota times the customer-data quota check at the audit table's current
// size: the check alone, then the whole audited door that calls it. Both
// act as the first seller reading one of its customers. The check runs
// as the admin login with the seller's claims: no request role may execute
// it (only get_customer_data_secure, which runs as its owner, calls it),
// and as a security-definer function it runs as its owner either way.
func (b *bench) quota(ctx context.Context) ([]*quotaResult, error) {
	s := b.fx.sellers[0]
	if err := b.checkIdentity(ctx, s); err != nil {
		return nil, err
	}
	check, err := b.timeCheck(ctx, s)
	if err != nil {
		return nil, err
	}
	door, err := b.timeDoor(ctx, s)
	if err != nil {
		return nil, err
	}
	out := []*quotaResult{check, door}
	for _, r := range out {
		logf("%s", r)
	}
	return out, nil
}

// checkIdentity makes sure the seller's claims name a live session, so the
// check really counts that user's rows instead of answering for nobody.
func (b *bench) checkIdentity(ctx context.Context, s *seller) error {
	var uid *uuid.UUID
	err := pgx.BeginFunc(ctx, b.admin, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`select set_config('request.jwt.claims', $1, true)`, claims(s))
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `select auth.uid()`).Scan(&uid)
	})
	if err != nil {
		return fmt.Errorf("check claims: %w", err)
	}
	if uid == nil || *uid != s.UserID {
		return errors.New("the seller's claims name no live session")
	}
	return nil
}

func (b *bench) timeCheck(ctx context.Context, s *seller) (*quotaResult, error) {
	r := &quotaResult{Name: "quota_check",
		Title: "security.check_customer_data_access_limit (view of one customer)"}
	cl := claims(s)
	lat, err := timeCalls(ctx, b.o.quotaCalls, func(ctx context.Context) (time.Duration, error) {
		return checkCall(ctx, b.admin, cl, s)
	})
	if err != nil {
		return nil, fmt.Errorf("time the quota check: %w", err)
	}
	return r, b.finish(ctx, r, s, lat)
}

func checkCall(ctx context.Context, conn *pgx.Conn, cl string, s *seller) (time.Duration, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx,
		`select set_config('request.jwt.claims', $1, true)`, cl)
	if err != nil {
		return 0, err
	}
	var allowed bool
	start := time.Now()
	err = tx.QueryRow(ctx, `
select allowed
from security.check_customer_data_access_limit($1, 'view', $2)`,
		s.MerchantID, []uuid.UUID{anyOf(s.Customers)}).Scan(&allowed)
	d := time.Since(start)
	if err == nil && !allowed {
		err = errors.New("the quota check refused: is the quota raised?")
	}
	return d, err
}

// timeDoor times the read a customer_read request makes, as rampart_api
// in a request transaction: the check, the membership lookup and the
// audit insert together.
func (b *bench) timeDoor(ctx context.Context, s *seller) (*quotaResult, error) {
	r := &quotaResult{Name: "customer_door",
		Title: "security.get_customer_data_secure (view, audited), as authenticated"}
	conn, err := pgx.Connect(ctx, b.o.apiURL)
	if err != nil {
		return nil, fmt.Errorf("connect as rampart_api: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cl := claims(s)
	lat, err := timeCalls(ctx, b.o.quotaCalls, func(ctx context.Context) (time.Duration, error) {
		return doorCall(ctx, conn, cl, s)
	})
	if err != nil {
		return nil, fmt.Errorf("time the customer door: %w", err)
	}
	return r, b.finish(ctx, r, s, lat)
}

func doorCall(ctx context.Context, conn *pgx.Conn, cl string, s *seller) (time.Duration, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `
select set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', $1, true),
       set_config('request.ip', '127.0.0.1', true),
       set_config('request.id', 'bench-quota', true)`, cl); err != nil {
		return 0, err
	}
	var status string
	start := time.Now()
	err = tx.QueryRow(ctx, `
select status
from security.get_customer_data_secure($1, 'view', $2, null, null, null,
  null, null, 0, null)`, s.MerchantID, anyOf(s.Customers)).Scan(&status)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if status != "ok" {
		return 0, fmt.Errorf("the door answered %s", status)
	}
	return d, tx.Commit(ctx)
}

// timedCall makes one call and returns how long its statement took.
type timedCall func(context.Context) (time.Duration, error)

// timeCalls makes quotaWarmup unmeasured calls, then n measured ones.
func timeCalls(ctx context.Context, n int, call timedCall) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, n)
	for i := range quotaWarmup + n {
		d, err := call(ctx)
		if err != nil {
			return nil, err
		}
		if i >= quotaWarmup {
			lat = append(lat, d)
		}
	}
	return lat, nil
}

// finish fills in the figures and the audit table's size as it was.
func (b *bench) finish(ctx context.Context, r *quotaResult, s *seller, lat []time.Duration) error {
	var total time.Duration
	for _, d := range lat {
		total += d
	}
	r.Calls = len(lat)
	r.P50 = round(ms(percentile(lat, 0.50)), 3)
	r.P99 = round(ms(percentile(lat, 0.99)), 3)
	r.PerSecond = round(float64(len(lat))/total.Seconds(), 0)
	err := b.admin.QueryRow(ctx, `
select (select count(*) from security.customer_access_audit),
       (select count(*) from security.customer_access_audit a
        where a.user_id = $1 and a.merchant_id = $2
          and a.at > now() - (select records_window
                              from security.customer_access_limits))`,
		s.UserID, s.MerchantID).Scan(&r.AuditRows, &r.Window)
	if err != nil {
		return fmt.Errorf("count audit rows: %w", err)
	}
	return nil
}
