package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/rampart-dev/rampart/internal/apperr"
)

// problem is an RFC 9457 problem document with the API's stable code and
// the request id, which is all a client needs to report an incident.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Code      apperr.Code         `json:"code"`
	RequestID string              `json:"request_id"`
	Errors    []apperr.FieldError `json:"errors,omitempty"`
}

// writeError renders err as problem+json. Internal errors are logged with
// their cause and answered with nothing but the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.From(err)
	status := e.Code.Status()
	if status >= 500 {
		s.log.Error("request failed", zap.String("request_id", requestID(r)),
			zap.String("code", string(e.Code)), zap.Error(e.Cause))
	} else if e.Cause != nil {
		s.log.Debug("request refused", zap.String("request_id", requestID(r)),
			zap.String("code", string(e.Code)), zap.Error(e.Cause))
	}
	if e.Code == apperr.RateLimited && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(max(e.RetryAfter, 1)))
	}
	p := problem{
		Type:      "https://rampart.dev/problems/" + string(e.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    e.Message,
		Code:      e.Code,
		RequestID: requestID(r),
		Errors:    e.Fields,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// list is the envelope of every list answer.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}
