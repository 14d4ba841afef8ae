package firstboot

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/common/poll"
)

// loadConfig is the config phase: it reads what Ignition wrote (see package nodeconfig for the
// paths and formats) and decides the node's name and address.
func loadConfig(ctx context.Context, n *Node) error {
	cfg, err := n.readNodeConfig()
	if err != nil {
		return err
	}
	switch cfg.Role {
	case nodeconfig.RoleWorker:
		if n.Token, err = nodeconfig.ReadToken(n.Root); err != nil {
			return err
		}
	case nodeconfig.RoleControlPlane:
		if n.Cluster, err = config.LoadFile(n.path(nodeconfig.ClusterConfigPath)); err != nil {
			return err
		}
		if n.Tokens, err = clusterdir.ReadTokens(n.path(nodeconfig.TokensPath)); err != nil {
			return err
		}
		if v := n.Cluster.Cluster.KubernetesVersion; v != cfg.KubernetesVersion {
			return fmt.Errorf("%s says Kubernetes %s, %s says %s", nodeconfig.ClusterConfigPath, v, nodeconfig.NodeConfigPath, cfg.KubernetesVersion)
		}
	}
	if n.Name, err = nodeName(cfg); err != nil {
		return err
	}
	if n.IP, err = n.nodeIP(ctx); err != nil {
		return err
	}
	if n.Cluster != nil {
		n.Cluster.Init.NodeRegistration.Name = n.Name
		n.Cluster.Init.LocalAPIEndpoint.AdvertiseAddress = n.IP.String()
	}
	n.report(slog.LevelInfo, fmt.Sprintf("[config] %s %s at %s, control plane %s", cfg.Role, n.Name, n.IP, cfg.ControlPlaneEndpoint),
		"node identity", "role", string(cfg.Role), "node", n.Name, "address", n.IP.String(), "endpoint", cfg.ControlPlaneEndpoint)
	return nil
}

// nodeName is node.yaml's nodeName, or the hostname as kubelet would take it.
func nodeName(cfg *nodeconfig.NodeConfig) (string, error) {
	if cfg.NodeName != "" {
		return cfg.NodeName, nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("node name: %s has no nodeName and the hostname is unknown: %w", nodeconfig.NodeConfigPath, err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}

// nodeIP is the node's address on the cluster network: node.yaml's nodeIP, the control plane's
// configured advertise address, or the source address the kernel picks to reach the
// control-plane endpoint. The last may take a moment while the network comes up, so it is
// retried until Timeouts.Address.
func (n *Node) nodeIP(ctx context.Context) (net.IP, error) {
	if s := n.Config.NodeIP; s != "" {
		return net.ParseIP(s), nil
	}
	if n.Cluster != nil {
		if ip := net.ParseIP(n.Cluster.Init.LocalAPIEndpoint.AdvertiseAddress); ip != nil && !ip.IsUnspecified() {
			return ip, nil
		}
	}
	host, _, _ := net.SplitHostPort(n.Config.ControlPlaneEndpoint)
	var ip net.IP
	every := poll.Every(time.Second).Within(n.Timeouts.address()).Reporting(n.Timeouts.progress(), n.stillWaiting("an address to reach "+host+" from"))
	err := poll.Until(ctx, every, func(ctx context.Context) error {
		var err error
		ip, err = sourceAddress(ctx, host)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("no address to reach the control-plane endpoint %s from after %s (set nodeIP in %s): %w", n.Config.ControlPlaneEndpoint, n.Timeouts.address(), nodeconfig.NodeConfigPath, err)
	}
	return ip, nil
}

// sourceAddress asks the kernel which local address it would send from to reach host. A UDP
// "connect" sends nothing; it only chooses a route.
func sourceAddress(ctx context.Context, host string) (net.IP, error) {
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	var last error
	for _, ip := range ips {
		conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: ip, Port: 9})
		if err != nil {
			last = err
			continue
		}
		local := conn.LocalAddr().(*net.UDPAddr).IP
		conn.Close()
		if local.IsLoopback() && !ip.IsLoopback() {
			continue
		}
		return local, nil
	}
	return nil, last
}
