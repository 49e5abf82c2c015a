package db

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-dev/rampart/internal/apperr"
)

// Translate turns a driver error into an application error. It is the one
// place PostgreSQL's vocabulary is mapped to the API's; the driver's text is
// kept as the cause, for logs, and never becomes the message.
//
// Row-level security refusals and foreign keys that do not resolve answer
// not_found: to a caller, another tenant's row and a missing row must look
// the same.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.Wrap(apperr.NotFound, "resource not found", err)
	}
	if errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(apperr.Unavailable, "request was cancelled", err)
	}

	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return translatePg(pe, err)
	}

	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return apperr.Wrap(apperr.Unavailable, "database unavailable", err)
	}
	return apperr.Wrap(apperr.Internal, "internal error", err)
}

func translatePg(pe *pgconn.PgError, err error) error {
	switch {
	case pe.Code == "RA001":
		return apperr.Wrap(apperr.MFARequired,
			"a second factor verified in the last 15 minutes is required", err)
	case pe.Code == "23505":
		return apperr.Wrap(apperr.Conflict, "resource already exists", err)
	case pe.Code == "23503", pe.Code == "42501":
		return apperr.Wrap(apperr.NotFound, "resource not found", err)
	case pe.Code == "23514", pe.Code == "23502", pe.Code == "22023",
		pe.Code[:2] == "22":
		return apperr.Wrap(apperr.Invalid, "request violates a constraint",
			err)
	case pe.Code == "40001", pe.Code == "40P01":
		return apperr.Wrap(apperr.Unavailable,
			"conflicting concurrent update, retry", err)
	case pe.Code[:2] == "08", pe.Code[:2] == "53", pe.Code[:2] == "57":
		return apperr.Wrap(apperr.Unavailable, "database unavailable", err)
	}
	return apperr.Wrap(apperr.Internal, "internal error", err)
}
