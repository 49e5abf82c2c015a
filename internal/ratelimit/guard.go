package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"maps"
)

// The results an Observer is told about.
const (
	ResultAllowed         = "allowed"
	ResultLimited         = "limited"
	ResultFallbackAllowed = "fallback_allowed"
	ResultFallbackLimited = "fallback_limited"
)

// Observer is told about every decision a Guard makes and every change of
// the Fallback state, typically to count them as metrics. Its methods must
// be quick and safe for concurrent use.
type Observer interface {
	Decision(class, result string)
	Degraded(degraded bool)
}

// ErrNoPolicy is returned by Guard.Check for a class without a limit.
var ErrNoPolicy = errors.New("no rate limit for class")

// Guard checks requests against the limit of their class and tells an
// Observer the outcome.
type Guard struct {
	limiter Limiter
	limits  map[Class]Limit
	obs     Observer
}

// NewGuard returns a Guard spending budgets of limiter under limits (copied;
// typically DefaultPolicies). ClassAI needs no entry: its budgets are per
// feature, known only at run time, and spent through CheckPolicy. obs may
// be nil.
func NewGuard(limiter Limiter, limits map[Class]Limit, obs Observer) *Guard {
	return &Guard{limiter: limiter, limits: maps.Clone(limits), obs: obs}
}

// Check spends one event of scope's budget in class, under the policy
// named after the class. It returns ErrNoPolicy for a class without a
// limit, and the limiter's error, unobserved, when it fails.
func (g *Guard) Check(ctx context.Context, class Class, scope string) (Decision, error) {
	l, ok := g.limits[class]
	if !ok {
		return Decision{}, fmt.Errorf("%w %q", ErrNoPolicy, class)
	}
	return g.CheckPolicy(ctx, class, Policy{Name: string(class), Limit: l}, scope)
}

// CheckN spends n events of scope's budget in class at once, as a page of
// n records does from ClassPublicRecords. Like Check, it returns
// ErrNoPolicy for a class without a limit.
func (g *Guard) CheckN(ctx context.Context, class Class, scope string, n int) (Decision, error) {
	l, ok := g.limits[class]
	if !ok {
		return Decision{}, fmt.Errorf("%w %q", ErrNoPolicy, class)
	}
	return g.checkPolicy(ctx, class, Policy{Name: string(class), Limit: l}, scope, n)
}

// CheckPolicy spends one event of scope's budget under p, a policy known
// only at run time (such as one AI feature's configured limit), and
// reports it under class. Policies with different names have separate
// budgets.
func (g *Guard) CheckPolicy(ctx context.Context, class Class, p Policy,
	scope string) (Decision, error) {
	return g.checkPolicy(ctx, class, p, scope, 1)
}

func (g *Guard) checkPolicy(ctx context.Context, class Class, p Policy,
	scope string, n int) (Decision, error) {
	key := Key(p.Name, scope)
	var d Decision
	fromMemory := false
	if f, ok := g.limiter.(*Fallback); ok {
		d, fromMemory = f.allow(ctx, key, p.Limit, n)
	} else {
		var err error
		if d, err = g.limiter.Allow(ctx, key, p.Limit, n); err != nil {
			return Decision{}, fmt.Errorf("check %s limit: %w", class, err)
		}
	}
	if g.obs != nil {
		g.obs.Decision(string(class), result(d.Allowed, fromMemory))
	}
	return d, nil
}

func result(allowed, fromMemory bool) string {
	switch {
	case fromMemory && allowed:
		return ResultFallbackAllowed
	case fromMemory:
		return ResultFallbackLimited
	case allowed:
		return ResultAllowed
	}
	return ResultLimited
}
