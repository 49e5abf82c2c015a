package main

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/logging"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/mfa"
	"github.com/rampart-dev/rampart/internal/password"
	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/token"
)

// app is the wired service.
type app struct {
	cfg     *config.Config
	log     *zap.Logger
	db      *db.DB
	auth    *auth.Service
	vault   *marketplace.Vault
	cursors *cursor.Signer
	mfa     *mfa.Service
}

func newLogger(cfg *config.Config) (*zap.Logger, error) {
	return logging.New(cfg.Development())
}

// wire loads the configuration and builds everything that talks to the
// database as rampart_api.
func wire(ctx context.Context) (*app, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	log, err := newLogger(cfg)
	if err != nil {
		return nil, err
	}
	if len(cfg.Generated) > 0 {
		log.Warn("development mode: generated secrets for this process only; "+
			"data sealed or tokens signed with them will not survive a restart",
			zap.Strings("generated", cfg.Generated))
	}

	d, err := db.Open(ctx, cfg.DatabaseURL, cfg.MaxConns)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, db: d}
	if err := a.build(); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) build() error {
	cfg := a.cfg
	issuer, err := token.NewIssuer(cfg.Issuer, cfg.Audience, cfg.AccessTTL,
		cfg.JWTKeys)
	if err != nil {
		return fmt.Errorf("token issuer: %w", err)
	}
	keys, err := pii.NewKeyring(cfg.PIIKeys[0], cfg.PIIKeys[1:]...)
	if err != nil {
		return fmt.Errorf("pii keyring: %w", err)
	}
	index, err := pii.NewIndexer(cfg.IndexKey)
	if err != nil {
		return fmt.Errorf("blind index: %w", err)
	}
	a.cursors, err = cursor.NewSigner(cfg.Subkey("cursor"))
	if err != nil {
		return err
	}
	a.vault = &marketplace.Vault{Keys: keys, Index: index}
	a.auth = auth.New(a.db, auth.Options{
		Hasher:        password.Hasher{Params: password.DefaultParams},
		Issuer:        issuer,
		AccessTTL:     cfg.AccessTTL,
		SessionIdle:   cfg.SessionIdle,
		SessionMaxAge: cfg.SessionMaxAge,
		RefreshGrace:  cfg.RefreshGrace,
		RefreshKey:    cfg.Subkey("refresh-token"),
		LockoutKey:    cfg.Subkey("login-lockout"),
		LockoutDelay:  100 * time.Millisecond,
	})
	a.mfa, err = mfa.New(mfa.Options{Issuer: "Rampart", Keys: keys,
		RecoveryKey: cfg.Subkey("mfa-recovery")})
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	return nil
}

func (a *app) close() {
	a.db.Close()
	_ = a.log.Sync()
}
