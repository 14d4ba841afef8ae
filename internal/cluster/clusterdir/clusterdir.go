package clusterdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pin"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Files of a cluster directory.
const (
	ConfigFile = "cluster.yaml"
	TokensFile = "tokens.yaml"
	PKISubdir  = "pki"
)

// ErrExists means the target directory exists and is not empty.
var ErrExists = errors.New("directory exists and is not empty")

// Dir is an existing cluster directory.
type Dir struct {
	Path string
}

// PKIDir is where the CAs and the service-account key pair live.
func (d *Dir) PKIDir() string { return filepath.Join(d.Path, PKISubdir) }

// AdminConf is the operator's kubeconfig.
func (d *Dir) AdminConf() string { return filepath.Join(d.Path, layout.AdminConf) }

// Create makes a new cluster directory at path from cfg, which must carry a
// controlPlaneEndpoint. It creates the CAs, the service-account key pair, admin.conf and
// super-admin.conf, and cfg's bootstrap tokens (one default token when cfg lists none).
func Create(path string, cfg *config.Config, now time.Time) (*Dir, error) {
	if cfg.Cluster.ControlPlaneEndpoint == "" {
		return nil, errors.New("the cluster needs a controlPlaneEndpoint (--endpoint HOST:PORT): nodes and admin.conf reach the API server there")
	}
	if err := checkEmpty(path); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(path))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", parent, err)
	}
	unlock, err := lock(parent)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Again under the lock: another run may have created path meanwhile.
	if err := checkEmpty(path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix(path))
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed into place
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, err
	}
	if err := populate(&Dir{Path: tmp}, cfg, now); err != nil {
		return nil, err
	}
	// rename(2) replaces an empty directory but never a non-empty one (atomicfile.Rename calls
	// it directly: os.Rename refuses any existing directory).
	if err := atomicfile.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("move cluster directory into place at %s: %w", path, err)
	}
	return &Dir{Path: path}, nil
}

func populate(d *Dir, cfg *config.Config, now time.Time) error {
	in := &pki.Inputs{Cluster: &cfg.Cluster}
	if _, err := pki.CreateCAs(d.PKIDir(), in); err != nil {
		return err
	}
	url := cfg.APIServerURL()
	kin := &kubeconfig.Inputs{PKI: in, ControlPlaneURL: url, LocalURL: url}
	if _, err := kubeconfig.Create(d.Path, d.PKIDir(), kin, kubeconfig.Select(layout.AdminConf, layout.SuperAdminConf)); err != nil {
		return err
	}
	specs := cfg.Init.BootstrapTokens
	if len(specs) == 0 {
		specs = []config.BootstrapToken{{Description: "created by kiln cluster init"}}
	}
	var tokens []*token.Token
	for i := range specs {
		specs[i].SetDefaults()
		t, err := tokensecret.FromConfig(specs[i], now)
		if err != nil {
			return fmt.Errorf("bootstrapTokens[%d]: %w", i, err)
		}
		tokens = append(tokens, t)
	}
	if err := d.writeTokens(tokens); err != nil {
		return err
	}
	// The configuration file holds no secrets: the tokens live in tokens.yaml only.
	public := *cfg
	public.Init.BootstrapTokens = nil
	return writeConfig(filepath.Join(d.Path, ConfigFile), &public)
}

func checkEmpty(path string) error {
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	case len(entries) > 0:
		return fmt.Errorf("%s: %w; choose another --dir or move it away", path, ErrExists)
	}
	return nil
}

// Open checks that path is a cluster directory.
func Open(path string) (*Dir, error) {
	d := &Dir{Path: path}
	for _, f := range []string{filepath.Join(path, ConfigFile), pki.CertPath(d.PKIDir(), pki.CABaseName)} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s is not a kiln cluster directory (made by \"kiln cluster init\"): %w", path, err)
		}
	}
	return d, nil
}

// Config reads the cluster's configuration.
func (d *Dir) Config() (*config.Config, error) {
	return config.LoadFile(filepath.Join(d.Path, ConfigFile))
}

// CACert reads the cluster CA certificate.
func (d *Dir) CACert() ([]byte, error) {
	return os.ReadFile(pki.CertPath(d.PKIDir(), pki.CABaseName))
}

// CAPin returns the pin joining nodes check the cluster CA against.
func (d *Dir) CAPin() (string, error) {
	ca, err := pki.LoadCert(pki.CertPath(d.PKIDir(), pki.CABaseName))
	if err != nil {
		return "", err
	}
	return pin.Hash(ca), nil
}
