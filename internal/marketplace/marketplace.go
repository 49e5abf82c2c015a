// Package marketplace holds the merchant domain: merchants and their
// members, storefront pages, items, market listings, customers and orders.
// Every function runs inside a request transaction (db.Querier) and relies
// on row-level security for tenancy; the checks here are for clear answers,
// not for safety.
package marketplace

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
)

// MaxPageSize caps every list. Larger requests are refused, not clamped,
// so a scraper learns at once that it cannot page faster.
const MaxPageSize = 100

// DefaultPageSize is the page size when the client names none.
const DefaultPageSize = 50

// Page is a keyset page request: rows after (AfterTime, AfterID).
type Page struct {
	Limit     int
	AfterTime *time.Time
	AfterID   uuid.UUID
}

// Missing returns the not_found error every lookup answers, for a row that
// does not exist and for another tenant's row alike.
func Missing(what string) error {
	return apperr.New(apperr.NotFound, what+" not found")
}

func invalid(field, reason string) error {
	return apperr.InvalidFields(apperr.FieldError{Field: field, Reason: reason})
}

func checkLen(field, s string, min, max int) error {
	n := len([]rune(s))
	if n < min || n > max {
		return invalid(field, fmt.Sprintf("must be %d to %d characters", min, max))
	}
	return nil
}

// errNothingToChange refuses an update that names no field.
var errNothingToChange = apperr.New(apperr.Invalid, "the update names no field to change")
