// Package contract holds HTTP exchanges to api/openapi.yaml. Tests of other
// packages use it to prove that every answer the server gives, error or not,
// is one the document promises: the operation exists, the status is listed,
// and the headers and body match their schemas.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/rampart-dev/rampart/api"
)

// ErrUnknownOperation is wrapped by the error Check returns when no operation
// of the document matches the request's method and path.
var ErrUnknownOperation = errors.New("no such operation in the contract")

// Operation is one operation of the document.
type Operation struct {
	// Method is the HTTP method in upper case, such as "POST".
	Method string
	// Path is the path template, such as "/v1/merchants/{merchantID}".
	Path string
	// Secured reports whether the operation requires a bearer token; it is
	// false for public operations and for those where a token is optional.
	Secured bool
}

// Checker validates HTTP exchanges against the embedded document. It is safe
// for concurrent use.
type Checker struct {
	doc     *openapi3.T
	router  routers.Router
	opts    *openapi3filter.Options
	reqOpts *openapi3filter.Options
}

// Load parses api.Spec, validates the document itself and returns a Checker
// for it. It fails when the document is malformed or invalid.
func Load() (*Checker, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}

	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	reqOpts := options()
	reqOpts.MultiError = false
	return &Checker{doc: doc, router: router, opts: options(), reqOpts: reqOpts}, nil
}

// options holds responses to every status, header and schema of the document.
// Requests are not validated: authentication and bad input are tested
// elsewhere, and attack tests send invalid requests on purpose.
func options() *openapi3filter.Options {
	formats := map[string]openapi3.StringFormatValidator{
		"uuid": openapi3.NewRegexpFormatValidator(
			openapi3.FormatOfStringForUUIDOfRFC9562),
		"email": openapi3.NewRegexpFormatValidator(
			openapi3.FormatOfStringForEmail),
	}
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(formats),
			// The schema dump would bury the one line that matters.
			openapi3.DisableSchemaErrorDetails(),
		},
	}
}

// Check reports whether resp, whose body is respBody, is an answer the
// document allows to req. It returns an error wrapping ErrUnknownOperation
// when no operation matches req, and a validation error when the status is
// not listed, a required header is missing, the content type is not the
// documented one, the body does not match its schema, or a body comes with a
// status documented without one. The host of req is ignored. reqBody is not
// validated; it is accepted so that callers can hand over whole exchanges.
func (c *Checker) Check(
	req *http.Request, reqBody []byte, resp *http.Response, respBody []byte,
) error {
	_ = reqBody
	route, params, err := c.route(req)
	if err != nil {
		return err
	}

	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    c.opts,
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Options: c.opts,
	}
	input.SetBodyBytes(respBody)

	ctx := context.WithoutCancel(req.Context())
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		return fmt.Errorf("%s: %w", route.Operation.OperationID, err)
	}
	return unexpectedBody(route, resp.StatusCode, respBody)
}

// route finds the operation of req by method and path alone, so that
// requests to any httptest host match the document's relative server.
func (c *Checker) route(req *http.Request) (*routers.Route, map[string]string, error) {
	bare := req.Clone(context.WithoutCancel(req.Context()))
	bare.URL = &url.URL{
		Path:     req.URL.Path,
		RawPath:  req.URL.RawPath,
		RawQuery: req.URL.RawQuery,
	}

	route, params, err := c.router.FindRoute(bare)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s %s: %v",
			ErrUnknownOperation, req.Method, req.URL.Path, err)
	}
	return route, params, nil
}

// unexpectedBody fails a body sent with a status documented without one,
// which ValidateResponse lets through.
func unexpectedBody(route *routers.Route, status int, body []byte) error {
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil || len(ref.Value.Content) > 0 {
		return nil
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	return fmt.Errorf("%s: status %d is documented without a body, got %d bytes",
		route.Operation.OperationID, status, len(body))
}

// Operations lists every operation of the document, sorted by path and then
// method.
func (c *Checker) Operations() []Operation {
	var ops []Operation
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, Operation{
				Method:  method,
				Path:    path,
				Secured: c.secured(op),
			})
		}
	}

	slices.SortFunc(ops, func(a, b Operation) int {
		if n := strings.Compare(a.Path, b.Path); n != 0 {
			return n
		}
		return strings.Compare(a.Method, b.Method)
	})
	return ops
}

// secured reports whether every security alternative of op names a scheme;
// an empty alternative ({}) makes authentication optional.
func (c *Checker) secured(op *openapi3.Operation) bool {
	reqs := c.doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return false
	}
	for _, req := range reqs {
		if len(req) == 0 {
			return false
		}
	}
	return true
}

// ValidateRequest holds a request to its operation in the document: path
// and query parameters, and the JSON body (required properties, types,
// lengths, patterns, enums, formats, no undocumented properties). It
// returns nil for requests that match no operation (routing answers them)
// and otherwise the first violation as a *Violation. Authentication is not
// checked here. body is the request's body, already read.
func (c *Checker) ValidateRequest(req *http.Request, body []byte) error {
	route, params, err := c.route(req)
	if err != nil {
		return nil
	}
	r := req.Clone(context.WithoutCancel(req.Context()))
	r.Body = io.NopCloser(bytes.NewReader(body))
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    c.reqOpts,
	}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		return violation(err)
	}
	return nil
}

// Violation is a request that breaks the document: the field (a JSON
// pointer into the body, or a parameter name) and why, in words that never
// repeat the offending value.
type Violation struct {
	Field  string
	Reason string
}

func (v *Violation) Error() string { return v.Field + ": " + v.Reason }

func violation(err error) *Violation {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		field := fieldPath(se.JSONPointer())
		var re *openapi3filter.RequestError
		if errors.As(err, &re) && re.Parameter != nil {
			field = re.Parameter.Name
		}
		return &Violation{Field: field, Reason: plainReason(se.Reason)}
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		field := "body"
		if re.Parameter != nil {
			field = re.Parameter.Name
		}
		reason := plainReason(re.Reason)
		if reason == "" && re.Parameter == nil {
			reason = "a JSON object is required"
		} else if reason == "" {
			reason = "is not valid"
		}
		return &Violation{Field: field, Reason: reason}
	}
	return &Violation{Field: "request", Reason: "does not match the API description"}
}

// fieldPath writes a JSON pointer's tokens the way every error of the
// service names a field: lines[0].quantity. The empty pointer, the body
// itself, is "body".
func fieldPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// plainReason keeps the validator's words unless they are about Go rather
// than about the request, as its number decoding's are ("cannot convert
// json.Number to float64" for 1e400).
func plainReason(r string) string {
	if strings.Contains(r, "json.") || strings.Contains(r, "float64") ||
		strings.Contains(r, "int64") || strings.Contains(r, "int32") ||
		strings.Contains(r, "strconv.") || strings.Contains(r, "9223372036854775807") {
		return "is not a number this field can hold"
	}
	return r
}
