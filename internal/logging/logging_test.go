package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// output collects the JSON lines a logger writes.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	syncs int
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) Sync() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.syncs++
	return nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// lines decodes every line written so far.
func (o *output) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(o.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// last returns the last line written.
func (o *output) last(t *testing.T) map[string]any {
	t.Helper()
	ls := o.lines(t)
	if len(ls) == 0 {
		t.Fatal("nothing was logged")
	}
	return ls[len(ls)-1]
}

func newCore(o *output, level zapcore.Level) zapcore.Core {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zapcore.NewCore(enc, o, level)
}

// setup returns a debug-level logger whose lines, redacted, land in the
// returned output.
func setup(t *testing.T) (*zap.Logger, *output) {
	t.Helper()
	o := &output{}
	return zap.New(Redact(newCore(o, zapcore.DebugLevel))), o
}

func TestRedactNamedFields(t *testing.T) {
	t.Parallel()

	names := []string{"email", "phone", "name", "address", "street",
		"password", "passwd", "secret", "token", "access_token",
		"refresh_token", "authorization", "cookie", "set-cookie", "api_key",
		"key", "card", "card_number", "pan", "cvv", "ssn", "reason",
		// Other spellings of the same names.
		"Email", "API_KEY", "apiKey", "Set-Cookie", "Authorization",
		"customer_email", "new_password", "client_secret", "X-Refresh-Token",
		"password_hash"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			log, out := setup(t)
			log.Info("login", zap.String(name, "plain value 42"))
			if got := out.last(t)[name]; got != redacted {
				t.Errorf("%s = %v, want %q", name, got, redacted)
			}
		})
	}

	t.Run("values of every type are hidden", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		log.Info("m", zap.Int64("card_number", 4111111111111111),
			zap.Strings("cookie", []string{"a=b"}), zap.Bool("ssn", true),
			zap.Any("address", map[string]string{"city": "Lyon"}),
			zap.Error(errors.New("x")), zap.NamedError("reason", errors.New("r")))
		line := out.last(t)
		for _, k := range []string{"card_number", "cookie", "ssn", "address", "reason"} {
			if line[k] != redacted {
				t.Errorf("%s = %v, want %q", k, line[k], redacted)
			}
		}
	})

	t.Run("other names are kept", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		keep := []string{"request_id", "user_id", "route", "route_name",
			"key_id", "client_ip", "listen_address", "kind", "code", "method"}
		fs := make([]zap.Field, len(keep))
		for i, k := range keep {
			fs[i] = zap.String(k, "v")
		}
		log.Info("m", fs...)
		line := out.last(t)
		for _, k := range keep {
			if line[k] != "v" {
				t.Errorf("%s = %v, want it kept", k, line[k])
			}
		}
	})

	t.Run("nested keys in maps and structs", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		type card struct {
			Brand  string `json:"brand"`
			Number string `json:"number"`
			CVV    string
		}
		log.Info("m", zap.Any("customer", map[string]any{
			"id":      "c_1",
			"Email":   "ann@example.com",
			"billing": map[string]any{"street": "1 Main St", "country": "FR"},
			"cards":   []card{{Brand: "visa", Number: "4111", CVV: "123"}},
		}))
		got, _ := json.Marshal(out.last(t)["customer"])
		want := `{"Email":"[redacted]","billing":{"country":"FR",` +
			`"street":"[redacted]"},"cards":[{"CVV":"[redacted]",` +
			`"brand":"visa","number":"4111"}],"id":"c_1"}`
		if string(got) != want {
			t.Errorf("customer = %s\nwant       %s", got, want)
		}
	})

	t.Run("request headers", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		h := http.Header{"Authorization": {"Bearer abc"},
			"Cookie": {"sid=1"}, "Accept": {"application/json"}}
		log.Info("m", zap.Any("headers", h))
		got, _ := json.Marshal(out.last(t)["headers"])
		want := `{"Accept":["application/json"],"Authorization":"[redacted]",` +
			`"Cookie":"[redacted]"}`
		if string(got) != want {
			t.Errorf("headers = %s, want %s", got, want)
		}
	})

	t.Run("nested keys in object marshalers", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		obj := zapcore.ObjectMarshalerFunc(func(enc zapcore.ObjectEncoder) error {
			enc.AddString("id", "c_1")
			enc.AddString("name", "Ann Lee")
			enc.AddUint64("pan", 4111111111111111)
			return enc.AddObject("contact", zapcore.ObjectMarshalerFunc(
				func(enc zapcore.ObjectEncoder) error {
					enc.AddString("phone", "0612345678")
					enc.AddString("note", "call ann@example.com")
					return nil
				}))
		})
		log.Info("m", zap.Object("customer", obj), zap.Inline(obj))
		line := out.last(t)
		got, _ := json.Marshal(line["customer"])
		want := `{"contact":{"note":"call [email]","phone":"[redacted]"},` +
			`"id":"c_1","name":"[redacted]","pan":"[redacted]"}`
		if string(got) != want {
			t.Errorf("customer = %s\nwant       %s", got, want)
		}
		if line["name"] != redacted || line["id"] != "c_1" {
			t.Errorf("inline object = %v", line)
		}
	})

	t.Run("everything under a secret namespace", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		log.With(zap.Namespace("address")).Info("m", zap.String("city", "Lyon"))
		got, _ := json.Marshal(out.last(t)["address"])
		if string(got) != `{"city":"[redacted]"}` {
			t.Errorf("address = %s", got)
		}
	})

	t.Run("With fields", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		log.With(zap.String("token", "t0k3n")).Info("m")
		if got := out.last(t)["token"]; got != redacted {
			t.Errorf("token = %v", got)
		}
	})
}

// shapes are secrets recognised inside any string.
var shapes = []struct {
	name, secret, marker string
}{
	{"email", "ann.lee+shop@mail.example.co.uk", emailMark},
	{"card with spaces", "4111 1111 1111 1111", cardMark},
	{"card with dashes", "5500-0000-0000-0004", cardMark},
	{"card bare", "378282246310005", cardMark},
	{"phone international", "+44 20 7946 0958", phoneMark},
	{"phone with area code", "(555) 123-4567", phoneMark},
	{"phone with dots", "555.123.4567", phoneMark},
	{"phone bare", "0612345678", phoneMark},
	{"jwt", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." +
		"MEUCIQDkz1pOfl3ROR4yT3_Bm9d-7Ug", jwtMark},
	{"refresh token", "rt_Q2hhbmdlIG1lIGJlZm9yZSBwcm9kdWN0aW9uIQ", tokenMark},
	{"bearer token", "Bearer 8a7Zk2LmQpR4sT9uVwXy", tokenMark},
	{"database url password", "postgres://rampart_api:s3cr3t-P4ss@db:5432/x",
		redacted},
}

// secretPart is the part of a shape that must never be printed.
func secretPart(secret string) string {
	if _, pw, ok := strings.Cut(secret, "rampart_api:"); ok {
		pw, _, _ = strings.Cut(pw, "@")
		return pw
	}
	return strings.TrimPrefix(secret, "Bearer ")
}

func TestRedactShapes(t *testing.T) {
	t.Parallel()

	for _, sh := range shapes {
		text := "for customer " + sh.secret + ", see above"
		locations := map[string]func(*zap.Logger){
			"message":      func(l *zap.Logger) { l.Info(text) },
			"string field": func(l *zap.Logger) { l.Info("m", zap.String("note", text)) },
			"error":        func(l *zap.Logger) { l.Error("m", zap.Error(errors.New(text))) },
			"wrapped error": func(l *zap.Logger) {
				l.Warn("m", zap.Error(fmt.Errorf("load order: %w", errors.New(text))))
			},
			"With field":   func(l *zap.Logger) { l.With(zap.String("note", text)).Info("m") },
			"nested value": func(l *zap.Logger) { l.Info("m", zap.Any("n", map[string]any{"a": []string{text}})) },
			"string slice": func(l *zap.Logger) { l.Info("m", zap.Strings("notes", []string{"x", text})) },
			"byte string":  func(l *zap.Logger) { l.Info("m", zap.ByteString("body", []byte(text))) },
			"stringer":     func(l *zap.Logger) { l.Info("m", zap.Stringer("s", stringer(text))) },
			"panic value":  func(l *zap.Logger) { l.Error("panic", zap.Any("panic", text)) },
		}
		for where, logIt := range locations {
			t.Run(sh.name+"/"+where, func(t *testing.T) {
				t.Parallel()
				log, out := setup(t)
				logIt(log)
				got := out.String()
				if strings.Contains(got, secretPart(sh.secret)) {
					t.Errorf("secret printed: %s", got)
				}
				if !strings.Contains(got, sh.marker) {
					t.Errorf("no %s in %s", sh.marker, got)
				}
			})
		}
	}

	t.Run("replacement keeps the text around it", func(t *testing.T) {
		t.Parallel()
		cases := map[string]string{
			"login by ann@example.com failed":         "login by [email] failed",
			"pay 4111-1111-1111-1111 now":             "pay [card] now",
			"call (555) 123-4567.":                    "call [phone].",
			"dial +33 6 12 34 56 78, please":          "dial [phone], please",
			"token=rt_Q2hhbmdlIG1lIGJlZm9yZSBwcm9k!":  "token=[token]!",
			"Authorization: Bearer a.b.c":             "Authorization: Bearer a.b.c",
			"dsn postgres://u:p%40ss@h:5432/d?x=1":    "dsn postgres://u:[redacted]@h:5432/d?x=1",
			"redis://:hunter2@cache:6379/0":           "redis://:[redacted]@cache:6379/0",
			"postgres://rampart_api@db/rampart ready": "postgres://rampart_api@db/rampart ready",
			"smtp://ann@example.com:pw@mail:25":       "smtp://[email]:[redacted]@mail:25",
		}
		for in, want := range cases {
			if got, _ := scrub(in); got != want {
				t.Errorf("scrub(%q) = %q, want %q", in, got, want)
			}
		}
	})

	t.Run("error verbose form and causes", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		log.Error("m", zap.Error(verbose{"short", "detail for ann@example.com"}),
			zap.NamedError("batch", group{errors.New("row 1: bob@example.com"),
				errors.New("row 2: ok")}))
		got := out.String()
		if strings.Contains(got, "@example.com") {
			t.Errorf("email printed: %s", got)
		}
		line := out.last(t)
		if line["errorVerbose"] != "detail for [email]" || line["batch"] == nil {
			t.Errorf("line = %v", line)
		}
		causes, _ := json.Marshal(line["batchCauses"])
		if string(causes) != `[{"error":"row 1: [email]"},{"error":"row 2: ok"}]` {
			t.Errorf("batchCauses = %s", causes)
		}
	})
}

type stringer string

func (s stringer) String() string { return string(s) }

// verbose is an error printing more with "%+v", as pkg/errors does.
type verbose struct{ msg, detail string }

func (e verbose) Error() string { return e.msg }

func (e verbose) Format(f fmt.State, verb rune) {
	if f.Flag('+') {
		io.WriteString(f, e.detail)
		return
	}
	io.WriteString(f, e.msg)
}

// group is an error of several causes, as multierr makes.
type group []error

func (g group) Error() string   { return fmt.Sprint(len(g), " errors") }
func (g group) Errors() []error { return g }

func TestInnocuousValuesUnchanged(t *testing.T) {
	t.Parallel()

	values := []string{
		"8c1f2a1e-5b7d-4f0e-9a63-2d4c8e9b0f17",
		"8f09e11cdf6d64f140fd4f5f",
		"1.234567891s", "250ms", "1h2m3s",
		"/v1/merchants/{merchantID}", "/v1/merchants/{merchantID}/customers",
		"203.0.113.7", "2001:db8::1", "[2001:db8::1]:8443", "10.0.0.1:5432",
		"2024-05-01T12:34:56.789Z", "2024-05-01T12:34:56+02:00",
		"2024-05-01 12:34:56", "404", "status 404 after 3 retries",
		"ORD-4111111111111111", "v1.4111111111111111", "0.30000000000000004",
		"3.14159265358979", "user@localhost", "Bearer", "missing bearer token",
		"httpapi.(*Server).authenticate", "github.com/rampart-dev/rampart",
		"postgres://db:5432/rampart", "order 12 of 3456",
	}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			log, out := setup(t)
			log.Info(v, zap.String("value", v), zap.Error(errors.New(v)))
			line := out.last(t)
			for _, k := range []string{"msg", "value", "error"} {
				if line[k] != v {
					t.Errorf("%s = %v, want %q", k, line[k], v)
				}
			}
		})
	}

	t.Run("non-string fields", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		log.Warn("request", zap.Int("status", 404),
			zap.Duration("duration", 1500*time.Millisecond),
			zap.Int64("big", 4111111111111111))
		line := out.last(t)
		if line["status"] != 404.0 || line["duration"] != 1.5 ||
			line["big"] != 4111111111111111.0 {
			t.Errorf("line = %v", line)
		}
	})
}

func TestCoreSemantics(t *testing.T) {
	t.Parallel()

	t.Run("level is the wrapped core's", func(t *testing.T) {
		t.Parallel()
		o := &output{}
		core := Redact(newCore(o, zapcore.InfoLevel))
		log := zap.New(core)
		log.Debug("hidden")
		log.Info("shown")
		if ls := o.lines(t); len(ls) != 1 || ls[0]["msg"] != "shown" {
			t.Errorf("lines = %v", ls)
		}
		if lvl := zapcore.LevelOf(core); lvl != zapcore.InfoLevel {
			t.Errorf("LevelOf = %v", lvl)
		}
	})

	t.Run("sampling of the wrapped core still applies", func(t *testing.T) {
		t.Parallel()
		o := &output{}
		sampled := zapcore.NewSamplerWithOptions(newCore(o, zapcore.DebugLevel),
			time.Minute, 2, 0)
		log := zap.New(Redact(sampled))
		for range 5 {
			log.Info("again")
		}
		if n := len(o.lines(t)); n != 2 {
			t.Errorf("%d lines written, want 2", n)
		}
	})

	t.Run("the caller's fields are left alone", func(t *testing.T) {
		t.Parallel()
		log, _ := setup(t)
		fs := []zap.Field{zap.String("email", "a@b.co"), zap.String("n", "a@b.co")}
		log.Info("m", fs...)
		log.With(fs...).Info("m")
		if fs[0].String != "a@b.co" || fs[1].String != "a@b.co" {
			t.Errorf("fields changed: %v", fs)
		}
	})

	t.Run("With keeps its fields for every line, not the parent's", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		child := log.With(zap.String("note", "ann@example.com"), zap.Int("n", 1))
		child.Info("a")
		child.Info("b")
		log.Info("c")
		ls := out.lines(t)
		for _, l := range ls[:2] {
			if l["note"] != emailMark || l["n"] != 1.0 {
				t.Errorf("child line = %v", l)
			}
		}
		if _, ok := ls[2]["note"]; ok {
			t.Errorf("parent line = %v", ls[2])
		}
	})

	t.Run("Sync reaches the wrapped core", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		if err := log.Sync(); err != nil || out.syncs != 1 {
			t.Errorf("Sync = %v, syncs = %d", err, out.syncs)
		}
	})

	t.Run("a panicking Stringer is left to the encoder", func(t *testing.T) {
		t.Parallel()
		log, out := setup(t)
		var p *server
		log.Info("m", zap.Stringer("host", p))
		if got := out.last(t)["host"]; got != "<nil>" {
			t.Errorf("host = %v", got)
		}
	})
}

type server struct{ name string }

func (s *server) String() string { return s.name }

func TestNew(t *testing.T) {
	t.Parallel()

	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprint("development=", dev), func(t *testing.T) {
			t.Parallel()
			if _, err := New(dev); err != nil {
				t.Fatal(err)
			}
			// New with its output sent to a file rather than stderr.
			path := filepath.Join(t.TempDir(), "log")
			cfg := config(dev)
			cfg.OutputPaths = []string{path}
			log, err := build(cfg)
			if err != nil {
				t.Fatal(err)
			}

			log.Debug("debug line")
			log.Warn("refused ann@example.com")
			log.Error("failed", zap.String("password", "hunter2"))
			_ = log.Sync()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)

			if strings.Contains(got, "debug line") != dev {
				t.Errorf("debug line written = %v, want %v", !dev, dev)
			}
			if strings.Contains(got, "ann@example.com") ||
				strings.Contains(got, "hunter2") ||
				!strings.Contains(got, "refused [email]") {
				t.Errorf("not redacted:\n%s", got)
			}
			if n := strings.Count(got, "testing.tRunner"); n != 1 {
				t.Errorf("%d stack traces, want one, on the error:\n%s", n, got)
			}
		})
	}

	t.Run("production samples repeated lines", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "log")
		cfg := config(false)
		cfg.OutputPaths = []string{path}
		log, err := build(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for range 150 {
			log.Info("same again")
		}
		_ = log.Sync()
		b, _ := os.ReadFile(path)
		if n := strings.Count(string(b), "same again"); n == 0 || n >= 150 {
			t.Errorf("%d of 150 lines written", n)
		}
	})
}

// FuzzRedact plants an email address in arbitrary text and logs it every
// way a caller might; the address must never come out.
func FuzzRedact(f *testing.F) {
	f.Add("hello ", "ann", "example", " bye")
	f.Add("postgres://u:", "bob.x", "db", "@h/x")
	f.Add("4111111111111111", "9", "a1", "")
	f.Add("Bearer aaaaaaaaaaaaaaaaaaaa", "c", "z", "-1.x")
	f.Add("x://", "d_e", "q", "@@")
	f.Add("0://", "0", "0", ":pw@") // an address as a URL's user name
	f.Fuzz(func(t *testing.T, before, user, domain, after string) {
		email := keepOnly(user, "._%+-") + "a@" + keepOnly(domain, "-") + "b.io"
		text := before + email + after

		log, out := setup(t)
		log.With(zap.String("w", text)).Error(text,
			zap.String("s", text), zap.Error(errors.New(text)),
			zap.Any("m", map[string]string{"note": text}),
			zap.Strings("a", []string{text}))
		if got := out.String(); strings.Contains(got, email) {
			t.Fatalf("%q printed in %s", email, got)
		}
	})
}

// keepOnly drops from s every byte that is not an ASCII letter, digit or
// one of extra.
func keepOnly(s, extra string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (isAlnum(byte(r)) || strings.ContainsRune(extra, r)) {
			return r
		}
		return -1
	}, s)
}

func BenchmarkRedact(b *testing.B) {
	access := []zap.Field{
		zap.String("request_id", "8f09e11cdf6d64f140fd4f5f"),
		zap.String("method", "GET"),
		zap.String("route", "/v1/merchants/{merchantID}/customers"),
		zap.Int("status", 200),
		zap.Duration("duration", 1234*time.Microsecond),
		zap.String("client_ip", "203.0.113.7"),
		zap.String("user_id", "8c1f2a1e-5b7d-4f0e-9a63-2d4c8e9b0f17"),
	}
	dirty := []zap.Field{
		zap.String("note", "sent to ann@example.com from +44 20 7946 0958"),
		zap.Error(errors.New("dial postgres://u:pw@db:5432/x: refused")),
		zap.String("password", "hunter2"),
	}
	plain := zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(io.Discard), zapcore.DebugLevel)
	cases := []struct {
		name   string
		core   zapcore.Core
		fields []zap.Field
	}{
		{"unwrapped/clean", plain, access},
		{"redacted/clean", Redact(plain), access},
		{"redacted leaf/clean", &redactCore{Core: plain, leaf: true}, access},
		{"unwrapped/dirty", plain, dirty},
		{"redacted/dirty", Redact(plain), dirty},
		{"redacted leaf/dirty", &redactCore{Core: plain, leaf: true}, dirty},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			log := zap.New(c.core)
			b.ReportAllocs()
			for b.Loop() {
				log.Info("request", c.fields...)
			}
		})
	}

	b.Run("fields only/clean", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			redactFields(access, false)
		}
	})
}

func TestDriverErrorsKeepTheirAddresses(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		"failed to connect to `user=rampart_api database=rampart`: 127.0.0.1:5432 (127.0.0.1): dial error",
		"dial tcp 10.100.100.100:27385: connect: connection refused",
	} {
		sc, _ := scrub(msg)
		if sc != msg {
			t.Errorf("scrub(%q) = %q", msg, sc)
		}
	}
	if got, _ := scrub("call +55 21 99876-5432 now"); !strings.Contains(got, "[phone]") {
		t.Errorf("phone no longer redacted: %q", got)
	}
}
