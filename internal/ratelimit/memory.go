package ratelimit

import (
	"container/list"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const (
	// DefaultMaxKeys is the key bound of NewMemory(0).
	DefaultMaxKeys = 100_000

	maxShards     = 64
	minShardKeys  = 64
	sweepPerAllow = 4
)

// Memory is an in-process GCRA limiter. It keeps one theoretical arrival
// time per key, in at most maxKeys entries: keys whose budget is full again
// are dropped as they are met, and when a shard is full its least recently
// used key is dropped, which at worst gives that key a fresh budget. It is
// safe for concurrent use and its Allow never fails.
type Memory struct {
	now    func() time.Time
	base   time.Time
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu    sync.Mutex
	max   int
	keys  map[string]*list.Element
	order list.List // of *entry, most recently used first
}

type entry struct {
	key string
	tat int64 // theoretical arrival time, nanoseconds since Memory.base
}

// NewMemory returns an in-process limiter holding at most maxKeys keys
// (DefaultMaxKeys when maxKeys is not positive).
func NewMemory(maxKeys int) *Memory {
	return NewMemoryWithClock(maxKeys, time.Now)
}

// NewMemoryWithClock is NewMemory with a clock of the caller's, for tests.
func NewMemoryWithClock(maxKeys int, now func() time.Time) *Memory {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	n := min(max(maxKeys/minShardKeys, 1), maxShards)
	m := &Memory{now: now, base: now(), seed: maphash.MakeSeed(),
		shards: make([]shard, n)}
	for i := range m.shards {
		m.shards[i].max = maxKeys / n
		m.shards[i].keys = make(map[string]*list.Element)
	}
	return m
}

// Allow spends n events of key's budget under l. It never returns an
// error.
func (m *Memory) Allow(_ context.Context, key string, l Limit, n int) (Decision, error) {
	if !l.usable() {
		return refuse(l), nil
	}
	now := int64(m.now().Sub(m.base))
	s := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]

	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	el := s.keys[key]
	tat := now
	if el != nil {
		tat = max(el.Value.(*entry).tat, now)
		s.order.MoveToFront(el)
	}

	d, newTAT := gcra(l, max(n, 1), now, tat)
	if d.Allowed {
		s.store(key, el, newTAT)
	}
	return d, nil
}

// Len returns how many keys the limiter holds.
func (m *Memory) Len() int {
	total := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		total += len(s.keys)
		s.mu.Unlock()
	}
	return total
}

// sweep drops a few least recently used keys whose budget is full again:
// forgetting them changes no decision.
func (s *shard) sweep(now int64) {
	for range sweepPerAllow {
		el := s.order.Back()
		if el == nil || el.Value.(*entry).tat > now {
			return
		}
		s.remove(el)
	}
}

func (s *shard) store(key string, el *list.Element, tat int64) {
	if el != nil {
		el.Value.(*entry).tat = tat
		return
	}
	if len(s.keys) >= s.max {
		s.remove(s.order.Back())
	}
	s.keys[key] = s.order.PushFront(&entry{key: key, tat: tat})
}

func (s *shard) remove(el *list.Element) {
	delete(s.keys, el.Value.(*entry).key)
	s.order.Remove(el)
}
