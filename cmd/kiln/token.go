package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kilnproject/kiln/internal/clusterdir"
	"github.com/kilnproject/kiln/internal/config"
	"github.com/kilnproject/kiln/internal/token"
)

// tokenTarget is where token commands work: a cluster directory (offline) or a live cluster
// through a kubeconfig (online).
type tokenTarget struct {
	dir, kubeconfig string
}

func (t *tokenTarget) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.dir, "dir", "", "cluster directory (offline: tokens.yaml)")
	cmd.Flags().StringVar(&t.kubeconfig, "kubeconfig", "", "kubeconfig of a running cluster, such as DIR/admin.conf (online: bootstrap-token Secrets)")
}

func (t *tokenTarget) check() error {
	if (t.dir == "") == (t.kubeconfig == "") {
		return usageError{fmt.Errorf("give exactly one of --dir (offline) or --kubeconfig (online)")}
	}
	return nil
}

func (t *tokenTarget) client() (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", t.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", t.kubeconfig, err)
	}
	rc.Timeout = 30 * time.Second
	return kubernetes.NewForConfig(rc)
}

func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage bootstrap tokens, offline in a cluster directory or online in a running cluster",
	}
	cmd.AddCommand(newTokenCreateCommand(), newTokenListCommand())
	return cmd
}

func newTokenCreateCommand() *cobra.Command {
	var target tokenTarget
	var spec config.BootstrapToken
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create (--dir DIR | --kubeconfig FILE) [--ttl 24h] [--description TEXT]",
		Short: "Create a bootstrap token and print it",
		Long: `Create a bootstrap token (id.secret) for joining nodes and print it on standard output.

Offline (--dir) it is added to DIR/tokens.yaml and goes to the cluster with the next control
plane's first boot; online (--kubeconfig) it is created as a kube-system/bootstrap-token-<id>
Secret right away. --ttl 0 makes a token that never expires.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := target.check(); err != nil {
				return err
			}
			spec.TTL = nil
			if cmd.Flags().Changed("ttl") {
				spec.TTL = durationPtr(ttl)
			}
			spec.SetDefaults()
			t, err := token.FromConfig(spec, time.Now())
			if err != nil {
				return err
			}
			if target.dir != "" {
				d, err := clusterdir.Open(target.dir)
				if err != nil {
					return err
				}
				if err := d.AddToken(t); err != nil {
					return err
				}
			} else {
				client, err := target.client()
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				defer cancel()
				if err := token.Create(ctx, client, t); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.String())
			return nil
		},
	}
	target.bind(cmd)
	f := cmd.Flags()
	f.DurationVar(&ttl, "ttl", config.DefaultTokenTTL, "lifetime of the token; 0 means it never expires")
	f.StringVar(&spec.Description, "description", "", "human-readable note stored with the token")
	f.StringSliceVar(&spec.Usages, "usages", config.DefaultTokenUsages, "what the token may be used for: signing, authentication")
	f.StringSliceVar(&spec.Groups, "groups", []string{config.DefaultNodeTokenGroup}, "extra groups the token authenticates as")
	return cmd
}

func newTokenListCommand() *cobra.Command {
	var target tokenTarget
	cmd := &cobra.Command{
		Use:   "list (--dir DIR | --kubeconfig FILE)",
		Short: "List bootstrap tokens, with their secrets, TTL and usages",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := target.check(); err != nil {
				return err
			}
			var tokens []*token.Token
			var err error
			if target.dir != "" {
				d, err := clusterdir.Open(target.dir)
				if err != nil {
					return err
				}
				if tokens, err = d.Tokens(); err != nil {
					return err
				}
			} else {
				client, err := target.client()
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				defer cancel()
				if tokens, err = token.List(ctx, client); err != nil {
					return err
				}
			}
			return printTokens(cmd, tokens, err)
		},
	}
	target.bind(cmd)
	return cmd
}

func printTokens(cmd *cobra.Command, tokens []*token.Token, err error) error {
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS")
	now := time.Now()
	for _, t := range tokens {
		ttl := "<forever>"
		if t.Expires != nil {
			ttl = "<expired>"
			if !t.Expired(now) {
				ttl = t.Expires.Sub(now).Round(time.Minute).String()
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.String(), ttl, expiry(t.Expires), strings.Join(t.Usages, ","), t.Description, strings.Join(t.Groups, ","))
	}
	return w.Flush()
}
