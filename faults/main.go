//go:build faults

// Command faults breaks Rampart's dependencies one at a time while a steady
// load runs, and checks what the service did about it: fail fast with 503,
// recover by itself, never answer customer data without its audit row,
// never leave an order half-applied or acknowledge one that is not stored.
//
// It runs only inside the world scripts/faults.sh builds (a private
// PostgreSQL cluster and Redis that may be killed); `make test-faults`.
// The build tag keeps it out of `go test ./...` and `go vet ./...`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// phase is one fault: how to inject it and end it. inject runs while the
// load runs; it sets the fault window and recovery on o.
type phase struct {
	name   string
	fault  string
	limits bool
	pace   time.Duration
	inject func(ctx context.Context, r *runner, o *outcome) error
}

// runner holds what the phases share.
type runner struct {
	w       *world
	l       *load
	workers int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt,
		syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	w, err := worldFromEnv()
	if err != nil {
		return err
	}
	defer w.stopService()

	if err := w.startService(ctx, false); err != nil {
		return err
	}
	who, err := signIn(ctx, w)
	if err != nil {
		return err
	}
	if err := stockUp(ctx, w, who); err != nil {
		return err
	}
	r := &runner{w: w, l: newLoad(w.apiURL, who), workers: workers()}

	var outcomes []*outcome
	for _, p := range phases() {
		o, err := r.runPhase(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		outcomes = append(outcomes, o)
	}
	if !report(os.Stdout, outcomes) {
		return fmt.Errorf("some checks failed (logs in %s)", w.dir)
	}
	return nil
}

func workers() int {
	if n, err := strconv.Atoi(os.Getenv("FAULTS_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 6
}

// phases lists the faults in order; FAULTS_FREEZE=1 adds a frozen
// database, which the service is not yet built to survive quickly.
func phases() []phase {
	ps := []phase{
		{name: "baseline", fault: "none", pace: 10 * time.Millisecond,
			inject: injectNothing},
		{name: "a", fault: "postgres restart -m fast",
			pace: 10 * time.Millisecond, inject: injectPGRestart},
		{name: "b", fault: "pg_terminate_backend loop 5s",
			pace: 10 * time.Millisecond, inject: injectKills},
		{name: "c", fault: "redis down 10s", limits: true,
			pace: 500 * time.Millisecond, inject: injectRedisDown},
		{name: "d", fault: "audit insert raises 5s",
			pace: 10 * time.Millisecond, inject: injectAuditFailure},
		{name: "f", fault: "SIGTERM under load, restart",
			pace: 10 * time.Millisecond, inject: injectSIGTERM},
	}
	if os.Getenv("FAULTS_FREEZE") == "1" {
		ps = append(ps, phase{name: "e", fault: "postgres frozen 8s (SIGSTOP)",
			pace: 10 * time.Millisecond, inject: injectFreeze})
	}
	return ps
}

// runPhase puts the service in the phase's mode, runs the load around the
// fault, then checks what the database holds against what was answered.
func (r *runner) runPhase(ctx context.Context, p phase) (*outcome, error) {
	if err := r.w.ensureService(ctx, p.limits); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "faults: phase %s (%s), rate limits %s\n",
		p.name, p.fault, onOff(p.limits))

	o := &outcome{phase: p.name, fault: p.fault, recovery: -1}
	loadCtx, stopLoad := context.WithCancel(ctx)
	wait := r.l.start(loadCtx, p.name, r.workers, p.pace)
	err := p.inject(ctx, r, o)
	stopLoad()
	o.recs = wait()
	if err != nil {
		return nil, err
	}
	if err := r.check(ctx, p, o); err != nil {
		return nil, err
	}
	return o, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// stockUp gives the items the load orders more units than any run takes:
// orders reserve stock, and the demo's items hold a few dozen each.
func stockUp(ctx context.Context, w *world, who []principal) error {
	var ids []string
	for _, p := range who {
		for _, it := range p.items {
			ids = append(ids, it.ID)
		}
	}
	return w.admin(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `update app.merchant_items set stock = 1000000000
where id = any($1::uuid[])`, ids)
		if err != nil {
			return fmt.Errorf("stock up items: %w", err)
		}
		return nil
	})
}
