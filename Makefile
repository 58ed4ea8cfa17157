# lakenode — `make demo` to try it, `make test` to run every test.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
KAFKA_VERSION := 4.4.0
KAFKA_LIBS := $(CURDIR)/.cache/kafka-$(KAFKA_VERSION)/libs
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /integration -e /kafkatest/kfakebroker)
GOLANGCI_VERSION := v2.15.0

.PHONY: all build demo cluster test unit integration kafka-jars prereqs prereqs-go bench lint fmt vet fuzz fuzz-short generate clean faults faults-short soak

all: build

prereqs-go:
	@scripts/check-prereqs.sh nojava

prereqs:
	@scripts/check-prereqs.sh java

build: prereqs-go
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/lakenode ./cmd/lakenode

demo: build
	./bin/lakenode demo

# Three nodes on this machine, the embedded broker on node 0, the shell on
# node 0; Ctrl-D or `cluster down` stops them.
cluster: build
	./bin/lakenode cluster up --nodes 3 --kafka-embedded 127.0.0.1:9092

# The Apache Kafka broker for the integration suite, resolved by Maven into a
# git-ignored cache (done once).
kafka-jars: $(KAFKA_LIBS)/.complete

$(KAFKA_LIBS)/.complete: kafka/kafkatest/maven/pom.xml
	@scripts/check-prereqs.sh java
	@echo "fetching Apache Kafka $(KAFKA_VERSION) jars with Maven into .cache/ (once)"
	rm -rf $(KAFKA_LIBS)
	mvn -q -B -f kafka/kafkatest/maven/pom.xml dependency:copy-dependencies -DoutputDirectory=$(KAFKA_LIBS)
	touch $@

vet: prereqs-go
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test: vet and lint (the package layering and function sizes of
# .golangci.yml: a violation fails), unit tests (with the race detector),
# 20 s of each fuzz target, then the integration suite twice, on franz-go's
# kfake broker and on Apache Kafka $(KAFKA_VERSION).
test: prereqs kafka-jars vet lint unit fuzz-short integration

# Every package with the race detector, cluster/clustertest too: each of its
# tests runs in a process of its own, and a cluster's nodes after the first in
# processes of their own, so that no process starts two remote endpoints
# (protoactor's Remote.Start sets gRPC's process-wide logger).
unit: prereqs-go
	$(GO) test -race -count=1 -timeout 20m $(UNIT_PKGS)

integration: prereqs kafka-jars build
	LAKENODE_TEST_BROKER=kfake LAKENODE_BIN=$(CURDIR)/bin/lakenode $(GO) test -count=1 -timeout 30m -v ./integration/ 2>&1 | scripts/test-summary.sh kfake
	LAKENODE_TEST_BROKER=apache LAKENODE_KAFKA_LIBS=$(KAFKA_LIBS) LAKENODE_BIN=$(CURDIR)/bin/lakenode $(GO) test -count=1 -timeout 30m -v ./integration/ 2>&1 | scripts/test-summary.sh apache
	LAKENODE_TEST_BROKER=apache LAKENODE_KAFKA_LIBS=$(KAFKA_LIBS) $(GO) test -race -count=1 -timeout 20m -v ./actors/actortest/ 2>&1 | scripts/test-summary.sh actortest-apache
	$(MAKE) --no-print-directory faults-short

# The fault suite (integration/faults_test.go, build tag faults). Its short
# form, part of `make test`: the kill, disk-full, re-created-topic and
# hostile-message cases on kfake, within 5 minutes. `make faults`: every
# case at full size on kfake, then on Apache Kafka; each prints a line
# `FAULT case broker=... messages=...`.
FAULT_SHORT_CASES := kill|hostile|disk-full|topic-recreated

faults-short: prereqs-go build
	LAKENODE_TEST_BROKER=kfake LAKENODE_BIN=$(CURDIR)/bin/lakenode $(GO) test -tags faults -count=1 -timeout 5m -v -run 'TestFaults/^($(FAULT_SHORT_CASES))$$' ./integration/ 2>&1 | scripts/test-summary.sh faults-kfake

faults: prereqs kafka-jars build
	LAKENODE_FAULTS=full LAKENODE_TEST_BROKER=kfake LAKENODE_BIN=$(CURDIR)/bin/lakenode $(GO) test -tags faults -count=1 -timeout 60m -v -run TestFaults ./integration/ 2>&1 | scripts/test-summary.sh faults-kfake
	LAKENODE_FAULTS=full LAKENODE_TEST_BROKER=apache LAKENODE_KAFKA_LIBS=$(KAFKA_LIBS) LAKENODE_BIN=$(CURDIR)/bin/lakenode $(GO) test -tags faults -count=1 -timeout 60m -v -run TestFaults ./integration/ 2>&1 | scripts/test-summary.sh faults-apache

# The soak (integration/soak_test.go, build tag soak): 10 minutes of ingest
# at half the benchmark rate with a query every second and an export every
# 10 s; asserts flat RSS and p99, writes docs/soak.png and prints the
# figures. LAKENODE_SOAK_DURATION=3m shortens it, LAKENODE_SOAK_RATE=N sets
# the rate (messages/s). On Apache Kafka, which keeps the 90 M messages on
# disk (kfake would hold them in memory).
soak: prereqs kafka-jars build
	LAKENODE_TEST_BROKER=apache LAKENODE_KAFKA_LIBS=$(KAFKA_LIBS) LAKENODE_BIN=$(CURDIR)/bin/lakenode LAKENODE_SOAK_PLOT=$(CURDIR)/docs/soak.png $(GO) test -tags soak -count=1 -timeout 30m -v -run TestSoak ./integration/ 2>&1 | scripts/test-summary.sh soak

# Fuzz targets, one after another, FUZZTIME each (`make fuzz FUZZTIME=10m`);
# `make test` runs the short list for 20 s each. A crasher lands in
# PKG/testdata/fuzz/FuzzX/: commit it with the fix.
FUZZTIME ?= 60s
FUZZ_SHORT_TIME ?= 20s
FUZZ_SHORT = node/command:FuzzParse kafka/mapping:FuzzMap tables/sql:FuzzPrepass tables/sql:FuzzPlan tables:FuzzRowCodec tables:FuzzUvarint node:FuzzREST node/pgwire:FuzzTranslate
FUZZ_ALL = $(FUZZ_SHORT) node/command:FuzzSplitScript tables:FuzzRowDecode tables:FuzzRowKey

fuzz: prereqs-go
	@GO=$(GO) scripts/fuzz.sh $(FUZZTIME) $(FUZZ_ALL)

fuzz-short: prereqs-go
	@GO=$(GO) scripts/fuzz.sh $(FUZZ_SHORT_TIME) $(FUZZ_SHORT)

# Benchmarks: the mapping; queries over 10 M rows against bare Pebble and
# SQLite (LAKENODE_BENCH_ROWS=N for fewer); end-to-end ingest against Apache
# Kafka and kfake (5 M messages each; LAKENODE_BENCH_MESSAGES=N for fewer).
# Results go in BENCHMARKS.md.
bench: prereqs kafka-jars build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./kafka/mapping/
	$(GO) test -run '^$$' -bench 'BenchmarkQuery$$' -benchtime 3x -timeout 60m ./tables/sql/
	$(GO) test -run '^$$' -bench BenchmarkQueryScale -benchtime 1x -timeout 60m ./tables/sql/
	$(GO) test -run '^$$' -bench BenchmarkEncodingChoice -benchtime 1x -timeout 60m ./tables/sql/
	$(GO) test -run '^$$' -bench BenchmarkBlockSize -benchtime 1x -timeout 30m ./tables/sql/
	$(GO) test -run '^$$' -bench BenchmarkPlan -benchtime 1s ./tables/sql/
	$(GO) test -run '^$$' -bench 'BenchmarkCatchUpSealing$$' -benchtime 1x -timeout 30m ./tables/
	LAKENODE_KAFKA_LIBS=$(KAFKA_LIBS) LAKENODE_BIN=$(CURDIR)/bin/lakenode $(GO) test -run '^$$' -bench 'BenchmarkIngest|BenchmarkIngestSealing|BenchmarkSteadySealing|BenchmarkExport|BenchmarkScatterGather|BenchmarkPostgres' -benchtime 1x -timeout 90m ./integration/

# golangci-lint, pinned: go run builds it once into Go's cache.
lint: prereqs-go
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION) run ./...

# Regenerate the protobuf messages (needs protoc and protoc-gen-go v1.36.12;
# the generated code is committed, so builds never need them).
generate:
	cd actors/actorpb && protoc --go_out=. --go_opt=paths=source_relative lakenode.proto

clean:
	rm -rf bin
