package clusterobjects

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/agent/kubeletconfig"
)

// Names of the upload-config phase's objects (kubeadm's constants).
const (
	KubeadmConfigMap              = "kubeadm-config"
	ClusterConfigurationKey       = "ClusterConfiguration"
	NodesKubeadmConfigName        = "kubeadm:nodes-kubeadm-config"
	KubeletConfigMap              = "kubelet-config"
	KubeletConfigKey              = "kubelet"
	KubeletConfigName             = "kubeadm:kubelet-config"
	ComponentConfigHashAnnotation = "kubeadm.kubernetes.io/component-config.hash"
)

// kubeadmConfig is kube-system/kubeadm-config, holding the ClusterConfiguration that joining
// nodes (and kubeadm upgrade) read, and the Role that lets nodes and bootstrap tokens read it.
func kubeadmConfig(in *Inputs) ([]runtime.Object, error) {
	data, err := yaml.Marshal(&in.Config.Cluster)
	if err != nil {
		return nil, fmt.Errorf("encode ClusterConfiguration: %w", err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: meta(metav1.NamespaceSystem, KubeadmConfigMap, nil),
		Data:       map[string]string{ClusterConfigurationKey: string(data)},
	}
	return append([]runtime.Object{cm},
		readConfigMap(metav1.NamespaceSystem, NodesKubeadmConfigName, KubeadmConfigMap,
			group(NodeBootstrapTokenGroup), group(NodesGroup))...,
	), nil
}

// kubeletConfig is kube-system/kubelet-config, the KubeletConfiguration every kubelet of the
// cluster shares, signed with kubeadm's hash annotation (kiln generates it, so it is not
// user-supplied), and the Role that lets nodes and bootstrap tokens read it.
func kubeletConfig(in *Inputs) ([]runtime.Object, error) {
	cfg, err := kubeletconfig.For(&in.Config.Cluster)
	if err != nil {
		return nil, err
	}
	data, err := kubeletconfig.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cm := signed(&corev1.ConfigMap{
		ObjectMeta: meta(metav1.NamespaceSystem, KubeletConfigMap, nil),
		Data:       map[string]string{KubeletConfigKey: string(data)},
	})
	return append([]runtime.Object{cm},
		readConfigMap(metav1.NamespaceSystem, KubeletConfigName, KubeletConfigMap,
			group(NodesGroup), group(NodeBootstrapTokenGroup))...,
	), nil
}

// signed sets kubeadm's component-config hash annotation on cm and returns it.
func signed(cm *corev1.ConfigMap) *corev1.ConfigMap {
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[ComponentConfigHashAnnotation] = ConfigMapChecksum(cm)
	return cm
}

// ConfigMapChecksum is kubeadm's ChecksumForConfigMap: "sha256:<hex>" over the values of Data,
// then BinaryData, each in key order.
func ConfigMapChecksum(cm *corev1.ConfigMap) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		h.Write([]byte(cm.Data[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		h.Write(cm.BinaryData[k])
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}
