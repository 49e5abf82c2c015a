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

.PHONY: help build run test lint fuzz clean db-stop

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } \
	     /^[a-z][a-z-]*:.*## / { printf "  %-8s %s\n", $$1, $$2 }' \
	     $(MAKEFILE_LIST)

build: ## build bin/rampart
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" \
		-o $(BIN) ./cmd/rampart

run: ## start PostgreSQL if needed, migrate, seed demo data and serve
	bash scripts/dev.sh

test: ## run all tests with -race against PostgreSQL (GOTESTFLAGS=...)
	bash scripts/test.sh

lint: ## gofmt, go vet, staticcheck, and shellcheck when installed
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

fuzz: ## run each Fuzz* target for FUZZTIME (default 10s)
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

clean: ## remove bin/ (the database in .data/ stays)
	rm -rf bin/

db-stop: ## stop the PostgreSQL cluster in .data/, if one was started
	bash scripts/pg.sh stop
