#!/usr/bin/env bash
# Builds the pinned Kubernetes server binaries and etcd from the Go module proxy into the kiln
# cache (outside the clone, so a fresh CI clone reuses a warm cache on the same machine).
#
#   KILN_CACHE   cache root (default ~/.cache/kiln)
#
# The output directory is keyed by the pinned versions and the Go toolchain; a manifest of
# sha256 sums is written last, and a rerun whose binaries still match it does nothing.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.36.3}
STAGING_VERSION=${STAGING_VERSION:-v0.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${KILN_CACHE:-$HOME/.cache/kiln}
GOVERSION=$(go env GOVERSION)

out="$CACHE/k8s/$K8S_VERSION-etcd-$ETCD_VERSION-$GOVERSION"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm etcd)
manifest="$out/SHA256SUMS"

if [[ -f "$manifest" ]] && (cd "$out/bin" && sha256sum --quiet --check "$manifest" >/dev/null 2>&1); then
  ln -sfn "$out/bin" "$CACHE/k8s/current"
  echo "k8s: $out/bin is up to date ($K8S_VERSION, etcd $ETCD_VERSION)"
  exit 0
fi

echo "k8s: building Kubernetes $K8S_VERSION and etcd $ETCD_VERSION into $out/bin (cold: ~10 min on 2 cores)"
# A finished tree that no longer matches its sums is rebuilt; binaries already built by an
# interrupted run stay in bin.tmp and are not built again.
rm -rf "$out/bin" "$manifest"
mkdir -p "$out/bin.tmp"
export CGO_ENABLED=0 GOFLAGS=-mod=mod

# A throwaway module that requires k8s.io/kubernetes and points every staging module at its
# published version, which is what k8s.io/kubernetes's own ./staging replaces stand for.
k8s_work="$CACHE/k8s/.work-$K8S_VERSION"
mkdir -p "$k8s_work"
k8s_mod_dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
{
  echo "module kiln.local/k8sbuild"
  echo
  echo "go $(sed -n 's/^go //p' "$k8s_mod_dir/go.mod")"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$k8s_mod_dir/go.mod"
  echo ")"
} >"$k8s_work/go.mod"
install -m 0644 "$k8s_mod_dir/go.sum" "$k8s_work/go.sum"

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
done
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm; do
  [[ -x "$out/bin.tmp/$b" ]] && continue
  echo "k8s: go build $b"
  (cd "$k8s_work" && go build -trimpath -ldflags "$ldflags" -o "$out/bin.tmp/$b" "k8s.io/kubernetes/cmd/$b")
done

# etcd's server module replaces its sibling modules with relative paths; require their
# published versions instead.
if [[ ! -x "$out/bin.tmp/etcd" ]]; then
  echo "k8s: go build etcd $ETCD_VERSION"
  etcd_work="$CACHE/k8s/.work-etcd-$ETCD_VERSION"
  mkdir -p "$etcd_work"
  etcd_mod_dir=$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  {
    echo "module kiln.local/etcdbuild"
    echo
    echo "go $(sed -n 's/^go //p' "$etcd_mod_dir/go.mod")"
    echo
    echo "require ("
    for m in server/v3 api/v3 client/pkg/v3 client/v3 pkg/v3; do echo "	go.etcd.io/etcd/$m $ETCD_VERSION"; done
    echo ")"
  } >"$etcd_work/go.mod"
  install -m 0644 "$etcd_mod_dir/go.sum" "$etcd_work/go.sum"
  (cd "$etcd_work" && go build -trimpath -ldflags "-s -w" -o "$out/bin.tmp/etcd" go.etcd.io/etcd/server/v3)
fi

for b in "${bins[@]}"; do
  [[ -x "$out/bin.tmp/$b" ]] || { echo "k8s: $b was not built" >&2; exit 1; }
done
mv "$out/bin.tmp" "$out/bin"
(cd "$out/bin" && sha256sum "${bins[@]}") >"$manifest.tmp"
mv "$manifest.tmp" "$manifest"
ln -sfn "$out/bin" "$CACHE/k8s/current"
echo "k8s: done: $out/bin"
