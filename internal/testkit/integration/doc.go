// Package integration tests kiln's cluster core against the real control plane: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler run as plain processes on
// loopback, started from the command lines of kiln's own rendered static-pod manifests (only
// host paths and ports remapped), so the manifests themselves are what is tested. Package
// hostcontrolplane runs them.
//
// The tests need the pinned binaries: KILN_K8S_BIN names their directory ("make k8s" builds
// them; "make test" sets it). Without it they skip, unless KILN_REQUIRE_INTEGRATION=1.
package integration
