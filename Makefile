# Rampart. `make` alone lists the targets; each one's `## ` comment is its
# help line.

SHELL := bash
.DEFAULT_GOAL := help

GO          ?= go
BIN         := bin/rampart
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME    ?= 10s
# Run from the module proxy at a pinned version, so nothing is installed.
# Empty it (make lint STATICCHECK=) to skip.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
SHELL_FILES := $(wildcard scripts/*.sh) .ci/run

.PHONY: help build run test lint lint-deploy dashboard e2e-metrics fuzz clean \
	db-stop

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } \
	     /^[a-z][a-z0-9-]*:.*## / { printf "  %-12s %s\n", $$1, $$2 }' \
	     $(MAKEFILE_LIST)

build: ## build bin/rampart
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" \
		-o $(BIN) ./cmd/rampart

run: ## start PostgreSQL if needed, migrate, seed demo data and serve
	bash scripts/dev.sh

test: ## run all tests with -race against PostgreSQL (GOTESTFLAGS=...)
	bash scripts/test.sh

.PHONY: test-attacks

# The attack suite without -race, which would take it far past its ~3
# minutes; zaptest's per-request lines and subtest chatter are filtered
# out of -v, so that the case counts and failures stay readable.
test-attacks: ## attack suite (matrix, forgeries, bodies, payloads), then sqlmap
	set -o pipefail; \
	RAMPART_TEST_DATABASE_URL=$${RAMPART_TEST_DATABASE_URL:-$$(bash scripts/pg.sh)} \
		$(GO) test -run 'TestAttack' ./internal/httpapi/ -count=1 -v | \
		grep -Ev '^ +logger\.go:[0-9]+: |^=== (RUN|PAUSE|CONT|NAME)|^ +--- PASS'
	@if command -v sqlmap >/dev/null; then \
		bash scripts/sqlmap.sh; \
	else \
		echo "sqlmap is not installed: scripts/sqlmap.sh skipped" \
			"(run it as root to apt-get install sqlmap)"; \
	fi

lint: ## gofmt, go vet, staticcheck, shellcheck when installed; lint-deploy
	@unformatted=$$(find . -name '*.go' -not -path './.data/*' \
		-not -path './vendor/*' -not -path '*/testdata/*' \
		-exec gofmt -l {} +); \
	if [[ -n $$unformatted ]]; then \
		echo "gofmt -w these files:"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet ./...
ifneq ($(STATICCHECK),)
	$(GO) run $(STATICCHECK) ./...
endif
	@if command -v shellcheck >/dev/null; then \
		echo "shellcheck -x $(SHELL_FILES)"; \
		shellcheck -x $(SHELL_FILES); \
	else \
		echo "shellcheck not installed: shell scripts not linted"; \
	fi
	@$(MAKE) --no-print-directory lint-deploy

lint-deploy: ## check deploy/: promtool, yamllint, compose, dashboard, k8s
	bash deploy/lint.sh

dashboard: ## regenerate deploy/grafana/dashboards/rampart.json
	$(GO) run ./deploy/grafana/gen > deploy/grafana/dashboards/rampart.json.tmp
	mv deploy/grafana/dashboards/rampart.json.tmp \
		deploy/grafana/dashboards/rampart.json

e2e-metrics: ## serve, scrape with a real Prometheus, run every dashboard query
	bash scripts/e2e-metrics.sh

.PHONY: test-faults test-pgbouncer

test-faults: ## break PostgreSQL, Redis and the audit trail under load (~3 min)
	bash scripts/faults.sh

test-pgbouncer: ## run the service behind PgBouncer in transaction mode
	bash scripts/pgbouncer.sh

fuzz: ## run each Fuzz* target for FUZZTIME (default 10s)
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

.PHONY: bench bench-scale bench-go
bench: ## load test the API against pgbench (BENCH_DURATION, default 30s a run)
	bash scripts/bench.sh

bench-go: ## in-process micro-benchmarks: block lookup, limiter, inspection, redaction
	$(GO) test -run '^$$' -bench . -benchmem ./internal/threat ./internal/ratelimit \
		./internal/inspect ./internal/logging

bench-scale: ## bench, then again at 10x customers/orders and 10M audit rows
	BENCH_SCALE=10 bash scripts/bench.sh

clean: ## remove bin/ (the database in .data/ stays)
	rm -rf bin/

db-stop: ## stop the PostgreSQL cluster in .data/, if one was started
	bash scripts/pg.sh stop
