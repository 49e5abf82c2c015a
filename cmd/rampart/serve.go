package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/contract"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/httpapi"
	"github.com/rampart-dev/rampart/internal/inspect"
	"github.com/rampart-dev/rampart/internal/metrics"
	"github.com/rampart-dev/rampart/internal/ratelimit"
	"github.com/rampart-dev/rampart/internal/threat"
)

// shutdownGrace bounds how long in-flight requests may finish on SIGTERM.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context) error {
	a, err := wire(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.db.CheckLoginRole(ctx); err != nil {
		return err
	}
	if v, dirty, err := a.db.SchemaVersion(ctx); err != nil || dirty ||
		v != db.ExpectedVersion() {
		return fmt.Errorf("schema is at version %d (dirty %v), this build needs %d: run `rampart migrate up` first (%v)",
			v, dirty, db.ExpectedVersion(), err)
	}

	// Background work runs until the listeners have drained, then stops
	// and flushes: nothing accepted is lost.
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	m := metrics.New(version, a.db.Pool)
	blocks := threat.NewBlocklist(a.db, a.log)
	blocks.OnReload = m.Blocks
	blocks.ListenURL = a.cfg.ListenURL
	if err := blocks.Reload(ctx); err != nil {
		stopBG()
		return err
	}
	events := threat.NewRecorder(a.db, a.log, a.cfg.Subkey("event-account"))
	events.OnEvent = m.Event
	for _, run := range []func(){
		func() { blocks.Run(bg, 30*time.Second) },
		func() { events.Run(bg, time.Second) },
		func() { threat.Seal(bg, a.db, a.log, 5*time.Second) },
		func() { m.Run(bg, a.db, a.log, 15*time.Second) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); run() }()
	}
	defer func() { stopBG(); wg.Wait() }()

	limits, err := newLimits(a, m)
	if err != nil {
		return err
	}
	var inspector *inspect.Inspector
	if a.cfg.Inspect {
		if inspector, err = inspect.New(); err != nil {
			return err
		}
	} else {
		a.log.Warn("attack inspection is off (RAMPART_INSPECT=off)")
	}
	spec, err := contract.Load()
	if err != nil {
		return err
	}
	api := httpapi.New(httpapi.Deps{
		DB: a.db, Auth: a.auth, Vault: a.vault, Cursors: a.cursors,
		Log: a.log, ClientIP: httpapi.NewClientIP(a.cfg.TrustedProxies),
		Blocks: blocks, Threats: events, Limits: limits, Metrics: m,
		MFA: a.mfa, CORSOrigins: a.cfg.CORSOrigins, Inspector: inspector,
		Contract: spec,
	})
	srv := &http.Server{
		Addr:              a.cfg.Listen,
		Handler:           api,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	metrics := &http.Server{
		Addr:              a.cfg.MetricsListen,
		Handler:           metricsHandler(a, m),
		ReadHeaderTimeout: 5 * time.Second,
	}

	errc := make(chan error, 2)
	go func() { errc <- listen(srv) }()
	go func() { errc <- listen(metrics) }()
	a.log.Info("serving", zap.String("listen", a.cfg.Listen),
		zap.String("metrics_listen", a.cfg.MetricsListen),
		zap.String("version", version))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Readiness goes false first, so load balancers stop sending new
	// requests, then in-flight ones finish.
	a.log.Info("shutting down: readiness is false; draining",
		zap.Duration("drain_delay", a.cfg.DrainDelay))
	api.Drain()
	time.Sleep(a.cfg.DrainDelay)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return errors.Join(srv.Shutdown(sctx), metrics.Shutdown(sctx))
}

func listen(s *http.Server) error {
	if err := s.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("listen on %s: %w", s.Addr, err)
	}
	return nil
}

// newLimits builds the rate limiter: one budget across instances on Redis
// when REDIS_URL is set (falling back to memory while Redis is down), an
// in-process one otherwise, none when RAMPART_RATE_LIMITS=off.
func newLimits(a *app, m *metrics.Metrics) (*ratelimit.Guard, error) {
	if !a.cfg.RateLimits {
		a.log.Warn("rate limits are off (RAMPART_RATE_LIMITS=off)")
		return nil, nil
	}
	policies := ratelimit.DefaultPolicies()
	if k := a.cfg.RateLimitScale; k > 1 {
		a.log.Warn("rate limits are multiplied (RAMPART_RATE_LIMIT_SCALE)", zap.Int("scale", k))
		for c, l := range policies {
			l.Rate, l.Burst = l.Rate*k, l.Burst*k
			policies[c] = l
		}
	}
	mem := ratelimit.NewMemory(0)
	if a.cfg.RedisURL == "" {
		return ratelimit.NewGuard(mem, policies, m), nil
	}
	opt, err := redis.ParseURL(a.cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// The fallback logs Redis outages once; the client's own retries would
	// otherwise write unstructured lines to stderr.
	redis.SetLogger(quietRedis{})
	fb := ratelimit.NewFallback(ratelimit.NewRedis(redis.NewClient(opt)), mem,
		func(degraded bool) {
			m.Degraded(degraded)
			if degraded {
				a.log.Warn("redis unreachable: rate limits fall back to this instance")
			} else {
				a.log.Info("redis reachable again: rate limits are cluster-wide")
			}
		})
	return ratelimit.NewGuard(fb, policies, m), nil
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// metricsHandler serves the Prometheus metrics, and with RAMPART_PPROF=on
// the runtime profiles under /debug/pprof/, on the metrics listener only:
// never on the public port. (Importing net/http/pprof also registers them
// on http.DefaultServeMux, which no listener of the service uses.)
func metricsHandler(a *app, m *metrics.Metrics) http.Handler {
	if !a.cfg.Pprof {
		return m.Handler()
	}
	a.log.Warn("profiling is on: /debug/pprof/ on the metrics listener (RAMPART_PPROF)",
		zap.String("metrics_listen", a.cfg.MetricsListen))
	mux := http.NewServeMux()
	mux.Handle("/", m.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
