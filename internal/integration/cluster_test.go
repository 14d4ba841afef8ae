package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kilnproject/kiln/internal/clusterdir"
	"github.com/kilnproject/kiln/internal/clusterobjects"
	"github.com/kilnproject/kiln/internal/config"
	"github.com/kilnproject/kiln/internal/discovery"
	"github.com/kilnproject/kiln/internal/kubeconfig"
	"github.com/kilnproject/kiln/internal/layout"
	"github.com/kilnproject/kiln/internal/manifests"
	"github.com/kilnproject/kiln/internal/pin"
	"github.com/kilnproject/kiln/internal/pki"
	"github.com/kilnproject/kiln/internal/tlsbootstrap"
	"github.com/kilnproject/kiln/internal/token"
)

// The node's address on its "cluster network": a loopback address other than 127.0.0.1, so
// that etcd's two client listeners (127.0.0.1 and the advertise address) stay distinct.
const (
	advertiseAddress = "127.0.0.2"
	nodeName         = "cp-1"
)

// cluster is a running control plane made by kiln, plus what an operator holds.
type cluster struct {
	cfg      *config.Config
	dir      *clusterdir.Dir
	cp       *controlPlane
	nodeRoot string // stands in for the node's "/"
	endpoint string // host:port of the API server
	caPin    string
	tokens   []*token.Token
	admin    kubernetes.Interface
	super    kubernetes.Interface
}

// startCluster does what the first control plane does on its first boot, against real
// binaries: cluster directory → CAs delivered to the node → leaf certs, kubeconfigs and static
// pods → etcd, API server, controller manager, scheduler → init objects.
func startCluster(t *testing.T) *cluster {
	bin := binDir(t)
	root := t.TempDir()
	apiPort := freePort(t)
	c := &cluster{nodeRoot: filepath.Join(root, "node"), endpoint: net.JoinHostPort(advertiseAddress, strconv.Itoa(apiPort))}

	c.cfg = config.Default()
	c.cfg.Cluster.ControlPlaneEndpoint = c.endpoint
	c.cfg.Init.LocalAPIEndpoint = config.APIEndpoint{AdvertiseAddress: advertiseAddress, BindPort: int32(apiPort)}
	c.cfg.Init.NodeRegistration.Name = nodeName
	var err error
	if c.dir, err = clusterdir.Create(filepath.Join(root, "cluster"), c.cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c.caPin, err = c.dir.CAPin(); err != nil {
		t.Fatal(err)
	}
	if c.tokens, err = c.dir.Tokens(); err != nil || len(c.tokens) != 1 {
		t.Fatalf("tokens: %v, %v", c.tokens, err)
	}

	// The node receives the CAs and the service-account key pair (Ignition does this on a real
	// node) and renders the rest for itself.
	pkiDir := filepath.Join(c.nodeRoot, layout.PKIDir)
	copyTree(t, c.dir.PKIDir(), pkiDir)
	in := &pki.Inputs{Cluster: &c.cfg.Cluster, NodeName: nodeName, AdvertiseAddress: net.ParseIP(advertiseAddress)}
	if _, err := pki.CreateTree(pkiDir, in); err != nil {
		t.Fatal(err)
	}
	kin := &kubeconfig.Inputs{PKI: in, ControlPlaneURL: c.cfg.APIServerURL(), LocalURL: c.cfg.LocalAPIServerURL()}
	if _, err := kubeconfig.Create(filepath.Join(c.nodeRoot, layout.KubernetesDir), pkiDir, kin, kubeconfig.Files()); err != nil {
		t.Fatal(err)
	}
	// The manifests name /etc/kubernetes/pki: render them with that, as on a node.
	pods, err := manifests.StaticPods(&manifests.Inputs{Config: c.cfg, NodeName: nodeName, AdvertiseAddress: net.ParseIP(advertiseAddress)})
	if err != nil {
		t.Fatal(err)
	}
	if err := manifests.Write(filepath.Join(c.nodeRoot, layout.ManifestsDir), pods); err != nil {
		t.Fatal(err)
	}

	c.cp = &controlPlane{root: c.nodeRoot, bin: bin, logs: filepath.Join(root, "logs"), ports: map[int]int{
		manifests.EtcdClientPort:        freePort(t),
		manifests.EtcdPeerPort:          freePort(t),
		manifests.EtcdMetricsPort:       freePort(t),
		manifests.ControllerManagerPort: freePort(t),
		manifests.SchedulerPort:         freePort(t),
	}}
	if err := os.MkdirAll(c.cp.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cp.dumpLogs(t); c.cp.stop(t) })

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	etcd, apiserver, kcm, scheduler := pods[0], pods[1], pods[2], pods[3]
	c.cp.start(t, etcd)
	waitHTTP(ctx, t, "etcd", c.cp.healthURL(etcd))
	c.cp.start(t, apiserver)
	waitHTTP(ctx, t, "kube-apiserver", c.cp.healthURL(apiserver))
	c.cp.start(t, kcm, "--secure-port="+strconv.Itoa(c.cp.ports[manifests.ControllerManagerPort]))
	c.cp.start(t, scheduler, "--secure-port="+strconv.Itoa(c.cp.ports[manifests.SchedulerPort]))
	waitHTTP(ctx, t, "kube-controller-manager", c.cp.healthURL(kcm))
	waitHTTP(ctx, t, "kube-scheduler", c.cp.healthURL(scheduler))

	c.super = clientFromFile(t, filepath.Join(c.nodeRoot, layout.KubernetesDir, layout.SuperAdminConf))
	c.admin = clientFromFile(t, c.dir.AdminConf())
	return c
}

func (c *cluster) initInputs(t *testing.T) *clusterobjects.Inputs {
	caPEM, err := c.dir.CACert()
	if err != nil {
		t.Fatal(err)
	}
	return &clusterobjects.Inputs{Config: c.cfg, CACertPEM: caPEM, ControlPlaneURL: c.cfg.APIServerURL(), Tokens: c.tokens}
}

func clientFromFile(t *testing.T, path string) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	rc.Timeout = 20 * time.Second
	return kubernetes.NewForConfigOrDie(rc)
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

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInitAndJoin is the whole story against real binaries: init objects applied twice without
// change, a worker discovering the cluster with token and pin, a CSR approved and signed by
// the real controller manager, and the node registering itself with the certificate it got.
func TestInitAndJoin(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Init objects, with the break-glass super-admin as kubeadm does; afterwards admin.conf works
	// through kubeadm:cluster-admins.
	in := c.initInputs(t)
	if err := clusterobjects.Apply(ctx, c.super, in, func(step string) { t.Logf("[init] %s", step) }); err != nil {
		t.Fatal(err)
	}
	// The bootstrap signer adds the token's JWS to cluster-info on its own; wait for it, so that
	// only our second apply could change the object afterwards.
	waitForSignature(ctx, t, c.admin, c.tokens[0].ID)
	before := resourceVersions(ctx, t, c.admin)
	if err := clusterobjects.Apply(ctx, c.super, in, func(step string) {
		if !strings.Contains(step, "(0 created, 0 updated,") {
			t.Errorf("second apply changed objects: %s", step)
		}
	}); err != nil {
		t.Fatalf("second apply: %v", err)
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
	if out, err := exec.Command(filepath.Join(c.cp.bin, "kubeadm"), "token", "list", "--kubeconfig", c.dir.AdminConf()).CombinedOutput(); err != nil {
		t.Errorf("kubeadm token list: %v\n%s", err, out)
	} else if !strings.Contains(string(out), c.tokens[0].ID) {
		t.Errorf("kubeadm token list does not show token %s:\n%s", c.tokens[0].ID, out)
	}

	// Join: discovery with token and pin.
	bootstrap, err := discovery.ByToken(ctx, discovery.TokenOptions{
		Endpoint: c.endpoint, Token: c.tokens[0].String(), CAPins: []string{c.caPin},
		Timeout: time.Minute, Interval: time.Second,
	})
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cluster, err := kubeconfig.CurrentCluster(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if cluster.Server != c.cfg.APIServerURL() {
		t.Errorf("bootstrap kubeconfig server %s, want %s", cluster.Server, c.cfg.APIServerURL())
	}

	// TLS bootstrap: a CSR with the bootstrap token, approved and signed by the real KCM.
	const worker = "worker-1"
	key, err := pki.NewPrivateKey(pki.KeyAlgorithm(c.cfg.Cluster.EncryptionAlgorithm))
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
	nodeCfg := tlsbootstrap.NodeKubeconfig(cluster.Server, c.cfg.Cluster.ClusterName, cluster.CertificateAuthorityData, certPEM, keyPEM, worker)
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

	// The control-plane node, registered (its kubelet would do this), is marked as kubeadm does.
	if _, err := c.super.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := clusterobjects.MarkControlPlane(ctx, c.admin, nodeName); err != nil {
		t.Fatal(err)
	}
	cpNode, err := c.admin.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cpNode.Labels["node-role.kubernetes.io/control-plane"]; !ok || len(cpNode.Spec.Taints) == 0 ||
		cpNode.Spec.Taints[0].Key != "node-role.kubernetes.io/control-plane" || cpNode.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
		t.Errorf("control-plane node not marked: labels %v taints %v", cpNode.Labels, cpNode.Spec.Taints)
	}

	t.Run("WrongPinRefusedBeforeCredentials", func(t *testing.T) {
		wrong := "sha256:" + strings.Repeat("ab", 32)
		proxy, requests := startRecordingProxy(t, c.endpoint)
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: proxy, Token: c.tokens[0].String(), CAPins: []string{wrong}, Timeout: 30 * time.Second, Interval: time.Second})
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
		bad := c.tokens[0].ID + "." + strings.Repeat("x", 16)
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: c.endpoint, Token: bad, CAPins: []string{c.caPin}, Timeout: 30 * time.Second, Interval: time.Second})
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
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: c.endpoint, Token: expired.String(), CAPins: []string{c.caPin}, Timeout: 8 * time.Second, Interval: time.Second})
		if !errors.Is(err, discovery.ErrNoSignature) {
			t.Errorf("expired token discovery: got %v, want ErrNoSignature", err)
		}
		// File discovery gets as far as the API server, which rejects the token.
		caPEM, _ := c.dir.CACert()
		cfg, err := discovery.ByFile(c.cfg.APIServerURL(), caPEM, expired.String(), c.cfg.Cluster.ClusterName)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tlsbootstrap.RequestNodeClientCert(ctx, cfg, "worker-expired", key)
		if !errors.Is(err, tlsbootstrap.ErrTokenRejected) || !strings.Contains(err.Error(), expired.ID) {
			t.Errorf("expired token TLS bootstrap: got %v, want ErrTokenRejected naming %s", err, expired.ID)
		}
	})
	t.Run("TamperedClusterInfoRefused", func(t *testing.T) {
		proxy := startTamperingProxy(t, c.endpoint)
		_, err := discovery.ByToken(ctx, discovery.TokenOptions{Endpoint: proxy, Token: c.tokens[0].String(), CAPins: []string{c.caPin}, Timeout: 30 * time.Second, Interval: time.Second})
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
	tok, err := token.FromConfig(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	tok.Expires = &past
	if err := token.Create(ctx, c.admin, tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// resourceVersions records the version of every object the init step owns.
// waitForSignature waits until the bootstrap signer has signed cluster-info for the token.
func waitForSignature(ctx context.Context, t *testing.T, client kubernetes.Interface, tokenID string) {
	t.Helper()
	for {
		cm, err := client.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
		if err == nil && cm.Data["jws-kubeconfig-"+tokenID] != "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cluster-info was never signed for token %s (last error: %v)", tokenID, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

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
