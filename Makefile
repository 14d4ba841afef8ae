# kiln — every command a user runs is a target here.
#
#   make build   the kiln CLI into bin/
#   make k8s     the pinned Kubernetes v1.36.3 binaries and etcd v3.6.16, built from the Go
#                module proxy into $(KILN_CACHE) (cold ~10 min on 2 cores; warm: seconds)
#   make test    everything make test needs, then all tests, with a summary line
#
# KILN_CACHE (default ~/.cache/kiln) holds what is expensive to build, outside the clone, keyed
# by the pinned versions and checked by sha256.

SHELL := /bin/bash
KILN_CACHE ?= $(HOME)/.cache/kiln
export KILN_CACHE
K8S_BIN := $(KILN_CACHE)/k8s/current
GO ?= go
TEST_FLAGS ?=

.PHONY: all build k8s deps test unit-test vet fmt clean

all: build

build:
	$(GO) build -trimpath -o bin/ ./cmd/...

k8s: deps
	hack/build-k8s.sh

# Host tools the tests use; installed when missing (needs root, as on CI).
deps:
	@missing=""; for t in openssl; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

test: k8s
	KILN_K8S_BIN=$(K8S_BIN) KILN_REQUIRE_INTEGRATION=1 hack/run-tests.sh $(TEST_FLAGS) ./...

# Unit tests only: no Kubernetes binaries needed.
unit-test: deps
	hack/run-tests.sh $(TEST_FLAGS) ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin/
