// Package ratelimit enforces GCRA rate limits: one budget across all
// instances through Redis, an in-process limiter when Redis is not
// configured, and a fallback that keeps limiting from memory while Redis
// is unreachable. It also names the route classes and their default
// limits, builds the keys limits are counted under, and writes the
// RateLimit response headers.
package ratelimit

import (
	"context"
	"math"
	"math/bits"
	"time"
)

// Limit is a GCRA limit: Rate events per Period on average, and up to Burst
// events at once. A Limit whose Rate, Period or Burst is not positive
// allows nothing.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// usable reports whether l can allow anything at all.
func (l Limit) usable() bool {
	return l.Rate > 0 && l.Period > 0 && l.Burst > 0
}

// refill is the time an empty budget takes to refill to Burst.
func (l Limit) refill() time.Duration {
	if !l.usable() {
		return 0
	}
	return time.Duration(mulDiv(int64(l.Period), int64(l.Burst), int64(l.Rate)))
}

// Policy is a named limit. The name is the key prefix its budgets are
// counted under and the name clients see in the RateLimit headers.
type Policy struct {
	Name  string
	Limit Limit
}

// Decision is the outcome of one Allow call.
type Decision struct {
	Allowed bool
	Limit   Limit
	// Remaining is how many more events the key may spend right now.
	Remaining int
	// RetryAfter is how long a denied caller must wait; zero when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's budget is full again.
	ResetAfter time.Duration
}

// Limiter spends n events of key's budget under limit l. n below 1 counts
// as 1. A denied call spends nothing.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit, n int) (Decision, error)
}

// refuse is the decision for a limit that allows nothing.
func refuse(l Limit) Decision {
	return Decision{Limit: l, RetryAfter: max(l.Period, 0)}
}

// gcra decides n events at time now for a key whose theoretical arrival
// time is tat (never before now). Times are nanoseconds on one clock. It
// returns the decision and the key's new theoretical arrival time.
func gcra(l Limit, n int, now, tat int64) (Decision, int64) {
	period := int64(l.Period)
	newTAT := satAdd(tat, mulDiv(period, int64(n), int64(l.Rate)))
	allowAt := newTAT - mulDiv(period, int64(l.Burst), int64(l.Rate))
	if allowAt > now {
		return Decision{
			Limit:      l,
			RetryAfter: time.Duration(allowAt - now),
			ResetAfter: time.Duration(tat - now),
		}, tat
	}
	return Decision{
		Allowed:    true,
		Limit:      l,
		Remaining:  int(mulDiv(now-allowAt, int64(l.Rate), period)),
		ResetAfter: time.Duration(newTAT - now),
	}, newTAT
}

// mulDiv returns a*b/c rounded down, exactly, saturating at MaxInt64.
// a must not be negative, b and c must be positive.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

func satAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}
