#!/usr/bin/env bash
# lint.sh is `make lint-deploy`: static checks of deploy/. Each validator
# runs when it is installed and prints a SKIP line when it is not; on
# Debian they come from
#   apt-get install prometheus yamllint docker-compose jq shellcheck
# (prometheus brings promtool; docker-compose parses the compose file
# without a Docker engine; python3-yaml comes with yamllint). Every check
# runs, then the script exits 1 if any failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

failed=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() {
	printf 'lint-deploy: %s\n' "$*"
}

skip() {
	say "SKIP $*"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# check runs one named check, showing its command, and records a failure
# without stopping the others.
check() {
	local name=$1
	shift
	printf '+ %s\n' "$*"
	if ! "$@"; then
		say "FAIL $name"
		failed+=("$name")
	fi
}

# python_yaml prints a python3 that has PyYAML, or fails.
python_yaml() {
	local py
	for py in python3 /usr/bin/python3; do
		if have "$py" && "$py" -c 'import yaml' 2>/dev/null; then
			command -v "$py"
			return 0
		fi
	done
	return 1
}

dashboard=deploy/grafana/dashboards/rampart.json

dashboard_up_to_date() {
	go run ./deploy/grafana/gen >"$tmp/dashboard.json" || return 1
	if ! diff -u "$dashboard" "$tmp/dashboard.json"; then
		say "$dashboard is stale: run make dashboard"
		return 1
	fi
}

# dashboard_shape: valid JSON, the uid the provisioning expects, unique
# panel ids, and at least one non-empty query in every panel but rows.
dashboard_shape() {
	jq -e '
		.uid == "rampart"
		and ([.panels[].id] | length == (unique | length))
		and ([.panels[] | select(.type != "row")]
			| length > 0
			and all((.targets // []) | length > 0
				and all(.expr | type == "string" and length > 0)))
	' "$dashboard" >/dev/null
}

compose_config() {
	"$@" --env-file deploy/.env.example -f deploy/docker-compose.yml \
		config -q
}

k8s_policy() {
	local py=$1 rendered=$tmp/k8s.yaml
	if have kubectl; then
		kubectl kustomize deploy/k8s >"$rendered" || return 1
	else
		skip "kubectl kustomize (kubectl not installed): checking the manifests unrendered"
		local f
		for f in deploy/k8s/*.yaml; do
			case $f in
			*/kustomization.yaml | */secret.example.yaml) continue ;;
			esac
			cat "$f"
			printf -- '---\n'
		done >"$rendered"
	fi
	"$py" deploy/lint/k8s_policy.py "$rendered" deploy/k8s/secret.example.yaml
}

main() {
	if have go; then
		check dashboard-generated dashboard_up_to_date
	else
		skip "dashboard up to date (go not installed)"
	fi

	if have jq; then
		check dashboard-json dashboard_shape
	else
		skip "dashboard JSON shape (jq not installed)"
	fi

	if have promtool; then
		check promtool-config promtool check config deploy/prometheus/prometheus.yml
		check promtool-rules promtool check rules deploy/prometheus/alerts.yml
		check promtool-test promtool test rules deploy/prometheus/alerts_test.yml
	else
		skip "promtool check config/rules, promtool test rules (promtool not installed)"
	fi

	if have yamllint; then
		check yamllint yamllint -c deploy/.yamllint.yml deploy/
	else
		skip "yamllint (not installed)"
	fi

	if have docker && docker compose version >/dev/null 2>&1; then
		check compose compose_config docker compose
	elif have docker-compose; then
		check compose compose_config docker-compose
	else
		skip "compose file (neither docker compose nor docker-compose installed)"
	fi

	local py
	if py=$(python_yaml); then
		check promql-names "$py" deploy/lint/promql_names.py \
			deploy/metric-names.txt "$dashboard" deploy/prometheus/alerts.yml
		check k8s-policy k8s_policy "$py"
	else
		skip "metric names in queries, k8s policy (no python3 with PyYAML)"
	fi

	if have shellcheck; then
		check shellcheck shellcheck -x deploy/lint.sh
	else
		skip "shellcheck of deploy/lint.sh (not installed)"
	fi

	if ((${#failed[@]} > 0)); then
		say "failed: ${failed[*]}"
		return 1
	fi
	say "all checks passed"
}

main "$@"
