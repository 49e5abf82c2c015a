#!/usr/bin/env bash
# faults.sh is `make test-faults`: run the service under a steady load while
# its dependencies fail, one fault after the other, and check that nothing
# was half-applied or served unaudited. The load, the faults and the checks
# are the Go program in faults/ (build tag `faults`); this script gives it
# a world of its own to break:
#
#   - a throwaway PostgreSQL cluster under a temporary folder, on a free
#     port, run by the postgres OS user when we are root;
#   - a redis-server on another free port;
#   - bin/rampart, built from this checkout, migrated and seeded there.
#
# The machine's shared PostgreSQL and Redis are never touched. Everything
# is stopped and removed on exit, whatever happens. FAULTS_KEEP=1 keeps the
# temporary folder (logs, cluster) for a post-mortem.
#
# Environment:
#   FAULTS_TIMEOUT  hard bound on the whole run, default 300s
#   FAULTS_WORKERS  concurrent load workers, default 6
#   FAULTS_FREEZE   1 adds phase e: the cluster frozen with SIGSTOP for 8s
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# pg.sh, sourced, lends find_bindir and as_owner.
# shellcheck source=scripts/pg.sh
. scripts/pg.sh

say() {
	printf 'faults.sh: %s\n' "$*" >&2
}

work=
pg_bindir=

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	[[ -n $work && -d $work ]] || exit "$status"
	stop_pidfile "$work/serve.pid"
	stop_pidfile "$work/redis/redis.pid"
	if [[ -n $pg_bindir && -f $work/pg/PG_VERSION ]]; then
		thaw_cluster
		as_owner "$pg_bindir/pg_ctl" -D "$work/pg" -m immediate -w stop \
			>/dev/null 2>&1 || true
	fi
	if ((status != 0)); then
		show_tail "$work/pg.log" PostgreSQL
		show_tail "$work/serve.log" service
	fi
	if [[ ${FAULTS_KEEP:-} == 1 ]]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
	exit "$status"
}

show_tail() {
	[[ -s $1 ]] || return 0
	say "last lines of the $2 log:"
	tail -n 15 "$1" >&2 || true
}

# thaw_cluster resumes the cluster's processes, in case the fault program
# died while they were stopped (phase e), so that pg_ctl can stop them.
thaw_cluster() {
	local pm
	pm=$(head -n 1 "$work/pg/postmaster.pid" 2>/dev/null) || return 0
	[[ $pm =~ ^[0-9]+$ ]] || return 0
	kill -CONT "$pm" 2>/dev/null || return 0
	pkill -CONT -P "$pm" 2>/dev/null || true
}

# stop_pidfile ends the process whose id a pidfile holds, if it still runs.
stop_pidfile() {
	local file=$1 pid i
	[[ -f $file ]] || return 0
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# free_port prints a TCP port on 127.0.0.1 that nothing answers on and that
# is not among the arguments. It picks below the kernel's ephemeral range,
# where outgoing connections could hold the port and make a later bind
# fail.
free_port() {
	local low=20000 high p i taken
	high=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range \
		2>/dev/null || echo 32767)
	if ((high <= low + 1000)); then
		low=10000
	fi
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

need_tools() {
	local t
	for t in redis-server psql pg_isready; do
		if ! command -v "$t" >/dev/null; then
			say "$t is needed (apt-get install redis-server postgresql)"
			return 1
		fi
	done
	if ! pg_bindir=$(find_bindir /nonexistent); then
		say "no initdb/pg_ctl found (apt-get install postgresql)"
		return 1
	fi
	if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
		say "running as root needs a postgres OS user to run the cluster"
		return 1
	fi
}

start_cluster_in() {
	local port=$1
	say "creating a private cluster in $work/pg (port $port)"
	mkdir -p "$work/pg" "$work/sock"
	touch "$work/pg.log"
	if ((EUID == 0)); then
		chown postgres: "$work/pg" "$work/sock" "$work/pg.log"
	fi
	chmod 700 "$work/pg"
	as_owner "$pg_bindir/initdb" -D "$work/pg" -A trust -U postgres \
		-E UTF8 --locale=C --no-sync >>"$work/pg.log" 2>&1
	cat >>"$work/pg/postgresql.conf" <<-EOF

		# Added by scripts/faults.sh: a cluster that exists to be broken.
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$work/sock'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 100
	EOF
	as_owner "$pg_bindir/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -t 60 \
		start >/dev/null
}

start_redis_in() {
	local port=$1
	mkdir -p "$work/redis"
	# The Go program restarts Redis from this same file.
	cat >"$work/redis/redis.conf" <<-EOF
		bind 127.0.0.1
		port $port
		save ""
		appendonly no
		daemonize yes
		dir $work/redis
		pidfile $work/redis/redis.pid
		logfile $work/redis/redis.log
	EOF
	redis-server "$work/redis/redis.conf"
}

random_key() {
	head -c 32 /dev/urandom | base64 | tr -d '\n'
}

main() {
	need_tools

	work=$(mktemp -d "${TMPDIR:-/tmp}/rampart-faults.XXXXXX")
	# The postgres OS user must reach the cluster folder inside.
	chmod 755 "$work"
	trap cleanup EXIT INT TERM

	local pg_port redis_port api_port metrics_port
	pg_port=$(free_port)
	redis_port=$(free_port "$pg_port")
	api_port=$(free_port "$pg_port" "$redis_port")
	metrics_port=$(free_port "$pg_port" "$redis_port" "$api_port")

	say "building bin/rampart"
	go build -trimpath -o bin/rampart ./cmd/rampart
	# Run a copy: another build of bin/rampart must not swap the binary
	# between the phases.
	cp bin/rampart "$work/rampart"

	start_cluster_in "$pg_port"
	start_redis_in "$redis_port"

	local admin="postgres://postgres@127.0.0.1:$pg_port"
	psql -w -X -q -v ON_ERROR_STOP=1 -d "$admin/postgres?sslmode=disable" \
		-c 'create database rampart'

	export RAMPART_ENV=production
	export RAMPART_JWT_KEYS RAMPART_PII_KEYS RAMPART_BLIND_INDEX_KEY \
		RAMPART_HMAC_KEY
	RAMPART_JWT_KEYS="faults:$(random_key)"
	RAMPART_PII_KEYS="f1:$(random_key)"
	RAMPART_BLIND_INDEX_KEY=$(random_key)
	RAMPART_HMAC_KEY=$(random_key)

	say "migrating and seeding"
	DATABASE_URL="$admin/rampart?sslmode=disable" "$work/rampart" migrate up \
		>/dev/null
	export DATABASE_URL="postgres://rampart_api@127.0.0.1:$pg_port/rampart?sslmode=disable"
	"$work/rampart" seed demo >"$work/seed.log"

	export FAULTS_DIR=$work
	export FAULTS_BIN=$work/rampart
	export FAULTS_ADMIN_URL="$admin/rampart?sslmode=disable"
	export FAULTS_PG_BINDIR=$pg_bindir
	export FAULTS_PG_DATA=$work/pg
	export FAULTS_PG_LOG=$work/pg.log
	export FAULTS_PG_OSUSER=
	if ((EUID == 0)); then
		FAULTS_PG_OSUSER=postgres
	fi
	export FAULTS_REDIS_CONF=$work/redis/redis.conf
	export FAULTS_REDIS_ADDR=127.0.0.1:$redis_port
	export REDIS_URL=redis://127.0.0.1:$redis_port/0
	export RAMPART_LISTEN=127.0.0.1:$api_port
	export RAMPART_METRICS_LISTEN=127.0.0.1:$metrics_port

	say "building and running the fault program (faults/)"
	go build -tags faults -o "$work/faults" ./faults
	timeout --foreground -k 10 "${FAULTS_TIMEOUT:-300}" "$work/faults"
}

main "$@"
