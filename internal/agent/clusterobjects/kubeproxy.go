package clusterobjects

import (
	"fmt"
	"net"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	componentbasev1alpha1 "k8s.io/component-base/config/v1alpha1"
	kubeproxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// Names of the kube-proxy addon's objects (kubeadm's phases/addons/proxy).
const (
	KubeProxyName        = "kube-proxy" // ServiceAccount, Role, RoleBinding, ConfigMap, DaemonSet
	NodeProxierName      = "kubeadm:node-proxier"
	nodeProxierRole      = "system:node-proxier"
	kubeProxyConfigKey   = "config.conf"
	kubeProxyKubeconfig  = "kubeconfig.conf"
	kubeProxyDir         = "/var/lib/kube-proxy"
	serviceAccountSecret = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// kubeProxy is kubeadm's kube-proxy addon: its ServiceAccount bound to system:node-proxier, the
// Role that lets bootstrap tokens read its ConfigMap, the ConfigMap (KubeProxyConfiguration and
// an in-cluster kubeconfig) and the DaemonSet.
func kubeProxy(in *Inputs) ([]runtime.Object, error) {
	cm, err := kubeProxyConfigMap(in)
	if err != nil {
		return nil, err
	}
	ns := metav1.NamespaceSystem
	objs := []runtime.Object{
		newServiceAccount(ns, KubeProxyName),
		clusterRoleBinding(NodeProxierName, nodeProxierRole, serviceAccount(ns, KubeProxyName)),
	}
	objs = append(objs, readConfigMap(ns, KubeProxyName, KubeProxyName, group(NodeBootstrapTokenGroup))...)
	return append(objs, cm, kubeProxyDaemonSet(in.Config.Cluster.Image("kube-proxy"))), nil
}

// KubeProxyConfiguration is the configuration kubeadm gives kube-proxy: the in-cluster
// kubeconfig, the pod subnet as cluster CIDR and the wildcard bind address of the node's address
// family; iptables mode is set explicitly. kube-proxy defaults every other field.
func KubeProxyConfiguration(in *Inputs) *kubeproxyv1alpha1.KubeProxyConfiguration {
	bind := "0.0.0.0"
	if ip := net.ParseIP(in.Config.Init.LocalAPIEndpoint.AdvertiseAddress); ip != nil && ip.To4() == nil {
		bind = "::"
	}
	return &kubeproxyv1alpha1.KubeProxyConfiguration{
		TypeMeta:         metav1.TypeMeta{APIVersion: kubeproxyv1alpha1.SchemeGroupVersion.String(), Kind: "KubeProxyConfiguration"},
		BindAddress:      bind,
		ClientConnection: componentbasev1alpha1.ClientConnectionConfiguration{Kubeconfig: kubeProxyDir + "/" + kubeProxyKubeconfig},
		ClusterCIDR:      in.Config.Cluster.Networking.PodSubnet,
		Mode:             "iptables",
	}
}

func kubeProxyConfigMap(in *Inputs) (*corev1.ConfigMap, error) {
	conf, err := yaml.Marshal(KubeProxyConfiguration(in))
	if err != nil {
		return nil, fmt.Errorf("encode KubeProxyConfiguration: %w", err)
	}
	kc, err := clientcmd.Write(kubeProxyKubeconfigFile(in.ControlPlaneURL))
	if err != nil {
		return nil, fmt.Errorf("encode kube-proxy kubeconfig: %w", err)
	}
	return signed(&corev1.ConfigMap{
		ObjectMeta: meta(metav1.NamespaceSystem, KubeProxyName, map[string]string{"app": KubeProxyName}),
		Data: map[string]string{
			kubeProxyConfigKey:  string(conf),
			kubeProxyKubeconfig: string(kc),
		},
	}), nil
}

// kubeProxyKubeconfigFile authenticates with the pod's service-account token.
func kubeProxyKubeconfigFile(server string) clientcmdapi.Config {
	const name = "default"
	return clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{name: {Server: server, CertificateAuthority: serviceAccountSecret + "/ca.crt"}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{name: {TokenFile: serviceAccountSecret + "/token"}},
		Contexts:       map[string]*clientcmdapi.Context{name: {Cluster: name, AuthInfo: name, Namespace: name}},
		CurrentContext: name,
	}
}

func kubeProxyDaemonSet(image string) *appsv1.DaemonSet {
	labels := func() map[string]string { return map[string]string{"k8s-app": KubeProxyName} }
	return &appsv1.DaemonSet{
		ObjectMeta: meta(metav1.NamespaceSystem, KubeProxyName, labels()),
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: labels()},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels()},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-node-critical",
					Containers:         []corev1.Container{kubeProxyContainer(image)},
					HostNetwork:        true,
					ServiceAccountName: KubeProxyName,
					Volumes: []corev1.Volume{
						{Name: "kube-proxy", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: KubeProxyName},
						}}},
						hostPathVolume("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
						hostPathVolume("lib-modules", "/lib/modules", ""),
					},
					Tolerations:  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					NodeSelector: map[string]string{osLabel: "linux"},
				},
			},
		},
	}
}

func kubeProxyContainer(image string) corev1.Container {
	return corev1.Container{
		Name:            KubeProxyName,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command: []string{
			"/usr/local/bin/kube-proxy",
			"--config=" + kubeProxyDir + "/" + kubeProxyConfigKey,
			"--hostname-override=$(NODE_NAME)",
		},
		SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "kube-proxy", MountPath: kubeProxyDir},
			{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
			{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true},
		},
		Env: []corev1.EnvVar{{
			Name:      "NODE_NAME",
			ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}},
		}},
	}
}

func hostPathVolume(name, path string, typ corev1.HostPathType) corev1.Volume {
	hp := &corev1.HostPathVolumeSource{Path: path}
	if typ != "" {
		hp.Type = &typ
	}
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: hp}}
}
