package nodeconfig

import (
	"io/fs"

	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Dir is kiln's configuration directory on a node.
const Dir = "/etc/kiln"

// Files under Dir.
const (
	// NodeConfigPath is the NodeConfig document, on every node.
	NodeConfigPath = Dir + "/node.yaml"
	// BootstrapTokenPath holds a worker's bootstrap token and a newline.
	BootstrapTokenPath = Dir + "/bootstrap-token"
	// CACertPath optionally holds the cluster CA on a worker, for file discovery.
	CACertPath = Dir + "/ca.crt"
	// ClusterConfigPath is the cluster directory's cluster.yaml (kubeadm ClusterConfiguration
	// and InitConfiguration), on a control-plane node.
	ClusterConfigPath = Dir + "/cluster.yaml"
	// TokensPath is the cluster directory's tokens.yaml, on a control-plane node: the
	// bootstrap tokens init stores as Secrets.
	TokensPath = Dir + "/tokens.yaml"
)

// The cluster-wide keys and certificates of a control-plane node, at kubeadm's paths.
const (
	CACertPKIPath            = layout.PKIDir + "/ca.crt"
	CAKeyPKIPath             = layout.PKIDir + "/ca.key"
	FrontProxyCACertPKIPath  = layout.PKIDir + "/front-proxy-ca.crt"
	FrontProxyCAKeyPKIPath   = layout.PKIDir + "/front-proxy-ca.key"
	EtcdCACertPKIPath        = layout.PKIDir + "/etcd/ca.crt"
	EtcdCAKeyPKIPath         = layout.PKIDir + "/etcd/ca.key"
	ServiceAccountKeyPKIPath = layout.PKIDir + "/sa.key"
	ServiceAccountPubPKIPath = layout.PKIDir + "/sa.pub"
)

// File modes: secrets (keys, tokens, the cluster configuration) are readable by root only.
const (
	PublicMode fs.FileMode = 0o644
	SecretMode fs.FileMode = 0o600
)

// File is one file Ignition writes on a node.
type File struct {
	// Path is the absolute path on the node.
	Path string
	// Mode is the file's permission bits.
	Mode fs.FileMode
	// Secret marks a private key or credential. Its mode must be exactly SecretMode.
	Secret bool
	// Optional marks a file a node may go without (a worker's ca.crt).
	Optional bool
}

var workerFiles = []File{
	{Path: NodeConfigPath, Mode: PublicMode},
	{Path: BootstrapTokenPath, Mode: SecretMode, Secret: true},
	{Path: CACertPath, Mode: PublicMode, Optional: true},
}

var controlPlaneFiles = []File{
	{Path: NodeConfigPath, Mode: PublicMode},
	{Path: ClusterConfigPath, Mode: SecretMode, Secret: true},
	{Path: TokensPath, Mode: SecretMode, Secret: true},
	{Path: CACertPKIPath, Mode: PublicMode},
	{Path: CAKeyPKIPath, Mode: SecretMode, Secret: true},
	{Path: FrontProxyCACertPKIPath, Mode: PublicMode},
	{Path: FrontProxyCAKeyPKIPath, Mode: SecretMode, Secret: true},
	{Path: EtcdCACertPKIPath, Mode: PublicMode},
	{Path: EtcdCAKeyPKIPath, Mode: SecretMode, Secret: true},
	{Path: ServiceAccountKeyPKIPath, Mode: SecretMode, Secret: true},
	{Path: ServiceAccountPubPKIPath, Mode: PublicMode},
}

// Files returns the files Ignition writes on a node of role, in the order it writes them;
// nil for an unknown role.
func Files(role Role) []File {
	switch role {
	case RoleWorker:
		return append([]File(nil), workerFiles...)
	case RoleControlPlane:
		return append([]File(nil), controlPlaneFiles...)
	}
	return nil
}
