package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// callTimeout bounds one Redis call, so an unreachable Redis costs a
	// request at most this much.
	callTimeout = 50 * time.Millisecond
	// probeEvery is how often a degraded Fallback tries Redis again.
	probeEvery = time.Second
)

// Fallback limits through Redis and, while Redis fails or is slow, from an
// in-process limiter, so a Redis outage neither lifts the limits nor
// refuses every request. While degraded each instance enforces the limits
// on its own, so the cluster admits at most instances × limit.
//
// Recovery needs no goroutine: while degraded, at most one request a
// second also tries Redis, and the first that succeeds ends the outage.
type Fallback struct {
	primary  *Redis
	fallback *Memory
	onChange func(degraded bool)

	timeout    time.Duration
	probeEvery time.Duration
	now        func() time.Time

	mu        sync.Mutex // orders state changes and their callbacks
	degraded  atomic.Bool
	nextProbe atomic.Int64 // unix nanoseconds
}

// NewFallback returns a limiter that uses primary, which must not be nil,
// and falls back to fallback (a new Memory when nil). Each Redis call is
// bounded to 50 ms. onStateChange, which may be nil, is called once when
// Redis starts failing (true) and once when it answers again (false); it
// must be quick and must not call the Fallback.
func NewFallback(primary *Redis, fallback *Memory,
	onStateChange func(degraded bool)) *Fallback {
	if fallback == nil {
		fallback = NewMemory(0)
	}
	return &Fallback{
		primary:    primary.withTimeout(callTimeout),
		fallback:   fallback,
		onChange:   onStateChange,
		timeout:    callTimeout,
		probeEvery: probeEvery,
		now:        time.Now,
	}
}

// Allow spends n events of key's budget under l, in Redis when it answers
// in time and in memory otherwise. It never returns an error.
func (f *Fallback) Allow(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	d, _ := f.allow(ctx, key, l, n)
	return d, nil
}

// Degraded reports whether the Fallback is answering from memory.
func (f *Fallback) Degraded() bool { return f.degraded.Load() }

// allow is Allow that also reports whether memory answered.
func (f *Fallback) allow(ctx context.Context, key string, l Limit, n int) (Decision, bool) {
	if f.degraded.Load() && !f.probeDue() {
		return f.fromMemory(ctx, key, l, n)
	}

	callCtx, cancel := context.WithTimeout(ctx, f.timeout)
	d, err := f.primary.Allow(callCtx, key, l, n)
	cancel()
	if err == nil {
		f.setDegraded(false)
		return d, false
	}
	// A caller that gave up says nothing about Redis.
	if ctx.Err() == nil {
		f.setDegraded(true)
	}
	return f.fromMemory(ctx, key, l, n)
}

func (f *Fallback) fromMemory(ctx context.Context, key string, l Limit,
	n int) (Decision, bool) {
	d, _ := f.fallback.Allow(ctx, key, l, n)
	return d, true
}

// probeDue reports whether this caller is the one to try Redis now.
func (f *Fallback) probeDue() bool {
	now := f.now().UnixNano()
	next := f.nextProbe.Load()
	return now >= next &&
		f.nextProbe.CompareAndSwap(next, now+int64(f.probeEvery))
}

func (f *Fallback) setDegraded(v bool) {
	if f.degraded.Load() == v {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.degraded.Load() == v {
		return
	}
	if v {
		f.nextProbe.Store(f.now().Add(f.probeEvery).UnixNano())
	}
	f.degraded.Store(v)
	if f.onChange != nil {
		f.onChange(v)
	}
}
