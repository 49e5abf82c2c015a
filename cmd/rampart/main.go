// Command rampart is the Rampart service: serve the API, migrate the
// schema, seed data and bootstrap the first platform admin. It parses flags
// and wires packages together; the work lives in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `usage: rampart <command> [arguments]

commands:
  serve                       serve the API (and /metrics on its own listener)
  migrate up|down N|version|force V
                              manage the schema (DATABASE_URL: an owner or superuser)
  seed demo                   load a small demo: merchants, items, customers, orders
  seed marketplace DIR        load the public marketplace dataset from DIR
  admin create --email E      create a platform admin (password from stdin,
                              or generated and printed once)
  keys rotate [--batch N] [--seal-plaintext]
                              re-seal PII under the newest key (DATABASE_URL: an owner)
  audit verify                walk the audit hash chains; name the first broken link
  audit retain --keep D       drop sealed audit rows older than D, keep a checkpoint
  blocklist import FILE --source NAME
                              load a reputation list (one CIDR a line)
  blocklist lift ADDRESS      lift every block covering an address or CIDR
  config                      print the configuration with secrets masked
  healthcheck [URL]           exit 0 when the API answers /healthz (for container
                              health checks; default from RAMPART_LISTEN)
  version                     print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt,
		syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:]); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, usage)
		}
		fmt.Fprintln(os.Stderr, "rampart:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"missing command"}
	}
	switch args[0] {
	case "serve":
		return serve(ctx)
	case "migrate":
		return migrateCmd(args[1:])
	case "seed":
		return seedCmd(ctx, args[1:])
	case "admin":
		return adminCmd(ctx, args[1:])
	case "keys":
		return keysCmd(ctx, args[1:])
	case "audit":
		return auditCmd(ctx, args[1:])
	case "blocklist":
		return blocklistCmd(ctx, args[1:])
	case "config":
		return configCmd()
	case "healthcheck":
		return healthcheck(args[1:])
	case "version":
		fmt.Println(version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
