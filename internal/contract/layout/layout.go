package layout

import "path/filepath"

// Directories and files on a node. Paths are absolute; tests re-root them with Root.
const (
	KubernetesDir   = "/etc/kubernetes"
	PKIDir          = "/etc/kubernetes/pki"
	ManifestsDir    = "/etc/kubernetes/manifests"
	KubeletDir      = "/var/lib/kubelet"
	EtcdDataDir     = "/var/lib/etcd"
	KubeletPKIDir   = "/var/lib/kubelet/pki"
	ContainerdSock  = "unix:///run/containerd/containerd.sock"
	KubeletCertPath = "/var/lib/kubelet/pki/kubelet-client-current.pem"
)

// Kubeconfig file names under KubernetesDir.
const (
	AdminConf             = "admin.conf"
	SuperAdminConf        = "super-admin.conf"
	KubeletConf           = "kubelet.conf"
	BootstrapKubeletConf  = "bootstrap-kubelet.conf"
	ControllerManagerConf = "controller-manager.conf"
	SchedulerConf         = "scheduler.conf"
)

// Kubelet files under KubeletDir.
const (
	KubeletConfigFile   = "config.yaml"
	KubeletFlagsEnvFile = "kubeadm-flags.env"
	KubeletInstanceFile = "instance-config.yaml"
)

// KubeconfigPath returns the path of a kubeconfig file under /etc/kubernetes.
func KubeconfigPath(name string) string { return filepath.Join(KubernetesDir, name) }

// PKIPath returns the path of a file under /etc/kubernetes/pki.
func PKIPath(name string) string { return filepath.Join(PKIDir, name) }
