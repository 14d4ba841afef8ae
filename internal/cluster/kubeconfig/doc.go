// Package kubeconfig builds and writes the kubeconfig files of a node, as kubeadm does: a data
// table (Files) of admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf and
// kubelet.conf with their identities and servers, each with an embedded client certificate
// signed by the cluster CA; and bootstrap-kubelet.conf, which carries a bootstrap token.
package kubeconfig
