package httpapi_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestEveryRouteIsDocumented holds the router and api/openapi.yaml to each
// other: every route the server serves is an operation of the contract,
// and every operation is served.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Parallel()
	h := setup(t, 1)
	served := map[string]bool{}
	err := chi.Walk(h.api.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "" {
			route = "/"
		}
		served[method+" "+strings.ReplaceAll(route, "/*", "")] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range checker.Operations() {
		documented[op.Method+" "+op.Path] = true
	}
	var undocumented, unserved []string
	for r := range served {
		if !documented[r] {
			undocumented = append(undocumented, r)
		}
	}
	for r := range documented {
		if !served[r] {
			unserved = append(unserved, r)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unserved)
	if len(undocumented) > 0 {
		t.Errorf("served but not in api/openapi.yaml:\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(unserved) > 0 {
		t.Errorf("in api/openapi.yaml but not served:\n  %s", strings.Join(unserved, "\n  "))
	}
	t.Logf("%d operations served and documented", len(served))
}
