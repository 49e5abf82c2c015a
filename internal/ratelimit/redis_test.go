package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := Limit{Rate: 5, Period: time.Minute, Burst: 5}

	t.Run("two instances share one budget", func(t *testing.T) {
		t.Parallel()
		a := NewRedis(newRedisClient(t))
		b := NewRedis(newRedisClient(t))
		key := uniqueKey(t)

		allowed := 0
		for i := range 10 {
			inst := a
			if i%2 == 1 {
				inst = b
			}
			d, err := inst.Allow(ctx, key, l, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				allowed++
			}
		}
		if allowed != 5 {
			t.Fatalf("two instances allowed %d, want the one burst of 5", allowed)
		}
	})

	t.Run("decisions carry remaining and retry times", func(t *testing.T) {
		t.Parallel()
		r := NewRedis(newRedisClient(t))
		key := uniqueKey(t)

		d, err := r.Allow(ctx, key, l, 4)
		if err != nil || !d.Allowed || d.Remaining != 1 || d.RetryAfter != 0 ||
			!near(d.ResetAfter, 48*time.Second) {
			t.Fatalf("4 of 5: got %+v, %v", d, err)
		}
		d, err = r.Allow(ctx, key, l, 2)
		if err != nil || d.Allowed || d.Remaining != 0 ||
			!near(d.RetryAfter, 12*time.Second) {
			t.Fatalf("2 of 1 left: got %+v, %v", d, err)
		}
	})

	t.Run("an unreachable redis is an error, not a decision", func(t *testing.T) {
		t.Parallel()
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		if _, err := NewRedis(c).Allow(ctx, "k", l, 1); err == nil {
			t.Fatal("no error from a closed port")
		}
	})
}

// near reports whether got is within a second of want (Redis's clock runs
// while the test does).
func near(got, want time.Duration) bool {
	return got > want-time.Second && got <= want
}
