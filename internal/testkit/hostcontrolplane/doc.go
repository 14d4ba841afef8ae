// Package hostcontrolplane runs the control plane kiln renders for a first control-plane node
// as plain host processes on loopback, for integration tests and benchmarks: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler, each started from the command line
// of kiln's own static-pod manifest with only host paths and ports remapped, so the manifests
// themselves are what runs.
//
// Start does what the first control plane does on its first boot, up to a healthy control
// plane: a cluster directory (what the operator holds: CAs, admin.conf, tokens, CA pin), the CAs
// delivered to the node, the node's leaf certificates, kubeconfigs and static pods, then the
// four components in order, each waited for through its own probe. ApplyInitObjects then applies
// the init objects as the first-boot agent does. Stop ends every process Start started, by PID.
//
// It needs the pinned Kubernetes binaries: BinDirFromEnv reads their directory from
// KILN_K8S_BIN ("make k8s" builds them). Progress goes to Options.Logf; no line carries a
// bootstrap token's secret.
package hostcontrolplane
