package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/internal/httpapi"
)

// browserPage signs in and lists merchants with fetch(), then writes the
// outcome into the page, which the headless browser dumps.
const browserPage = `<!doctype html><html><body><pre id="out">pending</pre><script>
(async () => {
  const out = document.getElementById("out");
  try {
    const login = await fetch("%[1]s/v1/auth/login", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({email: "browser@example.test", password: "%[2]s"})});
    const tok = (await login.json()).access_token;
    const list = await fetch("%[1]s/v1/merchants", {headers: {Authorization: "Bearer " + tok}});
    const body = await list.json();
    out.textContent = "RESULT ok " + list.status + " " + body.data.length;
  } catch (e) {
    out.textContent = "RESULT refused " + e.name;
  }
})();
</script></body></html>`

// TestBrowserCORS drives Debian's headless Chromium: a page served from
// the configured frontend origin signs in and lists merchants with
// fetch(); the same page from another origin is refused by the browser.
func TestBrowserCORS(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed: skipping the browser CORS check")
	}
	h := setup(t, 4)
	tok := h.user("browser@example.test")
	h.created("POST", "/v1/merchants", tok, map[string]string{"name": "Browser shop", "slug": "browser-shop"})

	// Two page servers, two origins; the pages call the API, whose
	// address is known once it is built with the first origin allowed.
	// The page handlers run on the servers' goroutines, and the browser
	// process between them is invisible to the race detector, so the
	// address is published atomically.
	var apiURL atomic.Pointer[string]
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, browserPage, *apiURL.Load(), testPassword)
	})
	allowed, foreign := httptest.NewServer(page), httptest.NewServer(page)
	t.Cleanup(allowed.Close)
	t.Cleanup(foreign.Close)
	api := h.with(func(d *httpapi.Deps) { d.CORSOrigins = []string{allowed.URL} })
	apiURL.Store(&api.srv.URL)

	run := func(page string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox",
			"--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--user-data-dir="+t.TempDir(),
			"--virtual-time-budget=10000", "--dump-dom", page).Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		i := strings.Index(string(out), "RESULT")
		if i < 0 {
			return "no result: " + string(out)
		}
		return strings.SplitN(string(out)[i:], "<", 2)[0]
	}

	if got := run(allowed.URL); got != "RESULT ok 200 1" {
		t.Errorf("from the allowed origin: %s", got)
	}
	if got := run(foreign.URL); !strings.HasPrefix(got, "RESULT refused") {
		t.Errorf("from another origin the browser let the call through: %s", got)
	}
}
