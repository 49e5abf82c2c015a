package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestInjectedIdentity plays an attacker who runs SQL inside a request
// transaction: rampart_api may switch to any request role and set any
// claims. Without a live session of the claimed user, that buys nothing.
func TestInjectedIdentity(t *testing.T) {
	t.Parallel()
	w := plant(t)
	ctx := context.Background()
	adminClaims := decodeClaims(t, w.admin)
	ownerClaims := decodeClaims(t, w.ownerA)

	count := func(t *testing.T, role string, claims map[string]any, table string) int {
		t.Helper()
		conn, err := pgx.Connect(ctx, w.h.env.APIURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		raw, _ := json.Marshal(claims)
		if _, err := tx.Exec(ctx, `select set_config('role', $1, true),
			set_config('request.jwt.claims', $2, true)`, role, string(raw)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(ctx, "select count(*) from "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	forged := func(c map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range c {
			out[k] = v
		}
		out["session_id"] = uuid.NewString()
		return out
	}

	t.Run("the genuine claims see rows (control)", func(t *testing.T) {
		if n := count(t, "platform_admin", adminClaims, "app.merchants"); n == 0 {
			t.Fatal("admin with a live session sees no merchants")
		}
		if n := count(t, "authenticated", ownerClaims, "app.orders"); n == 0 {
			t.Fatal("owner with a live session sees no orders")
		}
	})

	t.Run("the admin's id without its session sees nothing", func(t *testing.T) {
		if n := count(t, "platform_admin", forged(adminClaims), "app.merchants"); n != 0 {
			t.Fatalf("forged admin claims see %d merchants", n)
		}
	})

	t.Run("an owner's id without their session sees nothing", func(t *testing.T) {
		if n := count(t, "authenticated", forged(ownerClaims), "app.orders"); n != 0 {
			t.Fatalf("forged owner claims see %d orders", n)
		}
	})

	t.Run("switching to platform_admin with a user's own session grants nothing", func(t *testing.T) {
		c := decodeClaims(t, w.userB)
		c["role"] = "platform_admin"
		if n := count(t, "platform_admin", c, "app.merchants"); n != 1 {
			t.Fatalf("B as platform_admin sees %d merchants, want only its own", n)
		}
	})
}
