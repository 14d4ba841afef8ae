package kubeconfig_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/testkit/golden"
	"github.com/kilnproject/kiln/internal/testkit/pkitest"
)

func TestMain(m *testing.M) {
	pkitest.Install()
	os.Exit(m.Run())
}

func setup(t *testing.T) (dir, pkiDir string, in *kubeconfig.Inputs) {
	t.Helper()
	cfg := config.Default()
	cfg.Cluster.ControlPlaneEndpoint = "cp.example.test:6443"
	cfg.Init.LocalAPIEndpoint.AdvertiseAddress = "192.0.2.10"
	dir = t.TempDir()
	pkiDir = filepath.Join(dir, "pki")
	pin := &pki.Inputs{Cluster: &cfg.Cluster, NodeName: "cp-1", AdvertiseAddress: net.ParseIP("192.0.2.10")}
	if _, err := pki.CreateCAs(pkiDir, pin); err != nil {
		t.Fatal(err)
	}
	return dir, pkiDir, &kubeconfig.Inputs{PKI: pin, ControlPlaneURL: cfg.APIServerURL(), LocalURL: cfg.LocalAPIServerURL()}
}

// TestFilesGolden covers the whole kubeconfig table: each file's server, context, identity
// and mode.
func TestFilesGolden(t *testing.T) {
	dir, pkiDir, in := setup(t)
	if _, err := kubeconfig.Create(dir, pkiDir, in, kubeconfig.Files()); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadCert(pki.CertPath(pkiDir, pki.CABaseName))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range kubeconfig.Files() {
		path := filepath.Join(dir, f.Name)
		cfg, err := kubeconfig.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		cluster, err := kubeconfig.CurrentCluster(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := kubeconfig.ClientCert(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.CheckSignatureFrom(ca); err != nil {
			t.Errorf("%s: client cert not signed by the CA: %v", f.Name, err)
		}
		var clusters []string
		for name := range cfg.Clusters {
			clusters = append(clusters, name)
		}
		sort.Strings(clusters)
		fi, _ := os.Stat(path)
		fmt.Fprintf(&b, "%s:\n  mode: %v\n  clusters: %v\n  context: %s\n  server: %s\n  user: CN=%s O=%v\n  extKeyUsage: %v\n  lifetime: %v\n",
			f.Name, fi.Mode().Perm(), clusters, cfg.CurrentContext, cluster.Server, cert.Subject.CommonName, cert.Subject.Organization,
			cert.ExtKeyUsage, cert.NotAfter.Sub(cert.NotBefore))
	}
	golden.Assert(t, "files", []byte(b.String()))
}

func TestReuseAndInvalid(t *testing.T) {
	dir, pkiDir, in := setup(t)
	files := kubeconfig.Select("admin.conf", "scheduler.conf")
	if len(files) != 2 {
		t.Fatalf("Select returned %d files", len(files))
	}
	if _, err := kubeconfig.Create(dir, pkiDir, in, files); err != nil {
		t.Fatal(err)
	}
	results, err := kubeconfig.Create(dir, pkiDir, in, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Action != pki.Reused {
			t.Errorf("%s %s on rerun", r.BaseName, r.Action)
		}
	}
	// The node's address changed: scheduler.conf now points at the wrong server.
	in.LocalURL = "https://192.0.2.99:6443"
	_, err = kubeconfig.Create(dir, pkiDir, in, files)
	if err == nil || !strings.Contains(err.Error(), "scheduler.conf") || !strings.Contains(err.Error(), "192.0.2.99") {
		t.Errorf("stale scheduler.conf: %v", err)
	}
}

func TestBootstrapKubelet(t *testing.T) {
	cfg := kubeconfig.NewBootstrapKubelet("https://cp.example.test:6443", "kubernetes", []byte("CA"), "abcdef.0123456789abcdef")
	ctx := cfg.Contexts[cfg.CurrentContext]
	if cfg.CurrentContext != "tls-bootstrap-token-user@kubernetes" || ctx.AuthInfo != kubeconfig.BootstrapUser ||
		cfg.AuthInfos[kubeconfig.BootstrapUser].Token != "abcdef.0123456789abcdef" {
		t.Errorf("bootstrap kubeconfig: %+v", cfg)
	}
	path := filepath.Join(t.TempDir(), "bootstrap-kubelet.conf")
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != kubeconfig.Mode {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}
