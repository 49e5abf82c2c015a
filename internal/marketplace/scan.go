package marketplace

import (
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/apperr"
)

type scanner = interface{ Scan(...any) error }

func collect[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	return collectPage(rows, 0, scan)
}

// collectPage is collect for a query of at most limit rows: the slice is
// made once for a full page instead of growing through every power of two
// below it, which on a list endpoint was most of what a request allocated.
func collectPage[T any](rows pgx.Rows, limit int, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := make([]T, 0, min(max(limit, 0), MaxPageSize+1))
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// notFoundAs names what was not found when err means no row.
func notFoundAs(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return Missing(what)
	}
	if apperr.Is(err, apperr.NotFound) {
		return apperr.Wrap(apperr.NotFound, what+" not found", err)
	}
	return err
}
