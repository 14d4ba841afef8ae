package firstboot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/cluster/pki"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/linelog"
)

// Files of the agent's own on the node.
const (
	// StateDir keeps what survives reboots: the completion stamp and the start marker.
	StateDir = "/var/lib/kiln"
	// DoneStamp marks a completed first boot; kiln-firstboot.service is skipped once it exists.
	DoneStamp = StateDir + "/firstboot.done"
	// StartedStamp marks that a first boot began: files it wrote are then its own, not a
	// previous installation's, and preflight lets them be.
	StartedStamp = StateDir + "/firstboot.started"
	// StatusPath is the live status, for "kiln-agent status".
	StatusPath = "/run/kiln/status.json"
	// CNIConfigPath is the pod network configuration kubelet's runtime reads.
	CNIConfigPath = "/etc/cni/net.d/10-kiln.conflist"
)

// Node is one node's first boot: where its files are, what it talks to, and what the config
// phase learnt about it.
type Node struct {
	// Root is "/" on a node; tests point it at a directory.
	Root string
	// Systemd starts kubelet and other units.
	Systemd Systemd
	// Log receives structured entries (the journal on a node).
	Log *slog.Logger
	// Console receives one line per phase, for people.
	Console io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Timeouts bound every wait; zero fields take their defaults.
	Timeouts Timeouts
	// Ports moves the node's fixed local ports the agent probes (kubelet's health port, the
	// controller manager's and the scheduler's secure ports) to others. Nil on a node; a host
	// run of the phases (package hostcontrolplane), where those ports may be taken, sets it.
	Ports map[int]int

	// Set by the config phase.
	Config  *nodeconfig.NodeConfig
	Cluster *config.Config // control plane: cluster.yaml
	Tokens  []*token.Token // control plane: tokens.yaml
	Token   token.Token    // worker: the bootstrap token
	Name    string
	IP      net.IP

	// keys makes a control plane's keys while preflight runs (startKeyPool).
	keys *pki.KeyPool
}

// path returns p (an absolute node path) under Root.
func (n *Node) path(p string) string { return filepath.Join(n.Root, p) }

// localPort is where the node's component with the fixed port p listens: p, unless Ports moves
// it.
func (n *Node) localPort(p int) int {
	if to, ok := n.Ports[p]; ok {
		return to
	}
	return p
}

func (n *Node) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// say writes one line to the console.
func (n *Node) say(format string, args ...any) {
	if n.Console != nil {
		consoleMu.Lock()
		defer consoleMu.Unlock()
		fmt.Fprintf(n.Console, format+"\n", args...)
	}
}

// consoleMu keeps the console lines of phases running side by side whole.
var consoleMu sync.Mutex

// report writes one event for both audiences: line on the console, for people, and the log
// entry msg with its fields attrs at level, for the journal. Use it wherever an event is both
// shown and logged, so the two never drift apart.
func (n *Node) report(level slog.Level, line, msg string, attrs ...any) {
	n.say("%s", line)
	if n.Log != nil {
		n.Log.Log(context.Background(), level, msg, attrs...)
	}
}

// teeToConsole is n.Log for a library that logs through a *slog.Logger (the pod routes): each
// record goes to the journal with its fields and to the console as prefix+message.
func (n *Node) teeToConsole(prefix string) *slog.Logger {
	handlers := []slog.Handler{}
	if n.Log != nil {
		handlers = append(handlers, n.Log.Handler())
	}
	if n.Console != nil {
		handlers = append(handlers, linelog.NewHandler(n.Console, prefix))
	}
	return slog.New(slog.NewMultiHandler(handlers...))
}

func (n *Node) isControlPlane() bool {
	return n.Config != nil && n.Config.Role == nodeconfig.RoleControlPlane
}

func (n *Node) isWorker() bool { return n.Config != nil && n.Config.Role == nodeconfig.RoleWorker }

// readNodeConfig reads node.yaml once.
func (n *Node) readNodeConfig() (*nodeconfig.NodeConfig, error) {
	if n.Config != nil {
		return n.Config, nil
	}
	c, err := nodeconfig.Read(n.Root)
	if err != nil {
		return nil, err
	}
	n.Config = c
	return c, nil
}

// exists reports whether the node path p exists.
func (n *Node) exists(p string) bool {
	_, err := os.Stat(n.path(p))
	return err == nil
}
