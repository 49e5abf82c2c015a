package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SetHeaders adds policy's members to the RateLimit-Policy and RateLimit
// fields (draft-ietf-httpapi-ratelimit-headers-08 and later), so a response
// limited by several policies, such as the per-IP and the per-user one,
// carries all of them; call it once per policy. The quota q is the burst
// and the window w the seconds an empty burst takes to refill; r is what
// remains and t the seconds until the budget is full. A denied decision
// also sets Retry-After, in whole seconds, at least 1.
func SetHeaders(h http.Header, policy string, d Decision) {
	name := sfString(policy)
	h.Add("RateLimit-Policy", name+";q="+strconv.Itoa(d.Limit.Burst)+
		";w="+ceilSeconds(d.Limit.refill()))
	h.Add("RateLimit", name+";r="+strconv.Itoa(max(d.Remaining, 0))+
		";t="+ceilSeconds(d.ResetAfter))
	if !d.Allowed {
		h.Set("Retry-After", strconv.FormatInt(RetryAfterSeconds(d), 10))
	}
}

// RetryAfterSeconds returns d.RetryAfter in whole seconds, rounded up and
// at least 1, as Retry-After and apperr.Error.RetryAfter want it.
func RetryAfterSeconds(d Decision) int64 {
	return max(ceilSecondsInt(d.RetryAfter), 1)
}

func ceilSeconds(d time.Duration) string {
	return strconv.FormatInt(ceilSecondsInt(d), 10)
}

func ceilSecondsInt(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// sfString renders s as a structured-field string (RFC 9651): quoted, with
// backslash and quote escaped, and anything outside printable ASCII, which
// the format cannot carry, replaced by '?'.
func sfString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
