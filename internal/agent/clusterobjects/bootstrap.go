package clusterobjects

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
)

// Names of the bootstrap-token phase's objects (kubeadm's constants).
const (
	GetNodesName                   = "kubeadm:get-nodes"
	KubeletBootstrapName           = "kubeadm:kubelet-bootstrap"
	NodeAutoApproveBootstrapName   = "kubeadm:node-autoapprove-bootstrap"
	NodeAutoApproveRotationName    = "kubeadm:node-autoapprove-certificate-rotation"
	APIServerKubeletClientName     = "kubeadm:apiserver-kubelet-client"
	BootstrapSignerClusterInfoName = "kubeadm:bootstrap-signer-clusterinfo"
)

// ClusterRoles of Kubernetes' bootstrap policy that kubeadm binds.
const (
	nodeBootstrapperRole  = "system:node-bootstrapper"
	nodeClientCSRRole     = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	selfNodeClientCSRRole = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
	kubeletAPIAdminRole   = "system:kubelet-api-admin"
)

// bootstrapTokens is kubeadm's bootstrap-token phase: the token Secrets, and the RBAC that lets
// a joining node look for a duplicate Node, post its client CSR and get it approved, lets nodes
// renew their certificates, and lets the API server reach the kubelets.
func bootstrapTokens(in *Inputs) ([]runtime.Object, error) {
	var objs []runtime.Object
	for _, t := range in.Tokens {
		objs = append(objs, tokensecret.ToSecret(t))
	}
	return append(objs,
		clusterRole(GetNodesName, rule("", []string{"nodes"}, []string{"get"})),
		clusterRoleBinding(GetNodesName, GetNodesName, group(NodeBootstrapTokenGroup)),
		clusterRoleBinding(KubeletBootstrapName, nodeBootstrapperRole, group(NodeBootstrapTokenGroup)),
		clusterRoleBinding(NodeAutoApproveBootstrapName, nodeClientCSRRole, group(NodeBootstrapTokenGroup)),
		clusterRoleBinding(NodeAutoApproveRotationName, selfNodeClientCSRRole, group(NodesGroup)),
		clusterRoleBinding(APIServerKubeletClientName, kubeletAPIAdminRole, user(APIServerKubeletClientUser)),
	), nil
}

// clusterInfo is kube-public/cluster-info, which joining nodes read anonymously and verify with
// the bootstrap signer's JWS signatures and the CA pin, plus the Role that makes it readable.
func clusterInfo(in *Inputs) ([]runtime.Object, error) {
	kc, err := ClusterInfoKubeconfig(in.ControlPlaneURL, in.CACertPEM)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: meta(metav1.NamespacePublic, bootstrapapi.ConfigMapClusterInfo, nil),
		Data:       map[string]string{bootstrapapi.KubeConfigKey: string(kc)},
	}
	return append([]runtime.Object{cm},
		readConfigMap(metav1.NamespacePublic, BootstrapSignerClusterInfoName, bootstrapapi.ConfigMapClusterInfo, user(anonymousUser))...,
	), nil
}

// ClusterInfoKubeconfig is the kubeconfig cluster-info publishes: one cluster, keyed by the
// empty string as kubeadm keys it, with only the server and the CA; no users, no contexts.
func ClusterInfoKubeconfig(server string, caPEM []byte) ([]byte, error) {
	cfg := clientcmdapi.Config{Clusters: map[string]*clientcmdapi.Cluster{
		"": {Server: server, CertificateAuthorityData: caPEM},
	}}
	data, err := clientcmd.Write(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode cluster-info kubeconfig: %w", err)
	}
	return data, nil
}
