#!/usr/bin/env bash
# bench.sh is `make bench` and `make bench-scale`: load the marketplace
# dataset into a fresh database, then let bench/ (a vegeta load generator)
# measure the hot endpoints on a full and a stripped server, and pgbench
# the same SQL, and write bench/results/<name>.{json,md,png}.
#
#   make bench         the dataset as loaded; 10 thousand audit rows
#   make bench-scale   that, then customers and orders x10 with 10 million
#                      audit rows, compared with it (twice as long)
#
# The database is rampart_bench on the server scripts/pg.sh finds; it is
# dropped and made again on every run. Loading the dataset through the API
# takes about two minutes and scaling it a few more, so each stage is kept
# as a template database (rampart_bench_tpl, rampart_bench_tpl_x10, and
# rampart_bench_tpl_small for BENCH_SEED=small) and reused while the
# migrations, the seed code, bench/sql and the dataset are unchanged;
# BENCH_FRESH=1 rebuilds them, and dropping them frees the disk.
#
# The benchmark reads customers far beyond the customer-data quota of a
# person (200 records in 10 minutes), so the bench database's quota is
# raised to 100 million records and a million reveals. The load comes from
# one address and 16 accounts, so the full-stack server's rate limits are
# multiplied (RAMPART_RATE_LIMIT_SCALE, 10000 by default): every request
# is still checked, none is refused. Any refusal (429) is counted and
# reported, never as a success.
#
# Environment:
#   BENCH_DURATION     each measured run (default 30s)
#   BENCH_CONCURRENCY  requests in flight, and pgbench clients (default 16)
#   BENCH_USERS        seller owners the load acts as (default 16)
#   BENCH_SEED         full (default) or small: the first BENCH_SELLERS
#                      sellers of the dataset (default 40), for a quick run
#   BENCH_SCALE        1 (make bench) or the factor of make bench-scale (10)
#   BENCH_AUDIT_ROWS   audit rows of a scale run (default 10000000)
#   BENCH_BASELINE     keep: a scale run compares with the latest.json there
#                      is instead of running the base benchmark first
#   BENCH_SCENARIOS    comma-separated scenarios to run (default all)
#   BENCH_RATE_LIMIT_SCALE  the full stack's RAMPART_RATE_LIMIT_SCALE
#                      (default 10000; 1 keeps the default limits)
#   BENCH_FULL_ENV     extra NAME=VALUE,... for the full-stack server only
#   BENCH_DATA         the dataset folder (default ../shared/data/marketplace)
#   BENCH_FRESH        1 rebuilds the template databases
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/dburl.sh
. scripts/dburl.sh

data_dir=${BENCH_DATA:-../shared/data/marketplace}
duration=${BENCH_DURATION:-30s}
concurrency=${BENCH_CONCURRENCY:-16}
users=${BENCH_USERS:-16}
seed_mode=${BENCH_SEED:-full}
sellers=${BENCH_SELLERS:-40}
scale=${BENCH_SCALE:-1}
audit_rows=${BENCH_AUDIT_ROWS:-10000000}

# The template of the loaded dataset; a scale run's is this with _x10.
template=rampart_bench_tpl
if [[ $seed_mode == small ]]; then
	template=rampart_bench_tpl_small
fi

# The audit table holds this many rows at the start of a run that is not
# scaled: the "ten thousand" of the quota-check comparison.
base_audit_rows=10000
# The customer-data quota window of the bench database (see prepare).
quota_window='10 seconds'

say() {
	printf 'bench.sh: %s\n' "$*" >&2
}

check_inputs() {
	if [[ ! -f $data_dir/olist_sellers_dataset.csv ]]; then
		say "skipped: the marketplace dataset is not in $data_dir"
		say "(set BENCH_DATA to the folder holding olist_*.csv)"
		exit 0
	fi
	case $seed_mode in
	full | small) ;;
	demo)
		say "BENCH_SEED=demo is not offered: the demo has 3 merchants of 10"
		say "customers, too few to spread a load over. BENCH_SEED=small loads"
		say "the dataset's first $sellers sellers in a few seconds instead."
		exit 2
		;;
	*)
		say "BENCH_SEED must be full or small"
		exit 2
		;;
	esac
	local tool
	for tool in psql pgbench; do
		if ! command -v "$tool" >/dev/null; then
			say "$tool is needed (Debian: apt-get install postgresql-client)"
			exit 1
		fi
	done
	if ((scale > 1)) && [[ ${BENCH_BASELINE:-} == keep &&
		! -f bench/results/latest.json ]]; then
		say "BENCH_BASELINE=keep needs bench/results/latest.json: run make bench"
		exit 1
	fi
}

build() {
	local version
	version=$(git describe --always --dirty 2>/dev/null || echo dev)
	say "building bin/rampart ($version) and bin/rampart-bench"
	go build -trimpath -ldflags "-X main.version=$version" \
		-o bin/rampart ./cmd/rampart
	go build -o bin/rampart-bench ./bench
}

# fixed_key prints a base64 key of 32 bytes made from a name. The bench
# database is throwaway and its keys are not secrets; they are fixed so a
# template's sealed data and the servers' tokens agree from run to run.
fixed_key() {
	printf '%-32s' "rampart-bench-$1" | head -c 32 | base64 | tr -d '\n'
}

export_keys() {
	RAMPART_JWT_KEYS="bench1:$(fixed_key jwt)"
	RAMPART_PII_KEYS="bench1:$(fixed_key pii)"
	RAMPART_BLIND_INDEX_KEY=$(fixed_key blind-index)
	RAMPART_HMAC_KEY=$(fixed_key hmac)
	export RAMPART_JWT_KEYS RAMPART_PII_KEYS RAMPART_BLIND_INDEX_KEY \
		RAMPART_HMAC_KEY
}

admin_sql() {
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$admin_url" "$@"
}

# db_comment prints the comment of database $1; nothing if it has none or
# does not exist.
db_comment() {
	admin_sql -At -v name="$1" <<-'SQL'
		select coalesce(shobj_description(oid, 'pg_database'), '')
		from pg_database where datname = :'name'
	SQL
}

drop_db() {
	admin_sql -v name="$1" <<-'SQL'
		select format('drop database if exists %I with (force)', :'name') \gexec
	SQL
}

# clone_db makes database $2 a copy of template $1. From PostgreSQL 15 on,
# by copying files: the default there writes the whole copy through the
# WAL, whose checkpoints would then land in the middle of the benchmark.
clone_db() {
	drop_db "$2"
	admin_sql -v tpl="$1" -v name="$2" <<-'SQL'
		select format('create database %I template %I', :'name', :'tpl')
		       || case when current_setting('server_version_num')::int >= 150000
		               then ' strategy file_copy' else '' end \gexec
	SQL
}

# fingerprint names what a template was built from: its arguments, the
# migrations, the seed code, bench/sql and the dataset.
fingerprint() {
	local sum=sha256sum
	command -v sha256sum >/dev/null || sum="shasum -a 256"
	{
		printf '%s\n' "$@"
		cat migrations/*.sql internal/seed/*.go bench/sql/*.sql
		cksum "$data_dir"/*.csv
	} | $sum | cut -c1-16
}

# ensure_template keeps template $1 if it was built from fingerprint $2,
# and otherwise builds it with the function $3, which fills
# rampart_bench_build.
ensure_template() {
	local name=$1 key=$2 builder=$3
	if [[ ${BENCH_FRESH:-} != 1 && $(db_comment "$name") == "rampart-bench $key" ]]; then
		say "reusing template $name"
		return
	fi
	say "building template $name"
	drop_db "$name"
	"$builder"
	admin_sql -v name="$name" -v key="rampart-bench $key" <<-'SQL'
		select format('alter database rampart_bench_build rename to %I', :'name') \gexec
		select format('comment on database %I is %L', :'name', :'key') \gexec
	SQL
}

build_seeded() {
	local url api
	url=$(dburl_with_db rampart_bench_build "$admin_url")
	api=$(dburl_with_user rampart_api "$url")
	drop_db rampart_bench_build
	admin_sql -c 'create database rampart_bench_build'
	DATABASE_URL=$url bin/rampart migrate up
	say "loading the marketplace dataset ($seed_mode) through the API's code"
	if [[ $seed_mode == small ]]; then
		DATABASE_URL=$api RAMPART_ENV=development \
			bin/rampart-bench seed -sellers "$sellers" "$data_dir"
	else
		DATABASE_URL=$api RAMPART_ENV=development \
			bin/rampart seed marketplace "$data_dir"
	fi
}

build_scaled() {
	local url
	url=$(dburl_with_db rampart_bench_build "$admin_url")
	clone_db "$template" rampart_bench_build
	say "cloning customers and orders x$scale"
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$url" -v factor="$scale" \
		-f bench/sql/scale.sql
	say "adding $audit_rows audit rows"
	add_audit_rows "$url" "$audit_rows"
}

# add_audit_rows tops the audit table of database URL $1 up to $2 rows.
add_audit_rows() {
	local url=$1 want=$2 have
	have=$(psql -w -X -At -d "$url" \
		-c 'select count(*) from security.customer_access_audit')
	if ((want > have)); then
		psql -w -X -q -v ON_ERROR_STOP=1 -d "$url" -v rows=$((want - have)) \
			-f bench/sql/audit.sql
	fi
}

# prepare makes rampart_bench a fresh copy of the data at factor $1.
prepare() {
	local factor=$1 seed_key
	seed_key=$(fingerprint "$seed_mode" "$sellers")
	ensure_template "$template" "$seed_key" build_seeded
	if ((factor > 1)); then
		ensure_template "${template}_x$factor" \
			"$(fingerprint "$seed_key" "$factor" "$audit_rows")" build_scaled
		clone_db "${template}_x$factor" rampart_bench
	else
		clone_db "$template" rampart_bench
		add_audit_rows "$bench_url" "$base_audit_rows"
	fi
	# The quota window is cut to 10 seconds, and the bench waits it out
	# between the runs of a scenario that reads customers: the quota check
	# counts the reader's rows in the window, so with the default 10
	# minutes each run would also count the previous run's reads and be
	# slower for coming later (stripped, full, pgbench, in that order).
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$bench_url" -c \
		"update security.customer_access_limits set records = 100000000, reveals = 1000000, records_window = interval '$quota_window'"
	# Planner statistics, as autovacuum would have gathered them long ago
	# on a database in service. A clone starts with empty activity
	# counters, so autovacuum would not analyze it before the run, and a
	# template loaded through the API has none of its own: without this the
	# base run planned every query blind while the scaled data, analyzed
	# when it was built, did not, and autoanalyze could start mid-run.
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$bench_url" -c "vacuum (analyze)"
	# Whatever preparing left to write goes to disk now, not mid-run.
	admin_sql -c checkpoint
}

label() {
	local what="the marketplace dataset"
	if [[ $seed_mode == small ]]; then
		what="the first $sellers sellers of the marketplace dataset"
	fi
	if (($1 > 1)); then
		what+=" with customers and orders x$1"
	fi
	printf '%s' "$what"
}

# stage benchmarks the data at factor $1: latest.* at 1, scale.* (against
# latest.json) otherwise.
stage() {
	local factor=$1 started=$SECONDS
	prepare "$factor"
	local args=(run -server bin/rampart -admin-url "$bench_url"
		-api-url "$(dburl_with_user rampart_api "$bench_url")"
		-duration "$duration" -concurrency "$concurrency" -users "$users"
		-out bench/results -label "$(label "$factor")"
		-scenarios "${BENCH_SCENARIOS:-}" -full-env "${BENCH_FULL_ENV:-}"
		-rate-limit-scale "${BENCH_RATE_LIMIT_SCALE:-10000}")
	if ((factor > 1)); then
		args+=(-name scale -baseline bench/results/latest.json)
	else
		args+=(-name latest)
	fi
	say "database ready after $((SECONDS - started))s; benchmarking"
	bin/rampart-bench "${args[@]}"
}

main() {
	check_inputs
	build
	export_keys

	admin_url=$(bash scripts/pg.sh)
	bench_url=$(dburl_with_db rampart_bench "$admin_url")
	local started=$SECONDS
	if ((scale > 1)); then
		# The base run goes first, on this machine and now, so the
		# comparison is not with figures from another time or machine.
		if [[ ${BENCH_BASELINE:-} != keep ]]; then
			stage 1
		fi
		stage "$scale"
		say "dropping the scaled copy rampart_bench (its template stays)"
		drop_db rampart_bench
	else
		stage 1
	fi
	say "done in $((SECONDS - started))s (plus the build)"
}

main "$@"
