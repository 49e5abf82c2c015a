package ratelimit

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkAllow measures decisions per second in process and on Redis
// (when RAMPART_TEST_REDIS_URL is set), over many keys, in parallel.
func BenchmarkAllow(b *testing.B) {
	l := Limit{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}
	run := func(b *testing.B, lim Limiter) {
		ctx := context.Background()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if _, err := lim.Allow(ctx, "bench:"+strconv.Itoa(i%1000), l, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("memory", func(b *testing.B) { run(b, NewMemory(0)) })
	b.Run("redis", func(b *testing.B) {
		url := os.Getenv("RAMPART_TEST_REDIS_URL")
		if url == "" {
			b.Skip("RAMPART_TEST_REDIS_URL is not set: skipping the Redis limiter")
		}
		opt, err := redis.ParseURL(url)
		if err != nil {
			b.Fatal(err)
		}
		c := redis.NewClient(opt)
		defer c.Close()
		run(b, NewRedis(c))
	})
}
