package httpapi_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/confusable"
)

// TestLookAlikeDashesAndStaleSkeletons signs up look-alikes that only a
// full confusables table catches (a Unicode hyphen, a Latin alpha), and
// refreshes skeletons stored by an older algorithm: stale ones are
// recomputed, and of two existing accounts that now collide the older
// keeps the skeleton.
func TestLookAlikeDashesAndStaleSkeletons(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	h.user("owner@acme-coffee.example.test")
	for _, lookAlike := range []string{
		"owner@acme\u2010coffee.example.test", // hyphen
		"owner@acme\u2013coffee.example.test", // en dash
		"owner@\u0251cme-coffee.example.test", // Latin alpha
	} {
		h.mustStatus(h.do("POST", "/v1/auth/signup", "", map[string]string{
			"email": lookAlike, "password": testPassword}), 202, "look-alike signup")
		var n int
		if err := h.adminQuery(`select count(*) from auth.users where email = $1`,
			lookAlike).Scan(&n); err != nil || n != 0 {
			t.Errorf("look-alike %q was registered (%d, %v)", lookAlike, n, err)
		}
	}

	// Two accounts registered before the check knew their trick: the
	// second was let in with a skeleton of the old kind.
	h.user("sales@blue-bikes.example.test")
	h.user("later@example.test")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const lookAlike = "sales@blue\u2010bikes.example.test"
	if _, err := conn.Exec(ctx, `
update auth.users set email = $1, email_skeleton = 'stale-kind'
where email = 'later@example.test'`, lookAlike); err != nil {
		t.Fatal(err)
	}
	changed, clashes, err := auth.RefreshSkeletons(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if changed != 1 || clashes != 1 {
		t.Errorf("refresh changed %d and found %d clashes, want 1 and 1", changed, clashes)
	}
	var older, newer *string
	if err := conn.QueryRow(ctx, `
select (select email_skeleton from auth.users where email = 'sales@blue-bikes.example.test'),
       (select email_skeleton from auth.users where email = $1)`, lookAlike).
		Scan(&older, &newer); err != nil {
		t.Fatal(err)
	}
	if older == nil || *older != confusable.Skeleton("sales@blue-bikes.example.test") || newer != nil {
		t.Errorf("skeletons after refresh: older %v, newer %v", older, newer)
	}
	// A second run finds nothing to do.
	if changed, _, err := auth.RefreshSkeletons(ctx, conn); err != nil || changed != 0 {
		t.Errorf("second refresh changed %d (%v)", changed, err)
	}
}
