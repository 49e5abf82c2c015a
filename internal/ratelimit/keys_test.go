package ratelimit

import "testing"

func TestKeys(t *testing.T) {
	t.Parallel()

	t.Run("IPv4 is keyed as it is, with or without a port", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{"203.0.113.7", "203.0.113.7:51234"} {
			if got := IPKey(in); got != "ip:203.0.113.7" {
				t.Errorf("IPKey(%q) = %q", in, got)
			}
		}
	})

	t.Run("addresses of one IPv6 /64 share a key", func(t *testing.T) {
		t.Parallel()
		a := IPKey("2001:db8:1:2::1")
		b := IPKey("[2001:db8:1:2:ffff:ffff:ffff:ffff]:443")
		if a != b || a != "ip:2001:db8:1:2::/64" {
			t.Fatalf("same /64: %q and %q", a, b)
		}
	})

	t.Run("different IPv6 /64s have different keys", func(t *testing.T) {
		t.Parallel()
		if a, b := IPKey("2001:db8:1:2::1"), IPKey("2001:db8:1:3::1"); a == b {
			t.Fatalf("different /64s share %q", a)
		}
	})

	t.Run("IPv4-mapped IPv6 is IPv4", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{"::ffff:203.0.113.7", "[::ffff:203.0.113.7]:80"} {
			if got := IPKey(in); got != "ip:203.0.113.7" {
				t.Errorf("IPKey(%q) = %q", in, got)
			}
		}
	})

	t.Run("a zone does not mint a new key", func(t *testing.T) {
		t.Parallel()
		if a, b := IPKey("fe80::1%eth0"), IPKey("fe80::2"); a != b {
			t.Fatalf("zoned %q, plain %q", a, b)
		}
	})

	t.Run("garbage shares one key", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{"", "localhost", "1.2.3", "01.2.3.4",
			"1.2.3.4:99999", "::g", "[::1", "1.2.3.4, 5.6.7.8"} {
			if got := IPKey(in); got != "ip:invalid" {
				t.Errorf("IPKey(%q) = %q", in, got)
			}
		}
	})

	t.Run("scopes and classes compose", func(t *testing.T) {
		t.Parallel()
		if got := Key(string(ClassRead), UserKey("u1")); got != "read:user:u1" {
			t.Errorf("user key %q", got)
		}
		if got := Key(string(ClassExport), MerchantKey("m1")); got != "export:merchant:m1" {
			t.Errorf("merchant key %q", got)
		}
	})
}
