package marketplace

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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
	// Token is the secret the invitee accepts with. It is set only in the
	// answer to Invite, once: the database keeps its SHA-256.
	Token string `json:"token,omitempty"`
}

// newInvitationToken returns a fresh invitation token and its SHA-256.
// 256 random bits need no key: the hash only keeps a stolen database
// from holding usable tokens.
func newInvitationToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := "inv_" + base64.RawURLEncoding.EncodeToString(b)
	return tok, invitationTokenHash(tok)
}

func invitationTokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
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

// Invite invites email to the merchant as role (owners only, at aal2) and
// returns the invitation with its token, which the owner hands to the
// person they mean. An open invitation of the same email is renewed: new
// role, new week, new token (the old one stops working). A merchant holds
// at most 100 open invitations (409 beyond).
func Invite(ctx context.Context, q db.Querier, merchantID uuid.UUID, email, role string) (Invitation, error) {
	if role != "manager" && role != "staff" {
		return Invitation{}, invalid("role", "must be manager or staff")
	}
	if err := requireOwnerAAL2(ctx, q, merchantID); err != nil {
		return Invitation{}, err
	}
	tok, hash := newInvitationToken()
	rows, err := q.Query(ctx, `
insert into app.merchant_invitations as i
  (merchant_id, merchant_name, email, role, token_hash, invited_by)
select m.id, m.name, $2, $3, $4, auth.uid()
from app.merchants m where m.id = $1
on conflict (merchant_id, email) do update
set merchant_name = excluded.merchant_name, role = excluded.role,
    token_hash = $4, invited_by = excluded.invited_by,
    created_at = now(), expires_at = now() + interval '7 days'
returning `+invitationColumns, merchantID, email, role, hash)
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
	got[0].Token = tok
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

// AcceptInvitation makes the caller a member as the invitation says,
// given its token. An invitation that is not the caller's, a wrong token,
// an expired or withdrawn invitation are all not_found. A caller who
// already belongs keeps their role.
func AcceptInvitation(ctx context.Context, q db.Querier, id uuid.UUID, token string) (Member, error) {
	var merchantID *uuid.UUID
	if err := q.QueryRow(ctx, `select app.accept_invitation($1, $2)`, id,
		invitationTokenHash(token)).Scan(&merchantID); err != nil {
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

// DeclineInvitation deletes an invitation addressed to the caller, given
// its token: an account with the invited email is not enough, as for
// accepting.
func DeclineInvitation(ctx context.Context, q db.Querier, id uuid.UUID, token string) error {
	var ok bool
	if err := q.QueryRow(ctx, `select app.decline_invitation($1, $2)`, id,
		invitationTokenHash(token)).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return Missing("invitation")
	}
	return nil
}
