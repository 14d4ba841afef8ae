package nodeconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/pin"
)

const (
	testToken  = "abcdef.0123456789abcdef"
	testSecret = "0123456789abcdef"
)

// testCA returns a PEM CA certificate and its pin.
func testCA(t *testing.T) ([]byte, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pin.Hash(cert)
}

func nodeYAML(role, extra string) string {
	return "apiVersion: kiln.dev/v1alpha1\nkind: NodeConfig\nrole: " + role +
		"\nclusterName: prod\ncontrolPlaneEndpoint: api.prod.example:6443\nkubernetesVersion: v1.36.3\n" + extra
}

func writeFile(t *testing.T, root, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// writeControlPlane writes every control-plane file except node.yaml, with contract modes.
func writeControlPlane(t *testing.T, root string, caPEM []byte) {
	for _, f := range Files(RoleControlPlane) {
		if f.Path != NodeConfigPath {
			writeFile(t, root, f.Path, caPEM, f.Mode)
		}
	}
}

func TestRead(t *testing.T) {
	caPEM, caPin := testCA(t)
	otherPEM, otherPin := testCA(t)
	pins := "caCertHashes:\n- " + caPin + "\n"
	tests := []struct {
		name    string
		node    string
		setup   func(t *testing.T, root string)
		want    *NodeConfig // checked when wantErr is empty
		wantErr string
	}{{
		name: "worker with a pin",
		node: nodeYAML("worker", pins+"nodeName: worker-1\n"),
		want: &NodeConfig{APIVersion: APIVersion, Kind: Kind, Role: RoleWorker, NodeName: "worker-1", ClusterName: "prod",
			ControlPlaneEndpoint: "api.prod.example:6443", CACertHashes: []string{caPin}, KubernetesVersion: "v1.36.3"},
	}, {
		name:  "worker with ca.crt only",
		node:  nodeYAML("worker", ""),
		setup: func(t *testing.T, root string) { writeFile(t, root, CACertPath, caPEM, PublicMode) },
	}, {
		name:  "worker with matching pin and ca.crt",
		node:  nodeYAML("worker", pins),
		setup: func(t *testing.T, root string) { writeFile(t, root, CACertPath, caPEM, PublicMode) },
	}, {
		name:    "worker with ca.crt not matching the pin",
		node:    nodeYAML("worker", "caCertHashes: ["+otherPin+"]\n"),
		setup:   func(t *testing.T, root string) { writeFile(t, root, CACertPath, caPEM, PublicMode) },
		wantErr: "does not match caCertHashes",
	}, {
		name:    "worker without pin or ca.crt",
		node:    nodeYAML("worker", ""),
		wantErr: "caCertHashes: Required value",
	}, {
		name:    "worker with a broken ca.crt",
		node:    nodeYAML("worker", pins),
		setup:   func(t *testing.T, root string) { writeFile(t, root, CACertPath, []byte("not a cert"), PublicMode) },
		wantErr: CACertPath,
	}, {
		name:  "control plane",
		node:  nodeYAML("control-plane", pins),
		setup: func(t *testing.T, root string) { writeControlPlane(t, root, otherPEM) },
	}, {
		name: "control plane key readable by others",
		node: nodeYAML("control-plane", pins),
		setup: func(t *testing.T, root string) {
			writeControlPlane(t, root, otherPEM)
			writeFile(t, root, EtcdCAKeyPKIPath, otherPEM, 0o644)
		},
		wantErr: "etcd/ca.key: invalid node configuration: mode 0644, want 0600",
	}, {
		name: "control plane without tokens.yaml",
		node: nodeYAML("control-plane", pins),
		setup: func(t *testing.T, root string) {
			writeControlPlane(t, root, otherPEM)
			os.Remove(filepath.Join(root, TokensPath))
		},
		wantErr: "tokens.yaml",
	},
		{name: "unknown field", node: nodeYAML("worker", pins+"nodname: w1\n"), wantErr: `field "nodname" is not supported by kiln`},
		{name: "bad role", node: nodeYAML("master", pins), wantErr: `role: Unsupported value: "master"`},
		{name: "bad pin", node: nodeYAML("worker", "caCertHashes: [sha256:abc]\n"), wantErr: "caCertHashes[0]: Invalid value"},
		{name: "md5 pin", node: nodeYAML("worker", "caCertHashes: [md5:"+strings.Repeat("a", 32)+"]\n"), wantErr: "caCertHashes[0]"},
		{name: "bad node name", node: nodeYAML("worker", pins+"nodeName: Worker_1\n"), wantErr: "nodeName: Invalid value"},
		{name: "endpoint without port", node: strings.Replace(nodeYAML("worker", pins), ":6443", "", 1), wantErr: "controlPlaneEndpoint: Invalid value"},
		{name: "bad version", node: strings.Replace(nodeYAML("worker", pins), "v1.36.3", "latest", 1), wantErr: "kubernetesVersion: Invalid value"},
		{name: "wrong kind", node: strings.Replace(nodeYAML("worker", pins), "NodeConfig", "Node", 1), wantErr: "kind: Unsupported value"},
		{name: "wrong apiVersion", node: strings.Replace(nodeYAML("worker", pins), "v1alpha1", "v1", 1), wantErr: "apiVersion: Unsupported value"},
		{name: "no cluster name", node: strings.Replace(nodeYAML("worker", pins), "clusterName: prod\n", "", 1), wantErr: "clusterName: Required value"},
		{name: "duplicate field", node: nodeYAML("worker", pins+"role: worker\n"), wantErr: "role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, NodeConfigPath, []byte(tc.node), PublicMode)
			if tc.setup != nil {
				tc.setup(t, root)
			}
			got, err := Read(root)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalid) && !strings.Contains(tc.wantErr, "does not match") {
					t.Errorf("error %v is not ErrInvalid", err)
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if tc.want != nil && !equalConfig(got, tc.want) {
				t.Errorf("Read = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func equalConfig(a, b *NodeConfig) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Role == b.Role && a.NodeName == b.NodeName &&
		a.ClusterName == b.ClusterName && a.ControlPlaneEndpoint == b.ControlPlaneEndpoint &&
		strings.Join(a.CACertHashes, ",") == strings.Join(b.CACertHashes, ",") && a.KubernetesVersion == b.KubernetesVersion
}

func TestReadMissing(t *testing.T) {
	if _, err := Read(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of an empty root: %v, want fs.ErrNotExist", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	_, caPin := testCA(t)
	c := New(RoleWorker)
	c.ClusterName, c.ControlPlaneEndpoint, c.KubernetesVersion = "prod", "[2001:db8::1]:6443", "v1.36.3"
	c.CACertHashes = []string{caPin}
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeFile(t, root, NodeConfigPath, data, PublicMode)
	got, err := Read(root)
	if err != nil {
		t.Fatalf("Read(Marshal()): %v\n%s", err, data)
	}
	if !equalConfig(got, c) {
		t.Errorf("round trip: got %+v, want %+v", got, c)
	}
	c.Role = "boss"
	if _, err := c.Marshal(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Marshal of an invalid config: %v", err)
	}
}

func TestReadToken(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		mode    fs.FileMode
		wantErr string
	}{
		{name: "with newline", data: testToken + "\n", mode: 0o600},
		{name: "without newline", data: testToken, mode: 0o600},
		{name: "group readable", data: testToken + "\n", mode: 0o640, wantErr: "mode 0640, want 0600"},
		{name: "world readable", data: testToken + "\n", mode: 0o644, wantErr: "mode 0644, want 0600"},
		{name: "upper case", data: strings.ToUpper(testToken) + "\n", mode: 0o600, wantErr: "invalid bootstrap token"},
		{name: "two newlines", data: testToken + "\n\n", mode: 0o600, wantErr: "invalid bootstrap token"},
		{name: "empty", data: "", mode: 0o600, wantErr: "invalid bootstrap token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, BootstrapTokenPath, []byte(tc.data), tc.mode)
			tok, err := ReadToken(root)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadToken: %v, want ErrInvalid containing %q", err, tc.wantErr)
				}
				if strings.Contains(strings.ToLower(err.Error()), testSecret) {
					t.Errorf("error reveals the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Value() != testToken || tok.ID != "abcdef" {
				t.Errorf("token %q (id %q)", tok.Value(), tok.ID)
			}
		})
	}
	if _, err := ReadToken(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing token file: %v, want fs.ErrNotExist", err)
	}
}
