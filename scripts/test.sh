#!/usr/bin/env bash
# test.sh is `make test`: run every Go test with the race detector against a
# real PostgreSQL, and Redis when one answers.
#
# Tests get RAMPART_TEST_DATABASE_URL, an admin URL they use to create their
# own databases from a migrated template; set it yourself to skip pg.sh.
# RAMPART_TEST_REDIS_URL is set when Redis answers on 127.0.0.1:6379 (tests
# that need Redis skip without it). Arguments, and GOTESTFLAGS, go to
# `go test`; give packages to test fewer than ./...:
#   scripts/test.sh -run TestLogin ./internal/auth
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() {
	printf 'test.sh: %s\n' "$*" >&2
}

# shellcheck source=scripts/redis.sh
. scripts/redis.sh

if [[ -z ${RAMPART_TEST_DATABASE_URL:-} ]]; then
	RAMPART_TEST_DATABASE_URL=$(bash scripts/pg.sh)
fi
export RAMPART_TEST_DATABASE_URL

if [[ -z ${RAMPART_TEST_REDIS_URL:-} ]]; then
	if redis_answers; then
		export RAMPART_TEST_REDIS_URL=redis://127.0.0.1:6379/15
	else
		say "no Redis on 127.0.0.1:6379: tests that need it will skip"
	fi
fi

flags=(-count=1 -timeout 15m)
if ! command -v go >/dev/null; then
	say "Go is needed to run the tests: install Go $(awk '$1 == "go" { print $2 }' go.mod) or later and make sure \`go\` is on PATH"
	exit 1
fi

# The race detector needs cgo; without a C compiler, test without it.
if [[ $(go env CGO_ENABLED) == 1 ]]; then
	flags=(-race "${flags[@]}")
else
	say "cgo is off (no C compiler?): testing without -race"
fi

# GOTESTFLAGS is split on spaces on purpose, as make passes it.
read -ra extra <<<"${GOTESTFLAGS:-}"

packages=(./...)
for arg in "$@"; do
	if [[ $arg == ./* || $arg == github.com/* ]]; then
		packages=()
		break
	fi
done

# ${a[@]+"${a[@]}"}: an empty array is "unbound" to macOS's bash 3.2.
(
	set -x
	go test "${flags[@]}" ${extra[@]+"${extra[@]}"} "$@" \
		${packages[@]+"${packages[@]}"}
)

# The end-to-end metrics check runs a real Prometheus against a running
# Rampart: part of the whole-suite run when Prometheus is installed.
if (($# == 0)) && command -v prometheus >/dev/null && command -v promtool >/dev/null; then
	bash scripts/e2e-metrics.sh
elif (($# == 0)); then
	say "prometheus not installed: skipping the end-to-end metrics check"
fi
