// Package metrics holds Rampart's Prometheus metrics on a registry of its
// own. Labels are fixed, small sets: route patterns, classes, kinds and
// results; never an id, an email, a name or a raw path.
package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/db"
)

// Metrics is every metric the service exports.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	rateDecisions *prometheus.CounterVec
	rateDegraded  prometheus.Gauge
	authOutcomes  *prometheus.CounterVec
	events        *prometheus.CounterVec
	customerReads *prometheus.CounterVec
	blockedIPs    prometheus.Gauge
	suspended     prometheus.Gauge
	security      *prometheus.GaugeVec
	chainBroken   prometheus.Gauge
	refreshErrors prometheus.Counter
}

// New registers every metric, the Go and process collectors, build info
// and the pool statistics of pool (when not nil).
func New(version string, pool *pgxpool.Pool) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := factory{m.reg}
	m.httpRequests = f.counterVec("rampart_http_requests_total",
		"HTTP requests by route pattern, method and status code.",
		"route", "method", "code")
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rampart_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	m.reg.MustRegister(m.httpDuration)
	m.rateDecisions = f.counterVec("rampart_ratelimit_decisions_total",
		"Rate-limit decisions by route class and result.", "class", "result")
	m.rateDegraded = f.gauge("rampart_ratelimit_degraded",
		"1 while Redis is unreachable and limits are per instance.")
	m.authOutcomes = f.counterVec("rampart_auth_outcomes_total",
		"Authentication outcomes by operation and reason.", "operation", "outcome")
	m.events = f.counterVec("rampart_security_events_total",
		"Security events observed by this instance, by kind and severity.",
		"kind", "severity")
	m.customerReads = f.counterVec("rampart_customer_data_access_total",
		"Customer-data accesses by kind (list, view, reveal, export) and result.",
		"kind", "result")
	m.blockedIPs = f.gauge("rampart_blocked_networks",
		"Live IP blocks in this instance's cache.")
	m.suspended = f.gauge("rampart_suspended_users",
		"Suspended users in this instance's cache.")
	m.security = f.gaugeVec("rampart_security_overview",
		"Figures of get_security_metrics(), refreshed on a timer.", "figure")
	m.chainBroken = f.gauge("rampart_audit_chain_broken",
		"1 when the recent links of an audit hash chain do not verify.")
	m.refreshErrors = f.counter("rampart_security_overview_refresh_errors_total",
		"Failed refreshes of the security overview figures.")

	m.reg.MustRegister(collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := f.gaugeVec("rampart_build_info", "Build information; always 1.",
		"version", "goversion")
	build.WithLabelValues(version, runtime.Version()).Set(1)
	if pool != nil {
		m.reg.MustRegister(poolCollector{pool})
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// knownMethods keeps the method label to a fixed set.
var knownMethods = map[string]bool{"GET": true, "POST": true, "PUT": true,
	"PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true}

// HTTP records one request. route must be a route pattern or "unmatched".
func (m *Metrics) HTTP(route, method string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// Decision implements ratelimit.Observer.
func (m *Metrics) Decision(class, result string) {
	m.rateDecisions.WithLabelValues(class, result).Inc()
}

// Degraded implements ratelimit.Observer.
func (m *Metrics) Degraded(on bool) {
	if on {
		m.rateDegraded.Set(1)
	} else {
		m.rateDegraded.Set(0)
	}
}

// Auth records an authentication outcome.
func (m *Metrics) Auth(operation, outcome string) {
	m.authOutcomes.WithLabelValues(operation, outcome).Inc()
}

// Event records a security event.
func (m *Metrics) Event(kind, severity string) {
	m.events.WithLabelValues(kind, severity).Inc()
}

// CustomerAccess records a customer-data access.
func (m *Metrics) CustomerAccess(kind, result string) {
	m.customerReads.WithLabelValues(kind, result).Inc()
}

// Blocks records the size of the block cache.
func (m *Metrics) Blocks(ips, users int) {
	m.blockedIPs.Set(float64(ips))
	m.suspended.Set(float64(users))
}

// figures are the numeric keys of get_security_metrics() exported as
// gauges; the structured ones (top readers) are served by the admin API.
var figures = []string{"incidents_24h", "critical_open", "blocked_ips",
	"suspicious_users", "failed_auth_24h", "customer_reads_1h", "reveals_24h",
	"quota_hits_24h"}

// RefreshSecurity reloads the overview figures and the chain status from
// the database; Run calls it on a timer, never per scrape.
func (m *Metrics) RefreshSecurity(ctx context.Context, d *db.DB) error {
	var raw []byte
	var broken bool
	err := d.Tx(ctx, db.Principal{Role: db.RoleAnon}, func(q db.Querier) error {
		if err := q.QueryRow(ctx, `select security.get_security_metrics()`).Scan(&raw); err != nil {
			return err
		}
		return q.QueryRow(ctx, `select security.chains_broken()`).Scan(&broken)
	})
	if err != nil {
		m.refreshErrors.Inc()
		return err
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	for _, k := range figures {
		if n, err := strconv.ParseFloat(string(v[k]), 64); err == nil {
			m.security.WithLabelValues(k).Set(n)
		}
	}
	if broken {
		m.chainBroken.Set(1)
	} else {
		m.chainBroken.Set(0)
	}
	return nil
}

// Run refreshes the security figures every interval until ctx ends.
func (m *Metrics) Run(ctx context.Context, d *db.DB, log *zap.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := m.RefreshSecurity(ctx, d); err != nil && ctx.Err() == nil {
			log.Warn("refresh security figures", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}
