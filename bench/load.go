package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// httpResult is one measured HTTP run. Only 2xx answers are successes:
// RPS, P50 and P99 count nothing else, and every other answer is in
// Status by code (0 for a transport error).
type httpResult struct {
	Requests int           `json:"requests"`
	OK       int           `json:"ok"`
	Status   map[int]int   `json:"non_2xx,omitempty"`
	Elapsed  time.Duration `json:"-"`
	RPS      float64       `json:"rps"`
	// P50 and P99 are nil when nothing succeeded.
	P50 *float64 `json:"p50_ms"`
	P99 *float64 `json:"p99_ms"`
	// AnsweredRPS counts every answer, refusals included.
	AnsweredRPS float64 `json:"answered_rps"`
}

func (r *httpResult) String() string {
	s := fmt.Sprintf("%8.1f rps  p50 %6s ms  p99 %7s ms  (%d requests",
		r.RPS, orDash(r.P50, "%.2f"), orDash(r.P99, "%.2f"), r.Requests)
	if len(r.Status) > 0 {
		s += ", not 2xx: " + formatStatus(r.Status)
	}
	return s + ")"
}

// Refused is how many answers were not 2xx.
func (r *httpResult) Refused() int { return r.Requests - r.OK }

func formatStatus(m map[int]int) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "transport error"
		}
		parts[i] = fmt.Sprintf("%d× %s", m[c], name)
	}
	return strings.Join(parts, ", ")
}

// attack sends requests from tr for d with exactly conc in flight, as
// fast as they are answered (vegeta at rate 0 with a fixed worker count),
// over as many keep-alive connections.
func attack(ctx context.Context, tr vegeta.Targeter, d time.Duration, conc int) *httpResult {
	a := vegeta.NewAttacker(
		vegeta.Workers(uint64(conc)),
		vegeta.MaxWorkers(uint64(conc)),
		vegeta.Connections(conc),
		vegeta.MaxConnections(conc),
		vegeta.KeepAlive(true),
		vegeta.MaxBody(0),
		vegeta.Timeout(30*time.Second),
	)
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()

	res := &httpResult{Status: map[int]int{}}
	var lat []time.Duration
	start := time.Now()
	for r := range a.Attack(tr, vegeta.Rate{Freq: 0}, d, "") {
		res.Requests++
		if r.Code >= 200 && r.Code < 300 && r.Error == "" {
			res.OK++
			lat = append(lat, r.Latency)
			continue
		}
		res.Status[int(r.Code)]++
	}
	res.Elapsed = time.Since(start)
	res.summarise(lat)
	return res
}

func (r *httpResult) summarise(lat []time.Duration) {
	secs := r.Elapsed.Seconds()
	r.RPS = round(float64(r.OK)/secs, 1)
	r.AnsweredRPS = round(float64(r.Requests-r.Status[0])/secs, 1)
	if len(lat) > 0 {
		r.P50 = ptr(round(ms(percentile(lat, 0.50)), 2))
		r.P99 = ptr(round(ms(percentile(lat, 0.99)), 2))
	}
	if len(r.Status) == 0 {
		r.Status = nil
	}
}

// percentile returns the q-quantile of d (nearest rank), 0 for none.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
