package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rampart-dev/rampart/internal/apperr"
)

// Principal is who a request transaction acts as. Claims is marshalled to
// JSON and becomes request.jwt.claims; for anonymous requests it is nil.
type Principal struct {
	Role      string
	Claims    any
	IP        string
	RequestID string
	// CheckSession makes the transaction confirm, before anything else,
	// that the session named in the claims is still live.
	CheckSession bool
}

// ErrSessionInvalid is returned by Tx when CheckSession is set and the
// session is revoked, expired, idle or its user suspended.
var ErrSessionInvalid = apperr.New(apperr.Unauthenticated,
	"session is no longer valid")

// SessionEndedIfNoRow reads err from a lookup of the caller's own row
// (auth.uid()): no row means the session, live when the transaction began,
// ended before the lookup ran (each statement sees a fresh snapshot, and
// another request's lockout may revoke it in between), so the caller gets
// ErrSessionInvalid rather than a not-found. Other errors pass through.
func SessionEndedIfNoRow(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrSessionInvalid
	}
	return err
}

// rollbackTimeout bounds the cleanup of a transaction whose request is gone.
const rollbackTimeout = 5 * time.Second

const setupSQL = `select
  set_config('role', $1, true),
  set_config('request.jwt.claims', $2, true),
  set_config('request.ip', $3, true),
  set_config('request.id', $4, true)`

// Tx runs fn in one transaction as p: it begins, sets role, claims, client
// IP and request id transaction-locally, checks the session when asked to,
// all in a single round trip; then runs fn and commits. Any error, panic or
// cancelled context rolls back. The settings die with the transaction, so
// nothing carries over to the next user of the connection, and a
// connection is never returned to the pool inside a transaction.
func (d *DB) Tx(ctx context.Context, p Principal, fn func(Querier) error) error {
	claims, err := claimsJSON(p)
	if err != nil {
		return err
	}
	if d.TxTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.TxTimeout)
		defer cancel()
	}
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		return Translate(fmt.Errorf("acquire connection: %w", err))
	}
	defer conn.Release()

	tx := &requestTx{conn: conn}
	if err := tx.begin(ctx, p, claims); err != nil {
		tx.rollback()
		return err
	}

	committed := false
	defer func() {
		if !committed {
			tx.rollback()
		}
	}()
	var keep *keepError
	if err := fn(tx); errors.As(err, &keep) {
		if cerr := tx.commit(ctx); cerr != nil {
			return Translate(cerr)
		}
		committed = true
		return Translate(keep.err)
	} else if err != nil {
		return Translate(err)
	}
	if err := tx.commit(ctx); err != nil {
		return Translate(err)
	}
	committed = true
	return nil
}

// commit commits and, in the same round trip, resets every session-level
// setting: a statement that ran set_config(..., false) or SET inside the
// transaction (an injection, or a bug) must not leave its role, claims or
// timeouts on the pooled connection. COMMIT answers ROLLBACK when the
// transaction had already failed; that is an error, not a success.
func (t *requestTx) commit(ctx context.Context) error {
	b := &pgx.Batch{}
	b.Queue("commit")
	b.Queue("reset role")
	b.Queue("reset all")
	br := t.conn.SendBatch(ctx, b)
	tag, err := br.Exec()
	if err != nil {
		br.Close()
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		br.Close()
		return fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
	}
	_, err1 := br.Exec()
	_, err2 := br.Exec()
	if err := errors.Join(err1, err2, br.Close()); err != nil {
		// The data is committed; only the reset failed. Close the
		// connection so the pool never hands it out again.
		_ = t.conn.Conn().Close(context.Background())
	}
	return nil
}

func claimsJSON(p Principal) (string, error) {
	switch p.Role {
	case RoleAnon, RoleAuthenticated, RolePlatformAdmin:
	default:
		return "", fmt.Errorf("unknown request role %q", p.Role)
	}
	if p.Claims == nil {
		return "", nil
	}
	b, err := json.Marshal(p.Claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return string(b), nil
}

type requestTx struct {
	conn *pgxpool.Conn
}

func (t *requestTx) begin(ctx context.Context, p Principal, claims string) error {
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(setupSQL, p.Role, claims, p.IP, p.RequestID)
	if p.CheckSession {
		b.Queue("select auth.session_ok()")
	}
	br := t.conn.SendBatch(ctx, b)
	defer br.Close()

	if _, err := br.Exec(); err != nil {
		return Translate(fmt.Errorf("begin: %w", err))
	}
	if _, err := br.Exec(); err != nil {
		return Translate(fmt.Errorf("set request settings: %w", err))
	}
	if p.CheckSession {
		var ok bool
		if err := br.QueryRow().Scan(&ok); err != nil {
			return Translate(fmt.Errorf("check session: %w", err))
		}
		if !ok {
			return ErrSessionInvalid
		}
	}
	return Translate(br.Close())
}

// rollback ends the transaction; if the connection cannot be rolled back
// cleanly (the context died mid-query, say) it is closed, so the pool
// discards it rather than hand out a connection in an unknown state.
func (t *requestTx) rollback() {
	pc := t.conn.Conn().PgConn()
	if pc.IsClosed() || pc.TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	if _, err := t.conn.Exec(ctx, "rollback"); err != nil {
		_ = t.conn.Conn().Close(ctx)
	}
}

func (t *requestTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}

func (t *requestTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

func (t *requestTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *requestTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

// IsSessionInvalid reports whether err means the caller's session is gone.
func IsSessionInvalid(err error) bool {
	return errors.Is(err, ErrSessionInvalid)
}

// keepError carries a failure whose transaction must still commit.
type keepError struct{ err error }

func (e *keepError) Error() string { return e.err.Error() }
func (e *keepError) Unwrap() error { return e.err }

// CommitAndFail makes Tx commit what fn wrote and then return err. It is
// for failures that must leave a durable trace: a refused or over-quota
// read of customer data still commits its audit row and security event.
func CommitAndFail(err error) error { return &keepError{err: err} }
