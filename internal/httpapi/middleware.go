package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/realclientip/realclientip-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/auth"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyClientRequestID
	keyClientIP
	keyPrincipal
	keyLogInfo
)

// logInfo is what later middleware learns about a request that the access
// log, which runs first, must still print.
type logInfo struct {
	clientIP string
	userID   string
}

func noteForLog(r *http.Request, f func(*logInfo)) {
	if li, ok := r.Context().Value(keyLogInfo).(*logInfo); ok {
		f(li)
	}
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

func clientIP(r *http.Request) string {
	ip, _ := r.Context().Value(keyClientIP).(string)
	return ip
}

func principal(r *http.Request) *auth.Principal {
	p, _ := r.Context().Value(keyPrincipal).(*auth.Principal)
	return p
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID gives every request an id of the server's making, echoed in
// X-Request-Id and written to the access log, events and audit rows. A
// caller's X-Request-Id is taken as the id only from a trusted proxy (a
// load balancer that numbers requests): from anyone else it would let a
// client put a chosen value, such as another user's request id, into the
// audit trail. A well-formed id a client sends is kept beside it in the
// access log as client_request_id, for correlating with a frontend's logs.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(sent) {
			sent = ""
		}
		id := sent
		if id == "" || !s.ClientIP.PeerTrusted(r.RemoteAddr) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		if sent != "" && sent != id {
			ctx = context.WithValue(ctx, keyClientRequestID, sent)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverer turns a panic into a 500 that names only the request id. The
// request transaction has already rolled back by then.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}
				return
			}
			s.log.Error("panic", zap.String("request_id", requestID(r)),
				zap.Any("panic", v), zap.StackSkip("stack", 2))
			s.writeError(w, r, apperr.New(apperr.Internal, "internal error"))
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// accessLog writes one line per request: id, route pattern (never the raw
// path, which may carry ids), status, duration, client and user. The level
// follows the status; health checks are skipped.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		li := &logInfo{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), keyLogInfo, li)))
		route := s.routeOf(r)
		s.Metrics.HTTP(route, r.Method, sw.status, time.Since(start))
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		fields := []zap.Field{
			zap.String("request_id", requestID(r)),
			zap.String("method", r.Method),
			zap.String("route", route),
			zap.Int("status", sw.status),
			zap.Duration("duration", time.Since(start)),
			zap.String("client_ip", li.clientIP),
		}
		if li.userID != "" {
			fields = append(fields, zap.String("user_id", li.userID))
		}
		if c, _ := r.Context().Value(keyClientRequestID).(string); c != "" {
			fields = append(fields, zap.String("client_request_id", c))
		}
		s.log.Log(levelFor(sw.status), "request", fields...)
	})
}

func levelFor(status int) zapcore.Level {
	switch {
	case status >= 500:
		return zapcore.ErrorLevel
	case status >= 400:
		return zapcore.WarnLevel
	}
	return zapcore.InfoLevel
}

// ClientIP decides the caller's address: the TCP peer, unless the peer is a
// trusted proxy, in which case the right-most X-Forwarded-For hop that is
// not itself trusted. Headers from anyone else are ignored.
type ClientIP struct {
	trusted []netip.Prefix
	strat   realclientip.Strategy
}

// NewClientIP returns a resolver trusting the given proxy ranges.
func NewClientIP(trusted []netip.Prefix) *ClientIP {
	c := &ClientIP{trusted: trusted}
	if len(trusted) == 0 {
		return c
	}
	nets := make([]net.IPNet, 0, len(trusted))
	for _, p := range trusted {
		nets = append(nets, net.IPNet{IP: p.Addr().AsSlice(),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	strat, err := realclientip.NewRightmostTrustedRangeStrategy(
		"X-Forwarded-For", nets)
	if err == nil {
		c.strat = strat
	}
	return c
}

// Resolve returns the client address of a request in canonical form, or ""
// when there is none.
func (c *ClientIP) Resolve(h http.Header, remoteAddr string) string {
	peer := canonicalIP(realclientip.RemoteAddrStrategy{}.ClientIP(nil, remoteAddr))
	if c.strat == nil || peer == "" {
		return peer
	}
	addr, _ := netip.ParseAddr(peer)
	if !c.isTrusted(addr.Unmap()) {
		return peer
	}
	if ip := canonicalIP(c.strat.ClientIP(h, remoteAddr)); ip != "" {
		return ip
	}
	return peer
}

// canonicalIP returns s as netip writes it, without an IPv6 zone, or ""
// when s is not an address. realclientip keeps a zone ("fe80::1%eth0") and
// passes one on an IPv4 address ("192.0.2.1%0") too; neither is an address
// that PostgreSQL's inet, the block list or a log reader can use, and the
// zone only names an interface of this host.
func canonicalIP(s string) string {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		if i := strings.IndexByte(s, '%'); i > 0 {
			addr, err = netip.ParseAddr(s[:i])
		}
		if err != nil {
			return ""
		}
	}
	return addr.WithZone("").String()
}

// PeerTrusted reports whether the TCP peer remoteAddr ("host:port") is in
// the trusted proxy ranges. A nil resolver trusts nobody.
func (c *ClientIP) PeerTrusted(remoteAddr string) bool {
	if c == nil || len(c.trusted) == 0 {
		return false
	}
	peer := realclientip.RemoteAddrStrategy{}.ClientIP(nil, remoteAddr)
	addr, err := netip.ParseAddr(peer)
	return err == nil && c.isTrusted(addr.Unmap())
}

func (c *ClientIP) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) clientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := s.ClientIP.Resolve(r.Header, r.RemoteAddr)
		noteForLog(r, func(li *logInfo) { li.clientIP = ip })
		ctx := context.WithValue(r.Context(), keyClientIP, ip)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// blocklist refuses addresses in a live block before they cost anything
// more than a lookup; each refusal is counted as an event, folded in memory.
func (s *Server) blocklist(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Blocks != nil {
			if a, err := netip.ParseAddr(clientIP(r)); err == nil && s.Blocks.BlockedIP(a) {
				s.event(r, "blocked_request", "low", nil)
				s.writeError(w, r, apperr.New(apperr.Forbidden,
					"requests from this address are blocked"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routePattern is the matched chi route, for logs, metrics and event
// details; never the raw path, which carries ids.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		return foldPattern(rc.RoutePattern())
	}
	return "unmatched"
}

// routeOf names the route a request was meant for even when middleware
// answered before routing (a 429, a 401, a block): the pattern it would
// have matched.
func (s *Server) routeOf(r *http.Request) string {
	if p := routePattern(r); p != "unmatched" {
		return p
	}
	methods := []string{r.Method}
	switch r.Method {
	case http.MethodHead:
		methods = []string{http.MethodGet}
	case http.MethodOptions:
		methods = servedMethods[:]
	}
	for _, m := range methods {
		rc := chi.NewRouteContext()
		if s.router.Match(rc, m, r.URL.Path) {
			return foldPattern(rc.RoutePattern())
		}
	}
	return "unmatched"
}

// foldPattern folds catch-all patterns (a path no route serves) into one
// label.
func foldPattern(p string) string {
	if strings.HasSuffix(p, "/*") {
		return "unmatched"
	}
	return p
}

// securityHeaders sets the headers every answer of a JSON API should carry.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// authenticate verifies a bearer token when one is sent. A token that does
// not verify is refused outright, even on public routes: a client holding
// a bad token should learn so rather than be served as anonymous.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			s.unauthorized(w, r, auth.ErrBadToken)
			return
		}
		p, err := s.Auth.Authenticate(strings.TrimSpace(tok))
		if err != nil {
			s.unauthorized(w, r, err)
			return
		}
		if s.Blocks != nil && s.Blocks.Suspended(p.UserID) {
			s.unauthorized(w, r, apperr.New(apperr.Unauthenticated,
				"this account is suspended"))
			return
		}
		noteForLog(r, func(li *logInfo) { li.userID = p.UserID.String() })
		ctx := context.WithValue(r.Context(), keyPrincipal, p)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
	s.writeError(w, r, err)
}

// requireAuth refuses anonymous callers.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principal(r) == nil {
			s.unauthorized(w, r, apperr.New(apperr.Unauthenticated,
				"sign in to use this endpoint"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
