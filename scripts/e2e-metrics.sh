#!/usr/bin/env bash
# e2e-metrics.sh is `make e2e-metrics`: prove that the dashboard and the
# alert rules of deploy/ work against the metrics a real service exports.
#
# It builds bin/rampart, creates a throwaway database on the server that
# scripts/pg.sh finds, migrates and seeds the demo, serves on free ports,
# and starts a real Prometheus that scrapes the service every second and
# loads deploy/prometheus/alerts.yml. A short scripted workload follows
# (logins that succeed and fail, market browsing, merchant and customer
# reads, a 404, a forged token, ...). Then:
#   - promtool check metrics lints a raw scrape;
#   - the rampart_* names scraped are exactly deploy/metric-names.txt;
#   - every query of the dashboard returns data;
#   - every alert rule evaluates without error, and every metric it
#     reads has data (the alert conditions themselves may be empty);
# Processes, database and temporary files are removed at the end
# (E2E_KEEP=1 keeps the temporary folder with the logs).
#
# Needs: go, psql, curl, jq, prometheus and promtool
# (apt-get install postgresql-client curl jq prometheus).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/dburl.sh
. scripts/dburl.sh

say() {
	printf 'e2e-metrics: [%3ds] %s\n' "$SECONDS" "$*" >&2
}

die() {
	say "$*"
	exit 1
}

for tool in go psql curl jq prometheus promtool; do
	command -v "$tool" >/dev/null ||
		die "$tool is needed (apt-get install postgresql-client curl jq prometheus)"
done

tmp=$(mktemp -d)
serve_pid=
prom_pid=
admin_url=
db=rampart_e2e_metrics_$$
failures=0

# stop ends one process this script started, by its id, and waits for it.
stop() {
	local pid=$1 i
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local status=$?
	stop "$serve_pid"
	stop "$prom_pid"
	if [[ -n $admin_url ]]; then
		psql -w -X -q -d "$admin_url" \
			-c "drop database if exists $db with (force)" >/dev/null 2>&1 ||
			say "could not drop database $db"
	fi
	if ((status != 0)); then
		say "last lines of the service's log:"
		tail -n 20 "$tmp/serve.log" >&2 2>/dev/null || true
		say "last lines of Prometheus's log:"
		tail -n 10 "$tmp/prometheus.log" >&2 2>/dev/null || true
	fi
	if [[ -n ${E2E_KEEP:-} ]]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# free_port prints a TCP port on 127.0.0.1 that nothing listens on, below
# the kernel's ephemeral range (32768 and up on Linux), whose ports
# outgoing connections take.
free_port() {
	local port i
	for ((i = 0; i < 50; i++)); do
		port=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "no free port found"
}

# wait_http waits up to SECS seconds for URL to answer 200, and gives up
# early when process PID has exited.
wait_http() {
	local url=$1 pid=$2 secs=$3 i
	for ((i = 0; i < secs * 4; i++)); do
		if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url") == 200 ]]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.25
	done
	return 1
}

random_key() {
	head -c 32 /dev/urandom | base64 | tr -d '\n'
}

setup_database() {
	admin_url=$(bash scripts/pg.sh)
	migrate_url=$(dburl_with_db "$db" "$admin_url")
	api_url=$(dburl_with_user rampart_api "$migrate_url")
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "create database $db"

	say "migrating and seeding $db"
	DATABASE_URL=$migrate_url bin/rampart migrate up >/dev/null
	DATABASE_URL=$api_url bin/rampart seed demo >"$tmp/seed.txt"
	# A small customer-records quota, so the workload's larger list is
	# refused over quota, as a bulk reader would be.
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$migrate_url" \
		-c 'update security.customer_access_limits set records = 5'
}

start_service() {
	api_port=$(free_port)
	metrics_port=$(free_port)
	api=http://127.0.0.1:$api_port
	say "serving on $api, metrics on 127.0.0.1:$metrics_port"
	# No Redis: the in-process limiter keeps the run self-contained. The
	# workload names its attackers in X-Forwarded-For from loopback.
	env -u REDIS_URL DATABASE_URL="$api_url" \
		RAMPART_LISTEN="127.0.0.1:$api_port" \
		RAMPART_METRICS_LISTEN="127.0.0.1:$metrics_port" \
		RAMPART_TRUSTED_PROXIES=127.0.0.1/32 \
		bin/rampart serve >"$tmp/serve.log" 2>&1 &
	serve_pid=$!
	wait_http "$api/readyz" "$serve_pid" 30 ||
		die "the service did not become ready"
}

start_prometheus() {
	prom_port=$(free_port)
	prom=http://127.0.0.1:$prom_port
	cat >"$tmp/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  evaluation_interval: 1s
		rule_files:
		  - $root/deploy/prometheus/alerts.yml
		scrape_configs:
		  - job_name: rampart
		    static_configs:
		      - targets: ["127.0.0.1:$metrics_port"]
	EOF
	say "Prometheus on $prom"
	prometheus --config.file="$tmp/prometheus.yml" \
		--storage.tsdb.path="$tmp/tsdb" \
		--web.listen-address="127.0.0.1:$prom_port" \
		--log.level=warn >"$tmp/prometheus.log" 2>&1 &
	prom_pid=$!
	wait_http "$prom/-/ready" "$prom_pid" 30 ||
		die "Prometheus did not become ready"
}

# call METHOD PATH [curl arguments...] sends one request, leaves the body
# in $tmp/body and the status in $code, and logs both.
call() {
	local method=$1 path=$2
	shift 2
	code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 \
		-X "$method" "$api$path" "$@")
	printf '  %-6s %-60s %s\n' "$method" "$path" "$code" >>"$tmp/workload.txt"
}

# expect CODE fails the run when the last call did not answer CODE.
expect() {
	if [[ $code != "$1" ]]; then
		tail -n 1 "$tmp/workload.txt" >&2
		head -c 500 "$tmp/body" >&2
		die "wanted $1"
	fi
}

json=(-H 'content-type: application/json')

login() {
	local email=$1 password=$2
	shift 2
	call POST /v1/auth/login "${json[@]}" "$@" \
		-d "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')"
}

demo_password() {
	awk -v e="$1" '$1 == e { print $2; exit }' "$tmp/seed.txt"
}

workload() {
	local owner=owner@acme-coffee.example.test token refresh mid cid auth
	local pw
	pw=$(demo_password "$owner")
	[[ -n $pw ]] || die "no password for $owner in the seed output"

	say "running the workload"
	call GET /healthz
	call GET /v1/market
	expect 200
	call GET "/v1/market?limit=5"
	call GET /v1/pages/acme-coffee

	login "$owner" "$pw"
	expect 200
	token=$(jq -r .access_token "$tmp/body")
	refresh=$(jq -r .refresh_token "$tmp/body")
	auth=(-H "authorization: Bearer $token")
	call POST /v1/auth/refresh "${json[@]}" \
		-d "$(jq -nc --arg t "$refresh" '{refresh_token: $t}')"
	call GET /v1/me "${auth[@]}"

	call GET /v1/merchants "${auth[@]}"
	expect 200
	mid=$(jq -r '.data[0].id' "$tmp/body")
	call GET "/v1/merchants/$mid" "${auth[@]}"
	call GET "/v1/merchants/$mid/items" "${auth[@]}"
	call GET "/v1/merchants/$mid/orders" "${auth[@]}"

	# Customer data: a small list within quota, a view, a reveal without a
	# second factor, exports past their rate limit, a missing customer and
	# finally a list past the quota.
	call GET "/v1/merchants/$mid/customers?limit=3" "${auth[@]}"
	expect 200
	cid=$(jq -r '.data[0].id' "$tmp/body")
	call GET "/v1/merchants/$mid/customers/$cid" "${auth[@]}"
	call POST "/v1/merchants/$mid/customers/$cid/reveal" "${auth[@]}" \
		"${json[@]}" -d '{"reason": "e2e metrics check"}'
	for _ in 1 2 3; do
		call GET "/v1/merchants/$mid/customers/$cid/export" "${auth[@]}"
	done
	call GET "/v1/merchants/$mid/customers/00000000-0000-4000-8000-000000000000" "${auth[@]}"
	call GET "/v1/merchants/$mid/customers?limit=50" "${auth[@]}"

	# Hostile and broken requests.
	call GET /v1/no-such-route
	call GET /v1/merchants \
		-H 'authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'
	call GET /v1/merchants
	for i in 1 2 3 4; do
		login "$owner" "wrong password $i" -H 'x-forwarded-for: 198.51.100.7'
	done
	login "nobody@example.test" "wrong password" -H 'x-forwarded-for: 198.51.100.8'
	call POST /v1/auth/login "${json[@]}" -d '{"email": 1}' \
		-H 'x-forwarded-for: 198.51.100.9'
	call POST /v1/auth/refresh "${json[@]}" -d '{"refresh_token": "forged"}'
	call GET "/v1/market?q=%27%20or%201%3D1--" \
		-H 'x-forwarded-for: 198.51.100.10'
}

# query EXPR prints Prometheus's JSON answer to an instant query.
query() {
	curl -s -G --max-time 10 --data-urlencode "query=$1" "$prom/api/v1/query"
}

# series_count EXPR prints how many series EXPR returns, or "error".
series_count() {
	query "$1" | jq -r 'if .status == "success" then .data.result | length
		else "error: \(.error)" end'
}

fail() {
	say "FAIL $*"
	failures=$((failures + 1))
}

check_scrape() {
	curl -s --max-time 10 "http://127.0.0.1:$metrics_port/metrics" >"$tmp/scrape.txt"
	if promtool check metrics <"$tmp/scrape.txt" >"$tmp/check-metrics.txt" 2>&1; then
		say "promtool check metrics: no problem"
	else
		fail "promtool check metrics:"
		cat "$tmp/check-metrics.txt" >&2
	fi

	# The exported rampart_* series names against the documented list.
	awk '/^# TYPE rampart_/ {
		if ($4 == "histogram") {
			print $3 "_bucket"; print $3 "_sum"; print $3 "_count"
		} else print $3 }' "$tmp/scrape.txt" | sort >"$tmp/scraped-names"
	grep -v '^#' deploy/metric-names.txt | sed '/^$/d' | sort >"$tmp/listed-names"
	if diff "$tmp/listed-names" "$tmp/scraped-names" >"$tmp/names.diff"; then
		say "the service exports exactly the $(wc -l <"$tmp/listed-names") listed rampart_* names"
	else
		fail "exported names differ from deploy/metric-names.txt (< listed, > scraped):"
		cat "$tmp/names.diff" >&2
	fi
}

# wait_for_data waits until Prometheus has scraped every request of the
# workload, then a few more seconds so every rule group has evaluated.
wait_for_data() {
	local want got i
	want=$(curl -s --max-time 10 "http://127.0.0.1:$metrics_port/metrics" |
		awk '/^rampart_http_requests_total/ { n += $NF } END { print n }')
	for ((i = 0; i < 60; i++)); do
		got=$(query 'sum(rampart_http_requests_total)' |
			jq -r '.data.result[0].value[1] // 0')
		((got >= want)) && break
		sleep 0.5
	done
	((got >= want)) || die "Prometheus has $got of $want requests after 30s"
	sleep 3
}

check_dashboard() {
	local board=deploy/grafana/dashboards/rampart.json n i title expr got
	local ok=0
	n=$(jq '[.panels[] | select(.type != "row") | .targets[]] | length' "$board")
	for ((i = 0; i < n; i++)); do
		title=$(jq -r "[.panels[] | select(.type != \"row\") | .title as \$t
			| .targets[] | \$t][$i]" "$board")
		expr=$(jq -r "[.panels[] | select(.type != \"row\") | .targets[].expr][$i]" "$board")
		# Grafana's variables, as the dashboard would fill them in.
		expr=${expr//"\$__rate_interval"/1m}
		expr=${expr//"\$__range"/5m}
		expr=${expr//"\$instance"/.*}
		got=$(series_count "$expr")
		if [[ $got =~ ^[1-9] ]]; then
			ok=$((ok + 1))
		else
			fail "dashboard panel \"$title\": $got series for: $expr"
		fi
	done

	got=$(curl -s -G --max-time 10 --data-urlencode 'match[]=rampart_build_info' \
		"$prom/api/v1/label/instance/values" | jq '.data | length')
	if [[ $got =~ ^[1-9] ]]; then
		ok=$((ok + 1))
	else
		fail "dashboard variable instance: no values"
	fi
	say "dashboard: $ok of $((n + 1)) queries return data"
}

check_alerts() {
	local names rules n i alert expr health got name used ok=0
	names=$(grep -v '^#' deploy/metric-names.txt | sed '/^$/d'; echo up)
	rules=$(curl -s --max-time 10 "$prom/api/v1/rules?type=alert")
	n=$(jq '[.data.groups[].rules[]] | length' <<<"$rules")
	((n > 0)) || fail "Prometheus loaded no alert rules"

	for ((i = 0; i < n; i++)); do
		alert=$(jq -r "[.data.groups[].rules[]][$i].name" <<<"$rules")
		expr=$(jq -r "[.data.groups[].rules[]][$i].query" <<<"$rules")
		health=$(jq -r "[.data.groups[].rules[]][$i] | \"\(.health) \(.lastError // \"\")\"" <<<"$rules")
		if [[ $health != "ok "* ]]; then
			fail "alert $alert: rule health $health"
			continue
		fi
		got=$(series_count "$expr")
		if [[ $got == error* ]]; then
			fail "alert $alert: $got"
			continue
		fi

		# The condition may rightly be empty; each metric it reads may not.
		used=$(grep -oE '[a-zA-Z_:][a-zA-Z0-9_:]*' <<<"$expr" | sort -u |
			grep -Fxf <(printf '%s\n' "$names") || true)
		[[ -n $used ]] || fail "alert $alert reads no known metric: $expr"
		local inner_ok=1 summary=""
		for name in $used; do
			got=$(series_count "$name")
			summary+=" $name($got)"
			[[ $got =~ ^[1-9] ]] || inner_ok=0
		done
		if ((inner_ok)); then
			ok=$((ok + 1))
			printf '  %-30s condition: %s series; reads%s\n' "$alert" \
				"$(series_count "$expr")" "$summary" >>"$tmp/alerts.txt"
		else
			fail "alert $alert: a metric it reads has no data:$summary"
		fi
	done
	say "alerts: $ok of $n rules evaluate cleanly on metrics that have data"
	cat "$tmp/alerts.txt" >&2 2>/dev/null || true
}

main() {
	local started=$SECONDS
	say "building bin/rampart"
	go build -trimpath -o bin/rampart ./cmd/rampart

	export RAMPART_ENV=development
	# Every layer on, whatever the calling environment says: the check
	# needs the metrics each layer exports.
	export RAMPART_RATE_LIMITS=on RAMPART_INSPECT=on RAMPART_RATE_LIMIT_SCALE=1
	unset RAMPART_TRUSTED_PROXIES
	RAMPART_JWT_KEYS="e2e:$(random_key)"
	RAMPART_PII_KEYS="e2e:$(random_key)"
	RAMPART_BLIND_INDEX_KEY=$(random_key)
	RAMPART_HMAC_KEY=$(random_key)
	export RAMPART_JWT_KEYS RAMPART_PII_KEYS RAMPART_BLIND_INDEX_KEY RAMPART_HMAC_KEY

	setup_database
	start_service
	start_prometheus
	: >"$tmp/workload.txt"
	workload
	say "workload (method, path, status):"
	cat "$tmp/workload.txt" >&2
	wait_for_data

	check_scrape
	check_dashboard
	check_alerts

	if ((failures > 0)); then
		die "$failures check(s) failed after $((SECONDS - started))s"
	fi
	say "passed in $((SECONDS - started))s"
}

main "$@"
