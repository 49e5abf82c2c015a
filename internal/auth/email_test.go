package auth

import "testing"

func TestNormalizeEmail(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "" for refused
	}{
		{"Ana@Example.test", "ana@example.test"},
		{"ａｎａ@example.test", "ana@example.test"}, // fullwidth, NFKC
		{"evil\u202etset.elpmaxe@x.test", ""},    // right-to-left override
		{"a\u200db@x.test", ""},                  // zero width joiner
		{"a\ufeffb@x.test", ""},                  // byte order mark
		{"a\u2028b@x.test", ""},                  // line separator
		{"a\x07b@x.test", ""},                    // bell
		{"Ana <ana@example.test>", ""},           // a display name
		{"ana@localhost", ""},                    // no dot in the domain
	} {
		got, err := NormalizeEmail(c.in)
		if (err != nil) != (c.want == "") || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
