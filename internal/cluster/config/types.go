package config

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion is the only kubeadm config version kiln reads and writes.
const APIVersion = "kubeadm.k8s.io/v1beta4"

// Kinds of the documents kiln reads.
const (
	KindClusterConfiguration = "ClusterConfiguration"
	KindInitConfiguration    = "InitConfiguration"
)

// ClusterConfiguration is the cluster-wide part of kubeadm's configuration: what is the same for
// every node. It is also what kiln uploads as the kube-system/kubeadm-config ConfigMap.
type ClusterConfiguration struct {
	metav1.TypeMeta `json:",inline"`

	ClusterName          string     `json:"clusterName,omitempty"`
	KubernetesVersion    string     `json:"kubernetesVersion,omitempty"`
	ControlPlaneEndpoint string     `json:"controlPlaneEndpoint,omitempty"`
	ImageRepository      string     `json:"imageRepository,omitempty"`
	CertificatesDir      string     `json:"certificatesDir,omitempty"`
	EncryptionAlgorithm  string     `json:"encryptionAlgorithm,omitempty"`
	Networking           Networking `json:"networking,omitempty"`

	APIServer         APIServer             `json:"apiServer,omitempty"`
	ControllerManager ControlPlaneComponent `json:"controllerManager,omitempty"`
	Scheduler         ControlPlaneComponent `json:"scheduler,omitempty"`
	Etcd              Etcd                  `json:"etcd,omitempty"`

	CertificateValidityPeriod   *metav1.Duration `json:"certificateValidityPeriod,omitempty"`
	CACertificateValidityPeriod *metav1.Duration `json:"caCertificateValidityPeriod,omitempty"`
}

// Networking holds the cluster's address ranges and DNS domain.
type Networking struct {
	ServiceSubnet string `json:"serviceSubnet,omitempty"`
	PodSubnet     string `json:"podSubnet,omitempty"`
	DNSDomain     string `json:"dnsDomain,omitempty"`
}

// ControlPlaneComponent holds what an operator may add to a control-plane static pod.
type ControlPlaneComponent struct {
	ExtraArgs    []Arg           `json:"extraArgs,omitempty"`
	ExtraVolumes []HostPathMount `json:"extraVolumes,omitempty"`
}

// APIServer adds the API server's extra certificate SANs.
type APIServer struct {
	ControlPlaneComponent `json:",inline"`
	CertSANs              []string `json:"certSANs,omitempty"`
}

// Arg is one command-line flag, without its leading dashes. A later Arg with the same name
// replaces kiln's default for that flag.
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HostPathMount is an extra hostPath volume mounted into a control-plane component.
type HostPathMount struct {
	Name      string              `json:"name"`
	HostPath  string              `json:"hostPath"`
	MountPath string              `json:"mountPath"`
	ReadOnly  bool                `json:"readOnly,omitempty"`
	PathType  corev1.HostPathType `json:"pathType,omitempty"`
}

// Etcd configures the stacked etcd member. kiln supports local etcd only.
type Etcd struct {
	Local *LocalEtcd `json:"local,omitempty"`
}

// LocalEtcd configures the etcd static pod.
type LocalEtcd struct {
	ImageRepository string   `json:"imageRepository,omitempty"`
	ImageTag        string   `json:"imageTag,omitempty"`
	DataDir         string   `json:"dataDir,omitempty"`
	ExtraArgs       []Arg    `json:"extraArgs,omitempty"`
	ServerCertSANs  []string `json:"serverCertSANs,omitempty"`
	PeerCertSANs    []string `json:"peerCertSANs,omitempty"`
}

// InitConfiguration is the node-local part of kubeadm's configuration for the first control
// plane, plus the bootstrap tokens to create.
type InitConfiguration struct {
	metav1.TypeMeta `json:",inline"`

	BootstrapTokens  []BootstrapToken `json:"bootstrapTokens,omitempty"`
	NodeRegistration NodeRegistration `json:"nodeRegistration,omitempty"`
	LocalAPIEndpoint APIEndpoint      `json:"localAPIEndpoint,omitempty"`
}

// BootstrapToken describes one bootstrap token, as in kubeadm's bootstrapTokens list.
type BootstrapToken struct {
	Token       string           `json:"token,omitempty"`
	Description string           `json:"description,omitempty"`
	TTL         *metav1.Duration `json:"ttl,omitempty"`
	Expires     *metav1.Time     `json:"expires,omitempty"`
	Usages      []string         `json:"usages,omitempty"`
	Groups      []string         `json:"groups,omitempty"`
}

// NodeRegistration holds how the node registers itself.
type NodeRegistration struct {
	Name   string         `json:"name,omitempty"`
	Taints []corev1.Taint `json:"taints,omitempty"`
}

// APIEndpoint is the address and port the local API server advertises and binds.
type APIEndpoint struct {
	AdvertiseAddress string `json:"advertiseAddress,omitempty"`
	BindPort         int32  `json:"bindPort,omitempty"`
}
