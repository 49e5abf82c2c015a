package httpapi_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/rampart-dev/rampart/internal/httpapi"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := httpapi.NewClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	direct := httpapi.NewClientIP(nil)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		name   string
		c      *httpapi.ClientIP
		h      http.Header
		remote string
		want   string
	}{
		{"spoofed headers from an untrusted peer are ignored", proxies,
			hdr("X-Forwarded-For", "1.2.3.4", "X-Real-IP", "5.6.7.8", "True-Client-IP", "9.9.9.9"),
			"203.0.113.7:5555", "203.0.113.7"},
		{"no trusted proxies configured: the peer", direct,
			hdr("X-Forwarded-For", "1.2.3.4"), "10.1.1.1:5555", "10.1.1.1"},
		{"a trusted proxy: the right-most untrusted hop", proxies,
			hdr("X-Forwarded-For", "1.2.3.4, 198.51.100.9, 10.0.0.2"),
			"10.0.0.1:443", "198.51.100.9"},
		{"a trusted proxy without the header: the proxy", proxies,
			hdr(), "10.0.0.1:443", "10.0.0.1"},
		{"garbage in the header from a trusted proxy: the proxy", proxies,
			hdr("X-Forwarded-For", "not-an-ip"), "10.0.0.1:443", "10.0.0.1"},
		{"IPv6 peer", direct, hdr(), "[2001:db8::1]:443", "2001:db8::1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.c.Resolve(c.h, c.remote); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
