package ignitionconfig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Options say which node a config is for.
type Options struct {
	// Role is the node's role.
	Role nodeconfig.Role
	// NodeName is the node's name; empty leaves it to the node's hostname at boot.
	NodeName string
	// NodeIP is the node's address on the cluster network; empty lets the node find it.
	NodeIP string
	// CACert also ships the CA certificate to a worker, for file discovery.
	CACert bool
	// Token selects a worker's bootstrap token: its ID, or the whole token "id.secret" (which
	// may be one created online and absent from the directory). Empty means the first usable
	// token of the cluster directory.
	Token string
	// Butane is the operator's Butane snippet (variant fcos, version 1.7.0), merged in.
	Butane []byte
	// Now is when tokens are judged for expiry; zero means time.Now().
	Now time.Time
}

// Errors callers branch on.
var (
	// ErrNoToken means no bootstrap token fit for joining was found.
	ErrNoToken = errors.New("no valid bootstrap token")
	// ErrOptions means the options do not fit together.
	ErrOptions = errors.New("invalid options")
)

// content is one file to write and its bytes.
type content struct {
	nodeconfig.File
	data []byte
}

// Render returns the Ignition config (spec 3.6.0, JSON) of one node of the cluster in dir.
func Render(dir *clusterdir.Dir, opts Options) ([]byte, error) {
	files, err := nodeFiles(dir, opts)
	if err != nil {
		return nil, err
	}
	return build(files, opts.Butane)
}

// nodeFiles gathers the files nodeconfig lists for opts.Role, in its order.
func nodeFiles(dir *clusterdir.Dir, opts Options) ([]content, error) {
	if _, err := nodeconfig.ParseRole(string(opts.Role)); err != nil {
		return nil, err
	}
	if opts.Role == nodeconfig.RoleControlPlane && (opts.CACert || opts.Token != "") {
		return nil, fmt.Errorf("%w: a CA certificate file and a token are for workers; a control plane gets the CA in %s and every token in %s", ErrOptions, layout.PKIDir, nodeconfig.TokensPath)
	}
	cfg, err := dir.Config()
	if err != nil {
		return nil, err
	}
	nc, err := nodeConfig(dir, cfg, opts)
	if err != nil {
		return nil, err
	}
	nodeYAML, err := nc.Marshal()
	if err != nil {
		return nil, err
	}
	var tok []byte
	if opts.Role == nodeconfig.RoleWorker {
		t, err := selectToken(dir, opts)
		if err != nil {
			return nil, err
		}
		tok = []byte(t.Value() + "\n")
	}
	var out []content
	for _, f := range nodeconfig.Files(opts.Role) {
		var data []byte
		switch {
		case f.Path == nodeconfig.NodeConfigPath:
			data = nodeYAML
		case f.Path == nodeconfig.BootstrapTokenPath:
			data = tok
		case f.Path == nodeconfig.CACertPath:
			if !opts.CACert {
				continue
			}
			data, err = dir.CACert()
		case f.Path == nodeconfig.ClusterConfigPath:
			data, err = os.ReadFile(filepath.Join(dir.Path, clusterdir.ConfigFile))
		case f.Path == nodeconfig.TokensPath:
			data, err = os.ReadFile(filepath.Join(dir.Path, clusterdir.TokensFile))
		case strings.HasPrefix(f.Path, layout.PKIDir+"/"):
			// The cluster directory's pki/ is laid out as /etc/kubernetes/pki.
			data, err = os.ReadFile(filepath.Join(dir.PKIDir(), filepath.FromSlash(strings.TrimPrefix(f.Path, layout.PKIDir+"/"))))
		default:
			return nil, fmt.Errorf("no source for %s", f.Path) // a new row in nodeconfig's table
		}
		if err != nil {
			return nil, fmt.Errorf("read cluster directory for %s: %w", f.Path, err)
		}
		out = append(out, content{File: f, data: data})
	}
	return out, nil
}

func nodeConfig(dir *clusterdir.Dir, cfg *config.Config, opts Options) (*nodeconfig.NodeConfig, error) {
	cpe := cfg.Cluster.ControlPlaneEndpoint
	if cpe == "" {
		return nil, fmt.Errorf("%s: the cluster has no controlPlaneEndpoint for nodes to reach", dir.Path)
	}
	host, port, err := config.SplitEndpoint(cpe, int(cfg.Init.LocalAPIEndpoint.BindPort))
	if err != nil {
		return nil, fmt.Errorf("%s: controlPlaneEndpoint %q: %w", dir.Path, cpe, err)
	}
	caPin, err := dir.CAPin()
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	nc := nodeconfig.New(opts.Role)
	nc.NodeName = opts.NodeName
	nc.NodeIP = opts.NodeIP
	nc.ClusterName = cfg.Cluster.ClusterName
	nc.ControlPlaneEndpoint = net.JoinHostPort(host, strconv.Itoa(port))
	nc.CACertHashes = []string{caPin}
	nc.KubernetesVersion = cfg.Cluster.KubernetesVersion
	return nc, nil
}

// selectToken picks the worker's token. A worker authenticates with it and, unless it has the
// CA certificate file, also checks cluster-info's JWS signature made with it: so it needs the
// usage authentication, and signing for token discovery.
func selectToken(dir *clusterdir.Dir, opts Options) (*token.Token, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	tokens, err := dir.Tokens()
	if err != nil {
		return nil, err
	}
	unusable := func(t *token.Token) string {
		switch {
		case t.Expired(now):
			return "expired at " + t.Expires.UTC().Format(time.RFC3339)
		case !slices.Contains(t.Usages, "authentication"):
			return "lacks the usage authentication"
		case !opts.CACert && !slices.Contains(t.Usages, "signing"):
			return "lacks the usage signing, which token discovery needs (or ship the CA certificate)"
		}
		return ""
	}
	where := filepath.Join(dir.Path, clusterdir.TokensFile)
	if opts.Token == "" {
		var reasons []string
		for _, t := range tokens {
			why := unusable(t)
			if why == "" {
				return t, nil
			}
			reasons = append(reasons, t.ID+" "+why)
		}
		if len(reasons) == 0 {
			reasons = []string{"it lists none"}
		}
		return nil, fmt.Errorf("%w in %s (%s); create one with \"kiln token create --dir %s\"", ErrNoToken, where, strings.Join(reasons, "; "), dir.Path)
	}
	given := token.Token{ID: opts.Token}
	if strings.Contains(opts.Token, ".") {
		if given, err = token.Parse(opts.Token); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoToken, err)
		}
	} else if !token.IsValidID(given.ID) {
		// Not echoed: it may be a pasted secret.
		return nil, fmt.Errorf("%w: want a token ID ([a-z0-9]{6}) or a whole token (id.secret), got %d characters", ErrNoToken, len(given.ID))
	}
	for _, t := range tokens {
		if t.ID != given.ID {
			continue
		}
		if !given.Secret.IsZero() && !t.Secret.Equal(given.Secret) {
			return nil, fmt.Errorf("%w: token %s differs from token %s in %s", ErrNoToken, given, t.ID, where)
		}
		if why := unusable(t); why != "" {
			return nil, fmt.Errorf("%w: token %s %s", ErrNoToken, t.ID, why)
		}
		return t, nil
	}
	if given.Secret.IsZero() {
		return nil, fmt.Errorf("%w: no token with ID %q in %s", ErrNoToken, given.ID, where)
	}
	// A whole token the directory does not know was created online: trust the operator.
	return &given, nil
}
