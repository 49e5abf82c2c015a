package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/keys"
	"github.com/rampart-dev/rampart/internal/pii"
)

// keysCmd re-seals stored PII under the first key of RAMPART_PII_KEYS; the
// keys after it must include every key still in use. It needs DATABASE_URL
// to be an owner or superuser connection: no request role may read the
// sealed columns.
func keysCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return usageError{"keys needs rotate [--batch N] [--seal-plaintext]"}
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	batch := fs.Int("batch", keys.DefaultBatchSize, "rows per transaction")
	plaintext := fs.Bool("seal-plaintext", false,
		"seal values that are not sealed yet, as legacy plaintext")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *batch < 1 {
		return usageError{"keys rotate needs --batch of at least 1"}
	}

	cfg, ring, err := rotationConfig()
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	opt := keys.Options{BatchSize: *batch, SealPlaintext: *plaintext}
	stats, err := keys.Rotate(ctx, conn, ring, opt, printProgress)
	printSummary(ring, stats)
	if err != nil {
		return err
	}
	if n := len(stats.Failures); n > 0 {
		return fmt.Errorf("%d values could not be re-sealed (listed above)", n)
	}
	return nil
}

// rotationConfig loads the configuration and builds the keyring. A key
// made up for this process (development without RAMPART_PII_KEYS) is
// refused: data sealed under it would be lost when the process exits.
func rotationConfig() (*config.Config, *pii.Keyring, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, nil, fmt.Errorf("configuration:\n%w", err)
	}
	if slices.Contains(cfg.Generated, "RAMPART_PII_KEYS") {
		return nil, nil, errors.New("keys rotate needs RAMPART_PII_KEYS: " +
			"the new key first, then every older key")
	}
	ring, err := pii.NewKeyring(cfg.PIIKeys[0], cfg.PIIKeys[1:]...)
	if err != nil {
		return nil, nil, fmt.Errorf("pii keyring: %w", err)
	}
	return cfg, ring, nil
}

func printProgress(p keys.Progress) {
	c := p.Counts
	fmt.Printf("%s.%s: scanned %d, resealed %d, sealed %d, current %d, "+
		"skipped %d, failed %d (%s)\n", p.Table, p.Column, c.Scanned,
		c.Resealed, c.Sealed, c.Current, c.Skipped, c.Failed,
		p.Elapsed.Round(time.Millisecond))
	for _, f := range p.Failures {
		fmt.Printf("  failed %s.%s id=%s: %v%s\n", f.Table, f.Column, f.ID,
			f.Err, plaintextHint(f.Err))
	}
}

func plaintextHint(err error) string {
	if errors.Is(err, pii.ErrMalformed) {
		return " (legacy plaintext? rerun with --seal-plaintext)"
	}
	return ""
}

func printSummary(ring *pii.Keyring, s keys.Stats) {
	fmt.Printf("done: key %q; scanned %d, resealed %d, sealed %d, "+
		"current %d, skipped %d, failed %d\n", ring.CurrentID(), s.Scanned,
		s.Resealed, s.Sealed, s.Current, s.Skipped, s.Failed)
	if s.Skipped > 0 {
		fmt.Println("skipped values were changed by another writer " +
			"meanwhile; rerun to check they are under the current key")
	}
}
