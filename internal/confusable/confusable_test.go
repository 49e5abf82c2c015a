package confusable

import "testing"

func TestSkeleton(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"paypal@example.test", "pаypal@example.test"}, // Cyrillic а
		{"paypal@example.test", "ｐａｙｐａｌ@example.test"}, // full width
		{"microsoft@example.test", "rnicrosoft@example.test"},
		{"apple@example.test", "app1e@example.test"},
		{"google@example.test", "gοοgle@example.test"}, // Greek ο
		{"jose@example.test", "josé@example.test"},
		{"john.smith@example.test", "johnsmith@example.test"},
		{"admin@example.test", "ADMIN@example.test"},
		{"bob@example.test", "b\u200bob@example.test"},                            // zero-width space
		{"owner@acme-coffee.example.test", "owner@acme\u2010coffee.example.test"}, // hyphen
		{"owner@acme-coffee.example.test", "owner@acme\u2013coffee.example.test"}, // en dash
		{"owner@acme-coffee.example.test", "owner@acme\u2212coffee.example.test"}, // minus sign
		{"owner@acme-coffee.example.test", "owner@\u0251cme-coffee.example.test"}, // Latin alpha
		{"owner@acme-coffee.example.test", "owner@acme-c0ffee.example.test"},
		{"sales@example.test", "\u0455ales@example.test"}, // Cyrillic dze
		{"nick@example.test", "n\u0131ck@example.test"},   // dotless i
	}
	for _, p := range same {
		if Skeleton(p[0]) != Skeleton(p[1]) {
			t.Errorf("%q and %q do not collide: %q vs %q", p[0], p[1],
				Skeleton(p[0]), Skeleton(p[1]))
		}
	}
	different := [][2]string{
		{"alice@example.test", "alicia@example.test"},
		{"bob@example.test", "rob@example.test"},
		{"ann@example.test", "anne@example.test"},
	}
	for _, p := range different {
		if Skeleton(p[0]) == Skeleton(p[1]) {
			t.Errorf("%q and %q collide", p[0], p[1])
		}
	}
}

func FuzzSkeleton(f *testing.F) {
	f.Add("pаypal@example.test")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if Skeleton(Skeleton(s)) == "" && Skeleton(s) != "" {
			t.Fatal("skeleton of a skeleton vanished")
		}
	})
}
