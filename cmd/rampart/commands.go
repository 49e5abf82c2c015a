package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/config"
	"github.com/rampart-dev/rampart/internal/confusable"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/password"
	"github.com/rampart-dev/rampart/internal/seed"
)

func migrateCmd(args []string) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is required (an owner or superuser connection)")
	}
	if len(args) == 0 {
		return usageError{"migrate needs up, down N, version or force V"}
	}
	m, err := db.NewMigrator(url)
	if err != nil {
		return err
	}
	defer m.Close()

	switch args[0] {
	case "up":
		if err := m.Up(); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if err := refreshSkeletons(url); err != nil {
			return err
		}
	case "down":
		n, err := intArg(args, "down")
		if err != nil {
			return err
		}
		if err := m.Down(n); err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
	case "force":
		v, err := intArg(args, "force")
		if err != nil {
			return err
		}
		if err := m.Force(v); err != nil {
			return fmt.Errorf("migrate force: %w", err)
		}
	case "version":
	default:
		return usageError{fmt.Sprintf("unknown migrate command %q", args[0])}
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	fmt.Printf("schema version %d (dirty: %v; this build expects %d)\n", v,
		dirty, db.ExpectedVersion())
	return nil
}

// refreshSkeletons brings stored email skeletons to the current
// look-alike algorithm after the schema is up to date.
func refreshSkeletons(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to refresh email skeletons: %w", err)
	}
	defer conn.Close(context.Background())
	changed, clashes, err := auth.RefreshSkeletons(ctx, conn)
	if err != nil {
		return err
	}
	if changed > 0 || clashes > 0 {
		fmt.Printf("email skeletons (look-alike check, version %d): %d updated, "+
			"%d accounts share a skeleton with an older one\n",
			confusable.Version, changed, clashes)
	}
	return nil
}

func intArg(args []string, cmd string) (int, error) {
	if len(args) < 2 {
		return 0, usageError{cmd + " needs a number"}
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return 0, usageError{cmd + " needs a number"}
	}
	return n, nil
}

func seedCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"seed needs demo or marketplace DIR"}
	}
	a, err := wire(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	d := seed.Deps{DB: a.db, Auth: a.auth, Vault: a.vault, MFA: a.mfa,
		Listen: a.cfg.Listen}

	switch args[0] {
	case "demo":
		return seed.Demo(ctx, d, os.Stdout)
	case "marketplace":
		if len(args) < 2 {
			return usageError{"seed marketplace needs the dataset folder"}
		}
		return seed.Marketplace(ctx, d, args[1], os.Stdout)
	}
	return usageError{fmt.Sprintf("unknown seed %q", args[0])}
}

// adminCmd creates a platform admin. It needs DATABASE_URL to be an owner
// or superuser connection: no request role may grant the platform role.
func adminCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"admin needs create --email E"}
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	email := fs.String("email", "", "the admin's email address")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *email == "" {
		return usageError{"admin create needs --email"}
	}
	pw, generated, err := readPassword()
	if err != nil {
		return err
	}

	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	exec := func(ctx context.Context, sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		return db.Translate(err)
	}
	h := password.Hasher{Params: password.DefaultParams}
	id, err := auth.CreatePlatformAdmin(ctx, exec, h, *email, pw)
	if err != nil {
		return err
	}
	fmt.Printf("platform admin %s created with id %s\n", *email, id)
	if generated {
		fmt.Printf("password (shown once): %s\n", pw)
	}
	return nil
}

// readPassword reads one line from stdin when it is not a terminal, and
// otherwise generates a strong password.
func readPassword() (string, bool, error) {
	fi, err := os.Stdin.Stat()
	if err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			return line, false, nil
		}
		if err != nil && !errors.Is(err, os.ErrClosed) && line == "" &&
			err.Error() != "EOF" {
			return "", false, fmt.Errorf("read password: %w", err)
		}
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b), true, nil
}

func configCmd() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	for _, line := range cfg.Redacted() {
		fmt.Println(line)
	}
	return nil
}
