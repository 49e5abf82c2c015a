package ratelimit

import (
	"context"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// switchableClient returns a client whose server address can be changed,
// starting at a closed port.
func switchableClient(t *testing.T, opt *redis.Options) (*redis.Client, *atomic.Value) {
	t.Helper()
	var addr atomic.Value
	addr.Store("127.0.0.1:1")
	o := *opt
	o.Dialer = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr.Load().(string))
	}
	c := redis.NewClient(&o)
	t.Cleanup(func() { _ = c.Close() })
	return c, &addr
}

func closedPortClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := Limit{Rate: 3, Period: time.Hour, Burst: 3}

	t.Run("redis down: memory limits and degraded is reported once", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		f := NewFallback(NewRedis(closedPortClient(t)), NewMemory(0), rec.Degraded)

		var got []bool
		for range 10 {
			d, err := f.Allow(ctx, "k", l, 1)
			if err != nil {
				t.Fatalf("fallback failed: %v", err)
			}
			got = append(got, d.Allowed)
		}
		want := []bool{true, true, true, false, false, false, false, false, false, false}
		if !slices.Equal(got, want) {
			t.Fatalf("decisions %v, want the memory burst of 3 then none", got)
		}
		if s := rec.States(); !slices.Equal(s, []bool{true}) || !f.Degraded() {
			t.Fatalf("state changes %v, want one [true]", s)
		}
	})

	t.Run("a silent redis costs at most the call timeout", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		go silent(ln)

		c := redis.NewClient(&redis.Options{Addr: ln.Addr().String()})
		t.Cleanup(func() { _ = c.Close() })
		f := NewFallback(NewRedis(c), nil, nil)

		start := time.Now()
		d, _ := f.Allow(ctx, "k", l, 1)
		if took := time.Since(start); took > 500*time.Millisecond || !d.Allowed {
			t.Fatalf("took %v, decision %+v", took, d)
		}
		if !f.Degraded() {
			t.Fatal("a silent redis did not degrade")
		}
	})

	t.Run("redis back: recovers by itself and reports it once", func(t *testing.T) {
		t.Parallel()
		opt := redisOptions(t)
		c, addr := switchableClient(t, opt)
		rec := &recorder{}
		f := NewFallback(NewRedis(c), NewMemory(0), rec.Degraded)
		f.probeEvery = 10 * time.Millisecond
		g := NewGuard(f, map[Class]Limit{ClassRead: l}, rec)
		scope := uniqueKey(t)

		if _, err := g.Check(ctx, ClassRead, scope); err != nil || !f.Degraded() {
			t.Fatalf("not degraded with redis down: %v", err)
		}
		addr.Store(opt.Addr)
		deadline := time.Now().Add(10 * time.Second)
		for f.Degraded() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			_, _ = g.Check(ctx, ClassRead, scope)
		}
		if s := rec.States(); !slices.Equal(s, []bool{true, false}) {
			t.Fatalf("state changes %v, want [true false]", s)
		}
		_, _ = g.Check(ctx, ClassRead, scope)
		if ds := rec.Decisions(); ds[len(ds)-1] != "read=allowed" {
			t.Fatalf("after recovery: %v", ds)
		}
	})

	t.Run("while degraded redis is probed at most once a period", func(t *testing.T) {
		t.Parallel()
		f := NewFallback(NewRedis(closedPortClient(t)), nil, nil)
		var now atomic.Int64
		now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		f.now = func() time.Time { return time.Unix(0, now.Load()) }
		f.Allow(ctx, "k", l, 1)

		probes := 0
		for range 100 {
			if f.probeDue() {
				probes++
			}
		}
		now.Add(int64(time.Second))
		for range 100 {
			if f.probeDue() {
				probes++
			}
		}
		if probes != 1 {
			t.Fatalf("%d probes in one frozen second and the next, want 1", probes)
		}
	})
}

// silent accepts connections and never answers.
func silent(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
	}
}
