// Package httpapi is the REST API: middleware in the order DESIGN.md gives,
// and handlers that each parse, run one request transaction and respond.
package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/auth"
	"github.com/rampart-dev/rampart/internal/contract"
	"github.com/rampart-dev/rampart/internal/cursor"
	"github.com/rampart-dev/rampart/internal/db"
	"github.com/rampart-dev/rampart/internal/inspect"
	"github.com/rampart-dev/rampart/internal/marketplace"
	"github.com/rampart-dev/rampart/internal/mfa"
	"github.com/rampart-dev/rampart/internal/ratelimit"
	"github.com/rampart-dev/rampart/internal/threat"
)

// Deps are what the API needs.
type Deps struct {
	DB      *db.DB
	Auth    *auth.Service
	Vault   *marketplace.Vault
	Cursors *cursor.Signer
	Log     *zap.Logger
	// ClientIP resolves the caller's address; see NewClientIP.
	ClientIP *ClientIP
	// Blocks refuses blocked addresses and suspended users; nil serves
	// everyone.
	Blocks *threat.Blocklist
	// Threats records security events; nil records none.
	Threats *threat.Recorder
	// Inspector refuses requests that carry attack signatures; nil
	// inspects nothing.
	Inspector *inspect.Inspector
	// Contract validates requests against api/openapi.yaml; nil validates
	// nothing beyond the handlers' own checks.
	Contract *contract.Checker
	// Limits enforces rate limits by address and route class; nil
	// enforces none.
	Limits *ratelimit.Guard
	// CORSOrigins are the frontend origins browsers may call the API from;
	// none means same-origin only.
	CORSOrigins []string
	// Metrics observes requests and outcomes; nil observes nothing.
	Metrics Observer
	// MFA enrols and verifies second factors.
	MFA *mfa.Service
}

// Observer receives what the API measures; internal/metrics implements it.
type Observer interface {
	HTTP(route, method string, status int, d time.Duration)
	Auth(operation, outcome string)
	CustomerAccess(kind, result string)
}

type nopObserver struct{}

func (nopObserver) HTTP(string, string, int, time.Duration) {}
func (nopObserver) Auth(string, string)                     {}
func (nopObserver) CustomerAccess(string, string)           {}

// Server is the HTTP API.
type Server struct {
	Deps
	log      *zap.Logger
	router   chi.Router
	served   routeSet
	draining atomic.Bool
}

// New builds the API.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.ClientIP == nil {
		d.ClientIP = NewClientIP(nil)
	}
	if d.Metrics == nil {
		d.Metrics = nopObserver{}
	}
	s := &Server{Deps: d, log: d.Log}
	s.router = s.routes()
	s.served = walkRoutes(s.router)
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// Routes exposes the router for inspection (documentation checks).
func (s *Server) Routes() chi.Routes { return s.router }

// Drain makes readiness fail so load balancers stop sending traffic
// before shutdown.
func (s *Server) Drain() { s.draining.Store(true) }

// handler is a handler that returns its error for writeError.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) wrap(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.noteFailure(r, err)
			s.writeError(w, r, err)
		}
	}
}

// tx runs fn in the request transaction of the caller.
func (s *Server) tx(r *http.Request, fn func(q db.Querier) error) error {
	return s.DB.Tx(r.Context(), auth.DBPrincipal(principal(r), meta(r)), fn)
}

// event records a security event about the current request's source.
func (s *Server) event(r *http.Request, kind, severity string, details map[string]string) {
	if s.Threats != nil {
		s.Threats.Record(threat.Event{Kind: kind, Severity: severity,
			IP: clientIP(r), Details: details})
	}
}

// noteFailure turns failures that signal an attack into security events:
// a card number in a body, a write that tried to move a row to another
// tenant, and not_found answers under a merchant's path for ids that exist
// in another tenant, which is how probing for other tenants' ids looks.
func (s *Server) noteFailure(r *http.Request, err error) {
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, errCardData):
		s.event(r, "card_data_submitted", "medium", nil)
	case errors.As(err, &pe) && pe.Code == "42501":
		s.event(r, "tenant_boundary_violation", "high",
			map[string]string{"route": routePattern(r)})
	case apperr.Is(err, apperr.NotFound) && chiParam(r, "merchantID") != "" &&
		s.probedElsewhere(r):
		s.event(r, "cross_tenant_probe", "low",
			map[string]string{"route": routePattern(r)})
	}
}

func meta(r *http.Request) auth.Meta {
	return auth.Meta{IP: clientIP(r), RequestID: requestID(r),
		UserAgent: r.UserAgent()}
}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	if len(s.CORSOrigins) > 0 {
		r.Use(cors.Handler(cors.Options{
			AllowedOrigins: s.CORSOrigins,
			AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
			AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id"},
			ExposedHeaders: []string{"X-Request-Id", "Retry-After", "RateLimit",
				"RateLimit-Policy"},
			// Tokens travel in the Authorization header, never in cookies.
			AllowCredentials: false,
			MaxAge:           600,
		}))
	}
	// OPTIONS is answered after inspection and before authentication and
	// the class limits; HEAD is routed as GET (the server drops the body)
	// and held to the contract as GET.
	r.Use(s.requestID, s.recoverer, s.accessLog, securityHeaders,
		s.clientIP, s.blocklist, s.ipLimit, s.inspectRequest, s.wellFormedQuery,
		s.answerOptions,
		s.authenticate, s.classLimit, s.validateRequest, s.headAsGet)
	r.NotFound(s.wrap(func(http.ResponseWriter, *http.Request) error {
		return apperr.New(apperr.NotFound, "no such endpoint")
	}))
	r.MethodNotAllowed(s.wrap(s.methodNotAllowed))

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.wrap(s.readyz))

	r.Route("/v1", func(r chi.Router) {
		r.Post("/auth/signup", s.wrap(s.signup))
		r.Post("/auth/login", s.wrap(s.login))
		r.Post("/auth/refresh", s.wrap(s.refresh))
		r.Get("/pages/{slug}", s.wrap(s.getPublicPage))
		r.Get("/market", s.wrap(s.browseMarket))

		r.Group(func(r chi.Router) {
			r.Use(s.requireAuth)
			s.authedRoutes(r)
		})
	})
	return r
}

func (s *Server) authedRoutes(r chi.Router) {
	r.Post("/auth/logout", s.wrap(s.logout))
	r.Post("/auth/logout-all", s.wrap(s.logoutAll))
	r.Get("/auth/sessions", s.wrap(s.listSessions))
	r.Delete("/auth/sessions/{sessionID}", s.wrap(s.revokeSession))
	r.Get("/me", s.wrap(s.me))
	r.Get("/me/export", s.wrap(s.exportMe))
	r.Delete("/me", s.wrap(s.deleteMe))
	r.Get("/me/invitations", s.wrap(s.myInvitations))
	r.Post("/me/invitations/{invitationID}/accept", s.wrap(s.acceptInvitation))
	r.Post("/me/invitations/{invitationID}/decline", s.wrap(s.declineInvitation))
	s.mfaRoutes(r)
	s.adminRoutes(r)
	r.Get("/ai-rate-limits", s.wrap(s.listAILimits))
	r.Put("/ai-rate-limits/{feature}", s.wrap(s.putAILimit))

	r.Post("/merchants", s.wrap(s.createMerchant))
	r.Get("/merchants", s.wrap(s.listMerchants))
	r.Route("/merchants/{merchantID}", func(r chi.Router) {
		r.Get("/", s.wrap(s.getMerchant))
		r.Patch("/", s.wrap(s.updateMerchant))
		r.Get("/members", s.wrap(s.listMembers))
		r.Delete("/members/{userID}", s.wrap(s.removeMember))
		r.Get("/invitations", s.wrap(s.listInvitations))
		r.Post("/invitations", s.wrap(s.invite))
		r.Delete("/invitations/{invitationID}", s.wrap(s.withdrawInvitation))
		r.Get("/page", s.wrap(s.getPage))
		r.Patch("/page", s.wrap(s.updatePage))
		r.Get("/items", s.wrap(s.listItems))
		r.Post("/items", s.wrap(s.createItem))
		r.Get("/items/{itemID}", s.wrap(s.getItem))
		r.Patch("/items/{itemID}", s.wrap(s.updateItem))
		r.Delete("/items/{itemID}", s.wrap(s.deleteItem))
		r.Post("/items/{itemID}/suggest-price", s.wrap(s.suggestPrice))
		r.Get("/market", s.wrap(s.listMerchantListings))
		r.Post("/market", s.wrap(s.listItem))
		r.Delete("/market/{listingID}", s.wrap(s.delistItem))
		r.Get("/customers", s.wrap(s.listCustomers))
		r.Post("/customers", s.wrap(s.createCustomer))
		r.Get("/customers/{customerID}", s.wrap(s.getCustomer))
		r.Patch("/customers/{customerID}", s.wrap(s.updateCustomer))
		r.Delete("/customers/{customerID}", s.wrap(s.deleteCustomer))
		r.Post("/customers/{customerID}/reveal", s.wrap(s.revealCustomer))
		r.Get("/customers/{customerID}/export", s.wrap(s.exportCustomer))
		r.Get("/orders", s.wrap(s.listOrders))
		r.Post("/orders", s.wrap(s.createOrder))
		r.Get("/orders/{orderID}", s.wrap(s.getOrder))
		r.Patch("/orders/{orderID}", s.wrap(s.setOrderStatus))
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers ready only when the database answers, the schema is at the
// version this build expects, and the server is not draining.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return apperr.New(apperr.Unavailable, "draining")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	v, dirty, err := s.DB.SchemaVersion(ctx)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "database unreachable", err)
	}
	if dirty || v != db.ExpectedVersion() {
		return apperr.New(apperr.Unavailable, "schema is not at the expected version")
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
