# rabbitmq-consumer
GO        ?= go
GOFLAGS   ?=
VERSION   ?= $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog 2>/dev/null || echo 0.0.0)
BIN       := bin
CMDS      := $(notdir $(wildcard cmd/*))
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

.PHONY: all build test lint deps clean demo bench bench-cluster bench-deps bench-logship bench-logserver deb systemtest fresh-machine

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/ ./cmd/...

# The man pages of every program and of the configuration file, each
# written by its program from the flag set its --help shows: build/man/.
.PHONY: man
man: build
	$(GO) run ./internal/manual/mangen -bin $(BIN) -out build/man

deps:
	@scripts/ensure-deps.sh

# The main job: a consumer with the example handler answering a real RPC call.
demo:
	@scripts/demo.sh

# The whole test suite: installs/starts what it needs, lints, runs every test
# with the race detector against the local RabbitMQ.
test: deps lint
	$(GO) test -race -count=1 -timeout 30m ./...
	@echo "--- tests that stop or reconfigure the whole broker, alone"
	$(GO) test -race -count=1 -timeout 10m -tags brokerwide -run '^TestBrokerwide' ./e2e/
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory systemtest; else echo "--- not root: the system test (make systemtest) needs root and was not run"; fi

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@# Built with this module's toolchain: `go install pkg@version` would
	@# otherwise fetch the newest patch release of staticcheck's go line.
	@command -v staticcheck >/dev/null || GOTOOLCHAIN="$$($(GO) env GOVERSION)" $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	staticcheck ./...

# The consumer against a bare amqp091-go echo and a Python reference model, in one run
# (about 10 minutes on 2 cores; 5 without persistent handlers): table, bench/results/results.csv and
# calls-per-second.png, and the ratio lines (docs/benchmarks.md).
bench: deps bench-deps
	$(GO) run ./bench/rpcbench --out bench/results

# The cost of locks_across_hosts (docs/scaling.md): the Go echo consumer as
# one and as two instances, the setting off and on, in interleaved rounds at
# 64 callers on the local broker (about 3 minutes), and the ratio lines.
bench-cluster: deps
	$(GO) run ./bench/rpcbench --scenarios '' --persistent off --ratios hosts

# Debian's python3-pika, for the benchmark's Python reference model.
bench-deps:
	@bench/ensure-deps.sh

# Ships 10,000 and 100,000 spooled records with the real shipper: records/s and peak RSS.
bench-logship:
	$(call bench-lines,logship,-bench BenchmarkBacklog -benchtime 1x ./logship/)

# The log server: ingest through the real shipper (records/s), the GUI's
# queries over 1,000,000 stored pairs (p50, p99), the server's peak RSS.
bench-logserver:
	$(call bench-lines,logserver,-bench 'BenchmarkIngest|BenchmarkQueries' -benchtime 1x -timeout 60m ./logserver/bench/)

# bench-lines runs the benchmarks $(2) and prints their result lines (those
# starting with "$(1):"); when they fail, all they printed, and make fails.
define bench-lines
@out=$$(mktemp) && trap 'rm -f "$$out"' EXIT && \
if $(GO) test -run '^$$' $(2) >"$$out"; then grep -E '^$(1):' "$$out"; else cat "$$out"; exit 1; fi
endef

# The Debian packages, built with the Go toolchain on PATH (installed when
# missing): dist/rabbitmq-consumer_<version>_<arch>.deb and
# dist/rabbitmq-consumer-log-server_<version>_<arch>.deb
deb:
	@scripts/ensure-deps.sh build
	@command -v dh >/dev/null && command -v dpkg-buildpackage >/dev/null && command -v gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential debhelper dpkg-dev >/dev/null; }
	@mkdir -p dist
	GOCACHE="$$($(GO) env GOCACHE)" GOMODCACHE="$$($(GO) env GOMODCACHE)" dpkg-buildpackage -us -uc -b
	mv ../rabbitmq-consumer_$(VERSION)_*.deb ../rabbitmq-consumer-log-server_$(VERSION)_*.deb dist/
	rm -f ../rabbitmq-consumer_$(VERSION)_*.buildinfo ../rabbitmq-consumer_$(VERSION)_*.changes

# The package under a real systemd, in a systemd-nspawn container on a cached
# debootstrap root (/var/cache/rabbitmq-consumer-systemtest). Needs root.
systemtest: deb
	@[ "$$(id -u)" = 0 ] || { echo "make systemtest needs root (systemd-nspawn, debootstrap)"; exit 1; }
	@command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null && command -v lintian >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap systemd-container lintian >/dev/null; }
	@echo "--- the package under a real systemd"
	$(GO) test -tags systemtest -count=1 -timeout 30m -v ./systemtest/

# README.md's commands on a fresh Debian 12 in a container with its own
# broker, each step timed (root; slow, not part of make test). FRESH_TEST=1
# runs the README's test command there too.
fresh-machine:
	@scripts/fresh-machine.sh

clean:
	rm -rf $(BIN) dist build debian/.debhelper debian/rabbitmq-consumer debian/rabbitmq-consumer-log-server debian/files debian/*.substvars debian/debhelper-build-stamp
