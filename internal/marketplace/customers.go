package marketplace

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"time"

	"github.com/google/uuid"

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
		if err := checkLen(field+"."+c.name, c.v, 1, c.max); err != nil {
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
	if !create && in == (CustomerInput{}) {
		return errNothingToChange
	}
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

// CreateCustomer adds a customer to a merchant (members). The answer is
// built from what was written: request roles cannot read customers back
// except through the audited door.
func (v *Vault) CreateCustomer(ctx context.Context, q db.Querier, merchantID uuid.UUID, in CustomerInput) (Customer, error) {
	if err := in.validate(true); err != nil {
		return Customer{}, err
	}
	id := uuid.New()
	s, err := v.sealCustomer(id, in)
	if err != nil {
		return Customer{}, err
	}
	_, err = q.Exec(ctx, `
insert into app.merchant_customers
  (id, merchant_id, external_ref, name_sealed, name_mask, email_sealed,
   email_mask, email_bidx, phone_sealed, phone_mask, phone_bidx,
   address_sealed, address_mask)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		id, merchantID, in.ExternalRef, s.name.sealed, s.name.mask,
		s.email.sealed, s.email.mask, s.email.bidx, s.phone.sealed,
		s.phone.mask, s.phone.bidx, s.address.sealed, s.address.mask)
	if err != nil {
		return Customer{}, notFoundAs(err, "merchant")
	}
	now := time.Now().UTC()
	return Customer{ID: id, MerchantID: merchantID, ExternalRef: in.ExternalRef,
		Name: deref(s.name.mask), Email: deref(s.email.mask),
		Phone: s.phone.mask, Address: s.address.mask, CreatedAt: now,
		UpdatedAt: now}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CustomerFilter selects customers by exact email or phone, through the
// blind index, or by id; nothing else about PII can be searched.
type CustomerFilter struct {
	Email *string
	Phone *string
	IDs   []uuid.UUID
}

// access is one call of security.get_customer_data_secure.
type access struct {
	merchantID uuid.UUID
	kind       string
	customer   *uuid.UUID
	ids        []uuid.UUID
	emailBidx  []byte
	phoneBidx  []byte
	page       Page
	reason     *string
}

// sealedCustomerRow is a customer row with its sealed values, which the
// door returns only for reveal and export.
type sealedCustomerRow struct {
	Customer
	name, email, phone, address []byte
}

// read runs the audited door. A refusal (not a member, wrong role, no
// recent second factor, over quota) is returned wrapped in
// db.CommitAndFail: the audit row and any security event it wrote commit,
// and the request fails.
func read(ctx context.Context, q db.Querier, a access) ([]sealedCustomerRow, error) {
	var ids []uuid.UUID
	if a.ids != nil {
		ids = a.ids
	}
	rows, err := q.Query(ctx, `
select status,
       retry_after,
       id,
       merchant_id,
       external_ref,
       coalesce(name_mask, ''),
       coalesce(email_mask, ''),
       phone_mask,
       address_mask,
       created_at,
       updated_at,
       name_sealed,
       email_sealed,
       phone_sealed,
       address_sealed
from security.get_customer_data_secure($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.merchantID, a.kind, a.customer, ids, a.emailBidx, a.phoneBidx,
		a.page.AfterTime, a.page.AfterID, a.page.Limit, a.reason)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var out []sealedCustomerRow
	for rows.Next() {
		var status string
		var retry int32
		var id, mid *uuid.UUID
		var created, updated *time.Time
		var c sealedCustomerRow
		if err := rows.Scan(&status, &retry, &id, &mid, &c.ExternalRef,
			&c.Name, &c.Email, &c.Phone, &c.Address, &created, &updated,
			&c.name, &c.email, &c.phone, &c.address); err != nil {
			return nil, err
		}
		if err := refusal(status, int(retry)); err != nil {
			rows.Close()
			return nil, db.CommitAndFail(err)
		}
		c.ID, c.MerchantID, c.CreatedAt, c.UpdatedAt = *id, *mid, *created, *updated
		out = append(out, c)
	}
	return out, rows.Err()
}

func refusal(status string, retry int) error {
	switch status {
	case "ok":
		return nil
	case "not_found":
		return Missing("customer")
	case "forbidden":
		return apperr.New(apperr.Forbidden,
			"only owners and managers reveal, and only owners export, customer data")
	case "mfa_required":
		return apperr.New(apperr.MFARequired,
			"a second factor verified in the last 15 minutes is required")
	case "over_quota":
		return &apperr.Error{Code: apperr.RateLimited, RetryAfter: retry,
			Message: "customer data quota exhausted; retry later"}
	}
	return fmt.Errorf("unknown access status %q", status)
}

// ListCustomers lists a merchant's customers, masked, counting every record
// against the caller's quota (members).
func (v *Vault) ListCustomers(ctx context.Context, q db.Querier, merchantID uuid.UUID, f CustomerFilter, p Page) ([]Customer, error) {
	a := access{merchantID: merchantID, kind: "list", ids: f.IDs, page: p}
	if f.Email != nil {
		a.emailBidx = v.Index.Email(*f.Email)
	}
	if f.Phone != nil {
		a.phoneBidx = v.Index.Phone(*f.Phone)
	}
	rows, err := read(ctx, q, a)
	if err != nil {
		return nil, err
	}
	out := make([]Customer, len(rows))
	for i, r := range rows {
		out[i] = r.Customer
	}
	return out, nil
}

// GetCustomer returns one customer, masked (members).
func GetCustomer(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) (Customer, error) {
	rows, err := read(ctx, q, access{merchantID: merchantID, kind: "view",
		customer: &id})
	if err != nil {
		return Customer{}, err
	}
	if len(rows) == 0 {
		return Customer{}, Missing("customer")
	}
	return rows[0].Customer, nil
}

// PlainCustomer is a customer's data in the clear.
type PlainCustomer struct {
	ID          uuid.UUID `json:"id"`
	MerchantID  uuid.UUID `json:"merchant_id"`
	ExternalRef *string   `json:"external_ref"`
	Name        *string   `json:"name"`
	Email       *string   `json:"email"`
	Phone       *string   `json:"phone"`
	Address     *Address  `json:"address"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Reveal returns a customer in the clear to an owner or manager whose
// session passed a second factor recently, with a reason that is audited.
func (v *Vault) Reveal(ctx context.Context, q db.Querier, merchantID, id uuid.UUID, reason string) (PlainCustomer, error) {
	return v.plain(ctx, q, access{merchantID: merchantID, kind: "reveal",
		customer: &id, reason: &reason})
}

func (v *Vault) plain(ctx context.Context, q db.Querier, a access) (PlainCustomer, error) {
	rows, err := read(ctx, q, a)
	if err != nil {
		return PlainCustomer{}, err
	}
	if len(rows) == 0 {
		return PlainCustomer{}, Missing("customer")
	}
	r := rows[0]
	p := PlainCustomer{ID: r.ID, MerchantID: r.MerchantID,
		ExternalRef: r.ExternalRef, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	// The audit row says the data left the database; if opening fails now,
	// that row must still commit.
	if err := v.open(r, &p); err != nil {
		return PlainCustomer{}, db.CommitAndFail(err)
	}
	return p, nil
}

func (v *Vault) open(r sealedCustomerRow, p *PlainCustomer) error {
	fields := []struct {
		column string
		sealed []byte
		dst    **string
	}{
		{"merchant_customers.name", r.name, &p.Name},
		{"merchant_customers.email", r.email, &p.Email},
		{"merchant_customers.phone", r.phone, &p.Phone},
	}
	for _, f := range fields {
		if f.sealed == nil {
			continue
		}
		b, err := v.Keys.Open(f.sealed, AAD(f.column, r.ID))
		if err != nil {
			return fmt.Errorf("open %s: %w", f.column, err)
		}
		s := string(b)
		*f.dst = &s
	}
	if r.address == nil {
		return nil
	}
	b, err := v.Keys.Open(r.address, AAD("merchant_customers.address", r.ID))
	if err != nil {
		return fmt.Errorf("open address: %w", err)
	}
	p.Address = &Address{}
	return json.Unmarshal(b, p.Address)
}

// CustomerExport is everything held about one customer.
type CustomerExport struct {
	Customer PlainCustomer `json:"customer"`
	Orders   []Order       `json:"orders"`
}

// Export returns everything held about a customer, in the clear, to an
// owner at aal2 (GDPR access request). It is audited as an export.
func (v *Vault) Export(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) (CustomerExport, error) {
	c, err := v.plain(ctx, q, access{merchantID: merchantID, kind: "export",
		customer: &id})
	if err != nil {
		return CustomerExport{}, err
	}
	orders, err := customerOrders(ctx, q, merchantID, id)
	if err != nil {
		return CustomerExport{}, db.CommitAndFail(err)
	}
	return CustomerExport{Customer: c, Orders: orders}, nil
}

// UpdateCustomer changes a customer's fields (members) and returns the
// customer as a (audited) view.
func (v *Vault) UpdateCustomer(ctx context.Context, q db.Querier, merchantID, id uuid.UUID, in CustomerInput) (Customer, error) {
	if err := in.validate(false); err != nil {
		return Customer{}, err
	}
	s, err := v.sealCustomer(id, in)
	if err != nil {
		return Customer{}, err
	}
	// The customer is read through the audited door before anything is
	// written: a caller over the read quota, or not allowed to see the
	// customer, is refused (and audited, the refusal committing alone)
	// with nothing changed. Reading back after the update instead would
	// commit the update along with the over-quota audit row, and answer
	// 429 for a change that was made.
	c, err := GetCustomer(ctx, q, merchantID, id)
	if err != nil {
		return Customer{}, err
	}
	var found bool
	err = q.QueryRow(ctx, `
select app.update_customer($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		merchantID, id, in.ExternalRef, s.name.sealed, s.name.mask,
		s.email.sealed, s.email.mask, s.email.bidx, s.phone.sealed,
		s.phone.mask, s.phone.bidx, s.address.sealed, s.address.mask).Scan(&found)
	if err != nil {
		return Customer{}, err
	}
	if !found {
		return Customer{}, Missing("customer")
	}
	// The answer is what was read with the changes written over it, as
	// app.update_customer applies them (a field left out keeps its value).
	if in.ExternalRef != nil {
		c.ExternalRef = in.ExternalRef
	}
	if in.Name != nil {
		c.Name = deref(s.name.mask)
	}
	if in.Email != nil {
		c.Email = deref(s.email.mask)
	}
	if in.Phone != nil {
		c.Phone = s.phone.mask
	}
	if in.Address != nil {
		c.Address = s.address.mask
	}
	c.UpdatedAt = time.Now().UTC()
	return c, nil
}

// EraseCustomer forgets a customer (managers and owners): sealed values,
// masks and blind indexes are destroyed, orders stay anonymous. Every
// refusal is audited; staff of the merchant get forbidden, anyone else
// not_found.
func EraseCustomer(ctx context.Context, q db.Querier, merchantID, id uuid.UUID) error {
	var ok bool
	err := q.QueryRow(ctx, `select app.erase_customer($1, $2)`, merchantID, id).
		Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return db.CommitAndFail(refuseWrite(ctx, q, merchantID, "manager",
			Missing("customer")))
	}
	return nil
}
