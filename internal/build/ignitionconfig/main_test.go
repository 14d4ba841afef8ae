package ignitionconfig

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/testkit/pkitest"
)

func TestMain(m *testing.M) {
	pkitest.Install()
	os.Exit(m.Run())
}

// newCluster creates a cluster directory with one default token. The endpoint has no port, so
// the node configuration must add the API server's.
func newCluster(t *testing.T) *clusterdir.Dir {
	t.Helper()
	cfg := config.Default()
	cfg.Cluster.ClusterName = "prod"
	cfg.Cluster.ControlPlaneEndpoint = "api.prod.example"
	d, err := clusterdir.Create(filepath.Join(t.TempDir(), "cluster"), cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
