package marketplace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/pii"
)

// Vault seals customer PII before it reaches the database and computes its
// masks and blind indexes. The database only ever sees ciphertext, masks
// and keyed hashes.
type Vault struct {
	Keys  *pii.Keyring
	Index *pii.Indexer
}

// Address is a postal address.
type Address struct {
	Street string `json:"street"`
	City   string `json:"city"`
	State  string `json:"state"`
	Zip    string `json:"zip"`
}

func (a *Address) validate(field string) error {
	checks := []struct {
		name string
		v    string
		max  int
	}{{"street", a.Street, 200}, {"city", a.City, 100}, {"state", a.State, 50},
		{"zip", a.Zip, 20}}
	for _, c := range checks {
		if err := checkLen(field+"."+c.name, c.v, 0, c.max); err != nil {
			return err
		}
	}
	return nil
}

func (a *Address) mask() string {
	return pii.MaskAddress(a.Street, a.City, a.State, a.Zip)
}

// Customer is a merchant's customer as every API answer shows it: masked.
type Customer struct {
	ID          uuid.UUID `json:"id"`
	MerchantID  uuid.UUID `json:"merchant_id"`
	ExternalRef *string   `json:"external_ref"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	Phone       *string   `json:"phone"`
	Address     *string   `json:"address"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CustomerInput is the body of a customer create or update.
type CustomerInput struct {
	ExternalRef *string  `json:"external_ref"`
	Name        *string  `json:"name"`
	Email       *string  `json:"email"`
	Phone       *string  `json:"phone"`
	Address     *Address `json:"address"`
}

func (in CustomerInput) validate(create bool) error {
	if create && (in.Name == nil || in.Email == nil) {
		return invalid("name", "name and email are required")
	}
	if in.Name != nil {
		if err := checkLen("name", *in.Name, 1, 200); err != nil {
			return err
		}
	}
	if in.Email != nil {
		a, err := mail.ParseAddress(*in.Email)
		if err != nil || a.Address != *in.Email || len(*in.Email) > 254 {
			return invalid("email", "must be a plain email address")
		}
	}
	if in.Phone != nil {
		if err := checkLen("phone", *in.Phone, 3, 32); err != nil {
			return err
		}
	}
	if in.ExternalRef != nil {
		if err := checkLen("external_ref", *in.ExternalRef, 1, 64); err != nil {
			return err
		}
	}
	if in.Address != nil {
		return in.Address.validate("address")
	}
	return nil
}

// sealedField is one PII field ready for the database.
type sealedField struct {
	set    bool
	sealed []byte
	mask   *string
	bidx   []byte
}

func (v *Vault) seal(column string, id uuid.UUID, plain string, mask string, bidx []byte) (sealedField, error) {
	s, err := v.Keys.Seal([]byte(plain), AAD(column, id))
	if err != nil {
		return sealedField{}, fmt.Errorf("seal %s: %w", column, err)
	}
	return sealedField{set: true, sealed: s, mask: &mask, bidx: bidx}, nil
}

// AAD binds a sealed value to its column and row, so a value copied
// elsewhere does not open.
func AAD(column string, id uuid.UUID) []byte {
	return []byte(column + "|" + id.String())
}

type sealedCustomer struct {
	name, email, phone, address sealedField
}

func (v *Vault) sealCustomer(id uuid.UUID, in CustomerInput) (sealedCustomer, error) {
	var s sealedCustomer
	var err error
	if in.Name != nil {
		s.name, err = v.seal("merchant_customers.name", id, *in.Name,
			pii.MaskName(*in.Name), nil)
		if err != nil {
			return s, err
		}
	}
	if in.Email != nil {
		s.email, err = v.seal("merchant_customers.email", id, *in.Email,
			pii.MaskEmail(*in.Email), v.Index.Email(*in.Email))
		if err != nil {
			return s, err
		}
	}
	if in.Phone != nil {
		s.phone, err = v.seal("merchant_customers.phone", id, *in.Phone,
			pii.MaskPhone(*in.Phone), v.Index.Phone(*in.Phone))
		if err != nil {
			return s, err
		}
	}
	if in.Address != nil {
		b, _ := json.Marshal(in.Address)
		s.address, err = v.seal("merchant_customers.address", id, string(b),
			in.Address.mask(), nil)
	}
	return s, err
}

const customerColumns = `
  id,
  merchant_id,
  external_ref,
  coalesce(name_mask, ''),
  coalesce(email_mask, ''),
  phone_mask,
  address_mask,
  created_at,
  updated_at`

func scanCustomer(r scanner) (Customer, error) {
	var c Customer
	err := r.Scan(&c.ID, &c.MerchantID, &c.ExternalRef, &c.Name, &c.Email,
		&c.Phone, &c.Address, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// CreateCustomer adds a customer to a merchant (members).
func (v *Vault) CreateCustomer(ctx context.Context, q db.Querier, merchantID uuid.UUID, in CustomerInput) (Customer, error) {
	if err := in.validate(true); err != nil {
		return Customer{}, err
	}
	id := uuid.New()
	s, err := v.sealCustomer(id, in)
	if err != nil {
		return Customer{}, err
	}
	c, err := scanCustomer(q.QueryRow(ctx, `
insert into app.merchant_customers
  (id, merchant_id, external_ref, name_sealed, name_mask, email_sealed,
   email_mask, email_bidx, phone_sealed, phone_mask, phone_bidx,
   address_sealed, address_mask)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
returning`+customerColumns, id, merchantID, in.ExternalRef,
		s.name.sealed, s.name.mask, s.email.sealed, s.email.mask, s.email.bidx,
		s.phone.sealed, s.phone.mask, s.phone.bidx, s.address.sealed,
		s.address.mask))
	return c, notFoundAs(err, "merchant")
}

// CustomerFilter selects customers by exact email or phone, through the
// blind index; nothing else about PII can be searched.
type CustomerFilter struct {
	Email *string
	Phone *string
}

// ListCustomers lists a merchant's customers, masked (members).
func (v *Vault) ListCustomers(ctx context.Context, q db.Querier, merchantID uuid.UUID, f CustomerFilter, p Page) ([]Customer, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return nil, err
	}
	var email, phone []byte
	if f.Email != nil {
		email = v.Index.Email(*f.Email)
	}
	if f.Phone != nil {
		phone = v.Index.Phone(*f.Phone)
	}
	rows, err := q.Query(ctx, `select`+customerColumns+`
from app.merchant_customers
where merchant_id = $1
  and ($2::bytea is null or email_bidx = $2)
  and ($3::bytea is null or phone_bidx = $3)
  and ($4::timestamptz is null or (created_at, id) > ($4, $5))
order by created_at, id
limit $6`, merchantID, email, phone, p.AfterTime, p.AfterID, p.Limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCustomer)
}

// GetCustomer returns one customer, masked (members).
func GetCustomer(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) (Customer, error) {
	c, err := scanCustomer(q.QueryRow(ctx, `select`+customerColumns+`
from app.merchant_customers where merchant_id = $1 and id = $2`,
		merchantID, id))
	return c, notFoundAs(err, "customer")
}

// UpdateCustomer changes a customer's fields (members).
func (v *Vault) UpdateCustomer(ctx context.Context, q db.Querier, merchantID, id uuid.UUID, in CustomerInput) (Customer, error) {
	if err := in.validate(false); err != nil {
		return Customer{}, err
	}
	s, err := v.sealCustomer(id, in)
	if err != nil {
		return Customer{}, err
	}
	// One static statement per field group: the sealed columns are
	// write-only for request roles, so an update cannot read them back
	// (as "set x = coalesce($1, x)" would).
	b := &pgx.Batch{}
	const where = ` where merchant_id = $1 and id = $2`
	if in.ExternalRef != nil {
		b.Queue(`update app.merchant_customers set external_ref = $3`+where,
			merchantID, id, *in.ExternalRef)
	}
	if s.name.set {
		b.Queue(`update app.merchant_customers
set name_sealed = $3, name_mask = $4`+where,
			merchantID, id, s.name.sealed, s.name.mask)
	}
	if s.email.set {
		b.Queue(`update app.merchant_customers
set email_sealed = $3, email_mask = $4, email_bidx = $5`+where,
			merchantID, id, s.email.sealed, s.email.mask, s.email.bidx)
	}
	if s.phone.set {
		b.Queue(`update app.merchant_customers
set phone_sealed = $3, phone_mask = $4, phone_bidx = $5`+where,
			merchantID, id, s.phone.sealed, s.phone.mask, s.phone.bidx)
	}
	if s.address.set {
		b.Queue(`update app.merchant_customers
set address_sealed = $3, address_mask = $4`+where,
			merchantID, id, s.address.sealed, s.address.mask)
	}
	b.Queue(`update app.merchant_customers set updated_at = now()`+where,
		merchantID, id)
	if err := execBatch(ctx, q, b); err != nil {
		return Customer{}, err
	}
	return GetCustomer(ctx, q, merchantID, id)
}

// DeleteCustomer removes a customer (managers and owners). A customer with
// orders cannot be deleted here: erasure keeps anonymised orders and is a
// separate operation.
func DeleteCustomer(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) error {
	tag, err := q.Exec(ctx, `
delete from app.merchant_customers where merchant_id = $1 and id = $2`,
		merchantID, id)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return apperr.New(apperr.Conflict, "customer has orders")
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return Missing("customer")
	}
	return nil
}
