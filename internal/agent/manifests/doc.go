// Package manifests renders the control plane's static pods (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) as typed corev1.Pod values with kubeadm v1.36's
// flags, probes, volumes and priority, and writes them to /etc/kubernetes/manifests (0600).
// Per-node values (node name, advertise address) are inputs; the operator's extraArgs and
// extraVolumes from the ClusterConfiguration are merged in.
package manifests
