// Package ociimage builds kiln's own single-layer container images (kube-apiserver, etcd,
// coredns, pause, …) from files on the build host, reproducibly: the same Spec gives the same
// image digest on every build and every machine running the same Go release.
//
// Images carry exactly the upstream names (registry.k8s.io/kube-apiserver:v1.36.3, …), so the
// static-pod manifests work unchanged with kiln's images and with the official ones. The layer is
// a tar sorted by path, with every parent directory as an explicit entry, uid/gid 0, every mtime
// equal to the image's creation time and no PAX access or change times, compressed by zstd
// (OCI tar+zstd) at a fixed level with one encoder goroutine. Like distroless images, every image
// gets /etc/passwd, /etc/group, /etc/nsswitch.conf and a sticky /tmp unless the Spec opts out.
//
// FromRootfs lifts dynamically linked programs (iptables, nft, conntrack for kube-proxy) out of
// a Debian root filesystem together with the libraries they load, found by package elfdeps.
package ociimage
