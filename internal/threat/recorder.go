package threat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/db"
)

// maxPending bounds the distinct events held between flushes; past it,
// further ones fold into one overflow row per kind, so memory stays flat
// however wide the attack.
const maxPending = 10_000

// Event is a security event observed at the edge.
type Event struct {
	Kind     string
	Severity string
	IP       string
	// Details must never carry PII or secrets: names of fields, classes of
	// attack, keyed hashes.
	Details map[string]string
}

type eventKey struct {
	kind, ip, details string
}

type pending struct {
	ev    Event
	count int
}

// Recorder folds events in memory and writes them every flush interval, one
// row per kind, source and details with a count, through
// security.log_security_event(), which also applies the response rules.
type Recorder struct {
	db  *db.DB
	log *zap.Logger
	key []byte

	mu      sync.Mutex
	pending map[eventKey]*pending
	// OnEvent, if set, counts each recorded event (metrics).
	OnEvent func(kind, severity string)
}

// NewRecorder returns a recorder; accountKey keys the hashes that name
// targeted accounts in event details.
func NewRecorder(d *db.DB, log *zap.Logger, accountKey []byte) *Recorder {
	return &Recorder{db: d, log: log, key: accountKey,
		pending: map[eventKey]*pending{}}
}

// AccountTag names an account in event details without revealing it: a
// keyed hash of the normalised email, stable enough to count distinct
// accounts per address.
func (r *Recorder) AccountTag(email string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Record notes one event; it never blocks on the database.
func (r *Recorder) Record(e Event) {
	if r.OnEvent != nil {
		r.OnEvent(e.Kind, e.Severity)
	}
	k := eventKey{kind: e.Kind, ip: e.IP, details: canonical(e.Details)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pending[k]; ok {
		p.count++
		return
	}
	if len(r.pending) >= maxPending {
		k = eventKey{kind: e.Kind, details: "overflow"}
		e = Event{Kind: e.Kind, Severity: e.Severity,
			Details: map[string]string{"overflow": "true"}}
		if p, ok := r.pending[k]; ok {
			p.count++
			return
		}
	}
	r.pending[k] = &pending{ev: e, count: 1}
}

func canonical(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + d[k] + ";")
	}
	return b.String()
}

// Flush writes what was recorded since the last flush, in one transaction
// and one round trip.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[eventKey]*pending{}
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, p := range batch {
		var ip any
		if p.ev.IP != "" {
			ip = p.ev.IP
		}
		details := p.ev.Details
		if details == nil {
			details = map[string]string{}
		}
		b.Queue(`select security.log_security_event($1, $2, $3, null, $4, $5)`,
			p.ev.Kind, p.ev.Severity, details, p.count, ip)
	}
	return r.db.Tx(ctx, db.Principal{Role: db.RoleAnon}, func(q db.Querier) error {
		return q.SendBatch(ctx, b).Close()
	})
}

// Run flushes every interval until ctx ends, then once more so nothing
// accepted is lost on shutdown.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := r.Flush(fctx); err != nil {
				r.log.Error("final flush of security events", zap.Error(err))
			}
			cancel()
			return
		case <-t.C:
			if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("flush security events", zap.Error(err))
			}
		}
	}
}

// Seal links newly written audit and event rows into their hash chains,
// every interval, until ctx ends.
func Seal(ctx context.Context, d *db.DB, log *zap.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := d.Tx(ctx, db.Principal{Role: db.RoleAnon}, func(q db.Querier) error {
				_, err := q.Exec(ctx, `select security.seal_chains()`)
				return err
			})
			if err != nil && ctx.Err() == nil {
				log.Error("seal audit chains", zap.Error(err))
			}
		}
	}
}
