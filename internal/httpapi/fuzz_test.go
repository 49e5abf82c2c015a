package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/marketplace"
)

// FuzzDecodeJSON feeds arbitrary bodies to the strict decoder of every
// write: it must never panic, and must either fill the input or answer
// invalid_request.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"customer_id":"0b4a52a9-3c54-4d8a-9d4f-2f1b0c7d9e11","lines":[{"item_id":"0b4a52a9-3c54-4d8a-9d4f-2f1b0c7d9e11","quantity":1}]}`,
		`{"name":"Maria","email":"m@example.test","address":{"street":"a","city":"b","state":"c","zip":"d"}}`,
		`{}`, `[]`, `null`, `{"a":1}`, `{"lines":[{}]}`, "\x00", `{"name":"\ud800"}`,
		`{"sku":"a","title":"t","price_cents":1e309}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&marketplace.OrderInput{}, &marketplace.CustomerInput{},
			&marketplace.ItemInput{}, &marketplace.PageInput{}} {
			if err := decodeBytes(body, dst); err != nil && !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("decode answered %v", err)
			}
		}
	})
}

// FuzzClientIP: whatever the headers and peer address, the resolved client
// is a valid address or empty, and an untrusted peer is never replaced by
// a header.
func FuzzClientIP(f *testing.F) {
	f.Add("203.0.113.7:443", "1.2.3.4, 10.0.0.2")
	f.Add("10.0.0.1:80", "198.51.100.9")
	f.Add("[2001:db8::1]:443", "garbage, ,,")
	f.Add("not-an-address", "::ffff:1.2.3.4")
	trusted := NewClientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	f.Fuzz(func(t *testing.T, remote, xff string) {
		h := http.Header{}
		h.Set("X-Forwarded-For", xff)
		got := trusted.Resolve(h, remote)
		if got == "" {
			return
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("resolved %q, not an address", got)
		}
		if strings.Contains(got, "%") {
			t.Fatalf("resolved %q, with a zone", got)
		}
		peer, err := netip.ParseAddrPort(remote)
		addr := peer.Addr().WithZone("")
		if err == nil && !netip.MustParsePrefix("10.0.0.0/8").Contains(addr.Unmap()) &&
			got != addr.String() && got != addr.Unmap().String() {
			t.Fatalf("untrusted peer %s replaced by %q", remote, got)
		}
	})
}
