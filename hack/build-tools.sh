#!/usr/bin/env bash
# Builds the node's runtime tools from their pinned upstream sources on the Go module proxy into
# the kiln cache (outside the clone): containerd v2 (+ shim, ctr), runc, the CNI plugins, crictl,
# CoreDNS and Ignition. Each tool builds inside a copy of its own module, with its own go.mod and
# replace directives, exactly as upstream builds it.
#
#   KILN_CACHE   cache root (default ~/.cache/kiln)
#   TOOLS        space-separated subset to build (default: all)
#
# Every tool lands in $KILN_CACHE/tools/NAME-VERSION-GOVERSION/bin with a SHA256SUMS written last;
# a rerun whose binaries still match their sums does nothing. $KILN_CACHE/tools/NAME is a symlink
# to the current bin directory.
set -euo pipefail

CACHE=${KILN_CACHE:-$HOME/.cache/kiln}
GOVERSION=$(go env GOVERSION)
export GOFLAGS=-mod=mod

CONTAINERD_VERSION=v2.2.1
RUNC_VERSION=v1.3.3
CNI_VERSION=v1.8.0
CRICTL_VERSION=v1.36.0
COREDNS_VERSION=v1.14.7
IGNITION_VERSION=v2.27.0

# module_copy MODULE@VERSION DIR: a writable copy of the module's source in DIR.
module_copy() {
  local src
  src=$(go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -n "$src" ]] || { echo "tools: cannot download $1" >&2; return 1; }
  rm -rf "$2"
  mkdir -p "$(dirname "$2")"
  cp -r "$src" "$2"
  chmod -R u+w "$2"
}

# build_tool NAME MODULE VERSION BINARIES BUILDFN: runs BUILDFN SRC OUT in a copy of the module
# unless the cached binaries still match their sums.
build_tool() {
  local name=$1 module=$2 version=$3 bins=$4 buildfn=$5
  local out="$CACHE/tools/$name-$version-$GOVERSION"
  if [[ -f "$out/SHA256SUMS" ]] && (cd "$out/bin" && sha256sum --quiet --check ../SHA256SUMS >/dev/null 2>&1); then
    ln -sfn "$out/bin" "$CACHE/tools/$name"
    echo "tools: $name $version is up to date"
    return
  fi
  echo "tools: building $name $version"
  local start=$SECONDS
  rm -rf "$out"
  mkdir -p "$out/bin.tmp"
  module_copy "$module@$version" "$out/src"
  (cd "$out/src" && "$buildfn" "$out/bin.tmp" "$version")
  local b
  for b in $bins; do
    [[ -x "$out/bin.tmp/$b" ]] || { echo "tools: $name: $b was not built" >&2; return 1; }
  done
  rm -rf "$out/src"
  mv "$out/bin.tmp" "$out/bin"
  (cd "$out/bin" && sha256sum $bins) >"$out/SHA256SUMS.tmp"
  mv "$out/SHA256SUMS.tmp" "$out/SHA256SUMS"
  ln -sfn "$out/bin" "$CACHE/tools/$name"
  echo "tools: $name $version built in $((SECONDS - start)) s"
}

# containerd 2: pure Go without btrfs; Kubernetes 1.36 expects containerd 2.
build_containerd() {
  local pkg=github.com/containerd/containerd/v2/version
  CGO_ENABLED=0 go build -trimpath -tags no_btrfs \
    -ldflags "-s -w -X $pkg.Version=$2 -X $pkg.Revision=kiln -X $pkg.Package=github.com/containerd/containerd/v2" \
    -o "$1/" ./cmd/containerd ./cmd/containerd-shim-runc-v2 ./cmd/ctr
}

# runc: static, with seccomp (kubeadm's static pods ask for the RuntimeDefault profile), as
# upstream's "make static" builds it. runc 1.3.3 replaces go-selinux with a patched copy
# (CVE-2025-52881) in a nested module that module zips leave out; go-selinux v1.13.1 carries
# the same fix upstream, so it takes the copy's place.
build_runc() {
  go mod edit -dropreplace=github.com/opencontainers/selinux
  go get github.com/opencontainers/selinux@v1.13.1
  CGO_ENABLED=1 go build -trimpath -tags "seccomp urfave_cli_no_docs netgo osusergo" \
    -ldflags "-s -w -extldflags -static -X main.version=${2#v} -X main.gitCommit=kiln" \
    -o "$1/runc" .
}

# The CNI plugins a node's network uses: pure Go, static.
CNI_PLUGINS="bridge host-local loopback portmap ptp firewall bandwidth tuning"
build_cni() {
  local p dir
  for p in $CNI_PLUGINS; do
    for dir in plugins/main plugins/ipam plugins/meta; do
      [[ -d "$dir/$p" ]] || continue
      CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$2" \
        -o "$1/$p" "./$dir/$p"
    done
  done
}

build_crictl() {
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$2" -o "$1/crictl" ./cmd/crictl
}

build_coredns() {
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$2" -o "$1/coredns" .
}

# Ignition needs cgo for libblkid; it stays dynamically linked as upstream ships it, and the
# initramfs builder copies its shared libraries.
build_ignition() {
  CGO_ENABLED=1 go build -trimpath \
    -ldflags "-s -w -X github.com/coreos/ignition/v2/internal/version.Raw=$2 -X github.com/coreos/ignition/v2/internal/distro.selinuxRelabel=false" \
    -o "$1/ignition" ./internal
}

mkdir -p "$CACHE/tools"
for tool in ${TOOLS:-containerd runc cni crictl coredns ignition}; do
  case $tool in
  containerd) build_tool containerd github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" "containerd containerd-shim-runc-v2 ctr" build_containerd ;;
  runc) build_tool runc github.com/opencontainers/runc "$RUNC_VERSION" runc build_runc ;;
  cni) build_tool cni github.com/containernetworking/plugins "$CNI_VERSION" "$CNI_PLUGINS" build_cni ;;
  crictl) build_tool crictl sigs.k8s.io/cri-tools "$CRICTL_VERSION" crictl build_crictl ;;
  coredns) build_tool coredns github.com/coredns/coredns "$COREDNS_VERSION" coredns build_coredns ;;
  ignition) build_tool ignition github.com/coreos/ignition/v2 "$IGNITION_VERSION" ignition build_ignition ;;
  *) echo "tools: unknown tool $tool" >&2; exit 2 ;;
  esac
done
