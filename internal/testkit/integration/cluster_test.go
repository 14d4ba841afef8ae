package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kilnproject/kiln/internal/agent/discovery"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pin"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplane"
	"github.com/kilnproject/kiln/internal/testkit/hostcontrolplanetest"
	"github.com/kilnproject/kiln/internal/testkit/tlsbootstrap"
)

// cluster is a running control plane made by kiln, plus clients with what its operator holds.
type cluster struct {
	*hostcontrolplane.ControlPlane
	admin kubernetes.Interface // admin.conf
	super kubernetes.Interface // the node's super-admin.conf
}

// startCluster runs the first control plane's first boot against real binaries, through the
// agent's own phases up to the cluster objects (see package hostcontrolplane).
func startCluster(t *testing.T) *cluster {
	c := &cluster{ControlPlane: hostcontrolplanetest.Start(t)}
	var err error
	if c.super, err = c.SuperAdminClient(); err != nil {
		t.Fatal(err)
	}
	if c.admin, err = c.AdminClient(); err != nil {
		t.Fatal(err)
	}
	return c
}

func clientFromConfig(t *testing.T, cfg *clientcmdapi.Config) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	rc.Timeout = 20 * time.Second
	return kubernetes.NewForConfigOrDie(rc)
}

// TestInitAndJoin is the whole story against real binaries: init objects applied by the first
// boot and applied again by a rerun of their phase without change, a worker discovering the cluster with token and pin, a CSR approved and signed by
// the real controller manager, and the node registering itself with the certificate it got.
func TestInitAndJoin(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The first boot applied the init objects with the break-glass super-admin, as kubeadm does;
	// admin.conf works through kubeadm:cluster-admins. The bootstrap signer adds the token's JWS to cluster-info on its own; wait for it, so that
	// only our second apply could change the object afterwards.
	if err := c.WaitForClusterInfoSignature(ctx, c.Tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	before := resourceVersions(ctx, t, c.admin)
	var rerun bytes.Buffer
	if err := c.RunPhases(ctx, &rerun, "init/cluster-objects"); err != nil {
		t.Fatalf("rerun of init/cluster-objects: %v\n%s", err, rerun.String())
	}
	steps := 0
	for _, line := range strings.Split(rerun.String(), "\n") {
		if !strings.HasPrefix(line, "[cluster-objects] ") {
			continue
		}
		steps++
		if !strings.Contains(line, "(0 created, 0 updated,") {
			t.Errorf("second apply changed objects: %s", line)
		}
	}
	if steps == 0 {
		t.Errorf("the rerun printed no cluster-objects step:\n%s", rerun.String())
	}
	after := resourceVersions(ctx, t, c.admin)
	for name, rv := range before {
		if after[name] != rv {
			t.Errorf("rerunning the init objects changed %s (resourceVersion %s -> %s)", name, rv, after[name])
		}
	}

	// kubeadm-config holds a ClusterConfiguration that kiln (and kubeadm) read back.
	cm, err := c.admin.CoreV1().ConfigMaps("kube-system").Get(ctx, "kubeadm-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse([]byte(cm.Data["ClusterConfiguration"])); err != nil {
		t.Errorf("kubeadm-config does not parse back: %v", err)
	}

	// Stock kubeadm lists kiln's bootstrap tokens.
	if out, err := exec.Command(filepath.Join(c.BinDir, "kubeadm"), "token", "list", "--kubeconfig", c.Dir.AdminConf()).CombinedOutput(); err != nil {
		t.Errorf("kubeadm token list: %v\n%s", err, out)
	} else if !strings.Contains(string(out), c.Tokens[0].ID) {
		t.Errorf("kubeadm token list does not show token %s:\n%s", c.Tokens[0].ID, out)
	}

	// Join: discovery with token and pin.
	bootstrap, err := discovery.ByToken(ctx, discovery.TokenOptions{
		Endpoint: c.Endpoint, Token: c.Tokens[0].Value(), CAPins: []string{c.CAPin},
		Timeout: time.Minute, Interval: time.Second,
	})
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cluster, err := kubeconfig.CurrentCluster(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if cluster.Server != c.Config.APIServerURL() {
		t.Errorf("bootstrap kubeconfig server %s, want %s", cluster.Server, c.Config.APIServerURL())
	}

	// TLS bootstrap: a CSR with the bootstrap token, approved and signed by the real KCM.
	const worker = "worker-1"
	key, err := pki.NewPrivateKey(pki.KeyAlgorithm(c.Config.Cluster.EncryptionAlgorithm))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := tlsbootstrap.RequestNodeClientCert(ctx, bootstrap, worker, key)
	if err != nil {
		t.Fatalf("TLS bootstrap: %v", err)
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	nodeCfg := tlsbootstrap.NodeKubeconfig(cluster.Server, c.Config.Cluster.ClusterName, cluster.CertificateAuthorityData, certPEM, keyPEM, worker)
	nodeCert, err := kubeconfig.ClientCert(nodeCfg)
	if err != nil {
		t.Fatal(err)
	}
	if nodeCert.Subject.CommonName != "system:node:"+worker || strings.Join(nodeCert.Subject.Organization, ",") != "system:nodes" {
		t.Errorf("node certificate subject %v", nodeCert.Subject)
	}

	// With its own certificate the node registers itself and reads itself back.
	nodeClient := clientFromConfig(t, nodeCfg)
	if _, err := nodeClient.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: worker}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("node registers itself: %v", err)
	}
	got, err := nodeClient.CoreV1().Nodes().Get(ctx, worker, metav1.GetOptions{})
	if err != nil || got.Name != worker {
		t.Fatalf("node reads itself back: %v", err)
	}
	// NodeRestriction: the node may not touch another node.
	if _, err := nodeClient.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "someone-else"}}, metav1.CreateOptions{}); err == nil {
		t.Error("a node could register another node")
	}

	// The control-plane node, registered (its kubelet would do this), is marked by the agent's
	// mark-control-plane phase as kubeadm does.
	if _, err := c.super.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: c.NodeName}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RunPhases(ctx, nil, "init/mark-control-plane"); err != nil {
		t.Fatal(err)
	}
	cpNode, err := c.admin.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cpNode.Labels["node-role.kubernetes.io/control-plane"]; !ok || len(cpNode.Spec.Taints) == 0 ||
		cpNode.Spec.Taints[0].Key != "node-role.kubernetes.io/control-plane" || cpNode.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
		t.Errorf("control-plane node not marked: labels %v taints %v", cpNode.Labels, cpNode.Spec.Taints)
	}

	t.Run("WrongPinRefusedBeforeCredentials", func(t *testing.T) {
		wrong := "sha256:" + strings.Repeat("ab", 32)
		proxy, requests := startRecordingProxy(t, c.Endpoint)
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: proxy, Token: c.Tokens[0].Value(), CAPins: []string{wrong}, Timeout: 30 * time.Second, Interval: time.Second})
		if !errors.Is(err, pin.ErrMismatch) {
			t.Fatalf("wrong pin: got %v, want pin mismatch", err)
		}
		seen := requests()
		if len(seen) == 0 {
			t.Fatal("discovery sent nothing through the proxy")
		}
		for _, r := range seen {
			if r.Credential || r.Method != "GET" || r.Path != "/api/v1/namespaces/kube-public/configmaps/cluster-info" {
				t.Errorf("before the pin check the node sent %+v; want only anonymous GETs of cluster-info", r)
			}
		}
	})
	t.Run("WrongTokenSecretFailsJWS", func(t *testing.T) {
		bad := c.Tokens[0].ID + "." + strings.Repeat("x", 16)
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: c.Endpoint, Token: bad, CAPins: []string{c.CAPin}, Timeout: 30 * time.Second, Interval: time.Second})
		if !errors.Is(err, discovery.ErrJWSInvalid) {
			t.Fatalf("wrong secret: got %v, want JWS failure", err)
		}
		if strings.Contains(err.Error(), strings.Repeat("x", 16)) {
			t.Errorf("error reveals the token secret: %v", err)
		}
	})
	t.Run("ExpiredToken", func(t *testing.T) {
		expired := expiredToken(ctx, t, c)
		// Token discovery: the signer never signs an expired token.
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: c.Endpoint, Token: expired.Value(), CAPins: []string{c.CAPin}, Timeout: 8 * time.Second, Interval: time.Second})
		if !errors.Is(err, discovery.ErrNoSignature) {
			t.Errorf("expired token discovery: got %v, want ErrNoSignature", err)
		}
		// File discovery gets as far as the API server, which rejects the token.
		caPEM, _ := c.Dir.CACert()
		cfg, err := discovery.ByFile(c.Config.APIServerURL(), caPEM, expired.Value(), c.Config.Cluster.ClusterName)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tlsbootstrap.RequestNodeClientCert(ctx, cfg, "worker-expired", key)
		if !errors.Is(err, tlsbootstrap.ErrTokenRejected) || !strings.Contains(err.Error(), expired.ID) {
			t.Errorf("expired token TLS bootstrap: got %v, want ErrTokenRejected naming %s", err, expired.ID)
		}
	})
	t.Run("TamperedClusterInfoRefused", func(t *testing.T) {
		proxy := startTamperingProxy(t, c.Endpoint)
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: proxy, Token: c.Tokens[0].Value(), CAPins: []string{c.CAPin}, Timeout: 30 * time.Second, Interval: time.Second})
		if !errors.Is(err, discovery.ErrJWSInvalid) {
			t.Fatalf("tampered cluster-info: got %v, want JWS failure", err)
		}
	})
}

// expiredToken creates a bootstrap token whose expiration has passed, straight in the API (a
// real one would have to age).
func expiredToken(ctx context.Context, t *testing.T, c *cluster) *token.Token {
	spec := config.BootstrapToken{}
	spec.SetDefaults()
	tok, err := tokensecret.FromConfig(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	tok.Expires = &past
	if err := tokensecret.Create(ctx, c.admin, tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// resourceVersions records the version of every object the init step owns.
func resourceVersions(ctx context.Context, t *testing.T, client kubernetes.Interface) map[string]string {
	t.Helper()
	out := map[string]string{}
	cms := []struct{ ns, name string }{{"kube-public", "cluster-info"}, {"kube-system", "kubeadm-config"}, {"kube-system", "kubelet-config"}, {"kube-system", "coredns"}, {"kube-system", "kube-proxy"}}
	for _, cm := range cms {
		obj, err := client.CoreV1().ConfigMaps(cm.ns).Get(ctx, cm.name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap %s/%s: %v", cm.ns, cm.name, err)
		}
		out["ConfigMap "+cm.ns+"/"+cm.name] = obj.ResourceVersion
	}
	crbs, err := client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		if strings.HasPrefix(b.Name, "kubeadm:") || b.Name == "system:coredns" {
			out["ClusterRoleBinding "+b.Name] = b.ResourceVersion
		}
	}
	for _, name := range []string{"kubeadm:kubelet-bootstrap", "kubeadm:get-nodes", "kubeadm:node-autoapprove-bootstrap", "kubeadm:node-autoapprove-certificate-rotation", "kubeadm:apiserver-kubelet-client", "kubeadm:cluster-admins"} {
		if _, ok := out["ClusterRoleBinding "+name]; !ok {
			t.Errorf("ClusterRoleBinding %s missing", name)
		}
	}
	if d, err := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{}); err != nil {
		t.Errorf("Deployment coredns: %v", err)
	} else {
		out["Deployment coredns"] = fmt.Sprintf("generation %d", d.Generation) // its status moves on its own
	}
	if ds, err := client.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{}); err != nil {
		t.Errorf("DaemonSet kube-proxy: %v", err)
	} else {
		out["DaemonSet kube-proxy"] = fmt.Sprintf("generation %d", ds.Generation)
	}
	if s, err := client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{}); err != nil {
		t.Errorf("Service kube-dns: %v", err)
	} else {
		out["Service kube-dns"] = s.ResourceVersion
		if s.Spec.ClusterIP != "10.96.0.10" {
			t.Errorf("kube-dns ClusterIP %s, want 10.96.0.10", s.Spec.ClusterIP)
		}
	}
	return out
}
