package config

import (
	"errors"
	"strings"
	"testing"
)

const header = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"

func TestParseFullKubeadmFile(t *testing.T) {
	c, err := Parse([]byte(header + `
clusterName: prod
kubernetesVersion: v1.36.3
controlPlaneEndpoint: api.prod.example:6443
imageRepository: mirror.example/k8s
encryptionAlgorithm: ECDSA-P256
certificateValidityPeriod: 2160h
caCertificateValidityPeriod: 43800h
networking:
  podSubnet: 10.32.0.0/16
  serviceSubnet: 10.100.0.0/16
  dnsDomain: prod.local
apiServer:
  certSANs: [api.prod.example, 203.0.113.7]
  extraArgs:
  - {name: audit-log-path, value: /var/log/audit.log}
  extraVolumes:
  - {name: audit, hostPath: /var/log, mountPath: /var/log}
etcd:
  local:
    dataDir: /var/lib/etcd
    serverCertSANs: [etcd.prod.example]
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
  ttl: 1h
  groups: [system:bootstrappers:kubeadm:default-node-token]
nodeRegistration:
  name: cp-1
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
  bindPort: 6443
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster.ClusterName != "prod" || c.Cluster.Networking.DNSDomain != "prod.local" || c.Cluster.EncryptionAlgorithm != EncryptionECDSAP256 {
		t.Errorf("fields not read: %+v", c.Cluster)
	}
	if got := c.Cluster.Image("kube-apiserver"); got != "mirror.example/k8s/kube-apiserver:v1.36.3" {
		t.Errorf("image %s", got)
	}
	if ip, _ := c.Cluster.ServiceIP(10); ip.String() != "10.100.0.10" {
		t.Errorf("DNS IP %s", ip)
	}
	if len(c.Init.BootstrapTokens) != 1 || c.Init.BootstrapTokens[0].Usages[0] != "signing" {
		t.Errorf("token defaults not applied: %+v", c.Init.BootstrapTokens)
	}
	if c.APIServerURL() != "https://api.prod.example:6443" {
		t.Errorf("APIServerURL %s", c.APIServerURL())
	}
	// What Marshal writes, Parse reads back unchanged.
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, data)
	}
	data2, _ := again.Marshal()
	if string(data) != string(data2) {
		t.Errorf("round trip changed the config:\n%s\n---\n%s", data, data2)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster.KubernetesVersion != DefaultKubernetesVersion || c.Cluster.Networking.ServiceSubnet != DefaultServiceSubnet ||
		c.Init.LocalAPIEndpoint.BindPort != 6443 || c.Cluster.CertificateValidityPeriod.Duration != DefaultCertValidity {
		t.Errorf("defaults: %+v %+v", c.Cluster, c.Init)
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unsupported kubeadm field", header + "etcd:\n  external:\n    endpoints: [https://e:2379]\n", `field "etcd.external" is not supported by kiln`},
		{"unknown nested field", header + "apiServer:\n  timeoutForControlPlane: 4m\n", `"apiServer.timeoutForControlPlane"`},
		{"old apiVersion", "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n", "kubeadm config migrate"},
		{"unsupported kind", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n", `kind "JoinConfiguration" is not supported`},
		{"duplicate kind", header + "---\n" + header, "appears twice"},
		{"bad service subnet", header + "networking:\n  serviceSubnet: 10.96.0.0/33\n", "networking.serviceSubnet"},
		{"wrong minor", header + "kubernetesVersion: v1.35.0\n", "kubernetesVersion"},
		{"bad endpoint", header + "controlPlaneEndpoint: \"api:99999\"\n", "controlPlaneEndpoint"},
		{"bad algorithm", header + "encryptionAlgorithm: DSA\n", "encryptionAlgorithm"},
		{"leaf outlives CA", header + "certificateValidityPeriod: 100h\ncaCertificateValidityPeriod: 10h\n", "certificateValidityPeriod"},
		{"flag with dashes", header + "scheduler:\n  extraArgs:\n  - {name: --v, value: \"4\"}\n", "scheduler.extraArgs[0].name"},
		{"relative volume", header + "apiServer:\n  extraVolumes:\n  - {name: x, hostPath: var/log, mountPath: /var/log}\n", "apiServer.extraVolumes[0].hostPath"},
		{"bad SAN", header + "apiServer:\n  certSANs: [\"not a name!\"]\n", "apiServer.certSANs[0]"},
		{"duplicate field", header + "clusterName: a\nclusterName: b\n", "already set"},
		{"bad token", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: short.secretvalue\n", "bootstrapTokens[0].token"},
		{"bad usage", "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- usages: [launch]\n", "bootstrapTokens[0].usages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestTokenSecretNeverEchoed(t *testing.T) {
	_, err := Parse([]byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: abcdef.TOPSECRETVALUE12\n"))
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("error %v", err)
	}
}

func TestSplitEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"api.example:6443", "api.example", 6443, true},
		{"api.example", "api.example", 6443, true},
		{"192.0.2.1:7443", "192.0.2.1", 7443, true},
		{"[2001:db8::1]:6443", "2001:db8::1", 6443, true},
		{"[2001:db8::1]", "2001:db8::1", 6443, true},
		{"api:0", "", 0, false},
		{":6443", "", 0, false},
		{"bad_host:6443", "", 0, false},
	}
	for _, tc := range tests {
		host, port, err := SplitEndpoint(tc.in, 6443)
		if (err == nil) != tc.ok || host != tc.host || port != tc.port {
			t.Errorf("SplitEndpoint(%q) = %q, %d, %v", tc.in, host, port, err)
		}
	}
}
