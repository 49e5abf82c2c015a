package marketplace

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
)

// Invitation asks the holder of an email to join a merchant as manager or
// staff. Owners make them; the membership exists only once the account
// with that email accepts (migration 000019). Whether an account has the
// email is never told to the owner: every invitation is answered alike.
type Invitation struct {
	ID           uuid.UUID `json:"id"`
	MerchantID   uuid.UUID `json:"merchant_id"`
	MerchantName string    `json:"merchant_name"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// InvitationInput is the body of an invitation. Email must be normalised
// by the caller as sign-in normalises it.
type InvitationInput struct {
	Email *string `json:"email"`
	Role  *string `json:"role"`
}

const invitationColumns = `id, merchant_id, merchant_name, email, role, created_at, expires_at`

func scanInvitation(r scanner) (Invitation, error) {
	var i Invitation
	return i, r.Scan(&i.ID, &i.MerchantID, &i.MerchantName, &i.Email, &i.Role,
		&i.CreatedAt, &i.ExpiresAt)
}

// Invite invites email to the merchant as role (owners only, at aal2). An
// open invitation of the same email is renewed: new role, new week. A
// merchant holds at most 100 open invitations (409 beyond).
func Invite(ctx context.Context, q db.Querier, merchantID uuid.UUID, email, role string) (Invitation, error) {
	if role != "manager" && role != "staff" {
		return Invitation{}, invalid("role", "must be manager or staff")
	}
	if err := requireOwnerAAL2(ctx, q, merchantID); err != nil {
		return Invitation{}, err
	}
	rows, err := q.Query(ctx, `
insert into app.merchant_invitations as i
  (merchant_id, merchant_name, email, role, invited_by)
select m.id, m.name, $2, $3, auth.uid()
from app.merchants m where m.id = $1
on conflict (merchant_id, email) do update
set merchant_name = excluded.merchant_name, role = excluded.role,
    invited_by = excluded.invited_by, created_at = now(),
    expires_at = now() + interval '7 days'
returning `+invitationColumns, merchantID, email, role)
	if err != nil {
		return Invitation{}, err
	}
	got, err := collect(rows, scanInvitation)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "RA006":
		return Invitation{}, apperr.Wrap(apperr.Conflict,
			"the merchant has 100 open invitations; withdraw some first", err)
	case err != nil:
		return Invitation{}, err
	case len(got) == 0:
		return Invitation{}, Missing("merchant")
	}
	return got[0], nil
}

// ListInvitations lists a merchant's open invitations (owners, at aal2).
func ListInvitations(ctx context.Context, q db.Querier, merchantID uuid.UUID) ([]Invitation, error) {
	if err := requireOwnerAAL2(ctx, q, merchantID); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
select `+invitationColumns+`
from app.merchant_invitations
where merchant_id = $1 and expires_at > now()
order by created_at, id
limit 500`, merchantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanInvitation)
}

// WithdrawInvitation deletes one of the merchant's invitations (owners,
// at aal2).
func WithdrawInvitation(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) error {
	if err := requireOwnerAAL2(ctx, q, merchantID); err != nil {
		return err
	}
	tag, err := q.Exec(ctx, `
delete from app.merchant_invitations where merchant_id = $1 and id = $2`,
		merchantID, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return Missing("invitation")
	}
	return nil
}

// MyInvitations lists the open invitations addressed to the caller's
// email.
func MyInvitations(ctx context.Context, q db.Querier) ([]Invitation, error) {
	rows, err := q.Query(ctx, `
select `+invitationColumns+`
from app.merchant_invitations
where email = app.my_email() and expires_at > now()
order by created_at, id
limit 500`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanInvitation)
}

// AcceptInvitation makes the caller a member as the invitation says. An
// invitation that is not the caller's, expired or withdrawn is not_found.
// A caller who already belongs keeps their role.
func AcceptInvitation(ctx context.Context, q db.Querier, id uuid.UUID) (Member, error) {
	var merchantID *uuid.UUID
	if err := q.QueryRow(ctx, `select app.accept_invitation($1)`, id).
		Scan(&merchantID); err != nil {
		return Member{}, err
	}
	if merchantID == nil {
		return Member{}, Missing("invitation")
	}
	var m Member
	err := q.QueryRow(ctx, `
select user_id, role, created_at from app.merchant_members
where merchant_id = $1 and user_id = auth.uid()`, *merchantID).
		Scan(&m.UserID, &m.Role, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Member{}, Missing("invitation")
	}
	m.MerchantID = *merchantID
	return m, err
}

// DeclineInvitation deletes an invitation addressed to the caller.
func DeclineInvitation(ctx context.Context, q db.Querier, id uuid.UUID) error {
	tag, err := q.Exec(ctx, `
delete from app.merchant_invitations where id = $1 and email = app.my_email()`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return Missing("invitation")
	}
	return nil
}
