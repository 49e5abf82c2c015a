package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis is a GCRA limiter on Redis: every instance sharing the Redis
// database shares one budget per key. Keys are stored under "rate:".
type Redis struct {
	client  *redis.Client
	limiter *redis_rate.Limiter
}

// NewRedis returns a limiter on client.
func NewRedis(client *redis.Client) *Redis {
	return &Redis{client: client, limiter: redis_rate.NewLimiter(client)}
}

// Allow spends n events of key's budget under l. It returns an error when
// Redis does not answer; the caller decides whether to fail open, closed
// or, with Fallback, to memory.
func (r *Redis) Allow(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	if !l.usable() {
		return refuse(l), nil
	}
	rl := redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period}
	res, err := r.limiter.AllowN(ctx, key, rl, max(n, 1))
	if err != nil {
		return Decision{}, fmt.Errorf("redis rate limit: %w", err)
	}
	return Decision{
		Allowed:    res.Allowed > 0,
		Limit:      l,
		Remaining:  max(res.Remaining, 0),
		RetryAfter: max(res.RetryAfter, 0),
		ResetAfter: max(res.ResetAfter, 0),
	}, nil
}

// withTimeout returns a limiter whose socket reads and writes give up
// after d, whether or not the client honours context deadlines.
func (r *Redis) withTimeout(d time.Duration) *Redis {
	return NewRedis(r.client.WithTimeout(d))
}
