#!/usr/bin/env bash
# fuzz.sh is `make fuzz`: run every Fuzz* target of every package, one after
# the other (go test fuzzes one target at a time), for FUZZTIME each.
# New crashers land in the package's testdata/fuzz and fail the run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
fuzztime=${FUZZTIME:-10s}

# go test -list prints a package's matching names, then "ok  <package> ...".
targets=$(go test -list '^Fuzz' ./... |
	awk '/^Fuzz/ { names[n++] = $1 }
	     $1 == "ok" { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }')

if [[ -z $targets ]]; then
	echo "fuzz.sh: no Fuzz* targets found"
	exit 0
fi

while read -r pkg name; do
	echo "fuzz.sh: $pkg $name for $fuzztime"
	go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" </dev/null
done <<<"$targets"
