// Package db owns the connection pool and the request transaction: every
// query a request runs goes through Tx, which switches to the request's
// role and claims for that transaction only.
package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"
)

// Request roles. rampart_api may switch to these and to nothing else.
const (
	RoleAnon          = "anon"
	RoleAuthenticated = "authenticated"
	RolePlatformAdmin = "platform_admin"
)

// Querier is what code running inside a request transaction may use.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// DB is the service's handle on PostgreSQL.
type DB struct {
	Pool *pgxpool.Pool
	// TxTimeout bounds a request transaction, from acquiring a connection
	// to commit, so a database that stops answering makes requests fail
	// with 503 instead of hanging.
	TxTimeout time.Duration
}

// DefaultTxTimeout is the default bound of a request transaction.
const DefaultTxTimeout = 10 * time.Second

// connectTimeout bounds establishing a new connection.
const connectTimeout = 5 * time.Second

// Open connects a pool to url and pings it.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", redactURLError(err))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "rampart"
	cfg.AfterConnect = registerTypes
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return &DB{Pool: pool, TxTimeout: DefaultTxTimeout}, nil
}

// Close closes the pool.
func (d *DB) Close() { d.Pool.Close() }

// redactURLError keeps a connection string's password out of error text.
func redactURLError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("malformed connection string")
	}
	return err
}

// registerTypes teaches a new connection google/uuid's UUID as PostgreSQL's
// uuid in binary. Without it pgx reaches the type through database/sql's
// Valuer and Scanner: every id is formatted to text and parsed back, and
// every id parameter first fails a binary encoding, an error allocated per
// parameter per query.
func registerTypes(_ context.Context, conn *pgx.Conn) error {
	pgxuuid.Register(conn.TypeMap())
	return nil
}
