#!/usr/bin/env bash
# sqlmap.sh points sqlmap at a throwaway Rampart: a fresh database with the
# demo loaded, served on a free port with rate limits off, attacked as a
# demo owner (and as a platform admin at aal2 on the admin reads) on every
# GET operation that takes query parameters and on two JSON bodies. It
# fails when sqlmap identifies an injection point, and cleans up either way.
#
# Without sqlmap it tries `apt-get install -y sqlmap` when root, and else
# says so and exits 0.
#
# sqlmap is to find injection in the handlers and SQL, so the service's
# edge defences are kept out of its way: attack-signature inspection is off
# (RAMPART_INSPECT=off; SQLMAP_INSPECT=on scans the whole stack instead),
# and the server trusts 127.0.0.1 as a proxy while every sqlmap request
# names a client address of its own (a fixed one per endpoint, a random one
# per payload with the xforwardedfor tamper), so that no block after failed
# logins stops a scan halfway. Blocks are lifted before each endpoint all
# the same, and an endpoint whose scan met refusals is marked as such.
#
# Environment:
#   SQLMAP_BUDGET    seconds for all the scans together (default 300)
#   SQLMAP_ENDPOINT  seconds for one endpoint at most (default 60)
#   SQLMAP_LEVEL     sqlmap --level (default 2)
#   SQLMAP_RISK      sqlmap --risk (default 1)
#   SQLMAP_INSPECT   on to keep attack-signature inspection (default off)
#   SQLMAP_KEEP      1 to keep sqlmap's logs (printed at the end)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/dburl.sh
. scripts/dburl.sh

budget=${SQLMAP_BUDGET:-300}
per_endpoint=${SQLMAP_ENDPOINT:-60}
level=${SQLMAP_LEVEL:-2}
risk=${SQLMAP_RISK:-1}
inspect=${SQLMAP_INSPECT:-off}

say() {
	printf 'sqlmap.sh: %s\n' "$*" >&2
}

ensure_sqlmap() {
	command -v sqlmap >/dev/null && return 0
	if ((EUID == 0)) && command -v apt-get >/dev/null; then
		say "sqlmap is not installed: apt-get install -y sqlmap"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q sqlmap >&2 ||
			{ apt-get update -q >&2 && apt-get install -y -q sqlmap >&2; } ||
			true
	fi
	command -v sqlmap >/dev/null
}

# fixed_key prints a throwaway base64 key, the same on every run, so that a
# failed run can be replayed against the database it leaves in the log.
fixed_key() {
	printf 'rampart-sqlmap-throwaway-key-%03d' "$1" | base64 | tr -d '\n'
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json_get prints field $1 of the JSON on stdin; a dotted path such as
# data.0.id walks objects and arrays.
json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for step in sys.argv[1].split("."):
    v = v[int(step)] if isinstance(v, list) else v[step]
print(v)' "$1"
}

tmp=
db=
admin_url=
server_pid=

cleanup() {
	local status=$?
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n $db ]]; then
		psql -w -X -q -d "$admin_url" \
			-c "drop database if exists $db with (force)" >/dev/null 2>&1 ||
			say "could not drop database $db"
	fi
	if [[ -n $tmp && ${SQLMAP_KEEP:-} == 1 ]]; then
		say "logs kept in $tmp"
	elif [[ -n $tmp ]]; then
		rm -rf "$tmp"
	fi
	exit "$status"
}

# start_server builds, creates and migrates the database, loads the demo,
# creates a platform admin and serves; it sets base, the server's URL.
start_server() {
	say "building bin/rampart"
	go build -trimpath -o bin/rampart ./cmd/rampart

	admin_url=$(bash scripts/pg.sh)
	db=rampart_sqlmap_$$
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "create database $db"
	migrate_url=$(dburl_with_db "$db" "$admin_url")
	api_url=$(dburl_with_user rampart_api "$migrate_url")

	export RAMPART_ENV=development RAMPART_RATE_LIMITS=off RAMPART_INSPECT=$inspect
	export RAMPART_TRUSTED_PROXIES=127.0.0.1/32 RAMPART_ACCESS_TTL=15m
	RAMPART_JWT_KEYS="sqlmap:$(fixed_key 1)"
	RAMPART_PII_KEYS="1:$(fixed_key 2)"
	RAMPART_BLIND_INDEX_KEY=$(fixed_key 3)
	RAMPART_HMAC_KEY=$(fixed_key 4)
	export RAMPART_JWT_KEYS RAMPART_PII_KEYS RAMPART_BLIND_INDEX_KEY RAMPART_HMAC_KEY

	say "migrating and seeding $db"
	DATABASE_URL=$migrate_url bin/rampart migrate up >&2
	DATABASE_URL=$api_url bin/rampart seed demo >"$tmp/seed.txt"
	admin_password=Tall-Orange-$RANDOM$RANDOM-Gate
	printf '%s\n' "$admin_password" |
		DATABASE_URL=$migrate_url bin/rampart admin create \
			--email admin@sqlmap.example.test >&2

	local port
	port=$(free_port)
	base=http://127.0.0.1:$port
	RAMPART_LISTEN=127.0.0.1:$port RAMPART_METRICS_LISTEN=127.0.0.1:$(free_port) \
		DATABASE_URL=$api_url bin/rampart serve >"$tmp/serve.log" 2>&1 &
	server_pid=$!
	local i
	for ((i = 0; i < 60; i++)); do
		curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	say "the server did not start; its log:"
	tail -n 30 "$tmp/serve.log" >&2
	return 1
}

login() {
	curl -fsS "$base/v1/auth/login" -H 'content-type: application/json' \
		-d "{\"email\":\"$1\",\"password\":\"$2\"}" | json_get access_token
}

# get prints the body of an authenticated GET.
get() {
	curl -fsS "$base$1" -H "authorization: Bearer $token"
}

# sign_in reads the first demo owner from the seed's output, signs in as
# it and as the admin (lifted to aal2 in the database, as a verified TOTP
# would), and finds ids for the query strings.
sign_in() {
	read -r owner_email owner_password < <(awk '$3 == "owner" { print $1, $2; exit }' "$tmp/seed.txt")
	token=$(login "$owner_email" "$owner_password")
	admin_token=$(login admin@sqlmap.example.test "$admin_password")
	sql "update auth.sessions s set aal = 'aal2', aal_at = now() + interval '1 hour'
		 from auth.users u where u.id = s.user_id and u.platform_role = 'platform_admin'" >/dev/null

	merchant=$(get /v1/merchants | json_get data.0.id)
	customer=$(get "/v1/merchants/$merchant/customers?limit=1" | json_get data.0.id)
	user=$(get /v1/me | json_get id)
}

# sql runs SQL in the scanned database as the superuser and prints the
# result, unaligned.
sql() {
	psql -w -X -Atq -v ON_ERROR_STOP=1 -d "$(dburl_with_db "$db" "$admin_url")" -c "$1"
}

# unblock lifts every live block, so that a block left by the scan of one
# endpoint cannot blind the next; it prints how many it lifted.
unblock() {
	sql "with lifted as (update security.blocked_ips set removed_at = now()
	                     where removed_at is null returning 1)
	     select count(*) from lifted, pg_notify('rampart_blocks', 'ip')"
}

# scan NAME TOKEN URL [DATA [SQLMAP-ARGS...]] runs sqlmap on one endpoint
# within what is left of the budget and records the outcome in
# $tmp/outcomes.
scan() {
	local name=$1 auth=$2 url=$3 data=${4:-}
	shift $(($# < 4 ? $# : 4))
	local left=$((deadline - SECONDS))
	if ((left < 15)); then
		printf '%-34s skipped: budget spent\n' "$name" >>"$tmp/outcomes"
		return 0
	fi
	local limit=$((left < per_endpoint ? left : per_endpoint))
	local lifted
	lifted=$(unblock)
	((lifted == 0)) || printf '%-34s note: %s block(s) lifted before it\n' \
		"$name" "$lifted" >>"$tmp/outcomes"
	((++endpoint))
	local args=(-u "$url" --batch --level "$level" --risk "$risk"
		--timeout 10 --retries 0 --time-sec 2 --skip-waf
		-H "X-Forwarded-For: 198.18.0.$endpoint" --tamper xforwardedfor
		--disable-coloring --flush-session --output-dir "$tmp/out")
	[[ -n $auth ]] && args+=(-H "Authorization: Bearer $auth")
	[[ -n $data ]] && args+=(--data "$data" -H "Content-Type: application/json")
	args+=("$@")

	say "scanning $name for at most ${limit}s"
	local start=$SECONDS status=0 log=$tmp/$name.log
	timeout "$limit" sqlmap "${args[@]}" >"$log" 2>&1 || status=$?
	local took=$((SECONDS - start)) outcome refused
	refused=$(grep -Eo '403 \(Forbidden\) - [0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)

	if grep -Eq 'identified the following injection point|is vulnerable' "$log"; then
		outcome="INJECTABLE"
		found=1
		grep -E -A12 'identified the following injection point' "$log" >&2 || true
	elif ((status == 124)); then
		outcome="incomplete: stopped after ${took}s"
	elif grep -q 'do not appear to be injectable' "$log"; then
		outcome="clean in ${took}s"
	else
		outcome="inconclusive (sqlmap exit $status) in ${took}s"
		grep -E '\[(WARNING|ERROR|CRITICAL)\]' "$log" | tail -n 5 >&2 || true
	fi
	if ((refused > 0)); then
		outcome+="; $refused answers were 403 (blocked or refused)"
	fi
	if grep -q 'might be injectable' "$log"; then
		outcome+="; heuristic warning: $(grep -m1 -o "[A-Z]* parameter '[^']*' might be injectable" "$log")"
	fi
	printf '%-34s %s\n' "$name" "$outcome" >>"$tmp/outcomes"
	still_signed_in "$name"
}

# still_signed_in warns when the scan lost its session or address, which
# would leave the rest of that scan blind, and signs in again.
still_signed_in() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/me" \
		-H "authorization: Bearer $token")
	if [[ $code != 200 ]]; then
		printf '%-34s warning: GET /v1/me then answered %s\n' "$1" "$code" >>"$tmp/outcomes"
		token=$(login "$owner_email" "$owner_password") || true
	fi
}

main() {
	if ! ensure_sqlmap; then
		say "sqlmap is not installed and could not be: skipping"
		say "(install it with apt-get install sqlmap or pip install sqlmap)"
		exit 0
	fi
	for tool in psql curl python3 timeout; do
		if ! command -v "$tool" >/dev/null; then
			say "$tool is needed; skipping"
			exit 0
		fi
	done

	tmp=$(mktemp -d)
	trap cleanup EXIT
	start_server
	sign_in
	: >"$tmp/outcomes"

	local m=/v1/merchants/$merchant when=since=2020-01-01T00:00:00Z\&until=2100-01-01T00:00:00Z
	found=0 endpoint=0
	deadline=$((SECONDS + budget))
	local began=$SECONDS
	# Every GET operation of api/openapi.yaml with query parameters (cursor
	# aside: it is signed, so every mutation of it is refused before any
	# SQL), then two bodies.
	scan market "" "$base/v1/market?category=coffee&min_price_cents=1&max_price_cents=100000&merchant_id=$merchant&limit=10"
	scan customers "$token" "$base$m/customers?limit=10&email=ana@example.test&phone=5550100&ids=$customer"
	scan orders "$token" "$base$m/orders?limit=10&status=pending"
	scan items "$token" "$base$m/items?limit=10"
	scan merchants "$token" "$base/v1/merchants?limit=10"
	scan members "$token" "$base$m/members?limit=10"
	scan listings "$token" "$base$m/market?limit=10"
	scan admin-events "$admin_token" "$base/v1/admin/security/events?kind=login_failed&severity=low&status=open&$when&ip=10.0.0.1&user_id=$user&limit=10"
	scan admin-audit "$admin_token" "$base/v1/admin/security/access-audit?merchant_id=$merchant&user_id=$user&customer_id=$customer&$when&limit=10"
	scan create-customer "$token" "$base$m/customers" \
		'{"name":"Sql Map","email":"sqlmap@example.test","external_ref":"sqlmap-1","phone":"+1 555 0142"}'
	# A wrong password is the login's "false" page: 401 is no reason to stop.
	scan login "" "$base/v1/auth/login" \
		"{\"email\":\"$owner_email\",\"password\":\"$owner_password\"}" \
		--ignore-code 401

	say "results (level $level, risk $risk, $((SECONDS - began))s of ${budget}s):"
	cat "$tmp/outcomes" >&2
	if ((found)); then
		say "sqlmap identified an injection point; logs: $tmp (kept)"
		tmp=
		exit 1
	fi
	say "no injection point identified"
}

main "$@"
