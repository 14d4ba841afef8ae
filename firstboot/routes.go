package firstboot

import (
	"context"

	"github.com/kilnproject/kiln/internal/agent/podroutes"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// KeepRoutes runs the pod-route keeper with the node's kubelet credentials (which may read
// every Node through the kiln:pod-routes binding) until ctx ends.
func KeepRoutes(ctx context.Context, n *Node) error {
	cfg, err := n.readNodeConfig()
	if err != nil {
		return err
	}
	name, err := nodeName(cfg)
	if err != nil {
		return err
	}
	client, err := n.clientFrom(layout.KubeletConf)
	if err != nil {
		return err
	}
	n.Log.Info("keeping pod routes", "node", name, "config", nodeconfig.NodeConfigPath)
	k := &podroutes.Keeper{Client: client, Table: podroutes.IPRoute{}, Self: name, Interval: podroutes.DefaultInterval,
		Log: n.teeToConsole("[routes] ")}
	return k.Keep(ctx)
}
