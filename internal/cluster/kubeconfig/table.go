package kubeconfig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Inputs are what the kubeconfig files depend on.
type Inputs struct {
	// PKI carries the cluster configuration (name, key algorithm, validity) and the node name.
	PKI *pki.Inputs
	// ControlPlaneURL is the cluster-wide API URL: the controlPlaneEndpoint, or this node.
	ControlPlaneURL string
	// LocalURL is this node's own API server.
	LocalURL string
}

// File is one row of kubeadm's kubeconfig table.
type File struct {
	// Name is the file name under /etc/kubernetes.
	Name string
	// User returns the identity: the client certificate's CN (the user) and O (the groups).
	User func(in *Inputs) (cn string, orgs []string)
	// Local is true when the file talks to this node's API server rather than the cluster's
	// endpoint.
	Local bool
}

// ClusterAdminsGroup is the group admin.conf's user belongs to; kiln binds it to cluster-admin
// with ClusterRoleBinding kubeadm:cluster-admins.
const ClusterAdminsGroup = "kubeadm:cluster-admins"

func fixed(cn string, orgs ...string) func(*Inputs) (string, []string) {
	return func(*Inputs) (string, []string) { return cn, orgs }
}

// Files returns kubeadm's kubeconfig table.
func Files() []File {
	return []File{
		{Name: layout.AdminConf, User: fixed("kubernetes-admin", ClusterAdminsGroup)},
		{Name: layout.SuperAdminConf, User: fixed("kubernetes-super-admin", "system:masters")},
		{Name: layout.KubeletConf, Local: true, User: func(in *Inputs) (string, []string) {
			return "system:node:" + in.PKI.NodeName, []string{"system:nodes"}
		}},
		{Name: layout.ControllerManagerConf, Local: true, User: fixed("system:kube-controller-manager")},
		{Name: layout.SchedulerConf, Local: true, User: fixed("system:kube-scheduler")},
	}
}

// Select returns the rows of the table with the given names, in table order.
func Select(names ...string) []File {
	var out []File
	for _, f := range Files() {
		if slices.Contains(names, f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// ErrInvalidFile marks an existing kubeconfig that cannot be reused.
var ErrInvalidFile = errors.New("invalid existing kubeconfig")

// Create makes sure each file exists in dir: a valid existing file is reused, an invalid one is
// an error naming it, a missing one is created with a fresh client certificate signed by the CA
// in pkiDir.
func Create(dir, pkiDir string, in *Inputs, files []File) ([]pki.Result, error) {
	ca, err := pki.LoadCert(pki.CertPath(pkiDir, pki.CABaseName))
	if err != nil {
		return nil, fmt.Errorf("kubeconfigs need the cluster CA: %w", err)
	}
	var results []pki.Result
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		server := in.ControlPlaneURL
		if f.Local {
			server = in.LocalURL
		}
		cn, orgs := f.User(in)
		if _, err := os.Stat(path); err == nil {
			if err := check(path, server, cn, ca); err != nil {
				return results, fmt.Errorf("%s: %w: %v (move it away to have it created anew)", path, ErrInvalidFile, err)
			}
			results = append(results, pki.Result{BaseName: f.Name, Action: pki.Reused})
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return results, err
		}
		certPEM, keyPEM, caPEM, err := signClient(pkiDir, cn, orgs, in.PKI)
		if err != nil {
			return results, err
		}
		cfg := NewWithCert(server, in.PKI.Cluster.ClusterName, cn, caPEM, certPEM, keyPEM)
		if err := Write(path, cfg); err != nil {
			return results, err
		}
		results = append(results, pki.Result{BaseName: f.Name, Action: pki.Created})
	}
	return results, nil
}

// check tells whether an existing kubeconfig points at server, trusts ca, and holds a current
// client certificate for cn signed by ca.
func check(path, server, cn string, ca *x509.Certificate) error {
	cfg, err := Load(path)
	if err != nil {
		return err
	}
	cluster, err := CurrentCluster(cfg)
	if err != nil {
		return err
	}
	if cluster.Server != server {
		return fmt.Errorf("its server is %s, expected %s", cluster.Server, server)
	}
	caInFile, err := parseFirstCert(cluster.CertificateAuthorityData)
	if err != nil || !caInFile.Equal(ca) {
		return fmt.Errorf("it does not trust the cluster CA")
	}
	cert, err := ClientCert(cfg)
	if err != nil {
		return err
	}
	if cert.Subject.CommonName != cn {
		return fmt.Errorf("its user is %q, expected %q", cert.Subject.CommonName, cn)
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("its client certificate is not signed by the cluster CA")
	}
	if time.Now().After(cert.NotAfter) {
		return fmt.Errorf("its client certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func parseFirstCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
