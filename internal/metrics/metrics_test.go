package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampart-dev/rampart/internal/dbtest"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	env := dbtest.New(t, 2)
	m := New("test", env.DB.Pool)

	m.HTTP("/v1/merchants/{merchantID}", "GET", 200, 3*time.Millisecond)
	m.HTTP("unmatched", "BREW", 404, time.Millisecond)
	m.Decision("auth", "limited")
	m.Auth("login", "bad_credentials")
	m.Event("login_failed", "low")
	m.CustomerAccess("reveal", "denied")
	m.Blocks(3, 1)
	if err := m.RefreshSecurity(context.Background(), env.DB); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)

	t.Run("every family is exported", func(t *testing.T) {
		for _, name := range []string{
			"rampart_http_requests_total", "rampart_http_request_duration_seconds_bucket",
			"rampart_ratelimit_decisions_total", "rampart_ratelimit_degraded",
			"rampart_auth_outcomes_total", "rampart_security_events_total",
			"rampart_customer_data_access_total", "rampart_blocked_networks",
			"rampart_suspended_users", `rampart_security_overview{figure="critical_open"}`,
			"rampart_audit_chain_broken 0", "rampart_db_pool_acquired_connections",
			"rampart_build_info", "go_goroutines",
		} {
			if !strings.Contains(out, name) {
				t.Errorf("scrape lacks %s", name)
			}
		}
	})

	t.Run("odd methods fold into one label", func(t *testing.T) {
		if strings.Contains(out, "BREW") || !strings.Contains(out, `method="OTHER"`) {
			t.Error("method label not folded")
		}
	})

	t.Run("no label carries an id or an email", func(t *testing.T) {
		id := regexp.MustCompile(`="[^"]*([0-9a-f]{8}-[0-9a-f]{4}|@)[^"]*"`)
		if m := id.FindString(out); m != "" {
			t.Errorf("label value %s", m)
		}
	})
}
