package httpapi_test

import (
	"net/http"
	"net/netip"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

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
		{"a zone is dropped", direct, hdr(), "[fe80::1%eth0]:443", "fe80::1"},
		{"a zone on an IPv4 peer is dropped", direct, hdr(), "192.0.2.1%0", "192.0.2.1"},
		{"a zone in a forwarded hop is dropped", proxies,
			hdr("X-Forwarded-For", "fe80::7%2"), "10.0.0.1:443", "fe80::7"},
		{"no address at all", direct, hdr(), "not-an-address", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.c.Resolve(c.h, c.remote); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestRequestIDIsTheServers: a client cannot choose the request id that
// events and audit rows carry; a trusted proxy can. The client's own id
// is kept in the access log for correlation.
func TestRequestIDIsTheServers(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	core, logs := observer.New(zapcore.InfoLevel)
	get := func(srv *harness) string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.srv.URL+"/v1/market", nil)
		req.Header.Set("X-Request-Id", "chosen-by-the-client-0001")
		res, err := srv.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header.Get("X-Request-Id")
	}

	direct := h.with(func(d *httpapi.Deps) { d.Log = zap.New(core) })
	if id := get(direct); id == "chosen-by-the-client-0001" || id == "" {
		t.Fatalf("a direct client set the request id to %q", id)
	}
	lines := logs.FilterMessage("request").FilterField(
		zap.String("client_request_id", "chosen-by-the-client-0001")).Len()
	if lines != 1 {
		t.Errorf("%d access log lines carry the client's id, want 1", lines)
	}

	proxied := h.with(func(d *httpapi.Deps) {
		d.ClientIP = httpapi.NewClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	})
	if id := get(proxied); id != "chosen-by-the-client-0001" {
		t.Fatalf("a trusted proxy's request id was replaced by %q", id)
	}
}
