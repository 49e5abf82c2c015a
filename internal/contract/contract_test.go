package contract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func setup(t *testing.T) *Checker {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// exchange fabricates a request and the response it got, as a server would
// see them: the request URL carries no scheme or host.
func exchange(
	method, target string, status int, ctype, body string,
) (*http.Request, *http.Response, []byte) {
	req := httptest.NewRequest(method, target, nil)
	resp := &http.Response{StatusCode: status, Header: http.Header{}, Request: req}
	if ctype != "" {
		resp.Header.Set("Content-Type", ctype)
	}
	return req, resp, []byte(body)
}

const (
	userID    = "0b6f2c9e-3c1a-4f5e-9d7b-2a8e4c6f1d3b"
	merchID   = "5d1e8a2b-7c4f-4e6a-b9d3-1f2a3b4c5d6e"
	timestamp = "2026-03-01T12:30:00Z"
	problemCT = "application/problem+json"
)

func problem(code string, status int) string {
	return fmt.Sprintf(`{"type":"about:blank","title":"t","status":%d,`+
		`"code":%q,"request_id":"req-1"}`, status, code)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	c := setup(t)

	t.Run("every operation follows the conventions", func(t *testing.T) {
		for path, item := range c.doc.Paths.Map() {
			for method, op := range item.Operations() {
				for _, msg := range conventions(c, method, op) {
					t.Errorf("%s %s: %s", method, path, msg)
				}
			}
		}
	})
}

// conventions lists how op breaks the rules every operation of the document
// keeps, so that a later edit cannot quietly drop an error response.
func conventions(c *Checker, method string, op *openapi3.Operation) []string {
	var broken []string
	if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
		broken = append(broken, "operationId, summary and tags are required")
	}
	if op.Security == nil {
		broken = append(broken, "security must be explicit")
	}
	need := []string{"500"}
	if c.secured(op) {
		need = append(need, "401", "429")
	}
	if op.RequestBody != nil {
		need = append(need, "400", "413", "415")
		broken = append(broken, strictBody(op)...)
	}
	for _, status := range need {
		if op.Responses.Value(status) == nil {
			broken = append(broken, "missing response "+status)
		}
	}
	if ref := op.Responses.Value("429"); ref != nil && ref.Value.Headers["Retry-After"] == nil {
		broken = append(broken, "429 without Retry-After")
	}
	return broken
}

func strictBody(op *openapi3.Operation) []string {
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil {
		return []string{"request body is not application/json"}
	}
	ap := media.Schema.Value.AdditionalProperties
	if ap.Has == nil || *ap.Has {
		return []string{"request body allows additional properties"}
	}
	return nil
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := setup(t)

	pass := []struct {
		name, method, target string
		status               int
		ctype, body          string
		header               http.Header
	}{
		{"health", "GET", "/healthz", 200, "application/json", `{"status":"ok"}`, nil},
		{"json with charset", "GET", "/healthz", 200,
			"application/json; charset=utf-8", `{"status":"ok"}`, nil},
		{"not ready", "GET", "/readyz", 503, problemCT, problem("unavailable", 503), nil},
		{"no content", "POST", "/v1/auth/logout", 204, "", "", nil},
		{"rate limited", "GET", "/v1/me", 429, problemCT, problem("rate_limited", 429),
			http.Header{"Retry-After": {"3"}}},
		{"null role of a platform admin", "GET", "/v1/merchants/" + merchID, 200,
			"application/json", `{"id":"` + merchID + `","name":"Acme","slug":"acme",` +
				`"role":null,"created_at":"` + timestamp + `",` +
				`"updated_at":"` + timestamp + `"}`, nil},
		{"public page without contacts", "GET", "/v1/pages/acme", 200,
			"application/json", `{"slug":"acme","title":"Acme","description":"",` +
				`"updated_at":"` + timestamp + `"}`, nil},
	}
	for _, tc := range pass {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			req, resp, body := exchange(tc.method, tc.target, tc.status, tc.ctype, tc.body)
			for k, v := range tc.header {
				resp.Header[k] = v
			}
			if err := c.Check(req, nil, resp, body); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}

	fail := []struct {
		name, method, target string
		status               int
		ctype, body          string
	}{
		{"an undocumented status", "GET", "/healthz", 418, "application/json", `{"status":"ok"}`},
		{"a missing required field", "GET", "/v1/me", 200, "application/json",
			`{"id":"` + userID + `","platform_role":"user","status":"active",` +
				`"created_at":"` + timestamp + `"}`},
		{"an undocumented field", "GET", "/healthz", 200, "application/json",
			`{"status":"ok","version":"1"}`},
		{"a bad uuid", "GET", "/v1/me", 200, "application/json",
			`{"id":"42","email":"a@b.test","platform_role":"user","status":"active",` +
				`"created_at":"` + timestamp + `"}`},
		{"a bad timestamp", "GET", "/v1/me", 200, "application/json",
			`{"id":"` + userID + `","email":"a@b.test","platform_role":"user",` +
				`"status":"active","created_at":"yesterday"}`},
		{"an error as plain json", "GET", "/v1/me", 401, "application/json",
			problem("unauthenticated", 401)},
		{"a problem without request_id", "GET", "/v1/me", 401, problemCT,
			`{"title":"t","status":401,"code":"unauthenticated"}`},
		{"a problem with an unknown code", "GET", "/v1/me", 401, problemCT,
			problem("nope", 401)},
		{"429 without Retry-After", "GET", "/v1/me", 429, problemCT,
			problem("rate_limited", 429)},
		{"a body on 204", "POST", "/v1/auth/logout", 204, "application/json", `{}`},
		{"no body on 200", "GET", "/healthz", 200, "", ""},
	}
	for _, tc := range fail {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			req, resp, body := exchange(tc.method, tc.target, tc.status, tc.ctype, tc.body)
			if err := c.Check(req, nil, resp, body); err == nil {
				t.Error("Check passed an answer the contract does not allow")
			}
		})
	}

	t.Run("refuses an unknown operation", func(t *testing.T) {
		for _, target := range []string{"/v1/nope", "/healthz/extra"} {
			req, resp, body := exchange("GET", target, 404, problemCT, problem("not_found", 404))
			if err := c.Check(req, nil, resp, body); !errors.Is(err, ErrUnknownOperation) {
				t.Errorf("%s: Check = %v, want ErrUnknownOperation", target, err)
			}
		}
		req, resp, body := exchange("PUT", "/healthz", 405, problemCT,
			problem("method_not_allowed", 405))
		if err := c.Check(req, nil, resp, body); !errors.Is(err, ErrUnknownOperation) {
			t.Errorf("PUT /healthz: Check = %v, want ErrUnknownOperation", err)
		}
	})

	t.Run("ignores the host", func(t *testing.T) {
		req, resp, body := exchange("GET", "http://127.0.0.1:38211/healthz?x=1", 200,
			"application/json", `{"status":"ok"}`)
		if err := c.Check(req, nil, resp, body); err != nil {
			t.Errorf("Check: %v", err)
		}
	})
}

func TestOperations(t *testing.T) {
	t.Parallel()
	ops := setup(t).Operations()

	want := map[Operation]bool{
		{Method: "POST", Path: "/v1/merchants", Secured: true}:               false,
		{Method: "GET", Path: "/healthz", Secured: false}:                    false,
		{Method: "POST", Path: "/v1/auth/login", Secured: false}:             false,
		{Method: "GET", Path: "/v1/pages/{slug}", Secured: false}:            false,
		{Method: "PUT", Path: "/v1/ai-rate-limits/{feature}", Secured: true}: false,
	}
	for _, op := range ops {
		if _, ok := want[op]; ok {
			want[op] = true
		}
	}
	for op, found := range want {
		if !found {
			t.Errorf("Operations() lacks %+v", op)
		}
	}
	// That every route is documented, and nothing else, is checked
	// against the router itself in internal/httpapi (TestEveryRouteIsDocumented).
}

// recorder is a testing.TB that keeps what Errorf reports instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestTransport(t *testing.T) {
	t.Parallel()
	c := setup(t)

	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/healthz":
			io.WriteString(w, `{"status":"ok"}`)
		default:
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, strings.Repeat("x", 2000))
		}
	}))
	t.Cleanup(srv.Close)

	t.Run("passes a documented answer through", func(t *testing.T) {
		rec := &recorder{TB: t}
		client := &http.Client{Transport: c.Transport(rec, nil)}
		resp, err := client.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		if string(body) != `{"status":"ok"}` {
			t.Errorf("body = %q, want it intact", body)
		}
		if len(rec.errors) != 0 {
			t.Errorf("reported %q", rec.errors)
		}
	})

	t.Run("reports an undocumented answer", func(t *testing.T) {
		rec := &recorder{TB: t}
		client := &http.Client{Transport: c.Transport(rec, nil)}
		payload := `{"name":"Acme","slug":"acme"}`
		resp, err := client.Post(srv.URL+"/v1/merchants", "application/json",
			bytes.NewBufferString(payload))
		if err != nil {
			t.Fatalf("Post: %v", err)
		}
		resp.Body.Close()

		if gotBody != payload {
			t.Errorf("server got body %q, want %q", gotBody, payload)
		}
		if len(rec.errors) != 1 {
			t.Fatalf("reported %d failures, want 1", len(rec.errors))
		}
		msg := rec.errors[0]
		for _, part := range []string{"POST", "/v1/merchants", "418", "(2000 bytes)"} {
			if !strings.Contains(msg, part) {
				t.Errorf("report %q lacks %q", msg, part)
			}
		}
	})
}

func TestFieldPath(t *testing.T) {
	for _, c := range []struct {
		tokens []string
		want   string
	}{
		{nil, "body"},
		{[]string{"email"}, "email"},
		{[]string{"lines", "0", "quantity"}, "lines[0].quantity"},
		{[]string{"shipping_address", "zip"}, "shipping_address.zip"},
		{[]string{"lines", "12"}, "lines[12]"},
	} {
		if got := fieldPath(c.tokens); got != c.want {
			t.Errorf("%v: %q, want %q", c.tokens, got, c.want)
		}
	}
	if r := plainReason("cannot convert json.Number to float64"); strings.Contains(r, "json") {
		t.Errorf("a Go type in a reason: %q", r)
	}
}
