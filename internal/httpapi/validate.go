package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/contract"
)

// validateRequest holds every request to api/openapi.yaml before a handler
// sees it: the document is the one statement of what each operation
// accepts (required fields, lengths, patterns, enums, formats, no unknown
// fields), and violations answer 400 naming the field, never echoing its
// value. Bodies that are not JSON go on to the handler, which answers 415.
func (s *Server) validateRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Contract == nil {
			next.ServeHTTP(w, r)
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		hasBody := r.Body != nil && r.ContentLength != 0
		if mt != "application/json" && (hasBody || r.Method == http.MethodPost ||
			r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if hasBody {
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				s.writeError(w, r, apperr.New(apperr.TooLarge, "request body is too large"))
				return
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		vr := r
		if r.Method == http.MethodHead {
			// HEAD is GET without the body: it takes GET's parameters.
			vr = r.Clone(r.Context())
			vr.Method = http.MethodGet
		}
		if err := s.Contract.ValidateRequest(vr, body); err != nil {
			var v *contract.Violation
			if errors.As(err, &v) {
				s.writeError(w, r, apperr.InvalidFields(apperr.FieldError{
					Field: v.Field, Reason: v.Reason}))
				return
			}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
