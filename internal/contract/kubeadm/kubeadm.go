// Package kubeadm names the facts of a kubeadm node that more than one part of kiln needs:
// the control-plane components (their static pods' names, which are also the manifests' file
// names without ".yaml") and the ports each component listens on, as kubeadm v1.36's constants
// package has them. Preflight, the static pods, kubelet's configuration and the health waits all
// read them from here.
//
// Standard library only: every program may use it.
package kubeadm

// Control-plane components: the names of their static pods and of their binaries.
const (
	Etcd              = "etcd"
	KubeAPIServer     = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
)

// ControlPlaneComponents lists the static pods in the order kubeadm writes them.
var ControlPlaneComponents = []string{Etcd, KubeAPIServer, ControllerManager, Scheduler}

// Ports. The API server's is a default: a cluster may bind another (localAPIEndpoint.bindPort).
const (
	APIServerPort         = 6443
	EtcdClientPort        = 2379
	EtcdPeerPort          = 2380
	EtcdMetricsPort       = 2381
	ControllerManagerPort = 10257
	SchedulerPort         = 10259
	KubeletPort           = 10250
	KubeletHealthzPort    = 10248
)

// ManifestFile is the file name of a component's static pod under /etc/kubernetes/manifests.
func ManifestFile(component string) string { return component + ".yaml" }
