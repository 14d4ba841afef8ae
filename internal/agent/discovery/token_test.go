package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/agent/discovery"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pin"
	"github.com/kilnproject/kiln/internal/testkit/pkitest"
)

func TestMain(m *testing.M) {
	pkitest.Install()
	os.Exit(m.Run())
}

// options returns fast TokenOptions for f, logging into log.
func options(f *fakeAPI, ca *testCA, log *bytes.Buffer) discovery.TokenOptions {
	return discovery.TokenOptions{
		Endpoint: f.endpoint,
		Token:    token,
		CAPins:   []string{ca.pin},
		Timeout:  5 * time.Second,
		Interval: 10 * time.Millisecond,
		Logger:   slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func TestByToken(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			ca := newCA(t, "kubernetes")
			f := newFakeAPI(t, addr, ca, ca)
			f.notFound, f.unsigned = 2, 3 // cluster-info appears, then its signature
			var log bytes.Buffer
			o := options(f, ca, &log)
			o.CAPins = []string{newCA(t, "other").pin, ca.pin} // any pin may match

			cfg, err := discovery.ByToken(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			cluster, err := kubeconfig.CurrentCluster(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if cluster.Server != clusterServer || !bytes.Equal(cluster.CertificateAuthorityData, ca.pem) {
				t.Errorf("cluster = %s with CA %q, want %s with the cluster CA", cluster.Server, cluster.CertificateAuthorityData, clusterServer)
			}
			if _, ok := cfg.Clusters[discovery.DefaultClusterName]; !ok {
				t.Errorf("clusters = %v, want one named %q", cfg.Clusters, discovery.DefaultClusterName)
			}
			user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
			if user == nil || user.Token != token || cfg.Contexts[cfg.CurrentContext].AuthInfo != kubeconfig.BootstrapUser {
				t.Errorf("user = %+v, want %s with the token", user, kubeconfig.BootstrapUser)
			}
			reads, creds := f.stats()
			if reads != 3+1+1 {
				t.Errorf("reads = %d, want 3 unsigned, 1 signed and 1 verified", reads)
			}
			if len(creds) > 0 {
				t.Errorf("the API server was sent %v during discovery", creds)
			}
			if strings.Contains(log.String(), tokenSecret) {
				t.Errorf("the log contains the token secret:\n%s", &log)
			}
		})
	}
}

func TestByTokenFailures(t *testing.T) {
	ca := newCA(t, "kubernetes")
	other := newCA(t, "impostor")
	tests := []struct {
		name    string
		serving *testCA // signs the fake's serving certificate; default ca
		setup   func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions)
		want    error
	}{{
		name:  "wrong pin",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) { o.CAPins = []string{other.pin} },
		want:  pin.ErrMismatch,
	}, {
		name:  "wrong token secret",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) { o.Token = wrongToken },
		want:  discovery.ErrJWSInvalid,
	}, {
		name: "kubeconfig changed after signing",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) {
			f.kubeconfig = strings.Replace(f.kubeconfig, clusterServer, "https://evil.example.test:6443", 1)
		},
		want: discovery.ErrJWSInvalid,
	}, {
		name: "content differs on the verified read",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) {
			f.changed = clusterInfoKubeconfig(t, "https://elsewhere.example.test:6443", ca.pem)
		},
		want: discovery.ErrContentChanged,
	}, {
		name:    "serving certificate not signed by the pinned CA",
		serving: other,
		want:    discovery.ErrUntrustedServer,
	}, {
		name:  "cluster-info never signed",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) { f.signature = "" },
		want:  discovery.ErrNoSignature,
	}, {
		name:  "cluster-info never exists",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) { f.notFound = 1 << 30 },
		want:  discovery.ErrNoClusterInfo,
	}, {
		name:  "API server unreachable",
		setup: func(t *testing.T, f *fakeAPI, o *discovery.TokenOptions) { o.Endpoint = "127.0.0.1:1" },
		want:  discovery.ErrNoClusterInfo,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serving := tc.serving
			if serving == nil {
				serving = ca
			}
			f := newFakeAPI(t, "127.0.0.1:0", serving, ca)
			var log bytes.Buffer
			o := options(f, ca, &log)
			o.Timeout = 300 * time.Millisecond
			if tc.setup != nil {
				tc.setup(t, f, &o)
			}
			start := time.Now()
			_, err := discovery.ByToken(context.Background(), o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			t.Logf("err: %v", err)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s, want about the 300ms timeout", took)
			}
			for _, secret := range []string{tokenSecret, wrongToken[7:]} {
				if strings.Contains(err.Error(), secret) || strings.Contains(log.String(), secret) {
					t.Errorf("the error or log contains the token secret:\n%v\n%s", err, &log)
				}
			}
			if _, creds := f.stats(); len(creds) > 0 {
				t.Errorf("the API server was sent %v", creds)
			}
		})
	}
}

func TestByTokenNoSignatureMessage(t *testing.T) {
	ca := newCA(t, "kubernetes")
	f := newFakeAPI(t, "127.0.0.1:0", ca, ca)
	f.signature = ""
	var log bytes.Buffer
	o := options(f, ca, &log)
	o.Timeout = 100 * time.Millisecond
	_, err := discovery.ByToken(context.Background(), o)
	for _, want := range []string{`"abcdef"`, "unknown", "expired", "usage-bootstrap-signing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %s", err, want)
		}
	}
}

func TestByTokenHonoursContext(t *testing.T) {
	ca := newCA(t, "kubernetes")
	f := newFakeAPI(t, "127.0.0.1:0", ca, ca)
	f.signature = ""
	var log bytes.Buffer
	o := options(f, ca, &log)
	o.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := discovery.ByToken(ctx, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestByTokenInvalidInput(t *testing.T) {
	ca := newCA(t, "kubernetes")
	valid := discovery.TokenOptions{Endpoint: "127.0.0.1:6443", Token: token, CAPins: []string{ca.pin}}
	tests := []struct {
		name   string
		mutate func(o *discovery.TokenOptions)
		want   string
	}{
		{"secret with capitals", func(o *discovery.TokenOptions) { o.Token = "abcdef.SECRETsecret12345" }, "bootstrap token"},
		{"short secret", func(o *discovery.TokenOptions) { o.Token = "abcdef.secret" }, "bootstrap token"},
		{"no dot", func(o *discovery.TokenOptions) { o.Token = "abcdefsecretsecret123456" }, "bootstrap token"},
		{"empty token", func(o *discovery.TokenOptions) { o.Token = "" }, "bootstrap token"},
		{"no pin", func(o *discovery.TokenOptions) { o.CAPins = nil }, "at least one CA pin"},
		{"md5 pin", func(o *discovery.TokenOptions) { o.CAPins = []string{"md5:abc"} }, "sha256"},
		{"short pin", func(o *discovery.TokenOptions) { o.CAPins = []string{"sha256:abc"} }, "64 lowercase hex"},
		{"scheme", func(o *discovery.TokenOptions) { o.Endpoint = "https://127.0.0.1:6443" }, "without a scheme"},
		{"no port", func(o *discovery.TokenOptions) { o.Endpoint = "cp.example.test" }, "host:port"},
		{"bare IPv6", func(o *discovery.TokenOptions) { o.Endpoint = "fd00::1:6443" }, "host:port"},
		{"no host", func(o *discovery.TokenOptions) { o.Endpoint = ":6443" }, "no host"},
		{"port 0", func(o *discovery.TokenOptions) { o.Endpoint = "cp:0" }, "port"},
		{"named port", func(o *discovery.TokenOptions) { o.Endpoint = "cp:https" }, "port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := valid
			tc.mutate(&o)
			_, err := discovery.ByToken(context.Background(), o)
			if !errors.Is(err, discovery.ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidInput mentioning %q", err, tc.want)
			}
			for _, secret := range []string{"SECRETsecret12345", "secret", tokenSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("err %q contains the token secret %q", err, secret)
				}
			}
		})
	}
}
