#!/usr/bin/env bash
# pgbouncer.sh is `make test-pgbouncer`: run Rampart behind PgBouncer in
# transaction pooling mode, in front of the PostgreSQL scripts/pg.sh finds.
# PgBouncer sits only on the rampart_api path (it knows no other user):
# migrations and test databases need a direct admin connection.
#
#   scripts/pgbouncer.sh [all]         the service check, then the suites
#   scripts/pgbouncer.sh service       seed and serve a throwaway database
#                                      through PgBouncer, exercise the API
#                                      with curl, check nothing leaks
#   scripts/pgbouncer.sh tests [ARGS]  the Go suites with rampart_api
#                                      through PgBouncer (ARGS go to
#                                      scripts/test.sh); needs
#                                      internal/dbtest to read
#                                      RAMPART_TEST_API_URL
#
# pgx prepares and caches named statements on the connection by default;
# in transaction mode the next transaction may run on another server
# connection, where they do not exist. PgBouncer 1.21 and later track
# them (max_prepared_statements); before that the client must not name
# statements. PGBOUNCER_EXEC_MODE picks pgx's default_query_exec_mode for
# rampart_api connections:
#   auto (default)  none with PgBouncer >= 1.21, else cache_describe
#   default         pgx's own default (cache_statement), to see it fail
#   any pgx mode    cache_statement, cache_describe, describe_exec, exec,
#                   simple_protocol
#
# Without pgbouncer installed it is installed with apt when running as
# root, and the run is skipped otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# pg.sh lends rampart_pg_url and as_owner; dburl.sh the URL surgery.
# shellcheck source=scripts/pg.sh
. scripts/pg.sh
# shellcheck source=scripts/dburl.sh
. scripts/dburl.sh

say() {
	printf 'pgbouncer.sh: %s\n' "$*" >&2
}

work=
db_name=
admin_url=
failures=0

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [[ -n $work ]]; then
		stop_pidfile "$work/serve.pid"
		stop_pidfile "$work/pgbouncer.pid"
		if ((status != 0)); then
			show_tail "$work/serve.log" service
			show_tail "$work/pgbouncer.log" PgBouncer
		fi
	fi
	if [[ -n $db_name ]]; then
		psql -w -X -q -d "$admin_url" \
			-c "drop database if exists $db_name with (force)" || true
	fi
	[[ -n $work ]] && rm -rf "$work"
	exit "$status"
}

show_tail() {
	[[ -s $1 ]] || return 0
	say "last lines of the $2 log:"
	tail -n 15 "$1" >&2 || true
}

# stop_pidfile ends the process whose id a pidfile holds, if it still runs.
stop_pidfile() {
	local file=$1 pid i
	[[ -f $file ]] || return 0
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# free_port prints a port below the kernel's ephemeral range that nothing
# answers on and that is not among the arguments.
free_port() {
	local low=20000 high p i taken
	high=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range \
		2>/dev/null || echo 32767)
	((high > low + 1000)) || low=10000
	for ((i = 0; i < 100; i++)); do
		p=$((low + RANDOM % (high - low)))
		for taken in "$@"; do
			[[ $p == "$taken" ]] && continue 2
		done
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	say "no free port found"
	return 1
}

# ensure_pgbouncer installs PgBouncer when missing and we may; it returns
# 1 when the run must be skipped.
ensure_pgbouncer() {
	command -v pgbouncer >/dev/null && return 0
	if ((EUID != 0)); then
		say "SKIP: pgbouncer is not installed and this is not root;"
		say "install it (apt-get install pgbouncer) and run again"
		return 1
	fi
	say "installing pgbouncer with apt"
	apt-get install -y pgbouncer >/dev/null
}

# version_at_least A B: is dotted version A at least B?
version_at_least() {
	[[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1) == "$2" ]]
}

start_pgbouncer() {
	local port=$1 target=$2 version=$3 extra=
	if version_at_least "$version" 1.21; then
		extra="max_prepared_statements = 100"
	fi
	# Only rampart_api may log in through the pooler; trust still needs
	# the name in the auth file.
	printf '"rampart_api" ""\n' >"$work/userlist.txt"
	cat >"$work/pgbouncer.ini" <<-EOF
		[databases]
		* = $target

		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $port
		unix_socket_dir =
		auth_type = trust
		auth_file = $work/userlist.txt
		pool_mode = transaction
		; Fewer server connections than the service's pool has clients, so
		; consecutive transactions of one client land on different ones.
		default_pool_size = 3
		max_client_conn = 1000
		logfile = $work/pgbouncer.log
		pidfile = $work/pgbouncer.pid
		$extra
	EOF
	touch "$work/pgbouncer.log"
	if ((EUID == 0)); then
		# Its pidfile and log are written as postgres.
		chown postgres: "$work" "$work/pgbouncer.log"
	fi
	# PgBouncer refuses to run as root: as_owner runs it as postgres then.
	as_owner pgbouncer -d "$work/pgbouncer.ini"

	local i
	for ((i = 0; i < 50; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	say "pgbouncer did not start"
	return 1
}

# exec_mode prints the default_query_exec_mode to ask pgx for, or nothing.
exec_mode() {
	local version=$1 mode=${PGBOUNCER_EXEC_MODE:-auto}
	case $mode in
	default) ;;
	auto)
		if ! version_at_least "$version" 1.21; then
			printf 'cache_describe'
		fi
		;;
	*) printf '%s' "$mode" ;;
	esac
}

random_key() {
	head -c 32 /dev/urandom | base64 | tr -d '\n'
}

# check NAME WANT GOT: record one expectation.
check() {
	if [[ $2 == "$3" ]]; then
		printf '  ok    %s\n' "$1"
	else
		printf '  FAIL  %s: got %s, want %s\n' "$1" "$3" "$2"
		failures=$((failures + 1))
	fi
}

# api METHOD PATH [TOKEN [BODY]]: print the body, then the status on its
# own last line.
api() {
	local args=(-s -X "$1" -w '\n%{http_code}\n' "$base$2"
		-H "X-Request-Id: ${reqid:-pgb-$RANDOM$RANDOM}")
	[[ -n ${3:-} ]] && args+=(-H "Authorization: Bearer $3")
	[[ -n ${4:-} ]] && args+=(-H 'Content-Type: application/json' -d "$4")
	curl "${args[@]}"
}

status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

# serve_through starts the service on the pooled URL and waits for it.
serve_through() {
	local url=$1 i
	DATABASE_URL=$url "$work/rampart" serve >>"$work/serve.log" 2>&1 &
	echo $! >"$work/serve.pid"
	for ((i = 0; i < 100; i++)); do
		if curl -sf -o /dev/null "$base/readyz"; then
			return 0
		fi
		kill -0 "$(<"$work/serve.pid")" 2>/dev/null || break
		sleep 0.1
	done
	say "the service did not become ready behind pgbouncer"
	return 1
}

# exercise walks the API as a demo owner: every step is one or more
# request transactions through PgBouncer.
exercise() {
	local r token mid cid item order i bad=0 reqid
	r=$(api POST /v1/auth/login "" \
		'{"email":"owner@acme-coffee.example.test","password":"demo-Founder-pass-2024!"}')
	check "login" 200 "$(status_of "$r")"
	token=$(body_of "$r" | jq -r .access_token)

	r=$(api GET /v1/merchants "$token")
	check "list merchants" 200 "$(status_of "$r")"
	mid=$(body_of "$r" | jq -r '.data[0].id')

	r=$(api POST "/v1/merchants/$mid/items" "$token" "$(jq -nc \
		--arg sku "PGB-$RANDOM$RANDOM" \
		'{sku: $sku, title: "Pooled mug", price_cents: 1234, stock: 10, published: true}')")
	check "create item" 201 "$(status_of "$r")"
	item=$(body_of "$r" | jq -r .id)

	r=$(api GET "/v1/merchants/$mid/customers?limit=5" "$token")
	check "list customers" 200 "$(status_of "$r")"
	cid=$(body_of "$r" | jq -r '.data[0].id')

	reqid=pgb-read-$RANDOM$RANDOM
	r=$(api GET "/v1/merchants/$mid/customers/$cid" "$token")
	check "read customer" 200 "$(status_of "$r")"
	check "read customer is audited" 1 "$(admin_sql "
select count(*) from security.customer_access_audit
where request_id = '$reqid' and kind = 'view' and result = 'allowed'")"
	reqid=

	r=$(api POST "/v1/merchants/$mid/orders" "$token" "$(jq -nc \
		--arg c "$cid" --arg i "$item" --arg ref "pgb-$RANDOM$RANDOM" \
		'{customer_id: $c, external_ref: $ref,
		  lines: [{item_id: $i, quantity: 2}]}')")
	check "create order" 201 "$(status_of "$r")"
	order=$(body_of "$r" | jq -r .total_cents)
	check "order total computed in the database" 2468 "$order"

	r=$(api GET "/v1/market?limit=5")
	check "browse market" 200 "$(status_of "$r")"

	# Many short transactions from several clients at once, so statements
	# prepared on one server connection are looked for on another.
	local pids
	for ((i = 0; i < 40; i++)); do
		pids=()
		api GET "/v1/merchants/$mid/customers/$cid" "$token" | tail -n 1 &
		pids+=($!)
		api GET "/v1/merchants/$mid/items?limit=5" "$token" | tail -n 1 &
		pids+=($!)
		api GET /v1/market | tail -n 1 &
		pids+=($!)
		api GET /readyz | tail -n 1 &
		pids+=($!)
		# Not a bare wait: the service is a child of this shell too.
		wait "${pids[@]}"
	done >"$work/statuses"
	bad=$(grep -cv '^200$' "$work/statuses" || true)
	check "160 concurrent requests, non-200 answers" 0 "$bad"
	if ((bad > 0)); then
		sort "$work/statuses" | uniq -c | sed 's/^/        /'
	fi
}

admin_sql() {
	psql -w -X -Atq -v ON_ERROR_STOP=1 -d "$db_admin_url" -c "$1"
}

# pooled_sql runs statements as rampart_api through PgBouncer, one
# transaction each, over whatever server connections it hands out.
pooled_sql() {
	psql -w -X -Atq -d "$pooled_url_plain" -c "$1" 2>&1 || true
}

# check_no_leak: after the load, no server connection PgBouncer hands out
# carries a request role or claims: rampart_api outside a request reads
# nothing.
check_no_leak() {
	local i out leaked=0 denied=0
	for ((i = 0; i < 30; i++)); do
		out=$(pooled_sql "select concat_ws('|', current_user,
			current_setting('role'),
			coalesce(current_setting('request.jwt.claims', true), ''))")
		[[ $out == 'rampart_api|none|' ]] || leaked=$((leaked + 1))
		out=$(pooled_sql "select count(*) from app.merchants")
		[[ $out == *"permission denied"* ]] && denied=$((denied + 1))
	done
	check "pooled connections left with a request role or claims" 0 "$leaked"
	check "pooled rampart_api reads of app.merchants denied" 30 "$denied"
}

# check_block_notify: a block written and announced with NOTIFY reaches
# the service. The listener's LISTEN goes through PgBouncer too; in
# transaction mode it lands on a server connection it does not keep, so
# only the periodic reload (30 s) picks the block up. This is reported,
# not failed: it is a limit of the deployment, not of this build.
check_block_notify() {
	local ip=203.0.113.77 start took code
	code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/market" \
		-H "X-Forwarded-For: $ip")
	check "before the block, $ip is served" 200 "$code"
	admin_sql "
insert into security.blocked_ips (network, source, reason)
values ('$ip/32', 'admin', 'pgbouncer.sh notify check');
select pg_notify('rampart_blocks', 'ip');" >/dev/null
	start=$(date +%s%N)
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/market" \
			-H "X-Forwarded-For: $ip")
		took=$((($(date +%s%N) - start) / 1000000))
		[[ $code == 403 ]] && break
		if ((took > 40000)); then
			break
		fi
		sleep 0.2
	done
	if [[ $code != 403 ]]; then
		check "a NOTIFYed block is enforced within 40s" 403 "$code"
	elif ((took > 2000)); then
		printf '  WARN  a NOTIFYed block took %d ms to be enforced (LISTEN '\
'does not survive transaction pooling; only the 30 s reload caught it)\n' \
			"$took"
	else
		printf '  ok    a NOTIFYed block was enforced after %d ms\n' "$took"
	fi
}

service_check() {
	local version=$1 pgb_port=$2 mode api_port metrics_port
	mode=$(exec_mode "$version")
	db_name=rampart_pgb_$$_$RANDOM
	db_admin_url=$(dburl_with_db "$db_name" "$admin_url")
	pooled_url_plain=$(dburl_with_user rampart_api "$db_admin_url")
	pooled_url_plain=${pooled_url_plain/@*\//@127.0.0.1:$pgb_port/}
	local pooled_url=$pooled_url_plain
	if [[ -n $mode ]]; then
		if [[ $pooled_url == *\?* ]]; then
			pooled_url+="&default_query_exec_mode=$mode"
		else
			pooled_url+="?default_query_exec_mode=$mode"
		fi
	fi

	say "building bin/rampart"
	go build -trimpath -o bin/rampart ./cmd/rampart
	cp bin/rampart "$work/rampart"

	psql -w -X -q -v ON_ERROR_STOP=1 -d "$admin_url" \
		-c "create database $db_name"
	export RAMPART_ENV=production
	export RAMPART_JWT_KEYS RAMPART_PII_KEYS RAMPART_BLIND_INDEX_KEY \
		RAMPART_HMAC_KEY
	RAMPART_JWT_KEYS="pgb:$(random_key)"
	RAMPART_PII_KEYS="p1:$(random_key)"
	RAMPART_BLIND_INDEX_KEY=$(random_key)
	RAMPART_HMAC_KEY=$(random_key)
	export RAMPART_TRUSTED_PROXIES=127.0.0.1/32
	export RAMPART_DB_MAX_CONNS=8
	# The limits are not under test, and a burst of customer reads would
	# exceed them.
	export RAMPART_RATE_LIMITS=off
	api_port=$(free_port "$pgb_port")
	metrics_port=$(free_port "$pgb_port" "$api_port")
	export RAMPART_LISTEN=127.0.0.1:$api_port
	export RAMPART_METRICS_LISTEN=127.0.0.1:$metrics_port
	base=http://$RAMPART_LISTEN

	say "migrating $db_name directly (migrations hold a session lock)"
	DATABASE_URL=$db_admin_url "$work/rampart" migrate up >/dev/null
	say "seeding and serving through pgbouncer as rampart_api" \
		"(default_query_exec_mode: ${mode:-pgx default})"
	local seeded=0
	DATABASE_URL=$pooled_url "$work/rampart" seed demo >"$work/seed.log" \
		2>&1 || seeded=$?
	check "seed demo through pgbouncer (exit status)" 0 "$seeded"
	if ((seeded != 0)); then
		tail -n 3 "$work/seed.log" | sed 's/^/        /'
		return 0
	fi
	if ! serve_through "$pooled_url"; then
		check "serve through pgbouncer" ready "not ready"
		tail -n 3 "$work/serve.log" | sed 's/^/        /'
		return 0
	fi

	printf 'Rampart through PgBouncer %s, pool_mode=transaction, ' "$version"
	printf 'default_query_exec_mode=%s:\n' "${mode:-pgx default}"
	exercise
	check_no_leak
	check_block_notify
	local errors
	errors=$(grep -c '"level":"error"' "$work/serve.log" || true)
	check "error lines in the service log" 0 "$errors"
	if ((errors > 0)); then
		grep '"level":"error"' "$work/serve.log" | jq -r '.error // .msg' |
			cut -c1-160 | sort | uniq -c | sort -rn | head -n 5 |
			sed 's/^/        /'
	fi
}

# test_suites runs the Go suites with rampart_api through PgBouncer.
test_suites() {
	local version=$1 pgb_port=$2 mode url
	shift 2
	if ! grep -q RAMPART_TEST_API_URL internal/dbtest/dbtest.go; then
		say "internal/dbtest does not read RAMPART_TEST_API_URL yet:"
		say "the suites cannot put PgBouncer on the rampart_api path only."
		return 2
	fi
	mode=$(exec_mode "$version")
	url="postgres://127.0.0.1:$pgb_port/${mode:+?default_query_exec_mode=$mode}"
	say "running the suites with RAMPART_TEST_API_URL=$url"
	RAMPART_TEST_DATABASE_URL=$admin_url RAMPART_TEST_API_URL=$url \
		bash scripts/test.sh "$@"
}

main() {
	local what=${1:-all}
	[[ $# -gt 0 ]] && shift
	case $what in
	all | service | tests) ;;
	*)
		say "usage: pgbouncer.sh [all|service|tests [go test args]]"
		exit 2
		;;
	esac
	ensure_pgbouncer || exit 0
	for t in psql jq curl; do
		command -v "$t" >/dev/null || {
			say "$t is needed"
			exit 1
		}
	done

	local version pgb_port target
	version=$(pgbouncer --version | awk 'NR == 1 { print $2 }')
	admin_url=$(rampart_pg_url)
	local _scheme _userinfo _hosts _path _query
	dburl_split "$admin_url"
	target="host=${_hosts%:*} port=${_hosts##*:}"
	[[ $_hosts == *:* ]] || target="host=$_hosts port=5432"

	work=$(mktemp -d "${TMPDIR:-/tmp}/rampart-pgbouncer.XXXXXX")
	chmod 755 "$work"
	trap cleanup EXIT INT TERM
	pgb_port=$(free_port)
	start_pgbouncer "$pgb_port" "$target" "$version"
	say "PgBouncer $version on 127.0.0.1:$pgb_port in front of $target"

	if [[ $what != tests ]]; then
		service_check "$version" "$pgb_port"
		stop_pidfile "$work/serve.pid"
	fi
	local suites=0
	if [[ $what != service ]]; then
		test_suites "$version" "$pgb_port" "$@" || suites=$?
		if ((suites == 2)); then
			[[ $what == tests ]] && exit 1
			suites=0
		fi
	fi
	if ((failures > 0 || suites != 0)); then
		say "$failures checks failed; suites exit status $suites"
		exit 1
	fi
}

main "$@"
