package ratelimit

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clock is a manual clock for Memory.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// redisOptions returns the options of the test Redis, or skips the test
// when there is none.
func redisOptions(t *testing.T) *redis.Options {
	t.Helper()
	url := os.Getenv("RAMPART_TEST_REDIS_URL")
	if url == "" {
		t.Skip("RAMPART_TEST_REDIS_URL is not set; set it (e.g. " +
			"redis://127.0.0.1:6379/15) to run the tests that need Redis")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse RAMPART_TEST_REDIS_URL: %v", err)
	}
	return opt
}

// newRedisClient returns a client of the test Redis, closed when the test
// ends.
func newRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(redisOptions(t))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// uniqueKey returns a key no other test run uses, so tests can share the
// test database and run in parallel.
func uniqueKey(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "test:" + t.Name() + ":" + hex.EncodeToString(b)
}

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu        sync.Mutex
	decisions []string
	states    []bool
}

func (r *recorder) Decision(class, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decisions = append(r.decisions, class+"="+result)
}

func (r *recorder) Degraded(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, v)
}

func (r *recorder) Decisions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.decisions...)
}

func (r *recorder) States() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.states...)
}
