package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// options are the flags of `bench run`.
type options struct {
	server      string
	adminURL    string
	apiURL      string
	pgbench     string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	users       int
	out         string
	name        string
	label       string
	baseline    string
	scenarios   []string
	fullEnv     []string
	quotaCalls  int
	// rateLimitScale multiplies the full stack's rate limits.
	rateLimitScale int
	// dbMaxConns is the servers' pool size; 0 leaves the service's
	// default, the greater of 4 and the number of CPUs.
	dbMaxConns int
}

// poolSize is the servers' pool size as the service will make it.
func (o *options) poolSize() int {
	if o.dbMaxConns > 0 {
		return o.dbMaxConns
	}
	return max(4, runtime.NumCPU())
}

func parseRunFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench run", flag.ContinueOnError)
	fs.StringVar(&o.server, "server", "bin/rampart", "the rampart binary to serve")
	fs.StringVar(&o.adminURL, "admin-url", "", "superuser URL of the bench database")
	fs.StringVar(&o.apiURL, "api-url", "", "rampart_api URL of the bench database")
	fs.StringVar(&o.pgbench, "pgbench", "pgbench", "the pgbench binary")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "length of each measured run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each HTTP run")
	fs.IntVar(&o.concurrency, "concurrency", 16, "requests in flight (and pgbench clients)")
	fs.IntVar(&o.users, "users", 16, "seller owners the load is spread over")
	fs.StringVar(&o.out, "out", "bench/results", "folder of the results")
	fs.StringVar(&o.name, "name", "latest", "base name of the result files")
	fs.StringVar(&o.label, "label", "marketplace dataset", "what data the run used")
	fs.StringVar(&o.baseline, "baseline", "", "results JSON to compare with (scale runs)")
	only := fs.String("scenarios", "", "comma-separated scenarios to run (default all)")
	full := fs.String("full-env", "", "extra NAME=VALUE,... for the full-stack server")
	fs.IntVar(&o.quotaCalls, "quota-calls", 2000, "calls per quota-check measurement")
	fs.IntVar(&o.rateLimitScale, "rate-limit-scale", 10000,
		"RAMPART_RATE_LIMIT_SCALE of the full-stack server (1: the default limits)")
	fs.IntVar(&o.dbMaxConns, "db-max-conns", 0,
		"RAMPART_DB_MAX_CONNS of both servers (0: the service's default)")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.adminURL == "" || o.apiURL == "" {
		return nil, fmt.Errorf("%w: -admin-url and -api-url are required", errUsage)
	}
	if o.duration < time.Second || o.concurrency < 1 || o.users < 1 ||
		o.rateLimitScale < 1 || o.dbMaxConns < 0 {
		return nil, fmt.Errorf("%w: -duration must be 1s or more, "+
			"-concurrency, -users and -rate-limit-scale at least 1", errUsage)
	}
	o.scenarios = splitList(*only)
	o.fullEnv = splitList(*full)
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// bench is one run: its options, the admin connection it inspects the
// database with, and the sellers the load acts as.
type bench struct {
	o       *options
	admin   *pgx.Conn
	fx      *fixture
	logs    string
	started time.Time
}

func runBench(ctx context.Context, o *options) error {
	if _, err := exec.LookPath(o.pgbench); err != nil {
		return fmt.Errorf("pgbench not found (Debian: apt-get install "+
			"postgresql-client): %w", err)
	}
	admin, err := pgx.Connect(ctx, o.adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))

	var baseline []*entry
	if o.baseline != "" {
		if baseline, err = readEntries(o.baseline); err != nil {
			return err
		}
	}
	b := &bench{o: o, admin: admin, logs: filepath.Join(o.out, "logs"),
		started: time.Now()}
	if err := os.MkdirAll(b.logs, 0o755); err != nil {
		return err
	}
	rep, err := b.collect(ctx)
	if err != nil {
		return err
	}
	return writeReport(o, rep, baseline)
}

// collect runs everything and gathers the figures of the report.
func (b *bench) collect(ctx context.Context) (*report, error) {
	rep := &report{Started: b.started, Options: b.o, LoadBefore: loadAverage()}
	var err error
	if rep.Data, err = dataStats(ctx, b.admin, b.o.label); err != nil {
		return nil, err
	}
	logf("data: %s", rep.Data)

	if b.fx, err = loadFixture(ctx, b.admin, b.o.users); err != nil {
		return nil, err
	}
	rep.Sellers = len(b.fx.sellers)
	if err := b.withServer(ctx, variantStripped, b.fx.login); err != nil {
		return nil, err
	}
	if rep.Quota, err = b.quota(ctx); err != nil {
		return nil, err
	}

	for _, sc := range selectScenarios(b.o.scenarios) {
		r, err := b.scenario(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		rep.Scenarios = append(rep.Scenarios, r)
	}
	rep.Elapsed = time.Since(b.started)
	rep.LoadAfter = loadAverage()
	return rep, nil
}

// scenario measures one scenario on the stripped server, the full server
// and pgbench, in that order.
func (b *bench) scenario(ctx context.Context, sc *scenario) (*scenarioResult, error) {
	logf("scenario %s: %s", sc.name, sc.title)
	r := &scenarioResult{scenario: sc}
	var err error
	if r.Stripped, err = b.measure(ctx, sc, variantStripped); err != nil {
		return nil, err
	}
	if err := b.settle(ctx, sc); err != nil {
		return nil, err
	}
	if r.Full, err = b.measure(ctx, sc, variantFull); err != nil {
		return nil, err
	}
	if err := b.settle(ctx, sc); err != nil {
		return nil, err
	}
	r.Pgbench, err = b.runPgbench(ctx, sc)
	if err != nil {
		// pgbench failing is a result to report, not a reason to stop.
		logf("  pgbench: %v", err)
		r.PgbenchErr = err.Error()
	}
	return r, nil
}

// settle waits, after a run of a scenario that reads customers, until the
// run's reads have left the customer-data quota window. The quota check
// counts the reader's rows in that window, so without the wait each run
// of the scenario would count the runs before it too and be measured
// slower for coming later. bench.sh cuts the window to 10 seconds.
func (b *bench) settle(ctx context.Context, sc *scenario) error {
	if !sc.readsCustomers {
		return nil
	}
	var secs float64
	if err := b.admin.QueryRow(ctx, `
select extract(epoch from records_window)::float8
from security.customer_access_limits`).Scan(&secs); err != nil {
		return fmt.Errorf("read the quota window: %w", err)
	}
	wait := time.Duration(secs*float64(time.Second)) + time.Second
	if wait > time.Minute {
		logf("  the quota window is %s: not waiting it out between runs", wait)
		return nil
	}
	select {
	case <-time.After(wait):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// measure starts the variant's server, warms it up and attacks it.
func (b *bench) measure(ctx context.Context, sc *scenario, v variant) (*httpResult, error) {
	var res *httpResult
	err := b.withServer(ctx, v, func(ctx context.Context, base string) error {
		if v == variantStripped && b.fx.stale() {
			if err := b.fx.login(ctx, base); err != nil {
				return err
			}
		}
		tr := sc.target(b.fx, base)
		if b.o.warmup > 0 {
			attack(ctx, tr, b.o.warmup, b.o.concurrency)
		}
		res = attack(ctx, tr, b.o.duration, b.o.concurrency)
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	logf("  %-8s %s", v, res)
	return res, nil
}

// serverFunc does its work against the server at base.
type serverFunc func(ctx context.Context, base string) error

// withServer runs fn against a fresh server of variant v and stops it.
// Each run gets its own process, so no limiter budget, pool or cache
// carries over from one run to the next.
func (b *bench) withServer(ctx context.Context, v variant, fn serverFunc) error {
	s, err := startServer(ctx, b.o, v, b.logs)
	if err != nil {
		return err
	}
	ferr := fn(ctx, s.base)
	if err := s.stop(); err != nil && ferr == nil {
		return err
	}
	return ferr
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
