package auth

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/confusable"
)

// RefreshSkeletons recomputes the stored confusable skeleton of every live
// account with the current algorithm (confusable.Version), so sign-up
// compares a new address with skeletons made the same way. It runs in one
// transaction on an owner connection (`rampart migrate up` calls it) and
// touches only rows whose skeleton changed. When two existing accounts now
// share a skeleton, the older keeps it and the newer is left without one
// (clashes counts them): both accounts stay usable, and the pair is worth
// a look, since one may be a look-alike registered before the check knew
// its trick.
func RefreshSkeletons(ctx context.Context, conn *pgx.Conn) (changed, clashes int, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
select id, email, coalesce(email_skeleton, '')
from auth.users
where email not like 'erased-%@erased.invalid'
order by created_at, id
for update`)
		if err != nil {
			return err
		}
		type account struct {
			id           uuid.UUID
			email, stale string
		}
		accounts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account, error) {
			var a account
			err := r.Scan(&a.id, &a.email, &a.stale)
			return a, err
		})
		if err != nil {
			return err
		}
		taken := make(map[string]bool, len(accounts))
		var stale []uuid.UUID
		var fresh []string
		for _, a := range accounts {
			want := confusable.Skeleton(a.email)
			if taken[want] {
				clashes++
				want = ""
			} else {
				taken[want] = true
			}
			if want != a.stale {
				stale = append(stale, a.id)
				fresh = append(fresh, want)
			}
		}
		if len(stale) == 0 {
			return nil
		}
		// Clear first, then set: an old skeleton may equal a new one of
		// another row, which the unique index would refuse in between.
		if _, err := tx.Exec(ctx, `
update auth.users set email_skeleton = null where id = any($1)`, stale); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
update auth.users u set email_skeleton = nullif(f.skeleton, '')
from unnest($1::uuid[], $2::text[]) as f (id, skeleton)
where u.id = f.id`, stale, fresh)
		if err != nil {
			return err
		}
		changed = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("refresh email skeletons: %w", err)
	}
	return changed, clashes, nil
}
