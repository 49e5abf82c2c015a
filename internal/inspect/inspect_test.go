package inspect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// shared is the one Inspector of the test binary; it is safe for
// concurrent use, as production shares it too.
var shared = sync.OnceValues(New)

func setup(t testing.TB) *Inspector {
	t.Helper()
	in, err := shared()
	if err != nil {
		t.Fatalf("new inspector: %v", err)
	}
	return in
}

// bodyRequest is a POST whose JSON body carries v at /item/title, and the
// body itself.
func bodyRequest(t testing.TB, v string) (*http.Request, []byte) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"item": map[string]any{"title": v, "price_cents": 1999},
	})
	if err != nil {
		t.Fatalf("marshal body: %v", err)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/merchant/items",
		bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r, body
}

func has(fs []Finding, class, location string) bool {
	return slices.Contains(fs, Finding{Class: class, Location: location})
}

func TestAttacksAreFound(t *testing.T) {
	t.Parallel()
	in := setup(t)

	cases := []struct {
		name, payload, class string
	}{
		{"tautology", "' OR 1=1--", ClassSQLi},
		{"tautology, dash made typographic", "' or 1=1 \u2013", ClassSQLi},
		{"tautology, curly quotes", "\u2019 OR \u20181\u2019=\u20191", ClassSQLi},
		{"script tag", "<script>alert(1)</script>", ClassXSS},
		{"shell command", "; cat /etc/passwd", ClassCmdi},
		{"traversal", "../../etc/passwd", ClassPathTraversal},
		// One example per technique added on top of libinjection's own
		// contexts; none of them is taken from the corpus.
		{"values list closed", "'),(SELECT pg_sleep(5))--", ClassSQLi},
		{"parenthesis closed", "9) UNION SELECT email FROM users--", ClassSQLi},
		{"unknown event handler", "<p onpointerrawupdate=go()>", ClassXSS},
		{"handler after a quoted value", `<b title=">" onfoo=x>`, ClassXSS},
		{"handler behind a dropped quote", `<i x='><u onbar=y//'>`, ClassXSS},
		{"script URL with a tab", "java	script:go()", ClassXSS},
		{"script URL by entities", "jav&#x09;ascript&colon;go()", ClassXSS},
		{"data URL", "data:text/html;base64,PHNjcmlwdD4=", ClassXSS},
		{"sink call in a script", `";prompt(document.domain)//`, ClassXSS},
		{"JS-escaped markup", `\u003cimg src=x onerror=go()\u003e`, ClassXSS},
		{"raw-text element closed", "</textarea><b>hi</b>", ClassXSS},
		{"form behind formatting", strings.Repeat("<b>a</b>", 40) +
			"<form action=https://x.example/><input type=password></form>", ClassXSS},
		{"comment behind formatting", strings.Repeat("<p>x</p>", 100) + "<!-- x -->", ClassXSS},
		{"HTML comment", "x<!-- [if IE]>", ClassXSS},
		{"XSLT element", `<xsl:value-of select="system-property('a')"/>`, ClassXSS},
		{"namespace declaration", `<p xmlns="http://www.w3.org/1999/xhtml">`, ClassXSS},
		{"template arithmetic", "{{ 7*7 }}", ClassCmdi},
		{"template dunder", "{{ ''.__class__ }}", ClassCmdi},
		{"AND list", "x && id", ClassCmdi},
		{"variable path", "cat $HOME/.ssh/id_rsa", ClassCmdi},
		{"Windows subcommand", `reg query HKLM\Software /s`, ClassCmdi},
		{"secret dotfile", ".htpasswd", ClassPathTraversal},
	}
	for _, c := range cases {
		t.Run(c.name+" in a query value", func(t *testing.T) {
			t.Parallel()
			got := in.Request(queryRequest(c.payload), nil)
			if !has(got, c.class, "query:q") {
				t.Errorf("%q: got %v, want %s at query:q", c.payload, got, c.class)
			}
		})
		t.Run(c.name+" in a JSON string", func(t *testing.T) {
			t.Parallel()
			r, body := bodyRequest(t, c.payload)
			got := in.Request(r, body)
			if !has(got, c.class, "body:/item/title") {
				t.Errorf("%q: got %v, want %s at body:/item/title",
					c.payload, got, c.class)
			}
		})
		t.Run(c.name+" through Value", func(t *testing.T) {
			t.Parallel()
			if got := in.Value(c.payload); !slices.Contains(got, c.class) {
				t.Errorf("Value(%q) = %v, want %s among them", c.payload, got, c.class)
			}
		})
	}
}

func TestTraversalInThePath(t *testing.T) {
	t.Parallel()
	in := setup(t)

	for _, target := range []string{
		"/files/../../etc/passwd",
		"/files/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/files/%2e%2e%2fsecret.txt",
	} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, target, nil)
			got := in.Request(r, nil)
			if !has(got, ClassPathTraversal, "path") {
				t.Errorf("got %v, want path_traversal at path", got)
			}
		})
	}
}

// TestBenignInputPasses holds inputs a marketplace sees every day. None may
// be flagged, in a query value, in a JSON string or through Value.
func TestBenignInputPasses(t *testing.T) {
	t.Parallel()
	in := setup(t)

	for _, v := range []string{
		"O'Brien",
		"Rua São João, 42",
		"maria.silva+orders@example.com",
		"3f2b8c1e-7d4a-4f6b-9a2e-5c8d1e0f7a9b",
		"SELECT your size", // an SQL keyword in a product title
		"Camiseta \"Básica\" – 100% algodão (tam. M/G)",
		"Rock & Roll T-shirt, size M; colour: black",
		"Buy 2, get 1 free!",
		"https://shop.example.com/items?id=42&ref=home",
		"C'est l'été à Paris",
		"JavaScript: The Good Parts",
		"Buy 3 (get 1 free) -- limited time",
		"Hello {{ customer_name }}",
		"<p>Soft cotton, <b>machine washable</b></p>",
		"Price alert (email me)",
		"Net user rating: 4.5",
		"Fish &amp; Chips",
		"I <3 this shop",
		"<!> <?> <3 <-- a < b",
		`<foo val="bar" />`,
		"<table><tr><td>Size</td><td>M</td></tr></table>",
	} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			if got := in.Request(queryRequest(v), nil); got != nil {
				t.Errorf("query: got %v, want nothing", got)
			}
			r, body := bodyRequest(t, v)
			if got := in.Request(r, body); got != nil {
				t.Errorf("body: got %v, want nothing", got)
			}
			if got := in.Value(v); got != nil {
				t.Errorf("Value: got %v, want nothing", got)
			}
		})
	}
}

// TestEncodedAngle holds the inspector to a '<' spelled any other way than
// as itself, judged after the encoding the place it arrives in uses.
func TestEncodedAngle(t *testing.T) {
	t.Parallel()
	in := setup(t)

	for _, v := range []string{"&#x3c;", "&LT", "%3C", "\\u003C", "\\x3c", "+ADw-script+AD4-"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			if got := in.Request(queryRequest(v), nil); !has(got, ClassXSS, "query:q") {
				t.Errorf("query: got %v, want xss at query:q", got)
			}
			r, body := bodyRequest(t, v)
			if got := in.Request(r, body); !has(got, ClassXSS, "body:/item/title") {
				t.Errorf("body: got %v, want xss at body:/item/title", got)
			}
		})
	}

	t.Run("one layer of percent-encoding where it is the norm", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet, "/api/v1/items/%3C3", nil)
		r.Header.Set("Referer", "https://shop.example.com/search?q=%3C3")
		r.Header.Set("Cookie", "last_search=%3C3%20vintage")
		if got := in.Request(r, nil); got != nil {
			t.Errorf("got %v, want nothing", got)
		}
	})

	t.Run("two layers in a Referer", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		r.Header.Set("Referer", "https://shop.example.com/search?q=%253C3")
		if got := in.Request(r, nil); !has(got, ClassXSS, "header:Referer") {
			t.Errorf("got %v, want xss at header:Referer", got)
		}
	})

	t.Run("a JSON escape is the transport's, not an encoding", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, "/api/v1/items", nil)
		if got := in.Request(r, []byte(`{"title":"I \u003c3 it"}`)); got != nil {
			t.Errorf("got %v, want nothing", got)
		}
	})
}

func TestTypicalRequestPasses(t *testing.T) {
	t.Parallel()
	in := setup(t)

	r, body := typicalRequest()
	if got := in.Request(r, body); got != nil {
		t.Errorf("got %v, want nothing", got)
	}
}

// typicalRequest is a browser's order placement, as the benchmark sends it.
func typicalRequest() (*http.Request, []byte) {
	body := []byte(`{
  "merchant_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  "customer": {
    "name": "Maria O'Brien da Silva",
    "email": "maria.silva@example.com",
    "phone": "+55 11 91234-5678",
    "address": {"street": "Rua São João, 42, apto 3", "city": "São Paulo",
      "postal_code": "01234-567", "country": "BR"}
  },
  "lines": [
    {"item_id": "3f2b8c1e-7d4a-4f6b-9a2e-5c8d1e0f7a9b", "quantity": 2,
     "note": "Gift wrap, please - it's for my mum's birthday!"},
    {"item_id": "a1b2c3d4-0000-4000-8000-123456789abc", "quantity": 1,
     "note": ""}
  ],
  "payment": {"provider_token": "tok_1NqYc2LkdIwHu7ixZkE0", "brand": "visa",
    "last4": "4242"},
  "coupon": "SUMMER-10",
  "accept_terms": true
}`)
	target := "/api/v1/merchants/7c9e6679-7425-40de-944b-e07fc1f90ae7/orders" +
		"?source=web&lang=pt-BR"
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "+
		"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
	r.Header.Set("Referer", "https://shop.example.com/checkout?step=2&cart=9f1c")
	r.Header.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.23")
	r.Header.Set("X-Request-Id", "01J2Z3K4M5N6P7Q8R9S0T1V2W3")
	r.Header.Set("Cookie", "theme=dark; consent=analytics%3Dno%26ads%3Dno")
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	return r, body
}

func TestHeadersAreInspected(t *testing.T) {
	t.Parallel()
	in := setup(t)

	cases := []struct {
		header, value, class, location string
	}{
		{"User-Agent", "<script>alert(1)</script>", ClassXSS, "header:User-Agent"},
		{"Referer", "https://x.example/?q=' OR 1=1--", ClassSQLi, "header:Referer"},
		{"X-Forwarded-For", "1.2.3.4' OR '1'='1", ClassSQLi, "header:X-Forwarded-For"},
		{"X-Merchant-Ref", "; cat /etc/passwd", ClassCmdi, "header:X-Merchant-Ref"},
		// net/http's cookie parser drops a value with spaces; ours must not.
		{"Cookie", "theme=dark; pref=' OR 1=1--", ClassSQLi, "header:Cookie"},
	}
	for _, c := range cases {
		t.Run(c.header, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
			r.Header.Set(c.header, c.value)
			if got := in.Request(r, nil); !has(got, c.class, c.location) {
				t.Errorf("got %v, want %s at %s", got, c.class, c.location)
			}
		})
	}

	t.Run("other headers are left alone", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		r.Header.Set("Accept-Language", "' OR 1=1--")
		if got := in.Request(r, nil); got != nil {
			t.Errorf("got %v, want nothing: Accept-Language is not on the list", got)
		}
	})
}

func TestQueryEdges(t *testing.T) {
	t.Parallel()
	in := setup(t)

	t.Run("a key carries the payload", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet,
			"/api/v1/items?"+url.QueryEscape("<script>alert(1)</script>")+"=1", nil)
		got := in.Request(r, nil)
		if !has(got, ClassXSS, "query:*") {
			t.Errorf("got %v, want xss at query:*", got)
		}
	})
	t.Run("a malformed escape does not hide the pair", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet,
			"/api/v1/items?q=%27%20OR%201=1--%zz", nil)
		if got := in.Request(r, nil); !has(got, ClassSQLi, "query:q") {
			t.Errorf("got %v, want sqli at query:q", got)
		}
	})
	t.Run("too many pairs", func(t *testing.T) {
		t.Parallel()
		q := strings.Repeat("a=1&", MaxQueryPairs+1)
		r := httptest.NewRequest(http.MethodGet, "/api/v1/items?"+q, nil)
		if got := in.Request(r, nil); !has(got, ClassOverLimit, "query") {
			t.Errorf("got %v, want over_limit at query", got)
		}
	})
}

func TestBodyEdges(t *testing.T) {
	t.Parallel()
	in := setup(t)
	post := func(body string) []Finding {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(body))
		return in.Request(r, []byte(body))
	}

	t.Run("pointers follow arrays and objects", func(t *testing.T) {
		t.Parallel()
		got := post(`{"a":[1,{"b":"x"},[null,"<script>alert(1)</script>"]],"c":"ok"}`)
		want := []Finding{{Class: ClassXSS, Location: "body:/a/2/1"}}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a key carries the payload", func(t *testing.T) {
		t.Parallel()
		got := post(`{"items":[{"' OR 1=1--":"x"}]}`)
		if !has(got, ClassSQLi, "body:/items/0/*") {
			t.Errorf("got %v, want sqli at body:/items/0/*", got)
		}
	})
	t.Run("a top-level string", func(t *testing.T) {
		t.Parallel()
		if got := post(`"../../etc/passwd"`); !has(got, ClassPathTraversal, "body:") {
			t.Errorf("got %v, want path_traversal at body:", got)
		}
	})
	t.Run("strings before a syntax error are read", func(t *testing.T) {
		t.Parallel()
		if got := post(`{"q":"' OR 1=1--", oops`); !has(got, ClassSQLi, "body:/q") {
			t.Errorf("got %v, want sqli at body:/q", got)
		}
	})
	t.Run("too deep", func(t *testing.T) {
		t.Parallel()
		deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
		if got := post(deep); !has(got, ClassOverLimit, "body") {
			t.Errorf("got %v, want over_limit at body", got)
		}
		ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
		if got := post(ok); got != nil {
			t.Errorf("depth %d: got %v, want nothing", MaxDepth, got)
		}
	})
	t.Run("too many strings", func(t *testing.T) {
		t.Parallel()
		many := "[" + strings.Repeat(`"a",`, MaxStrings) + `"a"]`
		if got := post(many); !has(got, ClassOverLimit, "body") {
			t.Errorf("got %v, want over_limit at body", got)
		}
	})
}

func TestSafeName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"q":                     "q",
		"price_cents":           "price_cents",
		"X-Request-Id":          "X-Request-Id",
		"a/b":                   "*",
		"maria@example.com":     "*",
		"' OR 1=1--":            "*",
		strings.Repeat("a", 65): "*",
		"":                      "",
	}
	for in, want := range cases {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostileInputsStayLinear feeds 256 KiB values built to make a careless
// scanner quadratic. Each takes tens of milliseconds (a few hundred on a
// busy machine); a quadratic pass over them would take minutes.
func TestHostileInputsStayLinear(t *testing.T) {
	t.Parallel()
	in := setup(t)

	const n = 256 << 10
	for name, s := range map[string]string{
		"separators":     strings.Repeat(";", n),
		"amp and blanks": strings.Repeat("& ", n/2),
		"escaped breaks": strings.Repeat(`\n`, n/2),
		"brackets":       strings.Repeat("(", n),
		"calls":          strings.Repeat("a(", n/2),
		"empty calls":    strings.Repeat("()", n/2),
		"climbs":         strings.Repeat("../", n/3),
		"escapes":        strings.Repeat("%25", n/3),
		"dots":           strings.Repeat(".", n),
		"quotes":         strings.Repeat("'", n),
		"tags":           strings.Repeat("<a ", n/3),
		"formatting":     strings.Repeat("<b>a</b>", n/8),
		"closing parens": strings.Repeat(") or 1", n/6),
		"open values":    strings.Repeat("<a b='", n/6),
		"attributes":     strings.Repeat("<a b=c d ", n/9),
		"colons":         strings.Repeat("script:", n/7),
		"schemes":        strings.Repeat("\tj", n/2) + ":x",
		"templates":      strings.Repeat("{{", n/2),
		"expressions":    strings.Repeat("{{ 1 1 1 }}", n/11),
		"entities":       strings.Repeat("&lt;", n/4),
		"js escapes":     strings.Repeat(`\u003c`, n/6),
		"sink calls":     strings.Repeat("xalert(", n/7),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			in.Value(s)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			} else {
				t.Logf("took %v", d)
			}
		})
	}
}
