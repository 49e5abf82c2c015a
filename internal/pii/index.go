package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Domain prefixes keep an email and a phone number with the same text from
// sharing an index value.
const (
	emailDomain = "email\x00"
	phoneDomain = "phone\x00"
)

// Indexer computes blind indexes: keyed HMAC-SHA256 digests of normalized
// values, stored beside sealed fields so exact lookups work without
// decrypting. Its key must differ from every sealing key. An Indexer is
// safe for concurrent use.
type Indexer struct {
	key []byte
}

// NewIndexer returns an Indexer keyed with a copy of key. It returns an
// error wrapping ErrInvalidKey unless key is KeySize bytes.
func NewIndexer(key []byte) (*Indexer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("index key must be %d bytes: %w", KeySize, ErrInvalidKey)
	}
	return &Indexer{key: append([]byte(nil), key...)}, nil
}

// String describes the indexer without revealing its key.
func (x *Indexer) String() string { return "pii.Indexer{key: [redacted]}" }

// Email returns the blind index of an email address after NormalizeEmail.
// It returns nil when the normalized address is empty, so absent values
// never share one index value.
func (x *Indexer) Email(s string) []byte {
	return x.sum(emailDomain, NormalizeEmail(s))
}

// Phone returns the blind index of a phone number after NormalizePhone.
// It returns nil when the normalized number is empty.
func (x *Indexer) Phone(s string) []byte {
	return x.sum(phoneDomain, NormalizePhone(s))
}

func (x *Indexer) sum(domain, value string) []byte {
	if value == "" {
		return nil
	}
	mac := hmac.New(sha256.New, x.key)
	mac.Write([]byte(domain))
	mac.Write([]byte(value))
	return mac.Sum(nil)
}

// NormalizeEmail returns the canonical form used for indexing: NFKC,
// lower-cased, surrounding white space trimmed. Case is folded in the
// local part too, as nearly every mail provider treats it that way. The
// result is NFKC again, because lower-casing can undo normalization, so
// NormalizeEmail is idempotent.
func NormalizeEmail(s string) string {
	lower := strings.ToLower(norm.NFKC.String(s))
	return strings.TrimSpace(norm.NFKC.String(lower))
}

// NormalizePhone returns the canonical form used for indexing: after NFKC
// (which turns full-width digits into ASCII), only the ASCII digits are
// kept, preceded by "+" when a plus sign comes before the first digit. It
// returns "" when there are no digits. Numbers written with a "00" or
// national prefix are not rewritten to international form.
func NormalizePhone(s string) string {
	var b strings.Builder
	plus := false
	for _, r := range norm.NFKC.String(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			plus = true
		}
	}
	if b.Len() == 0 {
		return ""
	}
	if plus {
		return "+" + b.String()
	}
	return b.String()
}
