package clusterobjects

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/secret"
	"github.com/kilnproject/kiln/internal/testkit/golden"
)

// testInputs is a fixed cluster: the default configuration with an endpoint, one token that
// expires at a fixed time, and a CA certificate from testdata.
func testInputs(t *testing.T) *Inputs {
	t.Helper()
	cfg := config.Default()
	cfg.Cluster.ControlPlaneEndpoint = "cp.example.test:6443"
	cfg.Init.LocalAPIEndpoint.AdvertiseAddress = "192.0.2.10"
	ca, err := os.ReadFile("testdata/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
	tok := &token.Token{
		ID: "abcdef", Secret: secret.New("0123456789abcdef"), Description: "test token", Expires: &exp,
		Usages: slices.Clone(config.DefaultTokenUsages), Groups: []string{config.DefaultNodeTokenGroup},
	}
	return &Inputs{Config: cfg, CACertPEM: ca, ControlPlaneURL: cfg.APIServerURL(), Tokens: []*token.Token{tok}}
}

// TestObjectsGolden covers every object kiln creates at init, in apply order.
func TestObjectsGolden(t *testing.T) {
	objs, err := Objects(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Render(objs)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "objects", data)
}

// TestObjectsAreKubeadms checks the list of objects by kind and name against kubeadm v1.36.
func TestObjectsAreKubeadms(t *testing.T) {
	steps, err := Steps(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		for _, obj := range s.Objects {
			got = append(got, s.Name+": "+describe(obj))
		}
	}
	want := []string{
		"cluster-admins: ClusterRoleBinding kubeadm:cluster-admins",
		"upload-config/kubeadm: ConfigMap kube-system/kubeadm-config",
		"upload-config/kubeadm: Role kube-system/kubeadm:nodes-kubeadm-config",
		"upload-config/kubeadm: RoleBinding kube-system/kubeadm:nodes-kubeadm-config",
		"upload-config/kubelet: ConfigMap kube-system/kubelet-config",
		"upload-config/kubelet: Role kube-system/kubeadm:kubelet-config",
		"upload-config/kubelet: RoleBinding kube-system/kubeadm:kubelet-config",
		"bootstrap-token: Secret kube-system/bootstrap-token-abcdef",
		"bootstrap-token: ClusterRole kubeadm:get-nodes",
		"bootstrap-token: ClusterRoleBinding kubeadm:get-nodes",
		"bootstrap-token: ClusterRoleBinding kubeadm:kubelet-bootstrap",
		"bootstrap-token: ClusterRoleBinding kubeadm:node-autoapprove-bootstrap",
		"bootstrap-token: ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation",
		"bootstrap-token: ClusterRoleBinding kubeadm:apiserver-kubelet-client",
		"bootstrap-token/cluster-info: ConfigMap kube-public/cluster-info",
		"bootstrap-token/cluster-info: Role kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"bootstrap-token/cluster-info: RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"addon/coredns: ServiceAccount kube-system/coredns",
		"addon/coredns: ClusterRole system:coredns",
		"addon/coredns: ClusterRoleBinding system:coredns",
		"addon/coredns: ConfigMap kube-system/coredns",
		"addon/coredns: Deployment kube-system/coredns",
		"addon/coredns: Service kube-system/kube-dns",
		"addon/kube-proxy: ServiceAccount kube-system/kube-proxy",
		"addon/kube-proxy: ClusterRoleBinding kubeadm:node-proxier",
		"addon/kube-proxy: Role kube-system/kube-proxy",
		"addon/kube-proxy: RoleBinding kube-system/kube-proxy",
		"addon/kube-proxy: ConfigMap kube-system/kube-proxy",
		"addon/kube-proxy: DaemonSet kube-system/kube-proxy",
		// kiln's own, beyond kubeadm: nodes read all Nodes for pod routes.
		"addon/kiln-pod-routes: ClusterRole kiln:pod-routes",
		"addon/kiln-pod-routes: ClusterRoleBinding kiln:pod-routes",
	}
	if !slices.Equal(got, want) {
		t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestObjectsAreDeterministic(t *testing.T) {
	in := testInputs(t)
	var renders []string
	for range 5 {
		objs, err := Objects(in)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Render(objs)
		if err != nil {
			t.Fatal(err)
		}
		renders = append(renders, string(data))
	}
	for _, r := range renders[1:] {
		if r != renders[0] {
			t.Fatal("Objects renders differently from one call to the next")
		}
	}
}

func find[T runtime.Object](t *testing.T, objs []runtime.Object, name string) T {
	t.Helper()
	for _, obj := range objs {
		if o, ok := obj.(T); ok && strings.HasSuffix(describe(obj), " "+name) {
			return o
		}
	}
	var zero T
	t.Fatalf("no %T %s", zero, name)
	return zero
}

func TestClusterInfoKubeconfig(t *testing.T) {
	in := testInputs(t)
	objs, err := Objects(in)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-public/cluster-info")
	if len(cm.Data) != 1 {
		t.Errorf("cluster-info keys: %v, want only %s", cm.Data, bootstrapapi.KubeConfigKey)
	}
	kc, err := clientcmd.Load([]byte(cm.Data[bootstrapapi.KubeConfigKey]))
	if err != nil {
		t.Fatal(err)
	}
	if len(kc.Clusters) != 1 || kc.Clusters[""] == nil {
		t.Fatalf("clusters %v, want exactly one keyed by \"\"", kc.Clusters)
	}
	if len(kc.AuthInfos) != 0 || len(kc.Contexts) != 0 || kc.CurrentContext != "" {
		t.Errorf("cluster-info has users %v, contexts %v, current %q", kc.AuthInfos, kc.Contexts, kc.CurrentContext)
	}
	c := kc.Clusters[""]
	if c.Server != "https://cp.example.test:6443" || string(c.CertificateAuthorityData) != string(in.CACertPEM) {
		t.Errorf("cluster %q with CA %q", c.Server, c.CertificateAuthorityData)
	}
	if c.CertificateAuthority != "" || c.InsecureSkipTLSVerify || c.TLSServerName != "" {
		t.Errorf("cluster holds more than server and CA: %+v", c)
	}
}

func TestDNSServiceIsTenthAddress(t *testing.T) {
	for _, tc := range []struct{ subnet, want string }{
		{"10.96.0.0/12", "10.96.0.10"},
		{"10.100.0.0/16", "10.100.0.10"},
		{"fd00:10:96::/112", "fd00:10:96::a"},
	} {
		t.Run(tc.subnet, func(t *testing.T) {
			in := testInputs(t)
			in.Config.Cluster.Networking.ServiceSubnet = tc.subnet
			objs, err := Objects(in)
			if err != nil {
				t.Fatal(err)
			}
			svc := find[*corev1.Service](t, objs, "kube-system/kube-dns")
			if svc.Spec.ClusterIP != tc.want {
				t.Errorf("kube-dns clusterIP %s, want %s", svc.Spec.ClusterIP, tc.want)
			}
		})
	}
}

func TestConfigMapHashes(t *testing.T) {
	objs, err := Objects(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kube-system/kubelet-config", "kube-system/kube-proxy"} {
		cm := find[*corev1.ConfigMap](t, objs, name)
		got := cm.Annotations[ComponentConfigHashAnnotation]
		if !strings.HasPrefix(got, "sha256:") || got != ConfigMapChecksum(cm) {
			t.Errorf("%s hash annotation %q", name, got)
		}
	}
	// One key: the hash is the plain sha256 of its value.
	one := &corev1.ConfigMap{Data: map[string]string{"kubelet": "abc"}}
	if got, want := ConfigMapChecksum(one), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("checksum %s, want %s", got, want)
	}
}

func TestKubeadmConfigParsesBack(t *testing.T) {
	in := testInputs(t)
	objs, err := Objects(in)
	if err != nil {
		t.Fatal(err)
	}
	cm := find[*corev1.ConfigMap](t, objs, "kube-system/kubeadm-config")
	got, err := config.Parse([]byte(cm.Data[ClusterConfigurationKey]))
	if err != nil {
		t.Fatalf("kubeadm-config does not parse: %v", err)
	}
	if got.Cluster.ControlPlaneEndpoint != in.Config.Cluster.ControlPlaneEndpoint {
		t.Errorf("controlPlaneEndpoint %q", got.Cluster.ControlPlaneEndpoint)
	}
}

func TestInputsChecked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Inputs)
		want   string
	}{
		{"no config", func(in *Inputs) { in.Config = nil }, "no configuration"},
		{"no URL", func(in *Inputs) { in.ControlPlaneURL = "" }, "control-plane URL"},
		{"bad CA", func(in *Inputs) { in.CACertPEM = []byte("not PEM") }, "CA certificate"},
		{"bad token", func(in *Inputs) { in.Tokens[0].Usages = []string{"flying"} }, "flying"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testInputs(t)
			tc.mutate(in)
			_, err := Objects(in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error reveals the token secret: %v", err)
			}
		})
	}
}
