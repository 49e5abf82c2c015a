#!/usr/bin/env bash
# pg.sh finds or starts a PostgreSQL server for development and tests.
#
# Executed, it prints one line on stdout: an admin connection URL to the
# `postgres` database. Everything else (progress, hints) goes to stderr, so
# callers can write `admin_url=$(bash scripts/pg.sh)`.
# Sourced, it only defines rampart_pg_url, which does the same.
#
# Where the server comes from, first match wins:
#   a. DATABASE_URL, used as is. It must be an admin URL: a superuser, or
#      the owner of the database with CREATEDB and CREATEROLE, because
#      migrations create roles and tests create databases.
#   b. A server on 127.0.0.1:5432 that lets `postgres` in without a password.
#   c. A throwaway cluster under .data/pg, created and started with this
#      machine's PostgreSQL binaries; it listens on 127.0.0.1:54329 only.
#   d. None: say what to install and exit 1.
#
# `bash scripts/pg.sh stop` stops the .data cluster if it runs.
#
# Environment:
#   RAMPART_PG_PROBE_HOST  host probed in b (default 127.0.0.1)
#   RAMPART_PG_PROBE_PORT  port probed in b (default 5432)
#   RAMPART_PG_PORT        port of the .data cluster (default 54329); read
#                          only when the cluster is created

rampart_pg_url() (
	set -euo pipefail

	local root datadir sockdir logfile
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	datadir=$root/.data/pg
	sockdir=$root/.data/pg-socket
	logfile=$root/.data/pg.log

	if [[ -n ${DATABASE_URL:-} ]]; then
		say "using DATABASE_URL"
		printf '%s\n' "$DATABASE_URL"
		return 0
	fi

	local host=${RAMPART_PG_PROBE_HOST:-127.0.0.1}
	local port=${RAMPART_PG_PROBE_PORT:-5432}
	local url="postgres://postgres@$host:$port/postgres?sslmode=disable"
	local status=0
	probe "$url" "$host" "$port" || status=$?
	if ((status == 0)); then
		say "using the server on $host:$port"
		printf '%s\n' "$url"
		return 0
	fi
	if ((status == 2)); then
		say "a server answers on $host:$port but refuses user postgres"
		say "without a password; set DATABASE_URL to use it."
		say "Falling back to a cluster under .data/pg."
	fi

	local bindir
	if ! bindir=$(find_bindir "$datadir"); then
		install_hint "$host:$port"
		return 1
	fi
	start_cluster "$bindir" "$datadir" "$sockdir" "$logfile"
)

say() {
	printf 'pg.sh: %s\n' "$*" >&2
}

# probe returns 0 when user postgres can connect to url, 2 when a server
# answers but refuses that login, 1 when nothing answers.
probe() {
	local url=$1 host=$2 port=$3
	if command -v psql >/dev/null; then
		if PGCONNECT_TIMEOUT=3 psql -w -Atq -d "$url" -c 'select 1' \
			>/dev/null 2>&1; then
			return 0
		fi
		if command -v pg_isready >/dev/null &&
			pg_isready -q -t 3 -h "$host" -p "$port" -U postgres; then
			return 2
		fi
		return 1
	fi
	if command -v pg_isready >/dev/null; then
		pg_isready -q -t 3 -h "$host" -p "$port" -U postgres
		return
	fi
	# No client tools at all: settle for an open port.
	bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# find_bindir prints the directory holding initdb and pg_ctl: the one that
# matches an existing cluster's version if there is one, else the highest
# version installed, else whatever is on PATH.
find_bindir() {
	local datadir=$1 dir
	if [[ -f $datadir/PG_VERSION ]]; then
		dir=/usr/lib/postgresql/$(<"$datadir/PG_VERSION")/bin
		if [[ -x $dir/pg_ctl ]]; then
			printf '%s\n' "$dir"
			return 0
		fi
	fi

	local candidates=()
	local d
	for d in /usr/lib/postgresql/*/bin \
		/opt/homebrew/opt/postgresql@*/bin \
		/usr/local/opt/postgresql@*/bin; do
		[[ -x $d/initdb && -x $d/pg_ctl ]] && candidates+=("$d")
	done
	if ((${#candidates[@]} > 0)); then
		printf '%s\n' "${candidates[@]}" |
			awk -F/ '{ for (i = 1; i <= NF; i++) if ($i ~ /[0-9]/) v = $i;
			           gsub(/[^0-9.]/, "", v); print v "\t" $0 }' |
			sort -n | tail -n 1 | cut -f2
		return 0
	fi

	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		dirname "$(command -v pg_ctl)"
		return 0
	fi
	return 1
}

install_hint() {
	say "no PostgreSQL found: DATABASE_URL is unset, nothing answers on"
	say "$1, and no initdb/pg_ctl is installed. Install it:"
	say "  Debian/Ubuntu: sudo apt-get install postgresql"
	say "  macOS:         brew install postgresql@15"
	say "or set DATABASE_URL to an admin URL of a server you have."
}

# as_owner runs a command as the cluster's OS user: this user normally,
# the `postgres` user when running as root (initdb and pg_ctl refuse root).
as_owner() {
	if ((EUID != 0)); then
		(cd / && "$@")
		return
	fi
	if command -v runuser >/dev/null; then
		(cd / && runuser -u postgres -- "$@")
	else
		local cmd
		printf -v cmd '%q ' "$@"
		(cd / && su postgres -s /bin/sh -c "$cmd")
	fi
}

# check_root_user makes sure that, when running as root, there is a postgres
# OS user that can reach the .data folder.
check_root_user() {
	local data=$1
	((EUID == 0)) || return 0
	if ! id postgres >/dev/null 2>&1; then
		say "running as root, and PostgreSQL refuses to run as root."
		say "Create a 'postgres' OS user (useradd --system postgres),"
		say "run as a normal user, or set DATABASE_URL."
		return 1
	fi
	if ! as_owner test -x "$data"; then
		say "the postgres OS user cannot reach $data; move the checkout"
		say "somewhere it can read, or set DATABASE_URL."
		return 1
	fi
}

# configured_port reads back the port written into the cluster's config.
configured_port() {
	sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$1/postgresql.conf" |
		tail -n 1
}

init_cluster() {
	local bindir=$1 datadir=$2 sockdir=$3 logfile=$4
	local port=${RAMPART_PG_PORT:-54329}
	# A socket path past ~100 bytes is refused; TCP alone is enough then.
	local sockconf=$sockdir
	if ((${#sockdir} > 90)); then
		sockconf=
	fi
	say "creating a throwaway cluster in $datadir (port $port)"

	mkdir -p "$datadir" "$sockdir"
	touch "$logfile"
	if ((EUID == 0)); then
		chown postgres: "$datadir" "$sockdir" "$logfile"
	fi
	chmod 700 "$datadir"

	if ! as_owner "$bindir/initdb" -D "$datadir" -A trust -U postgres \
		-E UTF8 --locale=C --no-sync >>"$logfile" 2>&1 9>&-; then
		say "initdb failed; see $logfile"
		return 1
	fi

	# Durability is traded for speed: this cluster only holds data that
	# `make run` and the tests recreate.
	cat >>"$datadir/postgresql.conf" <<-EOF

		# Added by scripts/pg.sh
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$sockconf'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 200
	EOF
}

start_cluster() (
	local bindir=$1 datadir=$2 sockdir=$3 logfile=$4
	mkdir -p "$(dirname "$datadir")"

	# Two callers at once (make run beside make test) must not both initdb.
	if command -v flock >/dev/null; then
		exec 9>"$(dirname "$datadir")/pg.lock"
		flock 9
	fi

	check_root_user "$(dirname "$datadir")"
	if [[ ! -f $datadir/PG_VERSION ]]; then
		init_cluster "$bindir" "$datadir" "$sockdir" "$logfile"
	fi

	local port
	port=$(configured_port "$datadir")
	if ! as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
		say "starting the cluster in $datadir (log: $logfile)"
		mkdir -p "$sockdir"
		if ((EUID == 0)); then
			chown postgres: "$sockdir" "$logfile"
		fi
		# 9>&-: the server must not inherit, and so hold, the lock.
		if ! as_owner "$bindir/pg_ctl" -D "$datadir" -l "$logfile" \
			-w -t 60 start >/dev/null 9>&-; then
			say "the cluster did not start; last lines of $logfile:"
			tail -n 20 "$logfile" >&2
			return 1
		fi
	fi

	local i
	for ((i = 0; i < 60; i++)); do
		if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
			printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable\n' \
				"$port"
			return 0
		fi
		sleep 0.5
	done
	say "the cluster runs but does not accept connections on port $port"
	return 1
)

stop_cluster() (
	set -euo pipefail
	local root datadir bindir
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	datadir=$root/.data/pg
	if [[ ! -f $datadir/PG_VERSION ]]; then
		say "no cluster in $datadir"
		return 0
	fi
	bindir=$(find_bindir "$datadir")
	if as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
		as_owner "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >&2
	else
		say "the cluster in $datadir is not running"
	fi
)

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	"") rampart_pg_url ;;
	stop) stop_cluster ;;
	*)
		say "usage: pg.sh [stop]"
		exit 2
		;;
	esac
fi
