package seed

import (
	"context"
	"errors"
	"io"
)

// Demo loads a small demo dataset.
func Demo(ctx context.Context, d Deps, out io.Writer) error {
	return errors.New("seed demo is being written")
}

// Marketplace loads the public marketplace dataset.
func Marketplace(ctx context.Context, d Deps, dir string, out io.Writer) error {
	return errors.New("seed marketplace is being written")
}
