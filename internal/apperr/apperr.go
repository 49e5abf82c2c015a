// Package apperr defines the one error type the service answers with: a
// stable machine code, a message safe to show a client, and optionally the
// cause, which is logged and never shown.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, machine-readable error code. Clients branch on it; it
// never changes meaning once released.
type Code string

// The codes the API answers with.
const (
	Invalid          Code = "invalid_request"
	Unauthenticated  Code = "unauthenticated"
	Forbidden        Code = "forbidden"
	MFARequired      Code = "mfa_required"
	NotFound         Code = "not_found"
	MethodNotAllowed Code = "method_not_allowed"
	Conflict         Code = "conflict"
	TooLarge         Code = "payload_too_large"
	CardData         Code = "card_data_refused"
	UnsupportedMedia Code = "unsupported_media_type"
	RateLimited      Code = "rate_limited"
	FeatureDisabled  Code = "feature_disabled" // switched off by an admin: hide it, do not retry
	Unavailable      Code = "unavailable"
	Internal         Code = "internal"
)

var statusByCode = map[Code]int{
	Invalid:          http.StatusBadRequest,
	Unauthenticated:  http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	MFARequired:      http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	TooLarge:         http.StatusRequestEntityTooLarge,
	CardData:         http.StatusUnprocessableEntity,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	RateLimited:      http.StatusTooManyRequests,
	FeatureDisabled:  http.StatusForbidden,
	Unavailable:      http.StatusServiceUnavailable,
	Internal:         http.StatusInternalServerError,
}

// Status returns the HTTP status of a code; unknown codes are 500.
func (c Code) Status() int {
	if s, ok := statusByCode[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// FieldError names one invalid input field and why, in words safe to echo.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is an application error. Message is shown to clients; Cause is for
// logs only.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Cause   error
	// RetryAfter, in seconds, tells a rate-limited client when to retry.
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with a code and a client-safe message.
func New(code Code, msg string) *Error {
	return &Error{Code: code, Message: msg}
}

// Wrap returns an error with a code and message that keeps cause for logs.
func Wrap(code Code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Cause: cause}
}

// InvalidFields returns an invalid_request error naming the bad fields.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: "request has invalid fields",
		Fields: fields}
}

// From returns the *Error in err's chain, or an internal error wrapping err
// when there is none.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(Internal, "internal error", err)
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
