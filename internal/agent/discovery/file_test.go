package discovery_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/kilnproject/kiln/internal/agent/discovery"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
)

func TestByFile(t *testing.T) {
	ca := newCA(t, "kubernetes")
	cfg, err := discovery.ByFile(clusterServer, ca.pem, token, "")
	if err != nil {
		t.Fatal(err)
	}
	cluster := cfg.Clusters[discovery.DefaultClusterName]
	if cluster == nil || cluster.Server != clusterServer || !bytes.Equal(cluster.CertificateAuthorityData, ca.pem) {
		t.Errorf("clusters = %+v, want %s with the CA, named %s", cfg.Clusters, clusterServer, discovery.DefaultClusterName)
	}
	if user := cfg.AuthInfos[kubeconfig.BootstrapUser]; user == nil || user.Token != token {
		t.Errorf("users = %+v, want %s with the token", cfg.AuthInfos, kubeconfig.BootstrapUser)
	}
	if cfg, err := discovery.ByFile(clusterServer, ca.pem, token, "prod"); err != nil || cfg.Clusters["prod"] == nil {
		t.Errorf("cluster name prod: %v, %+v", err, cfg)
	}
}

func TestByFileInvalidInput(t *testing.T) {
	ca := newCA(t, "kubernetes")
	tests := []struct {
		name, server, token string
		ca                  []byte
		want                string
	}{
		{"http server", "http://cp.example.test:6443", token, ca.pem, "https"},
		{"no scheme", "cp.example.test:6443", token, ca.pem, "https"},
		{"no CA", clusterServer, token, nil, "cluster CA"},
		{"garbage CA", clusterServer, token, []byte("not a certificate"), "cluster CA"},
		{"bad token", clusterServer, "abcdef.NOTAVALIDSECRET!", ca.pem, "bootstrap token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := discovery.ByFile(tc.server, tc.ca, tc.token, "")
			if !errors.Is(err, discovery.ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidInput mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "NOTAVALIDSECRET") {
				t.Errorf("err %q contains the token secret", err)
			}
		})
	}
}
