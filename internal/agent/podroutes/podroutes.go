// Package podroutes keeps a route to every other node's pod range through that node's address:
// the "host gateway" way to connect pods across nodes that share a network segment, with no
// overlay, no extra container image and nothing to pull. kiln-agent routes runs it on every
// node (kiln-routes.service).
//
// Routes kiln installs carry their own protocol number (Proto), so that the keeper removes
// exactly the routes it made when a node leaves, and nothing else.
package podroutes

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Proto marks kiln's routes in the kernel's routing table ("proto 211" in ip route).
const Proto = "211"

// DefaultInterval is the time between two looks at the cluster's Nodes.
const DefaultInterval = 10 * time.Second

// Route is one pod range and the node address it is reached through.
type Route struct {
	CIDR string
	Via  string
}

// Wanted lists the routes self needs: each other node's pod CIDRs via its InternalIP.
func Wanted(nodes []corev1.Node, self string) []Route {
	var out []Route
	for _, node := range nodes {
		if node.Name == self {
			continue
		}
		via := internalIP(node)
		if via == "" {
			continue
		}
		cidrs := node.Spec.PodCIDRs
		if len(cidrs) == 0 && node.Spec.PodCIDR != "" {
			cidrs = []string{node.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			if _, _, err := net.ParseCIDR(c); err == nil {
				out = append(out, Route{CIDR: c, Via: via})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CIDR < out[j].CIDR })
	return out
}

func internalIP(node corev1.Node) string {
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address).To4() != nil {
			return a.Address
		}
	}
	return ""
}

// Table is the kernel's routing table, as far as kiln's routes go.
type Table interface {
	// List returns kiln's routes: destination → gateway.
	List(ctx context.Context) (map[string]string, error)
	Replace(ctx context.Context, r Route) error
	Delete(ctx context.Context, cidr string) error
}

// Sync makes the table hold exactly want among kiln's routes, logging each change to log.
func Sync(ctx context.Context, t Table, want []Route, log *slog.Logger) error {
	have, err := t.List(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, r := range want {
		keep[r.CIDR] = true
		if have[r.CIDR] == r.Via {
			continue
		}
		if err := t.Replace(ctx, r); err != nil {
			return err
		}
		log.Info(fmt.Sprintf("route %s via %s", r.CIDR, r.Via), "cidr", r.CIDR, "via", r.Via)
	}
	for cidr := range have {
		if !keep[cidr] {
			if err := t.Delete(ctx, cidr); err != nil {
				return err
			}
			log.Info(fmt.Sprintf("route %s removed: its node left", cidr), "cidr", cidr)
		}
	}
	return nil
}

// Keeper keeps the routes of one node.
type Keeper struct {
	Client kubernetes.Interface
	Table  Table
	// Self is this node's name: it needs no route to its own pods.
	Self     string
	Interval time.Duration
	// Log hears every change and every new error (the agent tees it to the console).
	Log *slog.Logger
}

// Keep syncs the routes every Interval until ctx ends. Errors are logged and retried: a
// control plane that is briefly away must not take the routes with it.
func (k *Keeper) Keep(ctx context.Context) error {
	lastErr := ""
	log := k.Log.With("node", k.Self)
	for {
		nodes, err := k.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			err = Sync(ctx, k.Table, Wanted(nodes.Items, k.Self), log)
		}
		switch {
		case err != nil && ctx.Err() == nil && err.Error() != lastErr:
			lastErr = err.Error()
			log.Warn("pod routes not synced: " + lastErr)
		case err == nil && lastErr != "":
			lastErr = ""
			log.Info("pod routes synced again")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(k.Interval):
		}
	}
}

// IPRoute is the kernel's table through iproute2's ip command.
type IPRoute struct{}

// List parses "ip -4 route show proto 211": "10.244.1.0/24 via 192.168.100.11 dev eth1".
func (IPRoute) List(ctx context.Context) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, "ip", "-4", "route", "show", "proto", Proto).Output()
	if err != nil {
		return nil, fmt.Errorf("ip route show: %w", err)
	}
	routes := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "via" {
			routes[f[0]] = f[2]
		}
	}
	return routes, nil
}

// Replace sets one route.
func (IPRoute) Replace(ctx context.Context, r Route) error {
	return ip(ctx, "route", "replace", r.CIDR, "via", r.Via, "proto", Proto)
}

// Delete removes one of kiln's routes.
func (IPRoute) Delete(ctx context.Context, cidr string) error {
	return ip(ctx, "route", "delete", cidr, "proto", Proto)
}

func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
