package hostcontrolplane

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// createCluster does what "kiln cluster init" does: a default configuration with the API server
// at advertiseAddress:apiPort, and a cluster directory for it at dir.
func (cp *ControlPlane) createCluster(dir, advertiseAddress string, apiPort int) error {
	cp.Config = config.Default()
	cp.Config.Cluster.ControlPlaneEndpoint = cp.Endpoint
	cp.Config.Init.LocalAPIEndpoint = config.APIEndpoint{AdvertiseAddress: advertiseAddress, BindPort: int32(apiPort)}
	cp.Config.Init.NodeRegistration.Name = cp.NodeName
	var err error
	if cp.Dir, err = clusterdir.Create(dir, cp.Config, time.Now()); err != nil {
		return fmt.Errorf("create the cluster directory: %w", err)
	}
	if cp.CAPin, err = cp.Dir.CAPin(); err != nil {
		return err
	}
	if cp.Tokens, err = cp.Dir.Tokens(); err != nil {
		return err
	}
	if len(cp.Tokens) == 0 {
		return fmt.Errorf("cluster directory %s holds no bootstrap token", cp.Dir.Path)
	}
	return nil
}

// deliver does what "kiln ignition" and Ignition do for the control-plane node: it renders the
// node's Ignition config from the cluster directory and writes its files, with their modes,
// under NodeRoot (node.yaml, cluster.yaml, tokens.yaml, the CAs and service-account keys).
func (cp *ControlPlane) deliver(advertiseAddress string) error {
	ign, err := ignitionconfig.Render(cp.Dir, ignitionconfig.Options{Role: nodeconfig.RoleControlPlane, NodeName: cp.NodeName, NodeIP: advertiseAddress})
	if err != nil {
		return fmt.Errorf("render the node's Ignition config: %w", err)
	}
	files, err := ignitionconfig.DecodeFiles(ign)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Contents == nil {
			return fmt.Errorf("the node's Ignition config fetches %s from %s; a host run has only inline files", f.Path, f.Source)
		}
		path := filepath.Join(cp.NodeRoot, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(path, f.Contents, f.Mode); err != nil {
			return fmt.Errorf("deliver %s: %w", f.Path, err)
		}
	}
	return nil
}
