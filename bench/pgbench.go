package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pgbenchResult is one pgbench run of a scenario's transaction.
type pgbenchResult struct {
	TPS    float64 `json:"tps"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Done   int     `json:"transactions"`
	Failed int     `json:"failed"`
}

func (r *pgbenchResult) String() string {
	return fmt.Sprintf("%8.1f tps  p50 %6.2f ms  p99 %7.2f ms  (%d transactions, %d failed)",
		r.TPS, r.P50, r.P99, r.Done, r.Failed)
}

var (
	tpsRE    = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	doneRE   = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	failedRE = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
)

// runPgbench runs the scenario's script as rampart_api with as many
// clients as the HTTP runs have requests in flight, two threads, for the
// same duration, in prepared mode (pgx caches prepared statements too).
// Latencies come from pgbench's per-transaction log.
func (b *bench) runPgbench(ctx context.Context, sc *scenario) (*pgbenchResult, error) {
	dir := filepath.Join(b.logs, "pgbench", sc.name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	args := []string{"-n", "-M", "prepared",
		"-c", strconv.Itoa(b.o.concurrency),
		"-j", strconv.Itoa(min(2, b.o.concurrency)),
		"-T", strconv.Itoa(int(math.Ceil(b.o.duration.Seconds()))),
		"--log", "--log-prefix", filepath.Join(dir, "log")}
	for i, s := range b.fx.sellers {
		path := filepath.Join(dir, fmt.Sprintf("seller-%02d.sql", i))
		if err := os.WriteFile(path, []byte(sc.script(s)), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-f", path+"@1")
	}
	args = append(args, b.o.apiURL)

	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, b.o.pgbench, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if werr := os.WriteFile(filepath.Join(dir, "output.txt"), out.Bytes(), 0o644); werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, fmt.Errorf("pgbench: %v: %s", err, lastLines(out.String(), 3))
	}
	r, err := parsePgbench(out.String(), dir)
	if err != nil {
		return nil, err
	}
	logf("  %-8s %s", "pgbench", r)
	return r, nil
}

func parsePgbench(out, dir string) (*pgbenchResult, error) {
	m := tpsRE.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no tps in pgbench output: %s", lastLines(out, 3))
	}
	r := &pgbenchResult{}
	r.TPS, _ = strconv.ParseFloat(m[1], 64)
	r.TPS = round(r.TPS, 1)
	if m := doneRE.FindStringSubmatch(out); m != nil {
		r.Done, _ = strconv.Atoi(m[1])
	}
	if m := failedRE.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.Atoi(m[1])
	}
	lat, err := readPgbenchLogs(dir)
	if err != nil {
		return nil, err
	}
	r.P50 = round(ms(percentile(lat, 0.50)), 2)
	r.P99 = round(ms(percentile(lat, 0.99)), 2)
	return r, nil
}

// readPgbenchLogs reads the transaction latencies (third field, in
// microseconds) of every log file pgbench's threads wrote.
func readPgbenchLogs(dir string) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "log.*"))
	if err != nil {
		return nil, err
	}
	var lat []time.Duration
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err == nil {
				lat = append(lat, time.Duration(us)*time.Microsecond)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return lat, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
