// Command gen prints the Rampart Grafana dashboard as JSON:
//
//	go run ./deploy/grafana/gen > deploy/grafana/dashboards/rampart.json
//
// Every query uses only the metric names the service exports (see
// internal/metrics); `make lint-deploy` checks that, and `make e2e-metrics`
// checks that every query returns data from a real Prometheus.
//
//lint:file-ignore SA1019 the SDK deprecates the classic dashboard model in favour of dashboardv2, which Grafana 12 loads only behind feature flags; the classic JSON loads in every Grafana.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// sel is the instance filter every selector carries.
const sel = `instance=~"$instance"`

// ri is Grafana's rate window: at least four scrape intervals.
const ri = `[$__rate_interval]`

var datasource = dashboard.DataSourceRef{
	Type: cog.ToPtr("prometheus"),
	Uid:  cog.ToPtr("${datasource}"),
}

func main() {
	d, err := build().Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	numberPanels(&d)
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// numberPanels gives every row and panel a distinct id, in grid order, so
// links to a panel survive regeneration.
func numberPanels(d *dashboard.Dashboard) {
	for i, p := range d.Panels {
		id := uint32(i + 1)
		if p.RowPanel != nil {
			p.RowPanel.Id = id
		} else if p.Panel != nil {
			p.Panel.Id = &id
		}
	}
}

func build() *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder("Rampart").
		Uid("rampart").
		Description("Security overview, authentication, rate limiting, "+
			"customer-data access, HTTP and database pool of the Rampart API.").
		Tags([]string{"rampart"}).
		Refresh("30s").
		Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("instance").
			Label("Instance").
			Datasource(datasource).
			Query(dashboard.StringOrMap{
				String: cog.ToPtr("label_values(rampart_build_info, instance)"),
			}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			AllValue(".*"))

	securityOverview(b)
	authentication(b)
	rateLimiting(b)
	customerData(b)
	httpRED(b)
	databasePool(b)
	return b
}

// securityOverview shows the figures of get_security_metrics(). Every
// instance reports the same database-wide figures, so max() shows one.
func securityOverview(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Security overview"))
	figures := []struct{ figure, title, desc string }{
		{"incidents_24h", "Incidents (24h)", "Security events in the last 24 hours."},
		{"critical_open", "Critical open", "Critical events not yet acknowledged or resolved."},
		{"blocked_ips", "Blocked IPs", "Live IP and network blocks."},
		{"suspicious_users", "Suspicious users", "Users with high-severity events in the last 24 hours."},
		{"failed_auth_24h", "Failed auth (24h)", "Failed sign-ins in the last 24 hours."},
		{"customer_reads_1h", "Customer reads (1h)", "Customer-data reads in the last hour."},
		{"reveals_24h", "Reveals (24h)", "Customer PII reveals and exports in the last 24 hours."},
		{"quota_hits_24h", "Quota hits (24h)", "Customer-data reads refused over quota in the last 24 hours."},
	}
	for _, f := range figures {
		expr := fmt.Sprintf(`max(rampart_security_overview{figure=%q, %s})`, f.figure, sel)
		red := 1.0
		if f.figure == "incidents_24h" || f.figure == "customer_reads_1h" {
			red = 0 // volumes, not alarms: no colour
		}
		b.WithPanel(statPanel(f.title, expr, red).Description(f.desc).Span(3))
	}

	chain := statPanel("Audit chains",
		`max(rampart_audit_chain_broken{`+sel+`})`, 1).
		Description("Whether the recent links of every audit hash chain " +
			"verify. Broken means rows were changed or removed: investigate.").
		Mappings([]dashboard.ValueMapping{valueText(map[string]string{
			"0": "verified", "1": "BROKEN"})})
	b.WithPanel(chain.Span(4).Height(5))
	b.WithPanel(statPanel("Overview refresh errors",
		`sum(increase(rampart_security_overview_refresh_errors_total{`+sel+`}[$__range]))`, 1).
		Description("Failed refreshes of these figures in the time range; while " +
			"they fail the figures above are stale.").Span(4).Height(5))
	b.WithPanel(statPanel("Blocked networks (cache)",
		`max(rampart_blocked_networks{`+sel+`})`, 0).
		Description("Live IP blocks in the instances' caches.").Span(4).Height(5))
	b.WithPanel(statPanel("Suspended users (cache)",
		`max(rampart_suspended_users{`+sel+`})`, 0).
		Description("Suspended users in the instances' caches.").Span(4).Height(5))
	b.WithPanel(seriesPanel("Security events", "ops", 8, 5,
		query(`sum by (kind, severity) (rate(rampart_security_events_total{`+sel+`}`+ri+`))`,
			"{{kind}} ({{severity}})")).
		Description("Security events observed per second, by kind and severity."))
}

func authentication(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Authentication failures"))
	b.WithPanel(seriesPanel("Failures by operation and outcome", "ops", 12, 8,
		query(`sum by (operation, outcome) (rate(rampart_auth_outcomes_total{outcome!="ok", `+sel+`}`+ri+`))`,
			"{{operation}}: {{outcome}}")))
	b.WithPanel(seriesPanel("Login failure ratio", "percentunit", 6, 8,
		query(`sum(rate(rampart_auth_outcomes_total{operation="login", outcome!="ok", `+sel+`}`+ri+`))
  / sum(rate(rampart_auth_outcomes_total{operation="login", `+sel+`}`+ri+`))`,
			"failed / all logins")).
		Description("Share of sign-ins that did not succeed."))
	b.WithPanel(seriesPanel("Auth-related security events", "ops", 6, 8,
		query(`sum by (kind) (rate(rampart_security_events_total{kind=~"login_failed|refresh_token_reuse", `+sel+`}`+ri+`))`,
			"{{kind}}")))
}

func rateLimiting(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Rate limiting"))
	b.WithPanel(seriesPanel("Decisions by class and result", "ops", 12, 8,
		query(`sum by (class, result) (rate(rampart_ratelimit_decisions_total{`+sel+`}`+ri+`))`,
			"{{class}}: {{result}}")))
	b.WithPanel(seriesPanel("Limited share by class", "percentunit", 6, 8,
		query(`sum by (class) (rate(rampart_ratelimit_decisions_total{result=~"limited|fallback_limited", `+sel+`}`+ri+`))
  / sum by (class) (rate(rampart_ratelimit_decisions_total{`+sel+`}`+ri+`))`,
			"{{class}}")).
		Description("Share of requests refused, per route class."))
	b.WithPanel(seriesPanel("Degraded to per-instance limits", "short", 6, 8,
		query(`max by (instance) (rampart_ratelimit_degraded{`+sel+`})`,
			"{{instance}}")).
		Description("1 while Redis is unreachable and each instance counts " +
			"alone: the effective limit is multiplied by the instance count."))
}

func customerData(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Customer-data access"))
	b.WithPanel(seriesPanel("Accesses by kind and result", "ops", 12, 8,
		query(`sum by (kind, result) (rate(rampart_customer_data_access_total{`+sel+`}`+ri+`))`,
			"{{kind}}: {{result}}")))
	b.WithPanel(seriesPanel("Reveals and exports", "ops", 6, 8,
		query(`sum by (kind, result) (rate(rampart_customer_data_access_total{kind=~"reveal|export", `+sel+`}`+ri+`))`,
			"{{kind}}: {{result}}")).
		Description("Plaintext PII leaving the vault, and attempts refused."))
	b.WithPanel(seriesPanel("Quota hits", "ops", 6, 8,
		query(`sum by (kind) (rate(rampart_customer_data_access_total{result="over_quota", `+sel+`}`+ri+`))`,
			"{{kind}}")).
		Description("Reads refused over the per-user quota: a client pulling " +
			"more customer records than its work needs."))
}

func httpRED(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("HTTP rate, errors and latency"))
	b.WithPanel(seriesPanel("Requests by route", "reqps", 8, 8,
		query(`sum by (route) (rate(rampart_http_requests_total{`+sel+`}`+ri+`))`,
			"{{route}}")))
	b.WithPanel(seriesPanel("Errors by route and code", "reqps", 8, 8,
		query(`sum by (route, code) (rate(rampart_http_requests_total{code=~"4..|5..", `+sel+`}`+ri+`))`,
			"{{code}} {{route}}")))
	// A missing 5xx series means no server error: show it as 0.
	b.WithPanel(seriesPanel("Server error ratio", "percentunit", 8, 8,
		query(`(sum(rate(rampart_http_requests_total{code=~"5..", `+sel+`}`+ri+`)) or vector(0))
  / sum(rate(rampart_http_requests_total{`+sel+`}`+ri+`))`,
			"5xx / all")))
	for _, q := range []struct{ title, phi string }{
		{"p50 latency by route", "0.5"}, {"p99 latency by route", "0.99"},
	} {
		b.WithPanel(seriesPanel(q.title, "s", 9, 8,
			query(`histogram_quantile(`+q.phi+`, sum by (route, le) (rate(rampart_http_request_duration_seconds_bucket{`+sel+`}`+ri+`)))`,
				"{{route}}")))
	}
	b.WithPanel(seriesPanel("Instances by version", "short", 6, 8,
		query(`count by (version, goversion) (rampart_build_info{`+sel+`})`,
			"{{version}} ({{goversion}})")))
}

func databasePool(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Database pool"))
	b.WithPanel(seriesPanel("Connections", "short", 8, 8,
		query(`sum by (instance) (rampart_db_pool_acquired_connections{`+sel+`})`, "{{instance}} acquired"),
		query(`sum by (instance) (rampart_db_pool_idle_connections{`+sel+`})`, "{{instance}} idle"),
		query(`sum by (instance) (rampart_db_pool_connections{`+sel+`})`, "{{instance}} open"),
		query(`sum by (instance) (rampart_db_pool_max_connections{`+sel+`})`, "{{instance}} max")))
	b.WithPanel(seriesPanel("Pool utilisation", "percentunit", 8, 8,
		query(`sum by (instance) (rampart_db_pool_acquired_connections{`+sel+`})
  / sum by (instance) (rampart_db_pool_max_connections{`+sel+`})`, "{{instance}}")).
		Description("Connections in use over the pool size. Near 100% " +
			"requests queue for a connection."))
	b.WithPanel(seriesPanel("Acquires and waits", "short", 8, 8,
		query(`sum by (instance) (rate(rampart_db_pool_acquires_total{`+sel+`}`+ri+`))`, "{{instance}} acquires/s"),
		query(`sum by (instance) (rate(rampart_db_pool_empty_acquires_total{`+sel+`}`+ri+`))`, "{{instance}} waited/s"),
		query(`sum by (instance) (rate(rampart_db_pool_acquire_wait_seconds_total{`+sel+`}`+ri+`))
  / sum by (instance) (rate(rampart_db_pool_acquires_total{`+sel+`}`+ri+`))`, "{{instance}} mean wait (s)")).
		Description("Acquires per second, those that found the pool empty, " +
			"and the mean time an acquire waited."))
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasource).
		Expr(expr).
		LegendFormat(legend)
}

// statPanel shows the last value of expr, red from red upwards (0: never).
func statPanel(title, expr string, red float64) *stat.PanelBuilder {
	steps := []dashboard.Threshold{{Color: "green"}}
	if red > 0 {
		steps = append(steps, dashboard.Threshold{Value: &red, Color: "red"})
	}
	return stat.NewPanelBuilder().
		Title(title).
		Datasource(datasource).
		WithTarget(query(expr, title).Instant()).
		Height(4).
		Unit("short").
		Decimals(0).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Calcs([]string{"lastNotNull"})).
		Thresholds(dashboard.NewThresholdsConfigBuilder().
			Mode(dashboard.ThresholdsModeAbsolute).
			Steps(steps))
}

func seriesPanel(title, unit string, width, height uint32, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Datasource(datasource).
		Unit(unit).
		Min(0).
		Span(width).
		Height(height).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

func valueText(texts map[string]string) dashboard.ValueMapping {
	m := dashboard.NewValueMap()
	colors := map[string]string{"verified": "green", "BROKEN": "red"}
	for v, text := range texts {
		m.Options[v] = dashboard.ValueMappingResult{
			Text:  cog.ToPtr(text),
			Color: cog.ToPtr(colors[text]),
		}
	}
	return dashboard.ValueMapping{ValueMap: m}
}
