// Command bench is the load generator behind `make bench`: it drives the
// API's hot endpoints through a full and a stripped `rampart serve` with
// vegeta at a fixed concurrency, runs pgbench over the same SQL
// transactions as the database's own limit, times the customer-data quota
// check, and writes the results as JSON, a markdown table and a chart.
//
// scripts/bench.sh prepares the database and calls it; see that script for
// the whole procedure. Subcommands:
//
//	bench run  -admin-url URL -api-url URL [flags]   benchmark and report
//	bench seed -sellers N DIR                        load part of the dataset
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: bench <command> [flags]

commands:
  run    start the servers, run every scenario and pgbench, write results
  seed   load the first N sellers of the marketplace dataset (a small run)

Run "bench <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt,
		syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing command", errUsage)
	}
	switch args[0] {
	case "run":
		o, err := parseRunFlags(args[1:])
		if err != nil {
			return err
		}
		return runBench(ctx, o)
	case "seed":
		return seedCmd(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}
