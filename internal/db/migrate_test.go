package db_test

import (
	"testing"

	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/dbtest"
)

// TestMigrationsGoDownAndUp: every down migration undoes its up, so the
// whole schema can be taken down and rebuilt.
func TestMigrationsGoDownAndUp(t *testing.T) {
	t.Parallel()
	env := dbtest.New(t, 1)
	env.DB.Close()
	m, err := db.NewMigrator(env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	n := int(db.ExpectedVersion())
	if err := m.Down(n); err != nil {
		t.Fatalf("down %d: %v", n, err)
	}
	if v, _, _ := m.Version(); v != 0 {
		t.Fatalf("version %d after going all the way down", v)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if v, dirty, _ := m.Version(); v != db.ExpectedVersion() || dirty {
		t.Fatalf("version %d dirty %v after up", v, dirty)
	}
}
