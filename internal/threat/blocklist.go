// Package threat is the service's side of detection and response: it
// records security events (folding bursts in memory so an attack does not
// become a write storm), keeps every instance's copy of IP blocks and
// suspensions current through LISTEN/NOTIFY, and seals the audit chains.
// Responses themselves are decided in SQL, so every instance agrees.
package threat

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/db"
)

// Channel is the NOTIFY channel on which the database announces a change
// of blocks or suspensions.
const Channel = "rampart_blocks"

// snapshot is one immutable copy of what is blocked; lookups never lock.
type snapshot struct {
	ips       *bart.Table[time.Time] // value: expiry, zero for none
	suspended map[uuid.UUID]struct{}
	loaded    time.Time
}

// Blocklist answers, in well under a microsecond, whether an address is
// blocked or a user suspended, from a snapshot of the database.
type Blocklist struct {
	db   *db.DB
	log  *zap.Logger
	snap atomic.Pointer[snapshot]
	// OnReload, if set, is told the sizes after each reload (metrics).
	OnReload func(ips, users int)
	// ListenURL, if set, is a direct connection for LISTEN: behind a
	// transaction-mode pooler such as PgBouncer, notifications do not
	// reach a pooled connection.
	ListenURL string
}

// NewBlocklist returns an empty blocklist; call Reload or Run to fill it.
func NewBlocklist(d *db.DB, log *zap.Logger) *Blocklist {
	b := &Blocklist{db: d, log: log}
	b.snap.Store(&snapshot{ips: &bart.Table[time.Time]{},
		suspended: map[uuid.UUID]struct{}{}})
	return b
}

// BlockedIP reports whether addr falls in a live block.
func (b *Blocklist) BlockedIP(addr netip.Addr) bool {
	exp, ok := b.snap.Load().ips.Lookup(addr.Unmap())
	return ok && (exp.IsZero() || time.Now().Before(exp))
}

// Suspended reports whether a user is suspended.
func (b *Blocklist) Suspended(id uuid.UUID) bool {
	_, ok := b.snap.Load().suspended[id]
	return ok
}

// Reload replaces the snapshot with the database's live blocks.
func (b *Blocklist) Reload(ctx context.Context) error {
	next := &snapshot{ips: &bart.Table[time.Time]{},
		suspended: map[uuid.UUID]struct{}{}, loaded: time.Now()}
	err := b.db.Tx(ctx, db.Principal{Role: db.RoleAnon}, func(q db.Querier) error {
		rows, err := q.Query(ctx, `
select kind, network, user_id, expires_at from security.live_blocks()`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var network *netip.Prefix
			var user *uuid.UUID
			var exp *time.Time
			if err := rows.Scan(&kind, &network, &user, &exp); err != nil {
				return err
			}
			next.add(kind, network, user, exp)
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("load blocks: %w", err)
	}
	b.snap.Store(next)
	if b.OnReload != nil {
		b.OnReload(next.ips.Size(), len(next.suspended))
	}
	return nil
}

func (s *snapshot) add(kind string, network *netip.Prefix, user *uuid.UUID, exp *time.Time) {
	var until time.Time
	if exp != nil {
		until = *exp
	}
	switch {
	case kind == "ip" && network != nil:
		p := network.Masked()
		// Overlapping rows: the longest-lived block wins.
		if cur, ok := s.ips.Get(p); ok && (cur.IsZero() || (!until.IsZero() && cur.After(until))) {
			return
		}
		s.ips.Insert(p, until)
	case kind == "user" && user != nil:
		s.suspended[*user] = struct{}{}
	}
}

// Run keeps the blocklist current until ctx ends: it reloads on every
// NOTIFY on Channel, and every refresh interval in case a notification was
// missed or a block expired. It reconnects by itself.
func (b *Blocklist) Run(ctx context.Context, refresh time.Duration) {
	for ctx.Err() == nil {
		if err := b.listen(ctx, refresh); err != nil && ctx.Err() == nil {
			b.log.Warn("blocklist listener stopped; reconnecting", zap.Error(err))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (b *Blocklist) listen(ctx context.Context, refresh time.Duration) error {
	pc, err := b.listenConn(ctx)
	if err != nil {
		return err
	}
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "listen "+Channel); err != nil {
		return err
	}
	if err := b.Reload(ctx); err != nil {
		return err
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, refresh)
		_, err := pc.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && wctx.Err() == nil {
			return err
		}
		if err := b.Reload(ctx); err != nil {
			return err
		}
	}
}

// listenConn opens the connection notifications arrive on: ListenURL when
// set, else one taken out of the pool for good.
func (b *Blocklist) listenConn(ctx context.Context) (*pgx.Conn, error) {
	if b.ListenURL != "" {
		return pgx.Connect(ctx, b.ListenURL)
	}
	conn, err := b.db.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return conn.Hijack(), nil
}
