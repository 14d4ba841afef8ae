// Package layout names the files and directories of a Kubernetes node, as kubeadm lays them out
// (/etc/kubernetes/{pki,manifests,*.conf}, /var/lib/kubelet/...), so that every part of kiln and
// every operator tool agrees on where things are.
package layout
