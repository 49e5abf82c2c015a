package marketplace

import (
	"context"
	"net/mail"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/db"
)

// MerchantPage is a storefront page as its members see it.
type MerchantPage struct {
	MerchantID   uuid.UUID `json:"merchant_id"`
	Slug         string    `json:"slug"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	ContactEmail *string   `json:"contact_email"`
	ContactPhone *string   `json:"contact_phone"`
	Published    bool      `json:"published"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PublicPage is a published page; the contact fields are present only for
// signed-in callers.
type PublicPage struct {
	Slug         string    `json:"slug"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	UpdatedAt    time.Time `json:"updated_at"`
	ContactEmail *string   `json:"contact_email,omitempty"`
	ContactPhone *string   `json:"contact_phone,omitempty"`
}

// PageInput is the body of a page update; absent fields stay as they are.
type PageInput struct {
	Title        *string  `json:"title"`
	Description  *string  `json:"description"`
	ContactEmail **string `json:"contact_email"`
	ContactPhone **string `json:"contact_phone"`
	Published    *bool    `json:"published"`
}

// GetPage returns a merchant's page to its members.
func GetPage(ctx context.Context, q db.Querier, merchantID uuid.UUID) (MerchantPage, error) {
	if err := requireMember(ctx, q, merchantID); err != nil {
		return MerchantPage{}, err
	}
	var p MerchantPage
	err := q.QueryRow(ctx, `
select merchant_id,
       slug,
       title,
       description,
       contact_email,
       contact_phone,
       published,
       updated_at
from app.merchant_pages
where merchant_id = $1`, merchantID).Scan(&p.MerchantID, &p.Slug, &p.Title,
		&p.Description, &p.ContactEmail, &p.ContactPhone, &p.Published,
		&p.UpdatedAt)
	return p, notFoundAs(err, "page")
}

// UpdatePage changes a merchant's page (owners and managers: the page is
// public and its contact fields are what shoppers trust; migration 16).
// Staff get forbidden.
func UpdatePage(ctx context.Context, q db.Querier, merchantID uuid.UUID, in PageInput) (MerchantPage, error) {
	if err := validatePage(in); err != nil {
		return MerchantPage{}, err
	}
	setEmail, setPhone := in.ContactEmail != nil, in.ContactPhone != nil
	var email, phone *string
	if setEmail {
		email = *in.ContactEmail
	}
	if setPhone {
		phone = *in.ContactPhone
	}
	tag, err := q.Exec(ctx, `
update app.merchant_pages set
  title = coalesce($2, title),
  description = coalesce($3, description),
  contact_email = case when $4 then $5 else contact_email end,
  contact_phone = case when $6 then $7 else contact_phone end,
  published = coalesce($8, published),
  updated_at = now()
where merchant_id = $1`, merchantID, in.Title, in.Description, setEmail,
		email, setPhone, phone, in.Published)
	if err != nil {
		return MerchantPage{}, err
	}
	if tag.RowsAffected() == 0 {
		return MerchantPage{}, refuseWrite(ctx, q, merchantID, "manager", Missing("page"))
	}
	return GetPage(ctx, q, merchantID)
}

func validatePage(in PageInput) error {
	if in == (PageInput{}) {
		return errNothingToChange
	}
	if in.Title != nil {
		if err := checkLen("title", *in.Title, 1, 200); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := checkLen("description", *in.Description, 0, 5000); err != nil {
			return err
		}
	}
	if in.ContactEmail != nil && *in.ContactEmail != nil {
		e := **in.ContactEmail
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
			return invalid("contact_email", "must be a plain email address")
		}
	}
	if in.ContactPhone != nil && *in.ContactPhone != nil {
		if err := checkLen("contact_phone", **in.ContactPhone, 3, 32); err != nil {
			return err
		}
	}
	return nil
}

// GetPublicPage returns a published page by slug. Anonymous callers are
// served by a query that never names the contact columns, which the anon
// role cannot read in any case.
func GetPublicPage(ctx context.Context, q db.Querier, slug string, signedIn bool) (PublicPage, error) {
	var p PublicPage
	if !signedIn {
		err := q.QueryRow(ctx, `
select slug, title, description, updated_at
from app.merchant_pages
where slug = $1 and published`, slug).
			Scan(&p.Slug, &p.Title, &p.Description, &p.UpdatedAt)
		return p, notFoundAs(err, "page")
	}
	err := q.QueryRow(ctx, `
select slug, title, description, updated_at, contact_email, contact_phone
from app.merchant_pages
where slug = $1 and published`, slug).Scan(&p.Slug, &p.Title,
		&p.Description, &p.UpdatedAt, &p.ContactEmail, &p.ContactPhone)
	return p, notFoundAs(err, "page")
}
