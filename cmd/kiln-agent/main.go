// Command kiln-agent is the node half of kiln: on a node's first boot it runs the phases of
// package firstboot (kiln-firstboot.service), and afterwards keeps pod routes between nodes
// (kiln-routes.service). This file only wires subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/firstboot"
	"github.com/kilnproject/kiln/internal/agent/journalslog"
	"github.com/kilnproject/kiln/internal/agent/netcheck"
)

// usageError marks a mistake in how kiln-agent was called (exit code 2).
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs kiln-agent with args and returns its exit code: 0, 1 for an error, 2 for a mistake
// in how it was called.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "kiln-agent",
		Short: "Turn a kiln node into a control plane or a worker on its first boot",
		Long: `kiln-agent runs on kiln nodes. On the first boot, kiln-firstboot.service runs
"kiln-agent firstboot": preflight checks, then what kubeadm init or kubeadm join would do, from
the files Ignition wrote under /etc/kiln (see the README). Afterwards kubelet keeps the node.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newFirstbootCommand(), newPreflightCommand(), newStatusCommand(), newRoutesCommand(), newNetcheckCommand())
	markUsageErrors(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "kiln-agent: error: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// newNode is the node this process runs on.
func newNode() *firstboot.Node {
	return &firstboot.Node{Root: "/", Systemd: firstboot.DBusSystemd{}, Log: logger(), Console: os.Stdout}
}

// logger writes to the journal with fields under systemd, and text to standard error by hand.
func logger() *slog.Logger {
	if journalslog.Available() && os.Getenv("JOURNAL_STREAM") != "" {
		return slog.New(journalslog.New(slog.LevelInfo))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func newFirstbootCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "firstboot",
		Short: "Run the first boot: preflight, config, images, init or join, pod network, handoff",
		Long: `Runs every first-boot phase in order (kiln-firstboot.service does this once). Each phase
first checks for results of an earlier run, so running it again after an interruption
continues where it stopped. Progress: "kiln-agent status".

Phases, in order:
` + firstboot.PhaseList(firstboot.Phases()),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return firstboot.Run(cmd.Context(), newNode(), firstboot.Phases())
		},
	}
}

func newPreflightCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "preflight",
		Short: "Run the preflight checks for this node's role and print kubeadm-style findings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := newNode()
			_, err := firstboot.Preflight(n, cmd.OutOrStdout())
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "[preflight] all checks passed")
			}
			return err
		},
	}
}

func newStatusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the first boot's phase, progress and last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := firstboot.ReadStatus("/")
			if err != nil {
				// The status lives in /run: after a reboot only the completion stamp is left.
				if done, serr := os.ReadFile(firstboot.DoneStamp); serr == nil && errors.Is(err, fs.ErrNotExist) {
					fmt.Fprintf(cmd.OutOrStdout(), "state:    complete (first boot finished %s; %s)\n", strings.TrimSpace(string(done)), firstboot.DoneStamp)
					return nil
				}
				return err
			}
			return firstboot.PrintStatus(cmd.OutOrStdout(), s, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status file as it is")
	return cmd
}

func newRoutesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "routes",
		Short: "Keep a route to every other node's pod CIDR through that node (kiln-routes.service)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return firstboot.KeepRoutes(cmd.Context(), newNode())
		},
	}
}

func newNetcheckCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "netcheck",
		Short: "Inside a pod: check that cluster DNS resolves the API's name and the API answers at its Service IP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := netcheck.Run(cmd.Context(), name, cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", "kubernetes.default", "the name to resolve")
	return cmd
}
