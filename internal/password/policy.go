package password

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// Length limits of the password policy. MaxBytes bounds hashing cost and
// request size; MinLength follows NIST SP 800-63B for single-factor use.
const (
	MinLength = 12  // characters (runes), after normalization
	MaxBytes  = 128 // bytes, after normalization
)

// Stable reasons carried by PolicyError, safe to show to clients.
const (
	ReasonTooShort      = "too_short"
	ReasonTooLong       = "too_long"
	ReasonCommon        = "common"
	ReasonContainsEmail = "contains_email"
)

// minLocalPart is the shortest email local part checked for containment;
// shorter ones would reject too many unrelated passwords.
const minLocalPart = 3

// PolicyError reports why a password was refused. Reason is one of the
// Reason constants.
type PolicyError struct {
	Reason string
}

// Error returns the reason prefixed by its context.
func (e *PolicyError) Error() string {
	return "password policy: " + e.Reason
}

// common.txt holds well-known passwords of at least MinLength characters,
// lower-cased, one per line, generated from classic leaked-password lists,
// common words with years and digits, keyboard walks and repetitions.
//
//go:embed common.txt
var commonList string

// commonSet is built from commonList on first use.
var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 16384)
	sc := bufio.NewScanner(strings.NewReader(commonList))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			set[line] = struct{}{}
		}
	}
	return set
})

// Validate checks pw against the policy for the account with the given
// email. It returns nil or a *PolicyError.
func Validate(pw, email string) error {
	pw = normalize(pw)
	switch {
	case len(pw) > MaxBytes:
		return &PolicyError{Reason: ReasonTooLong}
	case utf8.RuneCountInString(pw) < MinLength:
		return &PolicyError{Reason: ReasonTooShort}
	}

	lower := strings.ToLower(pw)
	if _, ok := commonSet()[lower]; ok {
		return &PolicyError{Reason: ReasonCommon}
	}
	if local := localPart(email); local != "" && strings.Contains(lower, local) {
		return &PolicyError{Reason: ReasonContainsEmail}
	}
	return nil
}

// localPart returns the normalized, lower-cased part of email before its
// last "@", or "" when it is too short to check.
func localPart(email string) string {
	local := email
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		local = email[:i]
	}
	local = strings.ToLower(normalize(local))
	if utf8.RuneCountInString(local) < minLocalPart {
		return ""
	}
	return local
}
