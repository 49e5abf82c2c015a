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
	if duplicateKey(body) {
		return apperr.New(apperr.Invalid,
			"request body repeats a key within one JSON object")
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

// duplicateKey reports an object in body that names one key twice. Go's
// decoder keeps the last value, other parsers the first; refusing such a
// body (as I-JSON, RFC 7493, requires) means the value the edge inspected,
// the contract validated and the handler stored cannot differ. Malformed
// JSON answers false and is left to the decoder to describe.
func duplicateKey(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// One entry per open container: the keys seen so far in an object,
	// nil for an array. expectKey tracks whether the next string in the
	// innermost object is a key or a value.
	var stack []map[string]struct{}
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, map[string]struct{}{})
				expectKey = true
				continue
			case '[':
				stack = append(stack, nil)
			case '}', ']':
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return false
				}
			}
		case string:
			if expectKey {
				keys := stack[len(stack)-1]
				if _, seen := keys[t]; seen {
					return true
				}
				keys[t] = struct{}{}
				expectKey = false
				continue
			}
		}
		// A value ended (or an array opened): inside an object the next
		// token is a key again.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}
