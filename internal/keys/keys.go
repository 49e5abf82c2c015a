// Package keys rotates the keys that seal customer PII: it re-seals every
// stored value under the keyring's current key, and seals legacy plaintext
// when asked to.
//
// It reads and writes the sealed columns, which no request role may read,
// so it must run over an owner connection: a superuser, or a login that is
// a member of rampart_owner. Each batch switches to rampart_owner for its
// own transaction. Nothing here logs, and nothing it reports carries
// plaintext.
package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/pii"
)

// DefaultBatchSize is the number of rows read and updated per transaction
// when Options.BatchSize is not set.
const DefaultBatchSize = 500

// rollbackTimeout bounds the rollback of a batch whose context is gone.
const rollbackTimeout = 5 * time.Second

// Options tunes a rotation.
type Options struct {
	// BatchSize is the number of rows per transaction; 0 or less means
	// DefaultBatchSize.
	BatchSize int
	// SealPlaintext seals values that do not parse as sealed values,
	// taking them to be legacy plaintext. Without it they are failures.
	SealPlaintext bool
}

// Counts tallies what a rotation did with the values it read.
type Counts struct {
	// Scanned counts the non-null values read.
	Scanned int
	// Current counts values already under the current key, left alone.
	Current int
	// Resealed counts values moved from an older key to the current one.
	Resealed int
	// Sealed counts legacy plaintext values sealed (SealPlaintext only).
	Sealed int
	// Skipped counts values changed by a concurrent writer between the
	// read and the update; the writer's value is kept.
	Skipped int
	// Failed counts values that could not be opened or parsed.
	Failed int
}

func (c *Counts) add(o Counts) {
	c.Scanned += o.Scanned
	c.Current += o.Current
	c.Resealed += o.Resealed
	c.Sealed += o.Sealed
	c.Skipped += o.Skipped
	c.Failed += o.Failed
}

// Failure is one value that could not be re-sealed. Err wraps
// pii.ErrUnknownKey, pii.ErrDecrypt or pii.ErrMalformed; it names at most
// a key id, never the value.
type Failure struct {
	Table  string
	Column string
	ID     uuid.UUID
	Err    error
}

// Progress is reported after each committed batch. Its counts are the
// column's totals so far; Failures are the batch's own.
type Progress struct {
	Table    string
	Column   string
	Counts   Counts
	Elapsed  time.Duration
	Failures []Failure
}

// Stats is the outcome of a rotation: totals over every column, and every
// failure.
type Stats struct {
	Counts
	Failures []Failure
}

// Rotate re-seals every sealed value under ring's current key, column by
// column, in primary-key order, one transaction per batch. Values already
// under the current key are only read (their key id, not their content),
// so a rerun after an interruption picks up where the last committed
// batch left off. A value that fails to open is recorded in Stats and in
// the batch's Progress, and the walk goes on. progress may be nil.
//
// Rotate returns an error, with the stats of the batches committed so
// far, when the database fails, the context ends, or the connection cannot
// act as rampart_owner.
func Rotate(ctx context.Context, conn *pgx.Conn, ring *pii.Keyring,
	opt Options, progress func(Progress)) (Stats, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	r := &rotation{conn: conn, ring: ring, opt: opt, start: time.Now()}
	var stats Stats
	for _, c := range columns {
		err := r.column(ctx, c, func(p Progress) {
			stats.Failures = append(stats.Failures, p.Failures...)
			if progress != nil {
				progress(p)
			}
		})
		stats.Counts.add(r.total)
		if err != nil {
			return stats, fmt.Errorf("rotate %s.%s: %w", c.table, c.name, err)
		}
	}
	return stats, nil
}

type rotation struct {
	conn  *pgx.Conn
	ring  *pii.Keyring
	opt   Options
	start time.Time
	// total is the current column's counts so far.
	total Counts
}

// column walks one column batch by batch. Ids are random UUIDs, never the
// nil UUID, so starting after it covers every row.
func (r *rotation) column(ctx context.Context, c column,
	report func(Progress)) error {
	r.total = Counts{}
	last := uuid.Nil
	for {
		b, err := r.batch(ctx, c, last)
		if err != nil {
			return err
		}
		if b.counts.Scanned == 0 {
			return nil
		}
		r.total.add(b.counts)
		last = b.last
		report(Progress{
			Table: c.table, Column: c.name, Counts: r.total,
			Elapsed: time.Since(r.start), Failures: b.failures,
		})
	}
}

// batchResult is what one committed batch did.
type batchResult struct {
	counts   Counts
	failures []Failure
	last     uuid.UUID
}

type row struct {
	id    uuid.UUID
	value []byte
}

// batch reads up to BatchSize rows after last and rewrites those not under
// the current key, in one transaction as rampart_owner.
func (r *rotation) batch(ctx context.Context, c column,
	last uuid.UUID) (batchResult, error) {
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return batchResult{}, fmt.Errorf("begin: %w", err)
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, "set local role rampart_owner"); err != nil {
		return batchResult{}, fmt.Errorf(
			"act as rampart_owner (DATABASE_URL must be an owner or superuser connection): %w",
			err)
	}

	rows, err := readRows(ctx, tx, c, last, r.opt.BatchSize)
	if err != nil || len(rows) == 0 {
		return batchResult{}, err
	}
	res := batchResult{last: rows[len(rows)-1].id}
	res.counts.Scanned = len(rows)
	updates := r.plan(c, rows, &res)

	if err := r.apply(ctx, tx, c, updates, &res.counts); err != nil {
		return batchResult{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return batchResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

func readRows(ctx context.Context, tx pgx.Tx, c column, last uuid.UUID,
	limit int) ([]row, error) {
	rs, err := tx.Query(ctx, c.list, last, limit)
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	rows, err := pgx.CollectRows(rs, func(rs pgx.CollectableRow) (row, error) {
		var x row
		err := rs.Scan(&x.id, &x.value)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	return rows, nil
}

// update is one value to write back: the new value replaces old.
type update struct {
	id       uuid.UUID
	old, new []byte
	// plaintext marks a legacy value being sealed for the first time.
	plaintext bool
}

// plan decides each row's fate and returns the updates to run; values
// already current and failures are counted in res.
func (r *rotation) plan(c column, rows []row, res *batchResult) []update {
	var out []update
	for _, x := range rows {
		u, current, err := r.reseal(c, x)
		switch {
		case err != nil:
			res.counts.Failed++
			res.failures = append(res.failures, Failure{
				Table: c.table, Column: c.name, ID: x.id, Err: err,
			})
		case current:
			res.counts.Current++
		default:
			out = append(out, u)
		}
	}
	return out
}

// reseal works out one row's new value, reading only the key id of a
// value that is already current.
func (r *rotation) reseal(c column, x row) (update, bool, error) {
	aad := marketplace.AAD(c.aad, x.id)
	id, err := pii.KeyID(x.value)
	switch {
	case errors.Is(err, pii.ErrMalformed) && r.opt.SealPlaintext:
		sealed, err := r.ring.Seal(x.value, aad)
		return update{id: x.id, old: x.value, new: sealed, plaintext: true},
			false, err
	case err != nil:
		return update{}, false, err
	case id == r.ring.CurrentID():
		return update{}, true, nil
	}
	sealed, _, err := r.ring.Reseal(x.value, aad)
	return update{id: x.id, old: x.value, new: sealed}, false, err
}

// apply sends the batch's updates in one round trip. An update that finds
// the value changed since it was read touches no row: the concurrent
// writer's value stands and the row is counted as skipped.
func (r *rotation) apply(ctx context.Context, tx pgx.Tx, c column,
	updates []update, counts *Counts) error {
	if len(updates) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, u := range updates {
		b.Queue(c.update, u.id, u.new, u.old)
	}
	results := tx.SendBatch(ctx, &b)
	for _, u := range updates {
		tag, err := results.Exec()
		if err != nil {
			_ = results.Close()
			return fmt.Errorf("update: %w", err)
		}
		switch {
		case tag.RowsAffected() == 0:
			counts.Skipped++
		case u.plaintext:
			counts.Sealed++
		default:
			counts.Resealed++
		}
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// rollback ends a batch that did not commit; after a commit it is a no-op.
// It gets its own deadline so a cancelled run still releases its locks.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx),
		rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}
