// Package config holds a cluster's settings in kubeadm's own format: the ClusterConfiguration
// and InitConfiguration documents of kubeadm.k8s.io/v1beta4, the kubeadm.yaml operators already
// keep. kiln defines a strict subset of those types itself (k8s.io/kubernetes is not importable
// as a library); a field kiln does not support is rejected by name, never silently ignored.
package config
