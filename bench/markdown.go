package main

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/internal/ratelimit"
)

// markdown renders the results as the tables of <name>.md.
func markdown(r *report, entries []*entry, compared bool) []byte {
	var b bytes.Buffer
	o := r.Options
	fmt.Fprintf(&b, "# Rampart benchmark: %s\n\n", o.name)
	fmt.Fprintf(&b, "Run at %s, took %s, on %s; PostgreSQL %s.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"),
		r.Elapsed.Round(time.Second), machine(), r.Data.Server)
	fmt.Fprintf(&b, "Data: %s (at the start).\n\n", r.Data)
	fmt.Fprintf(&b, "Each HTTP run: a fresh `rampart serve`, %s of warm-up, then "+
		"%s with %d requests in flight (vegeta, keep-alive), acting as %d "+
		"seller owners at random, through a pool of %d database connections. "+
		"pgbench: the same transactions as "+
		"`rampart_api`, %d clients, prepared statements, the server's round "+
		"trips as pipelines, for the same %s. Only 2xx answers count as "+
		"successes.\n\n", o.warmup, o.duration, o.concurrency,
		r.Sellers, o.poolSize(), o.concurrency, o.duration)

	if compared {
		comparison(&b, entries)
	} else {
		endpoints(&b, entries)
	}
	quotaTable(&b, entries, compared)
	notes(&b, r, entries)
	return b.Bytes()
}

func endpoints(b *bytes.Buffer, entries []*entry) {
	b.WriteString("## Endpoints\n\n")
	b.WriteString("| scenario | full rps | p50 ms | p99 ms | stripped rps | " +
		"p50 ms | p99 ms | pgbench tps | p50 ms | p99 ms | full / pgbench | " +
		"stripped / pgbench | full / stripped | full: not 2xx |\n")
	b.WriteString("|---|" + strings.Repeat("---:|", 13) + "\n")
	for _, e := range httpEntries(entries) {
		pg := e.Pgbench
		if pg == nil {
			pg = &pgbenchResult{}
		}
		fmt.Fprintf(b, "| %s | %.1f | %s | %s | %.1f | %s | %s | "+
			"%s | %s | %s | %s | %s | %s | %s |\n", e.Name, e.RPS,
			orDash(e.P50, "%.2f"), orDash(e.P99, "%.2f"), e.Stripped.RPS,
			orDash(e.Stripped.P50, "%.2f"), orDash(e.Stripped.P99, "%.2f"),
			orDash(e.PgbenchTPS, "%.1f"), orDashV(pg.P50, e.Pgbench, "%.2f"),
			orDashV(pg.P99, e.Pgbench, "%.2f"), orDash(e.RatioToPgbench, "%.3f"),
			orDash(e.StrippedRatioToPgbench, "%.3f"),
			orDash(e.RatioFullToStripped, "%.3f"), refused(e.Full))
	}
	b.WriteString("\n")
}

func comparison(b *bytes.Buffer, entries []*entry) {
	b.WriteString("## Endpoints, against the base run\n\n")
	b.WriteString("Each cell: base → this run (change).\n\n")
	b.WriteString("| scenario | full rps | stripped rps | pgbench tps | " +
		"full / pgbench | stripped / pgbench | full: not 2xx |\n")
	b.WriteString("|---|" + strings.Repeat("---:|", 6) + "\n")
	for _, e := range httpEntries(entries) {
		now, then := e.figures(), baseOf(e)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", e.Name,
			change(then.RPS, now.RPS, "%.1f"),
			change(then.StrippedRPS, now.StrippedRPS, "%.1f"),
			change(then.PgbenchTPS, now.PgbenchTPS, "%.1f"),
			change(then.RatioToPgbench, now.RatioToPgbench, "%.3f"),
			change(then.StrippedRatioToPgbench, now.StrippedRatioToPgbench, "%.3f"),
			refused(e.Full))
	}
	b.WriteString("\nLatency in milliseconds, base → this run:\n\n")
	b.WriteString("| scenario | full p50 | full p99 | stripped p50 | " +
		"stripped p99 | pgbench p50 | pgbench p99 |\n")
	b.WriteString("|---|" + strings.Repeat("---:|", 6) + "\n")
	for _, e := range httpEntries(entries) {
		now, then := e.figures(), baseOf(e)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", e.Name,
			change(then.P50, now.P50, "%.2f"), change(then.P99, now.P99, "%.2f"),
			change(then.StrippedP50, now.StrippedP50, "%.2f"),
			change(then.StrippedP99, now.StrippedP99, "%.2f"),
			change(then.PgbenchP50, now.PgbenchP50, "%.2f"),
			change(then.PgbenchP99, now.PgbenchP99, "%.2f"))
	}
	b.WriteString("\n")
}

func httpEntries(entries []*entry) []*entry {
	var out []*entry
	for _, e := range entries {
		if e.Kind == "http" {
			out = append(out, e)
		}
	}
	return out
}

func baseOf(e *entry) *figures {
	if e.Base == nil {
		return &figures{}
	}
	return e.Base
}

func quotaTable(b *bytes.Buffer, entries []*entry, compared bool) {
	b.WriteString("## Customer-data quota check\n\n")
	b.WriteString("One connection, one call per transaction, " +
		"after 100 unmeasured calls; the first seller reads one of its " +
		"customers.\n\n")
	if compared {
		b.WriteString("| measurement | audit rows | p50 ms | p99 ms | " +
			"p50 ratio |\n|---|---:|---:|---:|---:|\n")
	} else {
		b.WriteString("| measurement | audit rows | rows in the caller's window | " +
			"p50 ms | p99 ms | calls/s |\n|---|---:|---:|---:|---:|---:|\n")
	}
	for _, e := range entries {
		if e.Kind != "sql" {
			continue
		}
		if compared {
			then := e.Base
			if then == nil {
				then = &figures{}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", e.Title,
				changeInt(then.AuditRows, e.AuditRows),
				change(then.P50, e.P50, "%.3f"), change(then.P99, e.P99, "%.3f"),
				orDash(ratioP(e.P50, then.P50), "%.2f"))
			continue
		}
		fmt.Fprintf(b, "| %s | %d | %d | %s | %s | %.0f |\n", e.Title,
			*e.AuditRows, *e.WindowRows, orDash(e.P50, "%.3f"),
			orDash(e.P99, "%.3f"), e.RPS)
	}
	b.WriteString("\n")
}

func notes(b *bytes.Buffer, r *report, entries []*entry) {
	b.WriteString("## Notes\n\n")
	b.WriteString(fullText(r.Options.rateLimitScale))
	b.WriteString("- *stripped*: `RAMPART_RATE_LIMITS=off` and " +
		"`RAMPART_INSPECT=off`, every optional middleware with a switch. " +
		"Per scenario the runs go stripped, full, pgbench; each HTTP run " +
		"has a server process of its own, so no limiter budget, pool or " +
		"cache carries over.\n")
	if len(r.Options.fullEnv) > 0 {
		fmt.Fprintf(b, "- The full stack also ran with `%s`.\n",
			strings.Join(r.Options.fullEnv, " "))
	}
	if throttled(entries) {
		fmt.Fprintf(b, "- The full stack answered 429 to some requests "+
			"(limits: %s). They count under *full: not 2xx*, never as "+
			"successes", limitsText(r.Options.rateLimitScale))
		if r.Options.rateLimitScale == 1 {
			b.WriteString("; past the bursts its rps measures these limits, " +
				"not its cost (`BENCH_RATE_LIMIT_SCALE` raises them)")
		}
		b.WriteString(".\n")
	}
	for _, e := range entries {
		refusals(b, e.Name, "full stack", e.Full)
		refusals(b, e.Name, "stripped", e.Stripped)
		if e.PgbenchDiffers != "" {
			fmt.Fprintf(b, "- %s: %s.\n", e.Name, e.PgbenchDiffers)
		}
		if e.PgbenchError != "" {
			fmt.Fprintf(b, "- %s: pgbench failed: %s\n", e.Name, e.PgbenchError)
		}
	}
	b.WriteString("- The bench database's customer-data quota is raised to " +
		"100 million records and a million reveals in its window: the load " +
		"reads customers far faster than any person may.\n")
	b.WriteString("- The servers, PostgreSQL, the load generator and pgbench " +
		"share the machine's CPUs, so every figure includes the load " +
		"generator's own cost; compare figures of one run, or of runs on " +
		"one quiet machine.")
	if r.LoadBefore != "" {
		fmt.Fprintf(b, " Load average (1, 5, 15 min) at the start: %s; at "+
			"the end: %s.", r.LoadBefore, r.LoadAfter)
	}
	b.WriteString("\n")
}

// refusals notes how many answers of one run were not 2xx, by status.
func refusals(b *bytes.Buffer, name, variant string, r *httpResult) {
	if r == nil || r.Refused() == 0 {
		return
	}
	fmt.Fprintf(b, "- %s, %s: %d of %d answers were not 2xx (%s).\n", name,
		variant, r.Refused(), r.Requests, formatStatus(r.Status))
}

func throttled(entries []*entry) bool {
	for _, e := range entries {
		if e.Full != nil && e.Full.Status[http.StatusTooManyRequests] > 0 {
			return true
		}
	}
	return false
}

func fullText(scale int) string {
	s := "- *full*: the default configuration, every layer on (attack " +
		"inspection, rate limits in process)"
	if scale == 1 {
		return s + ".\n"
	}
	return s + fmt.Sprintf(", with `RAMPART_RATE_LIMIT_SCALE=%d`: the whole "+
		"load comes from one address and a few accounts, so the limits are "+
		"multiplied to let it through; every request is still checked "+
		"against its budgets.\n", scale)
}

// limitsText lists the limits of the route classes, multiplied by scale.
func limitsText(scale int) string {
	pol := ratelimit.DefaultPolicies()
	classes := make([]string, 0, len(pol))
	for c := range pol {
		classes = append(classes, string(c))
	}
	slices.Sort(classes)
	parts := make([]string, len(classes))
	for i, c := range classes {
		l := pol[ratelimit.Class(c)]
		scope := "user"
		if ratelimit.Class(c).PerIP() {
			scope = "address"
		}
		parts[i] = fmt.Sprintf("%s %d per %s per %s, burst %d", c,
			l.Rate*scale, l.Period, scope, l.Burst*scale)
	}
	return strings.Join(parts, "; ")
}

func refused(r *httpResult) string {
	if r == nil || r.Refused() == 0 {
		return "0"
	}
	return fmt.Sprintf("%d of %d", r.Refused(), r.Requests)
}

func orDash(v *float64, format string) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf(format, *v)
}

func orDashV(v float64, present *pgbenchResult, format string) string {
	if present == nil {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

func change(then, now *float64, format string) string {
	if now == nil {
		return "–"
	}
	if then == nil {
		return fmt.Sprintf(format, *now)
	}
	s := fmt.Sprintf(format+" → "+format, *then, *now)
	if *then != 0 {
		s += fmt.Sprintf(" (%+.0f%%)", (*now / *then - 1)*100)
	}
	return s
}

func changeInt(then, now *int64) string {
	switch {
	case now == nil:
		return "–"
	case then == nil:
		return fmt.Sprintf("%d", *now)
	}
	return fmt.Sprintf("%d → %d", *then, *now)
}
