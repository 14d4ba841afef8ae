package nodeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	certutil "k8s.io/client-go/util/cert"

	"github.com/kilnproject/kiln/internal/cluster/pin"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/strictyaml"
)

// Read reads and checks a node's configuration under root ("/" on a node): node.yaml, strictly
// and field by field; for a worker, its way to trust the cluster CA (caCertHashes, or ca.crt,
// which must then match the pins); for a control plane, that its configuration, tokens and
// keys are present and the secret ones readable by root only. The bootstrap token is read by
// ReadToken.
func Read(root string) (*NodeConfig, error) {
	path := filepath.Join(root, NodeConfigPath)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read node configuration: %w", err)
	}
	var c NodeConfig
	if err := strictyaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrInvalid, trimInvalid(err))
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkDiscovery(root, &c); err != nil {
		return nil, err
	}
	for _, f := range Files(c.Role) {
		if f.Path == NodeConfigPath || f.Path == BootstrapTokenPath || f.Optional {
			continue
		}
		if err := checkFile(root, f); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

func trimInvalid(err error) string {
	return strings.TrimPrefix(err.Error(), strictyaml.ErrInvalid.Error()+": ")
}

// checkDiscovery makes sure a worker can trust the CA it discovers: by a pin, or by ca.crt.
// When both are present they must agree.
func checkDiscovery(root string, c *NodeConfig) error {
	path := filepath.Join(root, CACertPath)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if c.Role == RoleWorker && len(c.CACertHashes) == 0 {
			return fmt.Errorf("%s: %w: caCertHashes: Required value: a worker needs a CA pin, or the CA certificate in %s", filepath.Join(root, NodeConfigPath), ErrInvalid, CACertPath)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read CA certificate: %w", err)
	}
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", path, ErrInvalid, err)
	}
	if len(c.CACertHashes) > 0 {
		if err := pin.CheckAny(certs, c.CACertHashes); err != nil {
			return fmt.Errorf("%s does not match caCertHashes of %s: %w", path, NodeConfigPath, err)
		}
	}
	return nil
}

// checkFile checks that f exists under root as a regular file, with exactly SecretMode when it
// is a secret.
func checkFile(root string, f File) error {
	path := filepath.Join(root, f.Path)
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: required file: %w", ErrInvalid, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w: not a regular file", path, ErrInvalid)
	}
	if f.Secret && fi.Mode().Perm() != SecretMode {
		return fmt.Errorf("%s: %w: mode %#o, want %#o (it holds a secret)", path, ErrInvalid, fi.Mode().Perm(), SecretMode)
	}
	return nil
}

// ReadToken reads a worker's bootstrap token from root ("/" on a node). The file must have mode
// 0600 and hold the token, optionally followed by one newline.
func ReadToken(root string) (token.Token, error) {
	f := File{Path: BootstrapTokenPath, Mode: SecretMode, Secret: true}
	if err := checkFile(root, f); err != nil {
		return token.Token{}, err
	}
	path := filepath.Join(root, f.Path)
	data, err := os.ReadFile(path)
	if err != nil {
		return token.Token{}, fmt.Errorf("read bootstrap token: %w", err)
	}
	t, err := token.Parse(string(bytes.TrimSuffix(data, []byte("\n"))))
	if err != nil {
		return token.Token{}, fmt.Errorf("%s: %w: %w", path, ErrInvalid, err)
	}
	return t, nil
}
