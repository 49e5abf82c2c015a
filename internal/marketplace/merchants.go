package marketplace

import (
	"context"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)

// Merchant is a tenant as its members see it.
type Merchant struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	Role      *string   `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MerchantInput is the body of a merchant create or update.
type MerchantInput struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

const merchantColumns = `
  m.id,
  m.name,
  m.slug,
  (select mm.role from app.merchant_members mm
    where mm.merchant_id = m.id and mm.user_id = (select auth.uid())),
  m.created_at,
  m.updated_at`

func scanMerchant(row interface{ Scan(...any) error }) (Merchant, error) {
	var m Merchant
	err := row.Scan(&m.ID, &m.Name, &m.Slug, &m.Role, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

// CreateMerchant creates a merchant owned by the caller.
func CreateMerchant(ctx context.Context, q db.Querier, in MerchantInput) (Merchant, error) {
	if in.Name == nil || in.Slug == nil {
		return Merchant{}, invalid("name", "name and slug are required")
	}
	if err := checkLen("name", *in.Name, 1, 200); err != nil {
		return Merchant{}, err
	}
	if !slugRE.MatchString(*in.Slug) {
		return Merchant{}, invalid("slug", "must be 3 to 64 lower-case letters, digits or dashes")
	}
	var id uuid.UUID
	if err := q.QueryRow(ctx, `select app.create_merchant($1, $2)`,
		*in.Name, *in.Slug).Scan(&id); err != nil {
		return Merchant{}, err
	}
	return GetMerchant(ctx, q, id)
}

// GetMerchant returns a merchant the caller may see.
func GetMerchant(ctx context.Context, q db.Querier, id uuid.UUID) (Merchant, error) {
	m, err := scanMerchant(q.QueryRow(ctx,
		`select`+merchantColumns+` from app.merchants m where m.id = $1`, id))
	if err != nil {
		return m, notFoundAs(err, "merchant")
	}
	return m, nil
}

// ListMerchants lists the merchants the caller is a member of, and every
// merchant to a platform admin. Row-level security draws the same line;
// the membership test here keeps the query from leaning on it alone.
func ListMerchants(ctx context.Context, q db.Querier, p Page) ([]Merchant, error) {
	rows, err := q.Query(ctx, `select`+merchantColumns+`
from app.merchants m
where (current_user = 'platform_admin'
       or exists (select 1 from app.merchant_members me
                  where me.merchant_id = m.id
                    and me.user_id = (select auth.uid())))
  and ($1::timestamptz is null or (m.created_at, m.id) > ($1, $2))
order by m.created_at, m.id
limit $3`, p.AfterTime, p.AfterID, p.Limit)
	if err != nil {
		return nil, err
	}
	return collectPage(rows, p.Limit, scanMerchant)
}

// UpdateMerchant renames a merchant (owners and managers).
func UpdateMerchant(ctx context.Context, q db.Querier, id uuid.UUID, in MerchantInput) (Merchant, error) {
	if in.Slug != nil {
		return Merchant{}, invalid("slug", "cannot be changed")
	}
	if in.Name == nil {
		return Merchant{}, errNothingToChange
	}
	if err := checkLen("name", *in.Name, 1, 200); err != nil {
		return Merchant{}, err
	}
	tag, err := q.Exec(ctx, `
update app.merchants set name = $2, updated_at = now() where id = $1`,
		id, *in.Name)
	if err != nil {
		return Merchant{}, err
	}
	if tag.RowsAffected() == 0 {
		return Merchant{}, refuseWrite(ctx, q, id, "manager", Missing("merchant"))
	}
	return GetMerchant(ctx, q, id)
}

// Member is one user's membership in a merchant.
type Member struct {
	MerchantID uuid.UUID `json:"merchant_id"`
	UserID     uuid.UUID `json:"user_id"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
}

// ListMembers lists a merchant's members (visible to its members).
func ListMembers(ctx context.Context, q db.Querier, merchantID uuid.UUID) ([]Member, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
select merchant_id, user_id, role, created_at
from app.merchant_members
where merchant_id = $1
order by created_at, user_id
limit 500`, merchantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (Member, error) {
		var m Member
		return m, r.Scan(&m.MerchantID, &m.UserID, &m.Role, &m.CreatedAt)
	})
}

// RemoveMember removes a manager or staff member (owners only, at aal2),
// answering like Invite to callers who are not owners.
func RemoveMember(ctx context.Context, q db.Querier, merchantID, userID uuid.UUID) error {
	if err := requireOwnerAAL2(ctx, q, merchantID); err != nil {
		return err
	}
	tag, err := q.Exec(ctx, `
delete from app.merchant_members where merchant_id = $1 and user_id = $2`,
		merchantID, userID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		// Row-level security never lets an owner row go: every merchant
		// keeps an owner. Say so rather than call a visible member missing.
		var role string
		err := q.QueryRow(ctx, `
select role from app.merchant_members where merchant_id = $1 and user_id = $2`,
			merchantID, userID).Scan(&role)
		if err == nil && role == "owner" {
			return apperr.New(apperr.Conflict, "an owner cannot be removed")
		}
		return Missing("member")
	}
	return nil
}

// requireMember answers not_found unless the caller is a member of the
// merchant (platform admins can see merchants without being members).
func requireMember(ctx context.Context, q db.Querier, id uuid.UUID) error {
	var ok bool
	err := q.QueryRow(ctx, `
select $1 = any ((select app.my_merchant_ids('staff'))::uuid[])`, id).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return Missing("merchant")
	}
	return nil
}

// requireOwnerAAL2 lets an owner of the merchant whose session verified a
// second factor in the last 15 minutes go on: changing who belongs to a
// merchant is a sensitive operation. Anyone else is told why not, in this
// order: not a member (not_found, as for another tenant's merchant), a
// member below owner (forbidden: they can see the merchant, so hiding it
// would only mislead), an owner without a recent second factor
// (mfa_required). One round trip.
func requireOwnerAAL2(ctx context.Context, q db.Querier, merchantID uuid.UUID) error {
	var member, owner, aal2 bool
	if err := q.QueryRow(ctx, `
select $1 = any ((select app.my_merchant_ids('staff'))::uuid[]),
       $1 = any ((select app.my_merchant_ids('owner'))::uuid[]),
       auth.recent_aal2()`, merchantID).Scan(&member, &owner, &aal2); err != nil {
		return err
	}
	switch {
	case !member:
		return Missing("merchant")
	case !owner:
		return roleForbidden("owner")
	case !aal2:
		return apperr.New(apperr.MFARequired,
			"a second factor verified in the last 15 minutes is required")
	}
	return nil
}

// refuseWrite explains a write that needs minRole ("manager" or "owner") on
// a merchant and changed no row, which is all row-level security lets the
// write see: forbidden when the caller is a member of the merchant below
// that role (a member can read the merchant, so a 404 would only mislead),
// notFound otherwise (not a member, which must look like a merchant that
// does not exist, or no such row). It costs a query only on the refusal.
func refuseWrite(ctx context.Context, q db.Querier, merchantID uuid.UUID, minRole string, notFound error) error {
	var member, enough bool
	if err := q.QueryRow(ctx, `
select $1 = any ((select app.my_merchant_ids('staff'))::uuid[]),
       $1 = any ((select app.my_merchant_ids($2))::uuid[])`,
		merchantID, minRole).Scan(&member, &enough); err != nil {
		return err
	}
	if member && !enough {
		return roleForbidden(minRole)
	}
	return notFound
}

func roleForbidden(minRole string) error {
	if minRole == "owner" {
		return apperr.New(apperr.Forbidden, "only the merchant's owners may do this")
	}
	return apperr.New(apperr.Forbidden, "only the merchant's owners and managers may do this")
}

// requireRecentAAL2 answers mfa_required unless the caller's session
// verified a second factor in the last 15 minutes.
func requireRecentAAL2(ctx context.Context, q db.Querier) error {
	var ok bool
	if err := q.QueryRow(ctx, `select auth.recent_aal2()`).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.MFARequired,
			"a second factor verified in the last 15 minutes is required")
	}
	return nil
}
