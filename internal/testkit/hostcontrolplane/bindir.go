package hostcontrolplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Environment variables that say where the pinned binaries are and whether their absence is
// an error.
const (
	EnvBinDir  = "KILN_K8S_BIN"
	EnvRequire = "KILN_REQUIRE_INTEGRATION"
)

// ErrNoBinaries means KILN_K8S_BIN is not set and KILN_REQUIRE_INTEGRATION is not 1: callers
// that can do without a control plane (tests) skip.
var ErrNoBinaries = errors.New(EnvBinDir + ` is not set; "make k8s" builds the pinned binaries and "make test" sets it`)

// binaries are the programs Start runs, all from the binary directory.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// BinDirFromEnv returns the directory of the pinned binaries named by KILN_K8S_BIN, after
// checking that it holds them. When the variable is unset it returns ErrNoBinaries, or another
// error when KILN_REQUIRE_INTEGRATION=1.
func BinDirFromEnv() (string, error) {
	dir := os.Getenv(EnvBinDir)
	if dir == "" {
		if os.Getenv(EnvRequire) == "1" {
			return "", fmt.Errorf(`%s is not set and %s=1: run "make k8s" and set it, or "make test"`, EnvBinDir, EnvRequire)
		}
		return "", ErrNoBinaries
	}
	return dir, CheckBinDir(dir)
}

// CheckBinDir makes sure dir holds every binary Start runs.
func CheckBinDir(dir string) error {
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return fmt.Errorf("pinned binaries in %s: %w", dir, err)
		}
	}
	return nil
}
