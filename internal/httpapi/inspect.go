package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/rampart-dev/rampart/internal/apperr"
)

// inspectRequest looks for attack signatures in the path, query, input
// headers and JSON body of every API request, before authentication costs
// anything. A finding is recorded as an attack_signature event (class and
// location, never the value) and the request is refused. The body is read
// here, bounded, and handed on unchanged.
func (s *Server) inspectRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Inspector == nil || !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && r.ContentLength != 0 {
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				s.writeError(w, r, apperr.New(apperr.TooLarge, "request body is too large"))
				return
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		findings := s.Inspector.Request(r, body)
		if len(findings) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		for _, f := range findings {
			if f.Class == "over_limit" {
				s.writeError(w, r, apperr.New(apperr.Invalid,
					"request has too many fields or is nested too deeply"))
				return
			}
		}
		for _, f := range findings {
			s.event(r, "attack_signature", "medium",
				map[string]string{"class": f.Class, "location": f.Location})
		}
		s.writeError(w, r, apperr.New(apperr.Forbidden,
			"request refused: it carries an attack signature ("+findings[0].Class+")"))
	})
}
