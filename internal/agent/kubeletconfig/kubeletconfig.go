package kubeletconfig

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// For returns the cluster-wide KubeletConfiguration, the same on every node: the values kubeadm
// sets explicitly (its defaulting lives in k8s.io/kubernetes, which kiln does not import).
// HealthzPort is kubelet's local health port (on 127.0.0.1), as kubeadm sets it.
const HealthzPort = 10248

func For(c *config.ClusterConfiguration) (*kubeletv1beta1.KubeletConfiguration, error) {
	dnsIP, err := c.ServiceIP(10)
	if err != nil {
		return nil, fmt.Errorf("cluster DNS address: %w", err)
	}
	return &kubeletv1beta1.KubeletConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: kubeletv1beta1.SchemeGroupVersion.String(), Kind: "KubeletConfiguration"},
		Authentication: kubeletv1beta1.KubeletAuthentication{
			X509:      kubeletv1beta1.KubeletX509Authentication{ClientCAFile: layout.PKIPath("ca.crt")},
			Webhook:   kubeletv1beta1.KubeletWebhookAuthentication{Enabled: ptr.To(true)},
			Anonymous: kubeletv1beta1.KubeletAnonymousAuthentication{Enabled: ptr.To(false)},
		},
		Authorization:      kubeletv1beta1.KubeletAuthorization{Mode: kubeletv1beta1.KubeletAuthorizationModeWebhook},
		CgroupDriver:       "systemd",
		ClusterDNS:         []string{dnsIP.String()},
		ClusterDomain:      c.Networking.DNSDomain,
		StaticPodPath:      layout.ManifestsDir,
		RotateCertificates: true,
		HealthzBindAddress: "127.0.0.1",
		HealthzPort:        ptr.To[int32](HealthzPort),
		ReadOnlyPort:       0,
		// The runtime endpoint is node-local in kubeadm (instance-config.yaml); every kiln node
		// runs containerd at the same socket, so it is set here once.
		ContainerRuntimeEndpoint: layout.ContainerdSock,
	}, nil
}

// Marshal returns cfg as YAML, as written to config.yaml and the kubelet-config ConfigMap.
func Marshal(cfg *kubeletv1beta1.KubeletConfiguration) ([]byte, error) {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode KubeletConfiguration: %w", err)
	}
	return data, nil
}
