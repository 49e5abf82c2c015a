package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/rampart-dev/rampart/internal/apperr"
	"github.com/rampart-dev/rampart/internal/pii"
)

// maxBody bounds every request body.
const maxBody = 64 << 10

// errCardData refuses a body that carries something shaped like a card
// number; the edge also records a security event for it.
var errCardData = apperr.New(apperr.CardData,
	"request carries what looks like a card number; send a payment provider token instead")

// decode reads exactly one JSON object into dst. Unknown fields, trailing
// data, a wrong content type, an oversized body and anything shaped like a
// card number are refused; server-owned fields such as merchant_id, totals
// or created_by are simply unknown to the input types, so they are refused
// too.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return apperr.New(apperr.UnsupportedMedia,
			"request body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "request body is too large")
		}
		return apperr.Wrap(apperr.Invalid, "request body could not be read", err)
	}
	if pii.LooksLikeCardNumber(string(body)) {
		return errCardData
	}
	return decodeBytes(body, dst)
}

func decodeBytes(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return apperr.New(apperr.Invalid, "request body is not valid UTF-8")
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return apperr.New(apperr.Invalid, "request body must be a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return apperr.Wrap(apperr.Invalid, describeJSONError(err), err)
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "request body must hold one JSON object")
	}
	return nil
}

// describeJSONError says what is wrong in words that echo no input value.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.EOF):
		return "request body is empty"
	}
	return "malformed JSON"
}
