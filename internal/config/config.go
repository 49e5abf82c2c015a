// Package config reads the service's configuration from environment
// variables once, at start, and validates it. Nothing else reads the
// environment.
package config

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/internal/pii"
	"github.com/rampart-dev/rampart/internal/token"
)

// Config is the validated configuration.
type Config struct {
	Env            string
	DatabaseURL    string
	RedisURL       string
	ListenURL      string
	RateLimits     bool
	RateLimitScale int
	Inspect        bool
	Listen         string
	MetricsListen  string
	// Pprof serves net/http/pprof on the metrics listener, for profiling
	// a running instance; off unless RAMPART_PPROF=on.
	Pprof          bool
	MaxConns       int32
	Issuer         string
	Audience       string
	AccessTTL      time.Duration
	SessionIdle    time.Duration
	SessionMaxAge  time.Duration
	RefreshGrace   time.Duration
	DrainDelay     time.Duration
	TrustedProxies []netip.Prefix
	CORSOrigins    []string

	JWTKeys  []token.Key
	PIIKeys  []pii.Key
	IndexKey []byte
	HMACKey  []byte

	// Generated lists the secrets made up for this process because the
	// environment lacked them (development only); the caller warns.
	Generated []string
}

// Development reports whether the service runs in development mode.
func (c *Config) Development() bool { return c.Env == "development" }

// Load reads the configuration from getenv (os.Getenv in production).
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		Env:            r.str("RAMPART_ENV", "production"),
		DatabaseURL:    getenv("DATABASE_URL"),
		RedisURL:       getenv("REDIS_URL"),
		RateLimits:     r.str("RAMPART_RATE_LIMITS", "on") != "off",
		RateLimitScale: r.integer("RAMPART_RATE_LIMIT_SCALE", 1),
		Inspect:        r.str("RAMPART_INSPECT", "on") != "off",
		Listen:         r.str("RAMPART_LISTEN", ":8080"),
		MetricsListen:  r.str("RAMPART_METRICS_LISTEN", "127.0.0.1:9090"),
		Pprof:          r.str("RAMPART_PPROF", "off") == "on",
		MaxConns:       int32(r.integer("RAMPART_DB_MAX_CONNS", 0)),
		Issuer:         r.str("RAMPART_JWT_ISSUER", "rampart"),
		Audience:       r.str("RAMPART_JWT_AUDIENCE", "rampart-api"),
		AccessTTL:      r.duration("RAMPART_ACCESS_TTL", 10*time.Minute),
		SessionIdle:    r.duration("RAMPART_SESSION_IDLE", 15*time.Minute),
		SessionMaxAge:  r.duration("RAMPART_SESSION_MAX_AGE", 7*24*time.Hour),
		RefreshGrace:   r.duration("RAMPART_REFRESH_GRACE", 10*time.Second),
		DrainDelay:     r.duration("RAMPART_DRAIN_DELAY", 5*time.Second),
		CORSOrigins:    r.list("RAMPART_CORS_ORIGINS"),
	}
	c.TrustedProxies = r.prefixes("RAMPART_TRUSTED_PROXIES")
	if c.Env != "development" && c.Env != "production" && c.Env != "test" {
		r.fail("RAMPART_ENV", "must be development, production or test")
	}
	if c.RateLimitScale < 1 {
		r.fail("RAMPART_RATE_LIMIT_SCALE", "must be at least 1")
	}
	if c.DatabaseURL == "" {
		r.fail("DATABASE_URL", "is required")
	}
	if c.AccessTTL <= 0 || c.AccessTTL > token.MaxTTL {
		r.fail("RAMPART_ACCESS_TTL", "must be between 1s and 15m")
	}
	c.loadSecrets(&r)
	return c, r.err()
}

func (c *Config) loadSecrets(r *reader) {
	gen := c.Development()
	if s := r.secret("RAMPART_JWT_KEYS", gen, &c.Generated); s != "" {
		keys, err := token.ParseKeys(s)
		r.check("RAMPART_JWT_KEYS", err)
		c.JWTKeys = keys
	} else if gen {
		c.JWTKeys = []token.Key{token.GenerateKey("dev")}
	}
	if s := r.secret("RAMPART_PII_KEYS", gen, &c.Generated); s != "" {
		keys, err := pii.ParseKeys(s)
		r.check("RAMPART_PII_KEYS", err)
		c.PIIKeys = keys
	} else if gen {
		c.PIIKeys = []pii.Key{pii.GenerateKey("dev")}
	}
	c.IndexKey = r.key32("RAMPART_BLIND_INDEX_KEY", gen, &c.Generated)
	c.HMACKey = r.key32("RAMPART_HMAC_KEY", gen, &c.Generated)
}

// Redacted returns the configuration as name=value lines with every secret
// masked, for `rampart config`.
func (c *Config) Redacted() []string {
	return []string{
		"RAMPART_ENV=" + c.Env,
		"DATABASE_URL=" + redactURL(c.DatabaseURL),
		"REDIS_URL=" + redactURL(c.RedisURL),
		"RAMPART_LISTEN_DATABASE_URL=" + redactURL(c.ListenURL),
		"RAMPART_RATE_LIMITS=" + onOff(c.RateLimits),
		"RAMPART_RATE_LIMIT_SCALE=" + strconv.Itoa(c.RateLimitScale),
		"RAMPART_INSPECT=" + onOff(c.Inspect),
		"RAMPART_LISTEN=" + c.Listen,
		"RAMPART_METRICS_LISTEN=" + c.MetricsListen,
		"RAMPART_PPROF=" + onOff(c.Pprof),
		"RAMPART_DB_MAX_CONNS=" + strconv.Itoa(int(c.MaxConns)),
		"RAMPART_JWT_ISSUER=" + c.Issuer,
		"RAMPART_JWT_AUDIENCE=" + c.Audience,
		"RAMPART_ACCESS_TTL=" + c.AccessTTL.String(),
		"RAMPART_SESSION_IDLE=" + c.SessionIdle.String(),
		"RAMPART_SESSION_MAX_AGE=" + c.SessionMaxAge.String(),
		"RAMPART_REFRESH_GRACE=" + c.RefreshGrace.String(),
		"RAMPART_DRAIN_DELAY=" + c.DrainDelay.String(),
		"RAMPART_TRUSTED_PROXIES=" + joinPrefixes(c.TrustedProxies),
		"RAMPART_CORS_ORIGINS=" + strings.Join(c.CORSOrigins, ","),
		"RAMPART_JWT_KEYS=" + keyIDs(len(c.JWTKeys), func(i int) string { return c.JWTKeys[i].ID }),
		"RAMPART_PII_KEYS=" + keyIDs(len(c.PIIKeys), func(i int) string { return c.PIIKeys[i].ID }),
		"RAMPART_BLIND_INDEX_KEY=" + setOrNot(c.IndexKey),
		"RAMPART_HMAC_KEY=" + setOrNot(c.HMACKey),
	}
}

func keyIDs(n int, id func(int) string) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = id(i) + ":[redacted]"
	}
	return strings.Join(ids, ",")
}

func setOrNot(b []byte) string {
	if len(b) == 0 {
		return "(unset)"
	}
	return "[redacted]"
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	userinfo := u[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return u[:scheme+3] + userinfo[:i] + ":[redacted]" + u[at:]
	}
	return u
}

// reader collects every problem in the environment, so one start reports
// them all.
type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, why string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, why))
}

func (r *reader) check(name string, err error) {
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
	}
}

func (r *reader) err() error { return errors.Join(r.errs...) }

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) integer(name string, def int) int {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.fail(name, "must be a non-negative integer")
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, "must be a positive duration such as 15m")
	}
	return d
}

func (r *reader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range r.list(name) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				r.fail(name, fmt.Sprintf("has %q, which is no address or CIDR", s))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// secret returns the variable's value; when it is missing it is an error
// unless generating is allowed, in which case the name is recorded.
func (r *reader) secret(name string, generate bool, generated *[]string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v != "" {
		return v
	}
	if generate {
		*generated = append(*generated, name)
	} else {
		r.fail(name, "is required outside development")
	}
	return ""
}

func (r *reader) key32(name string, generate bool, generated *[]string) []byte {
	v := r.secret(name, generate, generated)
	if v == "" {
		if !generate {
			return nil
		}
		b := make([]byte, 32)
		_, _ = io.ReadFull(rand.Reader, b)
		return b
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 32 {
		r.fail(name, "must be 32 bytes, base64-encoded")
	}
	return b
}

// FromEnv loads the configuration from the process environment.
func FromEnv() (*Config, error) { return Load(os.Getenv) }

// Subkey derives an independent key for one purpose (such as "cursor" or
// "refresh-token") from RAMPART_HMAC_KEY, so one secret serves several
// uses without a value made for one verifying as another.
func (c *Config) Subkey(purpose string) []byte {
	mac := hmac.New(sha256.New, c.HMACKey)
	mac.Write([]byte("rampart/" + purpose))
	return mac.Sum(nil)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
