package threat

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gaissmai/bart"
	"github.com/google/uuid"
	"go.uber.org/zap"
)

// withSnapshot returns a Blocklist holding the given rows, as Reload
// would build it from security.live_blocks(), without a database.
func withSnapshot(rows func(s *snapshot)) *Blocklist {
	b := NewBlocklist(nil, zap.NewNop())
	s := &snapshot{ips: &bart.Table[time.Time]{}, suspended: map[uuid.UUID]struct{}{}}
	rows(s)
	b.snap.Store(s)
	return b
}

func prefix(s string) *netip.Prefix {
	p := netip.MustParsePrefix(s)
	return &p
}

func TestBlockedIP(t *testing.T) {
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	b := withSnapshot(func(s *snapshot) {
		s.add("ip", prefix("203.0.113.0/24"), nil, &future)
		s.add("ip", prefix("2001:db8:1:2::/64"), nil, nil) // no expiry
		s.add("ip", prefix("198.51.100.7/32"), nil, &past)
		// Overlapping rows of one network: the longest-lived wins, in
		// either order.
		s.add("ip", prefix("192.0.2.0/24"), nil, &future)
		s.add("ip", prefix("192.0.2.0/24"), nil, &past)
	})
	for addr, want := range map[string]bool{
		"203.0.113.77":          true,
		"203.0.114.1":           false,
		"::ffff:203.0.113.77":   true, // IPv4-mapped is the IPv4 address
		"2001:db8:1:2:ffff::1":  true, // anywhere in the /64
		"2001:db8:1:3::1":       false,
		"198.51.100.7":          false, // expired
		"192.0.2.9":             true,
		"2001:db8:ffff::1":      false,
		"fe80::1":               false,
		"255.255.255.255":       false,
		"0.0.0.0":               false,
		"::":                    false,
		"2001:db8:1:2::":        true,
		"2001:db8:1:1:ffff::ff": false,
	} {
		if got := b.BlockedIP(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: blocked %v, want %v", addr, got, want)
		}
	}
}

// BenchmarkBlockedIP looks up random addresses in a table the size of a
// large imported reputation list: 100,000 IPv4 and IPv6 networks.
func BenchmarkBlockedIP(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	future := time.Now().Add(time.Hour)
	bl := withSnapshot(func(s *snapshot) {
		for range 50_000 {
			v4 := netip.AddrFrom4([4]byte{byte(r.IntN(224)), byte(r.IntN(256)), byte(r.IntN(256)), 0})
			s.add("ip", prefix(netip.PrefixFrom(v4, 24).String()), nil, &future)
			var v6 [16]byte
			v6[0], v6[1] = 0x20, 0x01
			for i := 2; i < 8; i++ {
				v6[i] = byte(r.IntN(256))
			}
			s.add("ip", prefix(netip.PrefixFrom(netip.AddrFrom16(v6), 64).String()), nil, &future)
		}
	})
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		if i%2 == 0 {
			addrs[i] = netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
			continue
		}
		var v6 [16]byte
		for j := range v6 {
			v6[j] = byte(r.IntN(256))
		}
		v6[0], v6[1] = 0x20, 0x01
		addrs[i] = netip.AddrFrom16(v6)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		bl.BlockedIP(addrs[i%len(addrs)])
	}
}
