// Package marketplace holds the merchant domain: merchants and their
// members, storefront pages, items, market listings, customers and orders.
// Every function runs inside a request transaction (db.Querier) and relies
// on row-level security for tenancy; the checks here are for clear answers,
// not for safety.
package marketplace

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"

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

// checkLen holds a text field to a length in characters and refuses
// control characters, which no name, title or address needs and which
// break the logs, CSV exports and terminals the text ends up in. A
// description, and an admin's note on an event, may hold line breaks and
// tabs. Bidirectional overrides and
// isolates are refused too: they make a title on the public market read
// differently from what it holds (U+202E turns "gpj.exe" into "exe.jpg").
// The plain direction marks U+200E and U+200F, which right-to-left text
// uses, stay allowed.
func checkLen(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		return invalid(field, fmt.Sprintf("must be %d to %d characters", min, max))
	}
	multiLine := field == "description" || field == "note"
	for _, r := range s {
		if bidiOverride(r) {
			return invalid(field, "must not contain bidirectional override or isolate characters")
		}
		if !multiLine && (r == '\u2028' || r == '\u2029') {
			return invalid(field, "must be one line")
		}
		if r == '\ufeff' {
			return invalid(field, "must not contain a byte order mark")
		}
		if !unicode.IsControl(r) || multiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if multiLine {
			return invalid(field, "must not contain control characters other than line breaks and tabs")
		}
		return invalid(field, "must not contain control characters")
	}
	return nil
}

// CheckText holds a single-line text field that is not part of the
// domain's inputs, such as a reveal's reason, to the rules of every text
// field: length in characters, no control characters, no bidirectional
// overrides.
func CheckText(field, s string, min, max int) error {
	return checkLen(field, s, min, max)
}

// bidiOverride reports the embedding, override and isolate characters
// U+202A..U+202E and U+2066..U+2069.
func bidiOverride(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// CheckCurrency accepts an active ISO 4217 code in upper case, such as
// BRL; an unknown code (ZZZ), lower case, or a code for no currency
// at all (XXX, the testing code XTS, precious metals) is refused.
func CheckCurrency(code string) error {
	u, err := currency.ParseISO(code)
	if err != nil || code != strings.ToUpper(code) {
		return invalid("currency", "must be an ISO 4217 code such as BRL")
	}
	switch u {
	case currency.XXX, currency.XTS, currency.XAU, currency.XAG, currency.XPD, currency.XPT:
		return invalid("currency", "must be an ISO 4217 code such as BRL")
	}
	return nil
}

// errNothingToChange refuses an update that names no field.
var errNothingToChange = apperr.New(apperr.Invalid, "the update names no field to change")
