// Package kubeletconfig renders the kubelet's KubeletConfiguration (k8s.io/kubelet/config/v1beta1)
// with the explicit values kubeadm sets, for /var/lib/kubelet/config.yaml and the
// kube-system/kubelet-config ConfigMap.
package kubeletconfig
