package manifests

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kilnproject/kiln/internal/cluster/config"
)

// Scheduling priority of the control plane's static pods, as kubeadm sets it.
const (
	PriorityClassName = "system-node-critical"
	Priority          = int32(2000001000)
	probePortName     = "probe-port"
)

// component is what differs between the four static pods.
type component struct {
	name        string
	image       string
	command     []string
	cpu         string
	memory      string
	port        int32
	probes      probes
	volumes     []volume
	annotations map[string]string
}

// probes says where each probe of a component goes; an empty path means no such probe.
type probes struct {
	host                                     string
	scheme                                   corev1.URIScheme
	livenessPath, readinessPath, startupPath string
}

// volume is one hostPath volume and its mount.
type volume struct {
	name, hostPath, mountPath string
	readOnly                  bool
	pathType                  corev1.HostPathType
}

// pod assembles a static pod from a component, in kubeadm's ComponentPod shape.
func pod(c component) *corev1.Pod {
	container := corev1.Container{
		Name:            c.name,
		Image:           c.image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         c.command,
		Ports:           []corev1.ContainerPort{{Name: probePortName, ContainerPort: c.port, Protocol: corev1.ProtocolTCP}},
		Resources:       corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(c.cpu)}},
		LivenessProbe:   httpProbe(c.probes, c.probes.livenessPath, livenessBudget),
		ReadinessProbe:  httpProbe(c.probes, c.probes.readinessPath, readinessBudget),
		StartupProbe:    httpProbe(c.probes, c.probes.startupPath, startupBudget),
	}
	if c.memory != "" {
		container.Resources.Requests[corev1.ResourceMemory] = resource.MustParse(c.memory)
	}
	var volumes []corev1.Volume
	for _, v := range c.volumes {
		pathType := v.pathType
		volumes = append(volumes, corev1.Volume{
			Name:         v.name,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: v.hostPath, Type: &pathType}},
		})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: v.name, MountPath: v.mountPath, ReadOnly: v.readOnly})
	}
	priority := Priority
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        c.name,
			Namespace:   metav1.NamespaceSystem,
			Labels:      map[string]string{"component": c.name, "tier": "control-plane"},
			Annotations: c.annotations,
		},
		Spec: corev1.PodSpec{
			Containers:        []corev1.Container{container},
			HostNetwork:       true,
			Priority:          &priority,
			PriorityClassName: PriorityClassName,
			SecurityContext:   &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Volumes:           volumes,
		},
	}
}

// budget is how long a probe lets a component be unhealthy before kubelet acts: about
// initialDelay + failureThreshold × period seconds.
type budget struct {
	initialDelay, timeout, failureThreshold, period int32
}

// The probe budgets of the control plane's static pods. Liveness and readiness are kubeadm's.
// The startup probe is not: kubeadm's allows 10 s + 24 × 10 s ≈ 4m10s before kubelet restarts
// the component, and a control plane on slow hardware needs longer. Under TCG on the 2-core
// hosts kiln is tested on, kube-apiserver's first start took 4m01s alone (its
// rbac/bootstrap-roles post-start hook was the last check to pass) and 6m50s with a slower
// CPU model; each restart makes the next start slower still, so a budget at that edge turns a
// slow start into a restart loop. 60 × 10 s gives about 10 minutes. What it costs: a component
// that can never become healthy is restarted after 10 minutes instead of 4; a healthy start
// ends the startup probe as soon as it passes, so it costs nothing on fast machines, and the
// liveness probe keeps kubeadm's budget once the component is up.
var (
	livenessBudget  = budget{initialDelay: 10, timeout: 15, failureThreshold: 8, period: 10}
	readinessBudget = budget{initialDelay: 0, timeout: 15, failureThreshold: 3, period: 1}
	startupBudget   = budget{initialDelay: 10, timeout: 15, failureThreshold: 60, period: 10}
)

// httpProbe is kubeadm's createHTTPProbe with budget b; it returns nil for an empty path.
func httpProbe(p probes, path string, b budget) *corev1.Probe {
	if path == "" {
		return nil
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Host:   p.host,
			Path:   path,
			Port:   intstr.FromString(probePortName),
			Scheme: p.scheme,
		}},
		InitialDelaySeconds: b.initialDelay,
		TimeoutSeconds:      b.timeout,
		FailureThreshold:    b.failureThreshold,
		PeriodSeconds:       b.period,
	}
}

// command returns binary followed by the flags, kubeadm's way: the operator's extra args
// replace defaults of the same name, and the flags are sorted.
func command(binary string, defaults map[string]string, extra []config.Arg) []string {
	args := map[string][]string{}
	for name, value := range defaults {
		args[name] = []string{value}
	}
	overridden := map[string]bool{}
	for _, a := range extra {
		if !overridden[a.Name] {
			args[a.Name] = nil
			overridden[a.Name] = true
		}
		args[a.Name] = append(args[a.Name], a.Value)
	}
	var flags []string
	for name, values := range args {
		for _, v := range values {
			flags = append(flags, fmt.Sprintf("--%s=%s", name, v))
		}
	}
	sort.Strings(flags)
	return append([]string{binary}, flags...)
}

// extraVolumes turns the operator's extraVolumes into volumes.
func extraVolumes(mounts []config.HostPathMount) []volume {
	var out []volume
	for _, m := range mounts {
		out = append(out, volume{name: m.Name, hostPath: m.HostPath, mountPath: m.MountPath, readOnly: m.ReadOnly, pathType: m.PathType})
	}
	return out
}
