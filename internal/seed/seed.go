// Package seed loads data through the same code paths the API uses: users
// sign up and sign in, and everything else is created in their request
// transactions, under row-level security.
package seed

import (
	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// Deps are what seeding needs.
type Deps struct {
	DB    *db.DB
	Auth  *auth.Service
	Vault *marketplace.Vault
}
