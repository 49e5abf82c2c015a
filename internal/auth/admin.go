package auth

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/confusable"
	"github.com/rampart-dev/rampart/internal/password"
)

// CreatePlatformAdmin registers an account with the platform_admin role.
// It needs a connection allowed to update auth.users directly (the admin
// command runs it over the migration connection), since no request role may
// grant itself that role.
func CreatePlatformAdmin(ctx context.Context, exec func(ctx context.Context, sql string, args ...any) error,
	h password.Hasher, email, pw string) (uuid.UUID, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return uuid.Nil, err
	}
	if err := password.Validate(pw, e); err != nil {
		return uuid.Nil, fmt.Errorf("password refused: %w", err)
	}
	hash, err := h.Hash(pw)
	if err != nil {
		return uuid.Nil, err
	}
	id := uuid.New()
	err = exec(ctx, `
insert into auth.users (id, email, password_hash, platform_role, email_skeleton)
values ($1, $2, $3, 'platform_admin', $4)`, id, e, hash, confusable.Skeleton(e))
	if apperr.Is(err, apperr.Conflict) {
		return uuid.Nil, fmt.Errorf("an account with that email exists")
	}
	return id, err
}
