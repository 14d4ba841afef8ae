package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// ignitionFileMode is the mode of written configs: a control-plane config holds the CA keys.
const ignitionFileMode = 0o600

func newIgnitionCommand() *cobra.Command {
	var clusterPath, role, butaneFile, out, fullOut, pointerURL string
	var opts ignitionconfig.Options
	cmd := &cobra.Command{
		Use:   "ignition --cluster DIR --role control-plane|worker [--node NAME] [--butane FILE] [--ca-cert] [--token ID] [--out FILE] [--pointer-url URL]",
		Short: "Render a node's Ignition config: its role, the cluster's endpoint and CA, and its credentials",
		Long: `Render the Ignition config (spec 3.6.0) a node boots with. It writes:

  /etc/kiln/node.yaml         role, node name, cluster name, endpoint, CA pin, version  (every node)
  /etc/kiln/bootstrap-token   one bootstrap token                                      (worker)
  /etc/kiln/ca.crt            the cluster CA, with --ca-cert                           (worker)
  /etc/kiln/cluster.yaml, /etc/kiln/tokens.yaml, and in /etc/kubernetes/pki the three
  CAs and the service-account key pair, keys 0600                                      (control plane)

A worker's config holds no private key, only the CA pin and a token: by default the first
token of the cluster directory that has not expired (--token ID picks another). A
control-plane config holds the cluster's CA keys: keep it as private as the cluster directory.

--node sets the Kubernetes node name; without it the node uses its hostname at boot.
--butane merges your own Butane snippet (variant fcos, version 1.7.0): its files, units and
users are added; writing a path kiln writes is an error.

Clouds limit user data (AWS: 16 KiB). --pointer-url URL writes the full config to
--full-out (default: --out with ".full" before its extension) and a small config to --out
that makes Ignition fetch URL and check its SHA-512. Serve a control-plane config over https,
to that node only: the hash guards its integrity, not its secrecy.

Written files get mode 0600, atomically. Without --out the config goes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if clusterPath == "" {
				return usageError{fmt.Errorf("--cluster is required")}
			}
			r, err := nodeconfig.ParseRole(role)
			if err != nil {
				return usageError{fmt.Errorf("--role %q: want %s or %s", role, nodeconfig.RoleControlPlane, nodeconfig.RoleWorker)}
			}
			opts.Role = r
			if pointerURL != "" && out == "" {
				return usageError{fmt.Errorf("--pointer-url writes two files: give --out for the pointer config")}
			}
			if fullOut != "" && pointerURL == "" {
				return usageError{fmt.Errorf("--full-out goes with --pointer-url")}
			}
			d, err := clusterdir.Open(clusterPath)
			if err != nil {
				return err
			}
			if butaneFile != "" {
				if opts.Butane, err = os.ReadFile(butaneFile); err != nil {
					return fmt.Errorf("read Butane snippet: %w", err)
				}
			}
			full, err := ignitionconfig.Render(d, opts)
			if err != nil {
				if errors.Is(err, ignitionconfig.ErrSnippet) || errors.Is(err, ignitionconfig.ErrConflict) {
					return fmt.Errorf("%s: %w", butaneFile, err)
				}
				return err
			}
			if pointerURL == "" {
				return writeIgnition(cmd, out, full, r)
			}
			return writePointer(cmd, out, fullOut, pointerURL, full, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&clusterPath, "cluster", "", "cluster directory made by \"kiln cluster init\"")
	f.StringVar(&role, "role", "", "node role: control-plane or worker")
	f.StringVar(&opts.NodeName, "node", "", "Kubernetes node name (default: the node's hostname at boot)")
	f.StringVar(&butaneFile, "butane", "", "your Butane snippet (variant fcos, version 1.7.0) to merge in")
	f.StringVar(&opts.NodeIP, "node-ip", "", "the node's address on the cluster network (default: the address it reaches the control-plane endpoint from)")
	f.BoolVar(&opts.CACert, "ca-cert", false, "worker: also ship the CA certificate, for file discovery")
	f.StringVar(&opts.Token, "token", "", "worker: ID of the bootstrap token to use (default: the first unexpired one)")
	f.StringVar(&out, "out", "", "file to write (mode 0600); default standard output")
	f.StringVar(&pointerURL, "pointer-url", "", "URL the full config will be served at; --out then gets a small pointer config")
	f.StringVar(&fullOut, "full-out", "", "with --pointer-url: file for the full config (default: --out with \".full\" before the extension)")
	return cmd
}

// writeIgnition writes a config to path, or to standard output when path is empty.
func writeIgnition(cmd *cobra.Command, path string, data []byte, role nodeconfig.Role) error {
	if path == "" {
		_, err := cmd.OutOrStdout().Write(append(data, '\n'))
		sizeNote(cmd.ErrOrStderr(), data, false)
		return err
	}
	if err := atomicfile.WriteFile(path, data, ignitionFileMode); err != nil {
		return err
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "Wrote %s: Ignition %s config for a %s node, %d bytes.\n", path, ignitionconfig.IgnitionVersion, role, len(data))
	if role == nodeconfig.RoleControlPlane {
		fmt.Fprintf(w, "It holds the cluster's CA keys: keep it private.\n")
	}
	sizeNote(w, data, false)
	return nil
}

func writePointer(cmd *cobra.Command, out, fullOut, url string, full []byte, role nodeconfig.Role) error {
	if fullOut == "" {
		ext := filepath.Ext(out)
		fullOut = strings.TrimSuffix(out, ext) + ".full" + ext
	}
	if filepath.Clean(fullOut) == filepath.Clean(out) {
		return usageError{fmt.Errorf("--full-out and --out are the same file %s", out)}
	}
	ptr, err := ignitionconfig.Pointer(full, url)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(fullOut, full, ignitionFileMode); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, ptr, ignitionFileMode); err != nil {
		return err
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "Wrote %s: the full Ignition config for a %s node, %d bytes; serve it at %s.\n", fullOut, role, len(full), url)
	fmt.Fprintf(w, "Wrote %s: the pointer config to boot the node with, %d bytes (%s).\n", out, len(ptr), ignitionconfig.Hash(full)[:19]+"…")
	if role == nodeconfig.RoleControlPlane && strings.HasPrefix(url, "http:") {
		fmt.Fprintf(w, "Warning: %s holds the cluster's CA keys and http sends them in the clear; use https.\n", fullOut)
	}
	sizeNote(w, ptr, true)
	return nil
}

// sizeNote warns when a config is too large to be cloud user data.
func sizeNote(w io.Writer, data []byte, pointer bool) {
	if len(data) <= ignitionconfig.UserDataLimit {
		return
	}
	fmt.Fprintf(w, "Note: %d bytes is more than the %d KiB many clouds accept as user data", len(data), ignitionconfig.UserDataLimit>>10)
	if !pointer {
		fmt.Fprint(w, "; serve it and boot with a pointer config (--pointer-url)")
	}
	fmt.Fprintln(w, ".")
}
