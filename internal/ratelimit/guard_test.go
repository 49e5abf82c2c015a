package ratelimit

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	limits := map[Class]Limit{ClassAuth: {Rate: 10, Period: time.Minute, Burst: 2}}

	t.Run("reports allowed then limited by class", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		g := NewGuard(NewMemoryWithClock(0, newClock().Now), limits, rec)
		for range 3 {
			if _, err := g.Check(ctx, ClassAuth, IPKey("203.0.113.7")); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"auth=allowed", "auth=allowed", "auth=limited"}
		if got := rec.Decisions(); !slices.Equal(got, want) {
			t.Fatalf("observed %v, want %v", got, want)
		}
	})

	t.Run("reports answers from memory as fallback", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		f := NewFallback(NewRedis(closedPortClient(t)), nil, rec.Degraded)
		g := NewGuard(f, limits, rec)
		for range 3 {
			if _, err := g.Check(ctx, ClassAuth, IPKey("203.0.113.7")); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"auth=fallback_allowed", "auth=fallback_allowed",
			"auth=fallback_limited"}
		if got := rec.Decisions(); !slices.Equal(got, want) {
			t.Fatalf("observed %v, want %v", got, want)
		}
	})

	t.Run("a class without a limit is an error", func(t *testing.T) {
		t.Parallel()
		g := NewGuard(NewMemory(0), limits, nil)
		if _, err := g.Check(ctx, ClassAI, UserKey("u")); !errors.Is(err, ErrNoPolicy) {
			t.Fatalf("got %v, want ErrNoPolicy", err)
		}
	})

	t.Run("policies with different names have separate budgets", func(t *testing.T) {
		t.Parallel()
		g := NewGuard(NewMemoryWithClock(0, newClock().Now), nil, nil)
		one := Limit{Rate: 1, Period: time.Hour, Burst: 1}
		for _, name := range []string{"ai.summarize", "ai.translate"} {
			d, err := g.CheckPolicy(ctx, ClassAI, Policy{Name: name, Limit: one}, UserKey("u"))
			if err != nil || !d.Allowed {
				t.Fatalf("%s: got %+v, %v", name, d, err)
			}
		}
	})

	t.Run("every default class has a usable limit", func(t *testing.T) {
		t.Parallel()
		p := DefaultPolicies()
		for _, c := range []Class{ClassIP, ClassAuth, ClassPublicRead, ClassRead,
			ClassWrite, ClassCustomerData, ClassExport} {
			if !p[c].usable() {
				t.Errorf("%s: %+v", c, p[c])
			}
		}
		if _, ok := p[ClassAI]; ok {
			t.Error("ai has a default; it must come from configuration")
		}
	})
}
