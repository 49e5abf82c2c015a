// Package dbtest gives each test its own PostgreSQL database, cloned from a
// template migrated once per schema version, and connects to it as the
// service would: as rampart_api, which owns nothing and bypasses nothing.
package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/peterldowns/pgtestdb"

	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/migrations"
)

// EnvAdminURL names the variable holding an admin connection URL (a
// superuser, as on first install) that may create databases.
const EnvAdminURL = "RAMPART_TEST_DATABASE_URL"

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// EnvAPIURL names an optional URL whose host, port and query parameters
// replace the admin URL's for rampart_api connections only, to put a
// pooler on the service's path, e.g.
// postgres://127.0.0.1:6432/?default_query_exec_mode=cache_describe.
// Databases are still created and inspected over the admin URL.
const EnvAPIURL = "RAMPART_TEST_API_URL"

// Env is one test's database.
type Env struct {
	// AdminURL connects as the migrating superuser; tests use it only to
	// arrange what the API could not (and to inspect the catalog).
	AdminURL string
	// APIURL connects as rampart_api, the service's login.
	APIURL string
	// DB is a pool on APIURL.
	DB *db.DB
}

// New creates a fresh, migrated database for t and a pool on it as
// rampart_api with at most maxConns connections (0 for the default). The
// database is dropped when t passes and kept, with its URL logged, when it
// fails.
func New(t testing.TB, maxConns int32) *Env {
	t.Helper()
	conf := adminConfig(t)
	inst := pgtestdb.Custom(t, conf, migrator{})

	env := &Env{
		AdminURL: inst.URL(),
		APIURL:   apiURL(t, inst.URL()),
	}
	pool, err := db.Open(context.Background(), env.APIURL, maxConns)
	if err != nil {
		t.Fatalf("connect as rampart_api: %v", err)
	}
	t.Cleanup(pool.Close)
	env.DB = pool
	return env
}

// AdminURL returns the admin URL the tests run against.
func AdminURL() string {
	if u := os.Getenv(EnvAdminURL); u != "" {
		return u
	}
	return defaultAdminURL
}

func adminConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	cc, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		t.Fatalf("%s is not a connection URL: %v", EnvAdminURL, err)
	}
	conf := pgtestdb.Config{
		DriverName: "pgx",
		Host:       cc.Host,
		Port:       fmt.Sprint(cc.Port),
		User:       cc.User,
		Password:   cc.Password,
		Database:   cc.Database,
		Options:    "sslmode=disable",
		// Migrate as the admin itself, as a first install does: the first
		// migration creates roles.
		TestRole: &pgtestdb.Role{Username: cc.User, Password: cc.Password},
		// A test that fails mid-request may leave a connection behind.
		ForceTerminateConnections: true,
	}
	return conf
}

func withUser(t testing.TB, raw, user string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse test database url: %v", err)
	}
	u.User = url.User(user)
	return u.String()
}

// migrator builds the template with the embedded migrations; its hash
// covers every migration file, so a changed migration gets a new template.
type migrator struct{}

func (migrator) Hash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (migrator) Migrate(_ context.Context, sqlDB *sql.DB, _ pgtestdb.Config) error {
	return db.MigrateSQL(sqlDB)
}

// apiURL is the test database's URL as rampart_api: the admin URL with the
// user swapped, through EnvAPIURL's host and parameters when that is set.
func apiURL(t testing.TB, adminURL string) string {
	t.Helper()
	u, err := url.Parse(withUser(t, adminURL, "rampart_api"))
	if err != nil {
		t.Fatalf("parse test database url: %v", err)
	}
	raw := os.Getenv(EnvAPIURL)
	if raw == "" {
		return u.String()
	}
	via, err := url.Parse(raw)
	if err != nil || via.Host == "" {
		t.Fatalf("%s must be a URL with a host and port: %v", EnvAPIURL, err)
	}
	u.Host = via.Host
	q := u.Query()
	for k, v := range via.Query() {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}
