package clusterobjects

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Names of the CoreDNS addon's objects (kubeadm's phases/addons/dns).
const (
	CoreDNSName        = "coredns"        // ServiceAccount, ConfigMap, Deployment
	CoreDNSClusterRole = "system:coredns" // ClusterRole and ClusterRoleBinding
	DNSServiceName     = "kube-dns"
	coreDNSReplicas    = 2
	corefilePath       = "/etc/coredns"
)

// Labels and taints kubeadm uses.
const (
	ControlPlaneLabel           = "node-role.kubernetes.io/control-plane"
	ExcludeFromExternalLBsLabel = "node.kubernetes.io/exclude-from-external-load-balancers"
	osLabel                     = "kubernetes.io/os"
)

// dnsLabels selects the CoreDNS pods; kube-dns is the name kubeadm and tools look for.
func dnsLabels() map[string]string { return map[string]string{"k8s-app": "kube-dns"} }

// coreDNS is kubeadm's CoreDNS addon: its ServiceAccount and RBAC, the Corefile, the
// Deployment and the kube-dns Service at the 10th address of the service subnet.
func coreDNS(in *Inputs) ([]runtime.Object, error) {
	dnsIP, err := in.Config.Cluster.ServiceIP(10)
	if err != nil {
		return nil, fmt.Errorf("DNS service address: %w", err)
	}
	domain := in.Config.Cluster.Networking.DNSDomain
	ns := metav1.NamespaceSystem
	return []runtime.Object{
		newServiceAccount(ns, CoreDNSName),
		clusterRole(CoreDNSClusterRole,
			rule("", []string{"endpoints", "services", "pods", "namespaces"}, []string{"list", "watch"}),
			rule("discovery.k8s.io", []string{"endpointslices"}, []string{"list", "watch"}),
		),
		clusterRoleBinding(CoreDNSClusterRole, CoreDNSClusterRole, serviceAccount(ns, CoreDNSName)),
		&corev1.ConfigMap{
			ObjectMeta: meta(ns, CoreDNSName, nil),
			Data:       map[string]string{"Corefile": Corefile(domain)},
		},
		coreDNSDeployment(in.Config.Cluster.Image("coredns")),
		dnsService(dnsIP.String()),
	}, nil
}

// Corefile is kubeadm's CoreDNS configuration for a cluster DNS domain.
func Corefile(domain string) string {
	return strings.ReplaceAll(`.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes DOMAIN in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success DOMAIN
       disable denial DOMAIN
    }
    loop
    reload
    loadbalance
}
`, "DOMAIN", domain)
}

func coreDNSDeployment(image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta(metav1.NamespaceSystem, CoreDNSName, dnsLabels()),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](coreDNSReplicas),
			Selector: &metav1.LabelSelector{MatchLabels: dnsLabels()},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(1))},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: dnsLabels()},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-cluster-critical",
					ServiceAccountName: CoreDNSName,
					Affinity:           spreadOverNodes("k8s-app", "kube-dns"),
					Tolerations: []corev1.Toleration{
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Key: ControlPlaneLabel, Effect: corev1.TaintEffectNoSchedule},
					},
					NodeSelector: map[string]string{osLabel: "linux"},
					Containers:   []corev1.Container{coreDNSContainer(image)},
					DNSPolicy:    corev1.DNSDefault,
					Volumes: []corev1.Volume{{
						Name: "config-volume",
						VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: CoreDNSName},
							Items:                []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}},
						}},
					}},
				},
			},
		},
	}
}

// spreadOverNodes prefers to put the pods labelled key=value on different nodes.
func spreadOverNodes(key, value string) *corev1.Affinity {
	exprs := []metav1.LabelSelectorRequirement{{Key: key, Operator: metav1.LabelSelectorOpIn, Values: []string{value}}}
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchExpressions: exprs},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

func coreDNSContainer(image string) corev1.Container {
	return corev1.Container{
		Name:            CoreDNSName,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("70Mi"),
			},
		},
		Args:         []string{"-conf", corefilePath + "/Corefile"},
		VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: corefilePath, ReadOnly: true}},
		Ports: []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
			{Name: "liveness-probe", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
			{Name: "readiness-probe", ContainerPort: 8181, Protocol: corev1.ProtocolTCP},
		},
		LivenessProbe: &corev1.Probe{
			ProbeHandler:        httpGet("/health", "liveness-probe"),
			InitialDelaySeconds: 60,
			TimeoutSeconds:      5,
			SuccessThreshold:    1,
			FailureThreshold:    5,
		},
		ReadinessProbe: &corev1.Probe{ProbeHandler: httpGet("/ready", "readiness-probe")},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities: &corev1.Capabilities{
				Add:  []corev1.Capability{"NET_BIND_SERVICE"},
				Drop: []corev1.Capability{"ALL"},
			},
			ReadOnlyRootFilesystem: ptr.To(true),
		},
	}
}

func httpGet(path, port string) corev1.ProbeHandler {
	return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(port), Scheme: corev1.URISchemeHTTP}}
}

// dnsService is the kube-dns Service; its clusterIP is explicit, so a rerun never asks for a
// different one.
func dnsService(ip string) *corev1.Service {
	labels := map[string]string{
		"k8s-app":                       "kube-dns",
		"kubernetes.io/cluster-service": "true",
		"kubernetes.io/name":            "CoreDNS",
	}
	svc := &corev1.Service{
		ObjectMeta: meta(metav1.NamespaceSystem, DNSServiceName, labels),
		Spec: corev1.ServiceSpec{
			ClusterIP: ip,
			Selector:  dnsLabels(),
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
			},
		},
	}
	svc.Annotations = map[string]string{"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}
	return svc
}
