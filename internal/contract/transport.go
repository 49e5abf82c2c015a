package contract

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// bodyShown is how much of a response body a failure report quotes.
const bodyShown = 512

// Transport returns a RoundTripper for test clients that sends each request
// through next (http.DefaultTransport when nil), calls Check on the exchange
// and reports a failure with t.Errorf, naming the method, path, status, the
// validation error and the start of the body. The caller still gets the
// response, with its body buffered and readable from the start. Errors of
// next are returned as they are.
func (c *Checker) Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{checker: c, t: t, next: next}
}

type transport struct {
	checker *Checker
	t       testing.TB
	next    http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req, reqBody, err := bufferRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := tr.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}

	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	if err := tr.checker.Check(req, reqBody, resp, respBody); err != nil {
		tr.t.Errorf("contract: %s %s answered %d: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, truncate(respBody))
	}
	return resp, nil
}

// bufferRequest reads the body of req and returns a copy of req that sends
// the same bytes, leaving req itself untouched as RoundTrip must.
func bufferRequest(req *http.Request) (*http.Request, []byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil, nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read request body: %w", err)
	}

	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	clone.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	return clone, body, nil
}

func truncate(body []byte) string {
	if len(body) <= bodyShown {
		return string(body)
	}
	return fmt.Sprintf("%s... (%d bytes)", body[:bodyShown], len(body))
}
