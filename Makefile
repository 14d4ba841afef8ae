# kiln — every command a user runs is a target here.
#
#   make build   the kiln CLI into bin/
#   make k8s     the pinned Kubernetes v1.36.3 binaries and etcd v3.6.16, built from the Go
#                module proxy into $(KILN_CACHE) (cold ~10 min on 2 cores; warm: seconds)
#   make artifacts  everything a node image is made of: the k8s binaries, containerd, runc, CNI
#                plugins, crictl, CoreDNS, Ignition, our pause, the Debian base rootfs, and the
#                control-plane images as OCI archives, in the artifact store with a lock file
#   make demo    make artifacts, then build a control-plane and a worker image, boot them in QEMU
#                as a two-node cluster, show it, and keep it running until Ctrl-C (make demo-stop)
#   make test    make artifacts, then all tests (unit, integration against the real binaries,
#                the artifacts read back, the VM tests), with a summary line
#   make bench   the benchmarks (build, image import, joins at scale, first boot); they print
#
# KILN_CACHE (default ~/.cache/kiln) holds what is expensive to build, outside the clone, keyed
# by the pinned versions and checked by sha256.

SHELL := /bin/bash
KILN_CACHE ?= $(HOME)/.cache/kiln
export KILN_CACHE
K8S_BIN := $(KILN_CACHE)/k8s/current
ARTIFACT_STORE ?= $(KILN_CACHE)/store
ARTIFACT_LOCK ?= $(KILN_CACHE)/artifacts.lock
ARTIFACT_MANIFEST ?= profiles/artifacts/local.yaml
GO ?= go
TEST_FLAGS ?=

.PHONY: all demo demo-stop build k8s tools rootfs pause artifacts deps test unit-test bench bench-build bench-joins bench-imports bench-firstboot vet fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...

k8s: deps
	hack/build-k8s.sh

tools: deps
	hack/build-tools.sh

rootfs: deps
	hack/build-rootfs.sh

pause:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -buildid=" -o $(KILN_CACHE)/tools/kiln-pause/pause ./cmd/kiln-pause

artifacts: k8s tools rootfs pause build
	bin/kiln artifacts --manifest $(ARTIFACT_MANIFEST) --store $(ARTIFACT_STORE) --lock $(ARTIFACT_LOCK)

# Host tools the tests use; installed when missing (needs root, as on CI).
deps:
	@missing=""; \
	for pair in bc:bc openssl:openssl mmdebstrap:mmdebstrap mksquashfs:squashfs-tools unsquashfs:squashfs-tools \
		sgdisk:gdisk fsck.vfat:dosfstools mcopy:mtools xorriso:xorriso cpio:cpio qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils; do \
		command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; \
	done; \
	[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing="$$missing ovmf"; \
	[ -f /usr/include/seccomp.h ] || missing="$$missing libseccomp-dev"; \
	[ -f /usr/include/blkid/blkid.h ] || missing="$$missing libblkid-dev"; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(GO) mod download

test: artifacts
	KILN_K8S_BIN=$(K8S_BIN) KILN_REQUIRE_INTEGRATION=1 KILN_VM_TESTS=1 \
	KILN_ARTIFACT_LOCK=$(ARTIFACT_LOCK) KILN_ARTIFACT_STORE=$(ARTIFACT_STORE) KILN_REQUIRE_ARTIFACTS=1 \
	hack/run-tests.sh $(TEST_FLAGS) ./...

demo: artifacts build
	$(GO) run ./qemu-tests/demo --dir $(KILN_CACHE)/demo --kiln bin/kiln --kubectl $(K8S_BIN)/kubectl

demo-stop:
	@pid=$$(cat $(KILN_CACHE)/demo/demo.pid 2>/dev/null) && kill -TERM $$pid && echo "demo: stopping (pid $$pid)" \
		|| echo "demo: not running"

# kiln build against its floor (mksquashfs + host partition tools) on the same tree; prints.
bench-build: artifacts build
	hack/bench-build.sh

# Joins at scale: one control plane (kiln's static pods as host processes on loopback), then
# rounds of JOINS nodes joining at once (token discovery with the CA pin, CSR, auto-approval,
# signed certificate), each node a process; successes, p50/p99/max latency, per phase. Prints.
JOINS ?= 10,50,100
bench-joins: k8s
	$(GO) run ./bench/joins --joins $(JOINS) --bin $(K8S_BIN)

# The images phase on a real containerd: gzip vs zstd layers, one by one vs one per CPU. Prints.
bench-imports: artifacts
	$(GO) run ./bench/imports

# A two-node cluster in QEMU booted by kiln-agent and one booted by stock kubeadm init/join on
# the same images, FIRSTBOOT_RUNS times each: medians and ratios of power-on → API server
# healthy and → Node Ready, every phase with its share, the agent's footprint. Prints.
FIRSTBOOT_RUNS ?= 1
bench-firstboot: artifacts build
	$(GO) run ./bench/firstboot --kiln bin/kiln --runs $(FIRSTBOOT_RUNS)

# Every benchmark, one after another; each prints its table (results kept in BENCHMARKS.md).
bench: bench-build bench-imports bench-joins bench-firstboot

# Unit tests only: no Kubernetes binaries needed.
unit-test: deps
	hack/run-tests.sh $(TEST_FLAGS) ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin/
