#!/usr/bin/env bash
# dev.sh is `make run`: build, find or start PostgreSQL, migrate, seed the
# demo data, then serve in development mode.
#
# The database is `rampart` on the server scripts/pg.sh finds (a DATABASE_URL
# set by you must be an admin URL; its database name is replaced). Keys are
# made once into .data/dev.env and reused, so tokens and encrypted values
# survive restarts. Variables already set in the environment win over that
# file, and RAMPART_LISTEN / RAMPART_METRICS_LISTEN are passed through.
# REDIS_URL is set to the local Redis when one answers and none is given.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/dburl.sh
. scripts/dburl.sh
# shellcheck source=scripts/redis.sh
. scripts/redis.sh

say() {
	printf 'dev.sh: %s\n' "$*" >&2
}

build() {
	local version
	if ! command -v go >/dev/null; then
		say "Go is needed to build rampart: install Go $(awk '$1 == "go" { print $2 }' go.mod) or later and make sure \`go\` is on PATH"
		exit 1
	fi
	version=$(git describe --always --dirty 2>/dev/null || echo dev)
	say "building bin/rampart ($version)"
	go build -trimpath -ldflags "-X main.version=$version" \
		-o bin/rampart ./cmd/rampart
}

# create_database makes database rampart unless it exists.
create_database() {
	local admin_url=$1 found
	if ! command -v psql >/dev/null; then
		say "psql is needed (apt-get install postgresql-client)"
		return 1
	fi
	found=$(psql -w -X -Atq -v ON_ERROR_STOP=1 -d "$admin_url" \
		-c "select 1 from pg_database where datname = 'rampart'")
	if [[ -z $found ]]; then
		say "creating database rampart"
		psql -w -X -q -v ON_ERROR_STOP=1 -d "$admin_url" \
			-c 'create database rampart'
	fi
}

dev_keys=(
	RAMPART_JWT_KEYS
	RAMPART_PII_KEYS
	RAMPART_BLIND_INDEX_KEY
	RAMPART_HMAC_KEY
)

random_key() {
	head -c 32 /dev/urandom | base64 | tr -d '\n'
}

key_value() {
	case $1 in
	RAMPART_JWT_KEYS) printf 'dev1:%s' "$(random_key)" ;;
	RAMPART_PII_KEYS) printf '1:%s' "$(random_key)" ;;
	*) random_key ;;
	esac
}

# load_dev_env adds any missing key to .data/dev.env (mode 0600), then
# exports each one not already set in the environment.
load_dev_env() {
	local file=.data/dev.env name line
	mkdir -p .data
	(umask 077 && touch "$file")
	chmod 600 "$file"
	for name in "${dev_keys[@]}"; do
		if ! grep -q "^$name=" "$file"; then
			say "generating $name into $file"
			printf '%s=%s\n' "$name" "$(key_value "$name")" >>"$file"
		fi
	done

	while IFS= read -r line; do
		[[ $line == RAMPART_*=* ]] || continue
		name=${line%%=*}
		if [[ -z ${!name:-} ]]; then
			export "$name=${line#*=}"
		fi
	done <"$file"
}

# admin_hint says how to make the first platform admin while there is
# none: no API call can grant that role, only the owner connection.
admin_hint() {
	local owner_url=$1 admins
	admins=$(psql -w -X -Atq -d "$owner_url" \
		-c "select count(*) from auth.users where platform_role = 'platform_admin'") || return 0
	[[ $admins == 0 ]] || return 0
	cat >&2 <<EOF

dev.sh: no platform admin yet. To make one (the password is read from stdin,
or generated and shown once when stdin is a terminal), in another shell:
  DATABASE_URL='$owner_url' bin/rampart admin create --email admin@example.test
then sign in as it and enrol a second factor (POST /v1/auth/mfa/totp/enroll):
the admin API answers 403 mfa_required until one is verified.

EOF
}

main() {
	build

	local admin_url migrate_url api_url
	admin_url=$(bash scripts/pg.sh)
	migrate_url=$(dburl_with_db rampart "$admin_url")
	api_url=$(dburl_with_user rampart_api "$migrate_url")
	create_database "$admin_url"

	# Every subcommand gets the keys, in case configuration wants them all.
	load_dev_env
	export RAMPART_ENV=development

	say "migrating"
	DATABASE_URL=$migrate_url bin/rampart migrate up

	export DATABASE_URL=$api_url
	if [[ -z ${REDIS_URL:-} ]] && redis_answers; then
		say "Redis answers on 127.0.0.1:6379: rate limits use it (set REDIS_URL to choose another)"
		export REDIS_URL=redis://127.0.0.1:6379/0
	fi

	say "seeding demo data"
	bin/rampart seed demo
	admin_hint "$migrate_url"

	say "serving on ${RAMPART_LISTEN:-:8080} as $api_url"
	exec bin/rampart serve
}

main "$@"
