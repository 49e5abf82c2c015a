//go:build faults

package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// outcome is one phase's requests, timings and verdicts.
type outcome struct {
	phase, fault         string
	recs                 []record
	faultStart, faultEnd time.Time
	// strictEnd, when set, closes the window in which the fault surely
	// held, a little before faultEnd (the moment its removal returned).
	strictEnd    time.Time
	recovery     time.Duration // -1: not observed
	recoveryWhat string
	gauge        []sample
	notes        []string
	problems     []string
}

func (o *outcome) notef(format string, args ...any) {
	o.notes = append(o.notes, fmt.Sprintf(format, args...))
}

func (o *outcome) failf(format string, args ...any) {
	o.problems = append(o.problems, fmt.Sprintf(format, args...))
}

// check holds the phase's answers against the database, then against
// what the phase's fault allows.
func (r *runner) check(ctx context.Context, p phase, o *outcome) error {
	err := r.w.admin(ctx, func(c *pgx.Conn) error {
		if err := checkAudit(ctx, c, o); err != nil {
			return err
		}
		return checkOrders(ctx, c, o, r.l.prefix(p.name))
	})
	if err != nil {
		return err
	}
	checkAnswers(o)
	switch p.name {
	case "baseline":
		checkClean(o)
	case "a", "b":
		checkFailFast(o)
	case "c":
		checkRedisOutage(o)
	case "d":
		checkFailClosed(o)
	case "e":
		checkFailFast(o)
		checkNoHang(o)
	}
	return nil
}

func (l *load) prefix(phase string) string {
	return fmt.Sprintf("flt-%s-%s-", l.run, phase)
}

// checkAudit: every customer read answered 2xx has its audit row, found
// by the request id the server answered with.
func checkAudit(ctx context.Context, c *pgx.Conn, o *outcome) error {
	var served []string
	for _, r := range o.recs {
		if r.op == opRead && r.ok() {
			served = append(served, r.reqID)
		}
	}
	rows, err := c.Query(ctx, `
select distinct request_id from security.customer_access_audit
where request_id = any($1) and kind = 'view' and result = 'allowed'`, served)
	if err != nil {
		return fmt.Errorf("read audit rows: %w", err)
	}
	audited, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read audit rows: %w", err)
	}
	if missing := minus(served, audited); len(missing) > 0 {
		o.failf("%d of %d customer reads answered 2xx have no audit row "+
			"(e.g. request id %s)", len(missing), len(served), missing[0])
	}
	return nil
}

// stored is an order of this phase as the database holds it.
type stored struct {
	ref                      string
	subtotal, freight, total int64
	lines                    int64
	linesSum, linesFreight   int64
	linesConsistent          bool
}

// checkOrders: every order answered 2xx is stored with the total it was
// answered with; every stored order was answered 2xx; every stored order
// has its lines and totals that add up.
func checkOrders(ctx context.Context, c *pgx.Conn, o *outcome, prefix string) error {
	rows, err := c.Query(ctx, `
select o.external_ref, o.subtotal_cents, o.freight_cents, o.total_cents,
       count(l.id),
       coalesce(sum(l.line_total_cents), 0)::bigint,
       coalesce(sum(l.freight_cents), 0)::bigint,
       coalesce(bool_and(l.line_total_cents =
                         l.quantity * l.unit_price_cents), true)
from app.orders o
left join app.order_lines l on l.order_id = o.id
where o.external_ref like $1 || '%'
group by o.id`, prefix)
	if err != nil {
		return fmt.Errorf("read orders: %w", err)
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stored, error) {
		var s stored
		err := row.Scan(&s.ref, &s.subtotal, &s.freight, &s.total, &s.lines,
			&s.linesSum, &s.linesFreight, &s.linesConsistent)
		return s, err
	})
	if err != nil {
		return fmt.Errorf("read orders: %w", err)
	}

	byRef := map[string]stored{}
	for _, s := range got {
		byRef[s.ref] = s
		checkOrderRow(o, s)
	}
	sent := map[string]record{}
	for _, r := range o.recs {
		if r.op == opOrder {
			sent[r.ref] = r
		}
	}
	compareOrders(o, sent, byRef)
	return nil
}

func checkOrderRow(o *outcome, s stored) {
	switch {
	case s.lines != 2:
		o.failf("order %s is stored with %d lines, want 2 (half-applied)",
			s.ref, s.lines)
	case !s.linesConsistent:
		o.failf("order %s has a line whose total is not quantity × price", s.ref)
	case s.subtotal != s.linesSum || s.freight != s.linesFreight ||
		s.total != s.subtotal+s.freight:
		o.failf("order %s totals %d+%d=%d do not match its lines %d+%d",
			s.ref, s.subtotal, s.freight, s.total, s.linesSum, s.linesFreight)
	}
}

func compareOrders(o *outcome, sent map[string]record, byRef map[string]stored) {
	var lost, orphans []string
	orphanStatus := map[string]int{}
	for ref, r := range sent {
		s, ok := byRef[ref]
		switch {
		case r.ok() && !ok:
			lost = append(lost, ref)
		case r.ok() && s.total != r.total:
			o.failf("order %s answered 2xx is stored with total %d, want %d",
				ref, s.total, r.total)
		case !r.ok() && ok:
			orphans = append(orphans, ref)
			orphanStatus[statusLabel(r)]++
		}
	}
	for ref := range byRef {
		if _, ok := sent[ref]; !ok {
			o.failf("order %s is stored but was never sent", ref)
		}
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		o.failf("%d orders answered 2xx are not stored (e.g. %s)",
			len(lost), lost[0])
	}
	if len(orphans) > 0 {
		sort.Strings(orphans)
		o.failf("%d orders are stored although their request was not "+
			"answered 2xx (%s; e.g. %s)", len(orphans), countsText(orphanStatus),
			orphans[0])
	}
}

// checkAnswers: no failed customer read carries customer fields, and no
// 2xx answer holds something other than what was asked for.
func checkAnswers(o *outcome) {
	leaks, wrong := 0, 0
	var example string
	for _, r := range o.recs {
		if r.leak {
			leaks++
		}
		if r.wrong != "" {
			wrong++
			example = r.wrong
		}
	}
	if leaks > 0 {
		o.failf("%d failed customer reads carried customer fields", leaks)
	}
	if wrong > 0 {
		o.failf("%d 2xx answers were wrong (e.g. %s)", wrong, example)
	}
}

// checkClean: with nothing broken, everything is served.
func checkClean(o *outcome) {
	if s := tally(o.recs); s.total != s.ok {
		o.failf("%d of %d requests failed with nothing broken (%s)",
			s.total-s.ok, s.total, countsText(s.byStatus))
	}
}

// maxFailLatency is how long a request may take to fail while the
// database is away.
const maxFailLatency = 5 * time.Second

// checkFailFast: while the database is away requests fail with 503, not
// 500 and not after a long wait, and the service recovers on its own.
func checkFailFast(o *outcome) {
	s := tally(o.recs)
	if n := s.fiveXX - s.byStatus["503"]; n > 0 {
		o.failf("%d answers were 5xx but not 503 while the database was "+
			"unavailable: %s", n, strings.Join(s.odd5xx, ", "))
	}
	if n := s.byStatus["no answer"]; n > 0 {
		o.failf("%d requests got no HTTP answer", n)
	}
	if s.maxFail > maxFailLatency {
		o.failf("a failing request took %s (want under %s)", ms(s.maxFail),
			maxFailLatency)
	}
	checkRecovered(o)
}

// checkRecovered: the service recovered within the window, and once it
// served again it kept serving: a pool that still hands out dead
// connections fails requests after the first success.
func checkRecovered(o *outcome) {
	if o.recovery < 0 {
		o.failf("did not recover within %s of the fault's end", recoveryWindow)
		return
	}
	after := tally(within(o.recs, o.faultEnd.Add(o.recovery), time.Now()))
	if after.ok != after.total {
		o.failf("%d of %d requests sent after recovery failed (%s)",
			after.total-after.ok, after.total, countsText(after.byStatus))
	}
}

// checkNoHang: no request, failed or served, waited longer than
// maxFailLatency on an unresponsive database.
func checkNoHang(o *outcome) {
	slow := 0
	for _, r := range o.recs {
		if r.latency() > maxFailLatency {
			slow++
		}
	}
	if slow > 0 {
		o.failf("%d requests took longer than %s (the slowest %s): nothing "+
			"bounds a request's wait on the database", slow, maxFailLatency,
			ms(tally(o.recs).maxLatency))
	}
}

// checkRedisOutage: requests keep being served while Redis is down, and
// the degraded gauge goes to 1 and back to 0.
func checkRedisOutage(o *outcome) {
	s := tally(o.recs)
	if n := s.fiveXX + s.byStatus["no answer"]; n > 0 {
		o.failf("%d requests failed with 5xx or no answer while only "+
			"Redis was down", n)
	}
	during := tally(within(o.recs, o.faultStart, o.faultEnd))
	if during.ok == 0 {
		o.failf("nothing was served while Redis was down")
	}
	o.notef("while Redis was down: %d requests, %d 2xx, %d 429",
		during.total, during.ok, during.byStatus["429"])

	var before, duringMax, last float64 = -1, -1, -1
	for _, g := range o.gauge {
		switch {
		case g.at.Before(o.faultStart):
			before = g.value
		case g.at.Before(o.faultEnd):
			duringMax = max(duringMax, g.value)
		}
		last = g.value
	}
	o.notef("rampart_ratelimit_degraded: %s before, %s at most during the "+
		"outage, %s at the end", gaugeText(before), gaugeText(duringMax),
		gaugeText(last))
	if before != 0 || duringMax != 1 || last != 0 {
		o.failf("the degraded gauge did not go 0 → 1 → 0")
	}
	checkRecovered(o)
}

// checkFailClosed: while the audit trail refuses rows, no customer read
// succeeds and failed ones answer 5xx; other requests are unaffected.
func checkFailClosed(o *outcome) {
	var reads, served, not5xx int
	codes := map[string]int{}
	for _, r := range within(o.recs, o.faultStart, o.strictEnd) {
		if r.op != opRead {
			continue
		}
		reads++
		codes[statusLabel(r)]++
		switch {
		case r.ok():
			served++
		case r.status < 500:
			not5xx++
		}
	}
	o.notef("customer reads while audit inserts failed: %d (%s)", reads,
		countsText(codes))
	if reads == 0 {
		o.failf("no customer read was sent while audit inserts failed")
	}
	if served > 0 {
		o.failf("%d customer reads were served while their audit row "+
			"could not be written (fail open)", served)
	}
	if not5xx > 0 {
		o.failf("%d customer reads failed with a status below 500", not5xx)
	}
	others := tally(within(without(o.recs, opRead), o.faultStart, o.strictEnd))
	if others.ok != others.total {
		o.notef("other requests during the fault: %d of %d failed (%s)",
			others.total-others.ok, others.total, countsText(others.byStatus))
	}
	checkRecovered(o)
}

// within keeps the requests sent at or after from and answered by to.
func within(recs []record, from, to time.Time) []record {
	var out []record
	for _, r := range recs {
		if !r.start.Before(from) && !r.end.After(to) {
			out = append(out, r)
		}
	}
	return out
}

func without(recs []record, skip op) []record {
	var out []record
	for _, r := range recs {
		if r.op != skip {
			out = append(out, r)
		}
	}
	return out
}

// stats sums up a set of requests.
type stats struct {
	total, ok, fourXX, fiveXX int
	byStatus                  map[string]int
	odd5xx                    []string
	maxLatency, maxFail       time.Duration
}

func tally(recs []record) stats {
	s := stats{byStatus: map[string]int{}}
	seen500 := map[string]bool{}
	for _, r := range recs {
		s.total++
		s.byStatus[statusLabel(r)]++
		s.maxLatency = max(s.maxLatency, r.latency())
		switch {
		case r.ok():
			s.ok++
			continue
		case r.status >= 500:
			s.fiveXX++
		case r.status >= 400:
			s.fourXX++
		}
		s.maxFail = max(s.maxFail, r.latency())
		key := fmt.Sprint(r.op, r.status, r.code)
		if r.status >= 500 && r.status != 503 && !seen500[key] {
			seen500[key] = true
			s.odd5xx = append(s.odd5xx, fmt.Sprintf("%s %d code=%s",
				r.op, r.status, r.code))
		}
	}
	return s
}

func statusLabel(r record) string {
	if r.status == 0 {
		return "no answer"
	}
	return fmt.Sprint(r.status)
}

func countsText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func gaugeText(v float64) string {
	if v < 0 {
		return "unseen"
	}
	return fmt.Sprint(v)
}

func minus(all, some []string) []string {
	have := make(map[string]bool, len(some))
	for _, s := range some {
		have[s] = true
	}
	var out []string
	for _, s := range all {
		if !have[s] {
			out = append(out, s)
		}
	}
	return out
}

func ms(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}
