package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	Started time.Time
	Elapsed time.Duration
	Options *options
	Data    *dataInfo
	Sellers int
	// LoadBefore and LoadAfter are the machine's load averages.
	LoadBefore string
	LoadAfter  string
	Quota      []*quotaResult
	Scenarios  []*scenarioResult
}

// scenarioResult is one scenario on both servers and pgbench.
type scenarioResult struct {
	scenario   *scenario
	Full       *httpResult
	Stripped   *httpResult
	Pgbench    *pgbenchResult
	PgbenchErr string
}

// entry is one object of the results JSON: a scenario (kind "http"), with
// the full stack's figures at the top, or a single-connection SQL timing
// (kind "sql"), whose rps is calls per second and which has no pgbench
// or stripped counterpart.
type entry struct {
	Name                string   `json:"name"`
	RPS                 float64  `json:"rps"`
	P50                 *float64 `json:"p50_ms"`
	P99                 *float64 `json:"p99_ms"`
	PgbenchTPS          *float64 `json:"pgbench_tps"`
	RatioToPgbench      *float64 `json:"ratio_to_pgbench"`
	RatioFullToStripped *float64 `json:"ratio_full_to_stripped"`

	Kind                   string         `json:"kind"`
	Title                  string         `json:"title"`
	StrippedRatioToPgbench *float64       `json:"stripped_ratio_to_pgbench,omitempty"`
	Full                   *httpResult    `json:"full,omitempty"`
	Stripped               *httpResult    `json:"stripped,omitempty"`
	Pgbench                *pgbenchResult `json:"pgbench,omitempty"`
	PgbenchError           string         `json:"pgbench_error,omitempty"`
	PgbenchDiffers         string         `json:"pgbench_differs,omitempty"`
	AuditRows              *int64         `json:"audit_rows,omitempty"`
	WindowRows             *int64         `json:"window_rows,omitempty"`
	Calls                  int            `json:"calls,omitempty"`

	// The run, repeated in every entry so each stands alone.
	At          string  `json:"at"`
	Data        string  `json:"data"`
	DurationS   float64 `json:"duration_s"`
	Concurrency int     `json:"concurrency"`

	// Base and Change compare a scale run with the run it is compared
	// with (Change is this run's figure divided by the base's).
	Base   *figures `json:"base,omitempty"`
	Change *figures `json:"change,omitempty"`
}

// figures are the comparable numbers of an entry.
type figures struct {
	RPS                    *float64 `json:"rps"`
	P50                    *float64 `json:"p50_ms"`
	P99                    *float64 `json:"p99_ms"`
	PgbenchTPS             *float64 `json:"pgbench_tps"`
	RatioToPgbench         *float64 `json:"ratio_to_pgbench"`
	RatioFullToStripped    *float64 `json:"ratio_full_to_stripped"`
	StrippedRPS            *float64 `json:"stripped_rps,omitempty"`
	StrippedP50            *float64 `json:"stripped_p50_ms,omitempty"`
	StrippedP99            *float64 `json:"stripped_p99_ms,omitempty"`
	StrippedRatioToPgbench *float64 `json:"stripped_ratio_to_pgbench,omitempty"`
	PgbenchP50             *float64 `json:"pgbench_p50_ms,omitempty"`
	PgbenchP99             *float64 `json:"pgbench_p99_ms,omitempty"`
	AuditRows              *int64   `json:"audit_rows,omitempty"`
}

func (r *report) entries() []*entry {
	var out []*entry
	for _, s := range r.Scenarios {
		out = append(out, r.scenarioEntry(s))
	}
	for _, q := range r.Quota {
		e := r.base(q.Name, "sql", q.Title)
		e.RPS, e.P50, e.P99, e.Calls = q.PerSecond, &q.P50, &q.P99, q.Calls
		e.AuditRows, e.WindowRows = &q.AuditRows, &q.Window
		out = append(out, e)
	}
	return out
}

func (r *report) base(name, kind, title string) *entry {
	return &entry{Name: name, Kind: kind, Title: title,
		At: r.Started.UTC().Format(time.RFC3339), Data: r.Data.String(),
		DurationS:   r.Options.duration.Seconds(),
		Concurrency: r.Options.concurrency}
}

func (r *report) scenarioEntry(s *scenarioResult) *entry {
	e := r.base(s.scenario.name, "http", s.scenario.title)
	e.RPS, e.P50, e.P99 = s.Full.RPS, s.Full.P50, s.Full.P99
	e.Full, e.Stripped, e.Pgbench = s.Full, s.Stripped, s.Pgbench
	e.PgbenchError, e.PgbenchDiffers = s.PgbenchErr, s.scenario.differs
	e.RatioFullToStripped = ratio(s.Full.RPS, s.Stripped.RPS)
	if s.Pgbench != nil {
		e.PgbenchTPS = &s.Pgbench.TPS
		e.RatioToPgbench = ratio(s.Full.RPS, s.Pgbench.TPS)
		e.StrippedRatioToPgbench = ratio(s.Stripped.RPS, s.Pgbench.TPS)
	}
	return e
}

func (e *entry) figures() *figures {
	f := &figures{RPS: ptr(e.RPS), P50: e.P50, P99: e.P99,
		PgbenchTPS: e.PgbenchTPS, RatioToPgbench: e.RatioToPgbench,
		RatioFullToStripped:    e.RatioFullToStripped,
		StrippedRatioToPgbench: e.StrippedRatioToPgbench,
		AuditRows:              e.AuditRows}
	if e.Stripped != nil {
		f.StrippedRPS = ptr(e.Stripped.RPS)
		f.StrippedP50, f.StrippedP99 = e.Stripped.P50, e.Stripped.P99
	}
	if e.Pgbench != nil {
		f.PgbenchP50, f.PgbenchP99 = &e.Pgbench.P50, &e.Pgbench.P99
	}
	return f
}

// compare sets Base and Change of every entry that the baseline has too.
func compare(entries, baseline []*entry) {
	byName := map[string]*entry{}
	for _, b := range baseline {
		byName[b.Name] = b
	}
	for _, e := range entries {
		b, ok := byName[e.Name]
		if !ok {
			continue
		}
		now, then := e.figures(), b.figures()
		e.Base = then
		e.Change = &figures{RPS: ratioP(now.RPS, then.RPS),
			P50: ratioP(now.P50, then.P50), P99: ratioP(now.P99, then.P99),
			PgbenchTPS:     ratioP(now.PgbenchTPS, then.PgbenchTPS),
			RatioToPgbench: ratioP(now.RatioToPgbench, then.RatioToPgbench),
			RatioFullToStripped: ratioP(now.RatioFullToStripped,
				then.RatioFullToStripped),
			StrippedRPS: ratioP(now.StrippedRPS, then.StrippedRPS),
			StrippedP50: ratioP(now.StrippedP50, then.StrippedP50),
			StrippedP99: ratioP(now.StrippedP99, then.StrippedP99),
			StrippedRatioToPgbench: ratioP(now.StrippedRatioToPgbench,
				then.StrippedRatioToPgbench),
			PgbenchP50: ratioP(now.PgbenchP50, then.PgbenchP50),
			PgbenchP99: ratioP(now.PgbenchP99, then.PgbenchP99)}
	}
}

// writeReport writes <name>.json, <name>.md and <name>.png into the
// results folder; a run with a baseline (the entries of an earlier run)
// compares with it.
func writeReport(o *options, r *report, baseline []*entry) error {
	entries := r.entries()
	if baseline != nil {
		compare(entries, baseline)
	}
	base := filepath.Join(o.out, o.name)
	if err := writeJSON(base+".json", entries); err != nil {
		return err
	}
	if err := os.WriteFile(base+".md", markdown(r, entries, baseline != nil), 0o644); err != nil {
		return err
	}
	if err := writeChart(base+".png", r, entries, baseline != nil); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	logf("wrote %s.json, %s.md and %s.png (run took %s)", base, base, base,
		r.Elapsed.Round(time.Second))
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readEntries(path string) ([]*entry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no baseline at %s: run `make bench` first", path)
	}
	if err != nil {
		return nil, err
	}
	var out []*entry
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", path, err)
	}
	return out, nil
}

func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	return ptr(round(a/b, 3))
}

func ratioP(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	return ratio(*a, *b)
}

func ptr[T any](v T) *T { return &v }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// loadAverage reads the 1, 5 and 15 minute load averages, where the
// system tells them (Linux); elsewhere it returns "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

func machine() string {
	return fmt.Sprintf("%d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS,
		runtime.GOARCH, runtime.Version())
}
