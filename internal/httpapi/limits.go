package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/marketplace"
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
		// ClassAI goes through allow like every class, but has no default
		// policy: Check answers ErrNoPolicy and allow lets the request on.
		// Its budgets are per feature and live in app.ai_rate_limits_config,
		// which only the handler reads, in its transaction and after it
		// knows the item is the caller's (aiBudget). A Guard given a ClassAI
		// limit would add a class-wide budget on top.
		//
		// An AI call is a write as well and first spends that budget, so
		// calls that end in 404 before reaching the feature's budget (ids
		// of other tenants, deleted items) still cost the caller something.
		if class == ratelimit.ClassAI && !s.allow(w, r, ratelimit.ClassWrite, scope) {
			return
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
	case !strings.HasPrefix(p, "/v1/"), r.Method == http.MethodOptions:
		// OPTIONS only lists methods (answerOptions): no class budget.
		return ""
	case strings.HasPrefix(p, "/v1/auth/login"), strings.HasPrefix(p, "/v1/auth/signup"),
		strings.HasPrefix(p, "/v1/auth/refresh"), strings.HasPrefix(p, "/v1/auth/mfa"),
		// Erasing the account checks the password again: a guess there is
		// a sign-in attempt and gets the sign-in budget.
		p == "/v1/me" && r.Method == http.MethodDelete:
		return ratelimit.ClassAuth
	case strings.HasPrefix(p, "/v1/pages/"), p == "/v1/market":
		return ratelimit.ClassPublicRead
	case strings.HasSuffix(p, "/suggest-price"):
		return ratelimit.ClassAI
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
// recorded as an event.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, class ratelimit.Class, scope string) bool {
	d, err := s.Limits.Check(r.Context(), class, scope)
	switch {
	case errors.Is(err, ratelimit.ErrNoPolicy):
		// A class without a default policy (ClassAI) is limited further in,
		// by whoever knows its budget.
		return true
	case err != nil:
		// The limiters the service builds fall back to memory and never
		// fail; one that does is not worth refusing every request over.
		return true
	}
	ratelimit.SetHeaders(w.Header(), string(class), d)
	if err := s.limited(r, class, d); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// limited returns the 429 to answer when d refused a request, recording
// the refusal as a security event, and nil when d allowed it.
func (s *Server) limited(r *http.Request, class ratelimit.Class, d ratelimit.Decision) error {
	if d.Allowed {
		return nil
	}
	s.event(r, "rate_limited", "low", map[string]string{"class": string(class)})
	return &apperr.Error{Code: apperr.RateLimited,
		Message:    "too many requests; retry later",
		RetryAfter: int(ratelimit.RetryAfterSeconds(d))}
}

// aiBudget admits one call of an AI feature by the caller, or returns why
// not: 403 feature_disabled when a platform admin switched the feature off
// (or no row names it), 429 when the caller's budget is spent. Handlers
// call it inside their request transaction q, after the checks that can
// answer 404, so probing another tenant's ids spends nothing.
//
// The budget is read from app.ai_rate_limits_config on every call rather
// than cached: a change takes effect on the next request on every
// instance, for the price of one primary-key read in a transaction the
// handler opens anyway. It is spent per user under the policy
// "ai_<feature>", the name the RateLimit headers carry, so features have
// separate budgets. With limits off (s.Limits nil) only the switch
// applies.
//
// The budget is counted under a key that also names the rate and burst.
// GCRA keeps a caller's debt as a time, measured in the old rate: without
// this, a user who spent a budget an admin had lowered to 1 a minute would
// wait out minutes of that debt after the admin raised it again. A new
// budget starts full; going back to an earlier one finds what is left
// of its count, if it has not refilled meanwhile.
func (s *Server) aiBudget(w http.ResponseWriter, r *http.Request, q db.Querier, feature string) error {
	l, found, err := marketplace.GetAILimit(r.Context(), q, feature)
	if err != nil {
		return err
	}
	if !found || !l.Usable() {
		return apperr.New(apperr.FeatureDisabled, "this feature is disabled")
	}
	if s.Limits == nil {
		return nil
	}
	p := principal(r)
	if p == nil {
		return apperr.New(apperr.Unauthenticated, "sign in to use this feature")
	}
	name := "ai_" + feature
	policy := ratelimit.Policy{
		Name: fmt.Sprintf("%s@%d/%d", name, l.RequestsPerMinute, l.Burst),
		Limit: ratelimit.Limit{Rate: int(l.RequestsPerMinute), Period: time.Minute,
			Burst: int(l.Burst)}}
	d, err := s.Limits.CheckPolicy(r.Context(), ratelimit.ClassAI, policy,
		ratelimit.UserKey(p.UserID.String()))
	if err != nil {
		// Unlike the class limits, an AI call is refused when it cannot be
		// counted: it is the costly kind, and the service's own limiters
		// never fail (they fall back to memory).
		return apperr.Wrap(apperr.Unavailable, "try again later", err)
	}
	ratelimit.SetHeaders(w.Header(), name, d)
	return s.limited(r, ratelimit.ClassAI, d)
}

// publicListLimit spends the budgets that keep a public list from being
// copied out wholesale, per client address, before the list is read:
//
//   - ClassPublicRecords, the page size asked for (not the rows that come
//     back, which are known only after the read): an address can take a
//     few thousand records in ten minutes, however it pages;
//   - ClassPublicCrawl, one unit for each page reached through a cursor.
//     Following cursor after cursor is what a crawler does; running out
//     of that budget is recorded as scraping_suspected, and the address
//     gets 429 until the budget refills.
//
// The route class budget (ClassPublicRead) was spent already.
func (s *Server) publicListLimit(w http.ResponseWriter, r *http.Request, list string, p marketplace.Page) error {
	if s.Limits == nil {
		return nil
	}
	scope := ratelimit.IPKey(clientIP(r))
	if p.AfterTime != nil {
		d, err := s.Limits.Check(r.Context(), ratelimit.ClassPublicCrawl, scope)
		if err == nil {
			ratelimit.SetHeaders(w.Header(), string(ratelimit.ClassPublicCrawl), d)
			if !d.Allowed {
				s.event(r, "scraping_suspected", "medium", map[string]string{
					"list": list, "budget": string(ratelimit.ClassPublicCrawl)})
				return &apperr.Error{Code: apperr.RateLimited,
					Message:    "too many pages in a row; retry later",
					RetryAfter: int(ratelimit.RetryAfterSeconds(d))}
			}
		}
	}
	d, err := s.Limits.CheckN(r.Context(), ratelimit.ClassPublicRecords, scope, p.Limit)
	if err != nil {
		return nil
	}
	ratelimit.SetHeaders(w.Header(), string(ratelimit.ClassPublicRecords), d)
	return s.limited(r, ratelimit.ClassPublicRecords, d)
}
