package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
)

func newClusterCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Create and inspect cluster directories"}
	cmd.AddCommand(newClusterInitCommand())
	return cmd
}

func newClusterInitCommand() *cobra.Command {
	var dir, name, endpoint, configFile string
	cmd := &cobra.Command{
		Use:   "init --dir DIR --endpoint HOST:PORT [--name NAME] [--config kubeadm.yaml]",
		Short: "Create a cluster directory: CAs, service-account keys, admin.conf and a bootstrap token",
		Long: `Create a new cluster directory, offline. It writes:

  DIR/pki/{ca,front-proxy-ca,etcd/ca}.{crt,key}  the cluster's three CAs (keys 0600)
  DIR/pki/sa.{key,pub}                           the service-account signing key pair
  DIR/admin.conf, DIR/super-admin.conf           kubeconfigs for the operator (0600)
  DIR/tokens.yaml                                bootstrap tokens for joining nodes (0600)
  DIR/cluster.yaml                               the cluster's kubeadm configuration

--config takes the kubeadm.yaml you already keep: ClusterConfiguration and InitConfiguration
documents of kubeadm.k8s.io/v1beta4. Fields kiln does not support are rejected by name.
--name and --endpoint override clusterName and controlPlaneEndpoint from that file.

An existing non-empty DIR is never overwritten, and on failure nothing is left behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if dir == "" {
				return usageError{fmt.Errorf("--dir is required")}
			}
			cfg := config.Default()
			if configFile != "" {
				var err error
				if cfg, err = config.LoadFile(configFile); err != nil {
					return err
				}
			}
			if name != "" {
				cfg.Cluster.ClusterName = name
			}
			if endpoint != "" {
				cfg.Cluster.ControlPlaneEndpoint = endpoint
			}
			if err := cfg.Cluster.Validate(); err != nil {
				return fmt.Errorf("invalid cluster settings: %w", err)
			}
			removed, err := clusterdir.RemoveLeftovers(dir, start)
			for _, r := range removed {
				fmt.Fprintf(cmd.ErrOrStderr(), "kiln: removed %s, left behind by an interrupted \"kiln cluster init\"\n", r)
			}
			if err != nil {
				return err
			}
			d, err := clusterdir.Create(dir, cfg, time.Now())
			if err != nil {
				return err
			}
			return printJoinSummary(cmd, d)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "cluster directory to create (must not exist or be empty)")
	f.StringVar(&name, "name", "", "cluster name (default \"kubernetes\")")
	f.StringVar(&endpoint, "endpoint", "", "control-plane endpoint HOST[:PORT] that nodes and admin.conf use (default port 6443)")
	f.StringVar(&configFile, "config", "", "kubeadm.yaml with ClusterConfiguration/InitConfiguration (kubeadm.k8s.io/v1beta4)")
	return cmd
}

func printJoinSummary(cmd *cobra.Command, d *clusterdir.Dir) error {
	cfg, err := d.Config()
	if err != nil {
		return err
	}
	caPin, err := d.CAPin()
	if err != nil {
		return err
	}
	tokens, err := d.Tokens()
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Cluster %q created in %s\n\n", cfg.Cluster.ClusterName, d.Path)
	fmt.Fprintf(w, "  endpoint:    %s\n", cfg.APIServerURL())
	fmt.Fprintf(w, "  CA pin:      %s\n", caPin)
	for _, t := range tokens {
		fmt.Fprintf(w, "  token:       %s.<secret in %s>  expires %s\n", t.ID, clusterdir.TokensFile, expiry(t.Expires))
	}
	fmt.Fprintf(w, "  admin:       export KUBECONFIG=%s\n\n", d.AdminConf())
	fmt.Fprintf(w, "Nodes join with the endpoint, the CA pin and a token (\"kiln token list --dir %s\" shows it).\n", d.Path)
	fmt.Fprintf(w, "Keep %s private: it holds the cluster's CA keys.\n", d.Path)
	return nil
}

func expiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func durationPtr(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
