package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// One event every 6 s, up to 5 at once.
	tenPerMinute := Limit{Rate: 10, Period: time.Minute, Burst: 5}

	t.Run("burst then steady rate", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := NewMemoryWithClock(0, clk.Now)

		for i := range 5 {
			d, _ := m.Allow(ctx, "k", tenPerMinute, 1)
			want := Decision{Allowed: true, Limit: tenPerMinute,
				Remaining: 4 - i, ResetAfter: time.Duration(i+1) * 6 * time.Second}
			if d != want {
				t.Fatalf("event %d: got %+v, want %+v", i, d, want)
			}
		}
		d, _ := m.Allow(ctx, "k", tenPerMinute, 1)
		want := Decision{Limit: tenPerMinute, RetryAfter: 6 * time.Second,
			ResetAfter: 30 * time.Second}
		if d != want {
			t.Fatalf("over burst: got %+v, want %+v", d, want)
		}

		for i := range 20 {
			clk.Advance(6*time.Second - time.Nanosecond)
			if d, _ := m.Allow(ctx, "k", tenPerMinute, 1); d.Allowed ||
				d.RetryAfter != time.Nanosecond {
				t.Fatalf("step %d, 1 ns early: got %+v", i, d)
			}
			clk.Advance(time.Nanosecond)
			if d, _ := m.Allow(ctx, "k", tenPerMinute, 1); !d.Allowed ||
				d.Remaining != 0 {
				t.Fatalf("step %d, on time: got %+v", i, d)
			}
		}
	})

	t.Run("full burst again after idling", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := NewMemoryWithClock(0, clk.Now)
		for range 5 {
			m.Allow(ctx, "k", tenPerMinute, 1)
		}

		clk.Advance(30 * time.Second)
		allowed := 0
		for range 10 {
			if d, _ := m.Allow(ctx, "k", tenPerMinute, 1); d.Allowed {
				allowed++
			}
		}
		if allowed != 5 {
			t.Fatalf("allowed %d after idling, want the burst of 5", allowed)
		}
	})

	t.Run("n events spend n and a denial spends nothing", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryWithClock(0, newClock().Now)
		if d, _ := m.Allow(ctx, "k", tenPerMinute, 3); !d.Allowed || d.Remaining != 2 {
			t.Fatalf("3 of 5: got %+v", d)
		}
		if d, _ := m.Allow(ctx, "k", tenPerMinute, 3); d.Allowed ||
			d.RetryAfter != 6*time.Second {
			t.Fatalf("3 more of 2 left: got %+v", d)
		}
		if d, _ := m.Allow(ctx, "k", tenPerMinute, 2); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("the 2 left: got %+v", d)
		}
	})

	t.Run("keys have separate budgets", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryWithClock(0, newClock().Now)
		for range 5 {
			m.Allow(ctx, "a", tenPerMinute, 1)
		}
		if d, _ := m.Allow(ctx, "b", tenPerMinute, 1); !d.Allowed || d.Remaining != 4 {
			t.Fatalf("b after a spent its burst: got %+v", d)
		}
	})

	t.Run("a limit that is not positive allows nothing", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryWithClock(0, newClock().Now)
		for _, l := range []Limit{{}, {Rate: 1, Period: time.Minute},
			{Rate: 0, Period: time.Minute, Burst: 5}, {Rate: 5, Burst: 5}} {
			if d, err := m.Allow(ctx, "k", l, 1); d.Allowed || err != nil {
				t.Fatalf("%+v: got %+v, %v", l, d, err)
			}
		}
		if m.Len() != 0 {
			t.Fatalf("refusals stored %d keys", m.Len())
		}
	})

	t.Run("1000 concurrent callers share one burst exactly", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryWithClock(0, newClock().Now)
		l := Limit{Rate: 1, Period: time.Hour, Burst: 100}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				if d, _ := m.Allow(ctx, "hot", l, 1); d.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 100 {
			t.Fatalf("allowed %d of 1000, want exactly 100", allowed.Load())
		}
	})

	t.Run("an attacker minting keys cannot grow memory", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryWithClock(1000, newClock().Now)
		for i := range 20_000 {
			m.Allow(ctx, fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256), tenPerMinute, 1)
		}
		if n := m.Len(); n > 1000 || n < 900 {
			t.Fatalf("holds %d keys, want at most 1000 and most of them used", n)
		}
	})

	t.Run("a hammered key survives a flood of new keys", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryWithClock(100, newClock().Now)
		for range 5 {
			m.Allow(ctx, "victim", tenPerMinute, 1)
		}
		for i := range 10_000 {
			m.Allow(ctx, fmt.Sprintf("flood:%d", i), tenPerMinute, 1)
			m.Allow(ctx, "victim", tenPerMinute, 1)
		}
		if d, _ := m.Allow(ctx, "victim", tenPerMinute, 1); d.Allowed {
			t.Fatal("the flood evicted the limited key and reset its budget")
		}
	})

	t.Run("keys whose budget is full again are dropped", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := NewMemoryWithClock(100, clk.Now)
		for i := range 50 {
			m.Allow(ctx, fmt.Sprintf("k%d", i), tenPerMinute, 1)
		}

		clk.Advance(6 * time.Second)
		for range 50 {
			m.Allow(ctx, "active", tenPerMinute, 1)
		}
		if n := m.Len(); n != 1 {
			t.Fatalf("holds %d keys after the others refilled, want 1", n)
		}
	})
}
