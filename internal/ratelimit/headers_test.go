package ratelimit

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestSetHeaders(t *testing.T) {
	t.Parallel()
	read := Limit{Rate: 600, Period: time.Minute, Burst: 120}

	t.Run("allowed: policy and state, no Retry-After", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		SetHeaders(h, "read", Decision{Allowed: true, Limit: read,
			Remaining: 119, ResetAfter: 100 * time.Millisecond})
		if got := h.Get("RateLimit-Policy"); got != `"read";q=120;w=12` {
			t.Errorf("RateLimit-Policy %q", got)
		}
		if got := h.Get("RateLimit"); got != `"read";r=119;t=1` {
			t.Errorf("RateLimit %q", got)
		}
		if h.Get("Retry-After") != "" {
			t.Errorf("Retry-After on an allowed answer")
		}
	})

	t.Run("denied: Retry-After in whole seconds rounded up", func(t *testing.T) {
		t.Parallel()
		export := DefaultPolicies()[ClassExport]
		h := http.Header{}
		SetHeaders(h, "export", Decision{Limit: export,
			RetryAfter: 6*time.Minute + time.Millisecond, ResetAfter: 12 * time.Minute})
		if got := h.Get("RateLimit-Policy"); got != `"export";q=2;w=720` {
			t.Errorf("RateLimit-Policy %q", got)
		}
		if got := h.Get("RateLimit"); got != `"export";r=0;t=720` {
			t.Errorf("RateLimit %q", got)
		}
		if got := h.Get("Retry-After"); got != "361" {
			t.Errorf("Retry-After %q", got)
		}
	})

	t.Run("denied: Retry-After is at least 1", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		SetHeaders(h, "read", Decision{Limit: read, RetryAfter: time.Millisecond})
		if got := h.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q", got)
		}
	})

	t.Run("every policy that applied is listed", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		SetHeaders(h, "ip", Decision{Allowed: true,
			Limit: DefaultPolicies()[ClassIP], Remaining: 299})
		SetHeaders(h, "read", Decision{Allowed: true, Limit: read, Remaining: 7})
		want := []string{`"ip";q=300;w=15`, `"read";q=120;w=12`}
		if got := h.Values("RateLimit-Policy"); !slices.Equal(got, want) {
			t.Errorf("RateLimit-Policy %q", got)
		}
	})

	t.Run("a hostile policy name cannot break the field", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		SetHeaders(h, "a\"b\\c\r\nX-Evil: 1é", Decision{Allowed: true, Limit: read})
		want := `"a\"b\\c??X-Evil: 1??";r=0;t=0`
		if got := h.Get("RateLimit"); got != want {
			t.Errorf("RateLimit %q, want %q", got, want)
		}
	})
}
