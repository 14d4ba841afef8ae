// Package firstboot turns a freshly booted kiln node into a control plane or a worker, the way
// "kubeadm init" and "kubeadm join" would, without anyone logging in.
//
// Phases returns one ordered list of phases:
//
//	preflight        kubeadm's checks for the role, a clock check, free space on /var
//	config           node.yaml, the token or cluster.yaml, the node's name and address
//	images           the baked OCI archives into containerd's k8s.io namespace
//	init/…           leaf certificates, kubeconfigs, kubelet config, static pods, kubelet,
//	                 the control plane's health, the cluster objects, mark control plane
//	join/…           discovery (token + CA pin), bootstrap-kubelet.conf, kubelet config,
//	                 kubelet, TLS bootstrap and Node registration
//	pod-network      the node's pod CIDR into the CNI configuration
//	handoff          the completion stamp; kubelet keeps the node
//
// Every phase first checks for valid results of an earlier run, so a first boot cut short by a
// power loss continues where it stopped. Progress goes to /run/kiln/status.json, to the journal
// with fields, and as one line per phase to the console. The bootstrap token never appears in
// any of them.
package firstboot
