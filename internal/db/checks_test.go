package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/dbtest"
)

// TestCheckLoginRole: serve must refuse a login that could bypass RLS.
func TestCheckLoginRole(t *testing.T) {
	t.Parallel()
	env := dbtest.New(t, 2)
	ctx := context.Background()

	t.Run("rampart_api may serve", func(t *testing.T) {
		if err := env.DB.CheckLoginRole(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a superuser may not", func(t *testing.T) {
		admin, err := db.Open(ctx, env.AdminURL, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		err = admin.CheckLoginRole(ctx)
		if err == nil || !strings.Contains(err.Error(), "superuser") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("the schema is at the version the binary embeds", func(t *testing.T) {
		v, dirty, err := env.DB.SchemaVersion(ctx)
		if err != nil || dirty || v != db.ExpectedVersion() {
			t.Fatalf("version %d dirty %v err %v, want %d", v, dirty, err,
				db.ExpectedVersion())
		}
	})
}
