package httpapi

import (
	"net/http"
	"strings"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/ratelimit"
)

// ipLimit spends the caller's address budget, before any other work.
func (s *Server) ipLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Limits != nil && !s.allow(w, r, ratelimit.ClassIP,
			ratelimit.IPKey(clientIP(r))) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// classLimit spends the budget of the request's route class: per address
// for sign-in and public reads, per user for everything behind a session.
func (s *Server) classLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Limits == nil {
			next.ServeHTTP(w, r)
			return
		}
		class := routeClass(r)
		scope := ratelimit.IPKey(clientIP(r))
		if p := principal(r); p != nil && !class.PerIP() {
			scope = ratelimit.UserKey(p.UserID.String())
		}
		if class != "" && !s.allow(w, r, class, scope) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routeClass names the kind of work a request does from its method and
// path; health checks have none.
func routeClass(r *http.Request) ratelimit.Class {
	p := r.URL.Path
	switch {
	case !strings.HasPrefix(p, "/v1/"):
		return ""
	case strings.HasPrefix(p, "/v1/auth/login"), strings.HasPrefix(p, "/v1/auth/signup"),
		strings.HasPrefix(p, "/v1/auth/refresh"), strings.HasPrefix(p, "/v1/auth/mfa"):
		return ratelimit.ClassAuth
	case strings.HasPrefix(p, "/v1/pages/"), p == "/v1/market":
		return ratelimit.ClassPublicRead
	case strings.HasSuffix(p, "/export"):
		return ratelimit.ClassExport
	case strings.Contains(p, "/customers"):
		return ratelimit.ClassCustomerData
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return ratelimit.ClassRead
	}
	return ratelimit.ClassWrite
}

// allow spends one unit of scope's budget in class and writes the
// RateLimit headers. A refusal is answered here (429 with Retry-After) and
// recorded as an event. A limiter failure lets the request through: the
// limiter itself falls back to memory, so this only happens for a class
// without a policy.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, class ratelimit.Class, scope string) bool {
	d, err := s.Limits.Check(r.Context(), class, scope)
	if err != nil {
		return true
	}
	ratelimit.SetHeaders(w.Header(), string(class), d)
	if d.Allowed {
		return true
	}
	s.event(r, "rate_limited", "low", map[string]string{"class": string(class)})
	s.writeError(w, r, &apperr.Error{Code: apperr.RateLimited,
		Message:    "too many requests; retry later",
		RetryAfter: int(ratelimit.RetryAfterSeconds(d))})
	return false
}
