package marketplace

import (
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/apperr"
)

type scanner = interface{ Scan(...any) error }

func collect[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
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
