package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rampart-dev/rampart/internal/apperr"
)

// servedMethods are the methods routes are registered under. HEAD is served
// wherever GET is (headAsGet), and OPTIONS wherever any
// method is (answerOptions); neither is registered as a route, so neither
// appears in api/openapi.yaml.
var servedMethods = [...]string{http.MethodGet, http.MethodPost,
	http.MethodPut, http.MethodPatch, http.MethodDelete}

// routingPath is the path chi routes on.
func routingPath(r *http.Request) string {
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	return r.URL.Path
}

// routeSet is every method and route pattern the router serves, patterns
// without a trailing slash, as chi.Walk reports them.
type routeSet map[string]bool

func walkRoutes(r chi.Routes) routeSet {
	set := routeSet{}
	_ = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		set[method+" "+trimPattern(route)] = true
		return nil
	})
	return set
}

func trimPattern(p string) string {
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/*"), "/")
	if p == "" {
		return "/"
	}
	return p
}

// serves reports whether the router has a handler of method for path.
// chi's Find alone is not enough: at the root of a r.Route block
// ("/v1/merchants/{id}" without its slash) it answers the mount's pattern
// for every method, so its answer is checked against the walked routes.
func (s *Server) serves(method, path string) bool {
	p := s.router.Find(chi.NewRouteContext(), method, path)
	return p != "" && s.served[method+" "+trimPattern(p)]
}

// allowedMethods lists the methods the API answers at path, in the form of
// an Allow header, or nil when no route serves the path.
func (s *Server) allowedMethods(path string) []string {
	var allow []string
	for _, m := range servedMethods {
		if s.serves(m, path) {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if allow != nil {
		allow = append(allow, http.MethodOptions)
	}
	return allow
}

// methodNotAllowed answers a method the path does not serve: 405 with the
// Allow header RFC 9110 requires, or 404 when no method is served there
// (an invented method on a path that does not exist).
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	allow := s.allowedMethods(routingPath(r))
	if allow == nil {
		return apperr.New(apperr.NotFound, "no such endpoint")
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return apperr.New(apperr.MethodNotAllowed, "method not allowed here")
}

// answerOptions answers OPTIONS itself, before authentication and the
// route-class limits: 204 with the Allow header, or 404 for a path no
// route serves. It costs the address budget like every request and no
// class budget (a write's least of all). CORS preflights, when origins are
// configured, are answered earlier by the CORS handler.
func (s *Server) answerOptions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		allow := s.allowedMethods(routingPath(r))
		if allow == nil {
			s.writeError(w, r, apperr.New(apperr.NotFound, "no such endpoint"))
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// headAsGet routes HEAD as GET where no HEAD route is registered (none is):
// the handler runs as for GET and net/http drops the body. It does what
// chi's middleware.GetHead does, with serves instead of chi's Match, which
// would take the root of a r.Route block for a HEAD route and answer 405.
func (s *Server) headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && !s.serves(http.MethodHead, routingPath(r)) {
			if rctx := chi.RouteContext(r.Context()); rctx != nil {
				rctx.RouteMethod = http.MethodGet
			}
		}
		next.ServeHTTP(w, r)
	})
}
