package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/password"
	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/seed"
	"github.com/rampart-dev/rampart/internal/token"
)

// seedCmd loads the first N sellers of the marketplace dataset through
// the seed package, as `rampart seed marketplace` loads all of them. It
// reads the same configuration (DATABASE_URL as rampart_api, the keys) and
// exists because the binary has no flag for a part of the dataset.
func seedCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench seed", flag.ContinueOnError)
	sellers := fs.Int("sellers", 40, "how many sellers to load")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || *sellers < 1 {
		return fmt.Errorf("%w: bench seed [-sellers N] DIR", errUsage)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.MaxConns)
	if err != nil {
		return err
	}
	defer d.Close()
	deps, err := seedDeps(cfg, d)
	if err != nil {
		return err
	}
	return seed.MarketplaceWithOptions(ctx, deps, fs.Arg(0), os.Stdout,
		seed.MarketplaceOptions{MaxSellers: *sellers})
}

// seedDeps builds what the seed needs the way serve does: accounts hashed
// with the production parameters, PII sealed under the configured keys.
func seedDeps(cfg *config.Config, d *db.DB) (seed.Deps, error) {
	issuer, err := token.NewIssuer(cfg.Issuer, cfg.Audience, cfg.AccessTTL,
		cfg.JWTKeys)
	if err != nil {
		return seed.Deps{}, fmt.Errorf("token issuer: %w", err)
	}
	keys, err := pii.NewKeyring(cfg.PIIKeys[0], cfg.PIIKeys[1:]...)
	if err != nil {
		return seed.Deps{}, fmt.Errorf("pii keyring: %w", err)
	}
	index, err := pii.NewIndexer(cfg.IndexKey)
	if err != nil {
		return seed.Deps{}, fmt.Errorf("blind index: %w", err)
	}
	a := auth.New(d, auth.Options{
		Hasher:        password.Hasher{Params: password.DefaultParams},
		Issuer:        issuer,
		AccessTTL:     cfg.AccessTTL,
		SessionIdle:   cfg.SessionIdle,
		SessionMaxAge: cfg.SessionMaxAge,
		RefreshGrace:  cfg.RefreshGrace,
		RefreshKey:    cfg.Subkey("refresh-token"),
		LockoutKey:    cfg.Subkey("login-lockout"),
	})
	return seed.Deps{DB: d, Auth: a,
		Vault: &marketplace.Vault{Keys: keys, Index: index}}, nil
}
