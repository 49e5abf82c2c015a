package db

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/rampart-dev/rampart/migrations"
)

// Migrator applies the embedded migrations under golang-migrate's advisory
// lock, so concurrent deploys run them once.
type Migrator struct {
	m   *migrate.Migrate
	sql *sql.DB
}

// NewMigrator connects to url, which must be a role that owns the schema or
// may become rampart_owner (a superuser on first install, since the first
// migration creates roles).
func NewMigrator(url string) (*Migrator, error) {
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", redactURLError(err))
	}
	m, err := newMigrate(sqlDB)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return &Migrator{m: m, sql: sqlDB}, nil
}

func newMigrate(sqlDB *sql.DB) (*migrate.Migrate, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	drv, err := pgxmigrate.WithInstance(sqlDB, &pgxmigrate.Config{})
	if err != nil {
		return nil, fmt.Errorf("migration driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return nil, fmt.Errorf("migrator: %w", err)
	}
	return m, nil
}

// MigrateSQL applies every migration to an open database/sql handle; the
// test harness uses it to build its template database.
func MigrateSQL(sqlDB *sql.DB) error {
	m, err := newMigrate(sqlDB)
	if err != nil {
		return err
	}
	// Closing the migrator releases the connection it holds, which would
	// otherwise keep a template database busy; it also closes sqlDB.
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Up applies all pending migrations. No pending migration is not an error.
func (g *Migrator) Up() error {
	if err := g.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return err
	}
	return nil
}

// Down reverts n migrations (n > 0).
func (g *Migrator) Down(n int) error {
	if n <= 0 {
		return errors.New("down needs a positive number of steps")
	}
	return g.m.Steps(-n)
}

// Version returns the applied version and whether the last run left the
// schema dirty. Version 0 means nothing is applied.
func (g *Migrator) Version() (uint, bool, error) {
	v, dirty, err := g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return v, dirty, err
}

// Force sets the recorded version without running anything, to recover
// from a failed migration once it was repaired by hand.
func (g *Migrator) Force(v int) error { return g.m.Force(v) }

// Close releases the migrator's connections.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	return errors.Join(srcErr, dbErr, g.sql.Close())
}

// ExpectedVersion is the highest migration version embedded in the binary:
// the schema version this build needs.
func ExpectedVersion() uint {
	names, _ := fs.Glob(migrations.FS, "*.up.sql")
	versions := make([]int, 0, len(names))
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(n, "_", 2)[0])
		if err == nil {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return 0
	}
	sort.Ints(versions)
	return uint(versions[len(versions)-1])
}
