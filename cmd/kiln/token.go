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

	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
	"github.com/kilnproject/kiln/internal/common/termtext"
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

// onlineTimeout bounds one token call to a running cluster.
const onlineTimeout = 30 * time.Second

// add stores a new token: in the cluster directory, or as a Secret in the cluster.
func (t *tokenTarget) add(ctx context.Context, tok *token.Token) error {
	if t.dir != "" {
		d, err := clusterdir.Open(t.dir)
		if err != nil {
			return err
		}
		return d.AddToken(tok)
	}
	client, err := t.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	return tokensecret.Create(ctx, client, tok)
}

// list returns the tokens of the cluster directory, or of the cluster.
func (t *tokenTarget) list(ctx context.Context) ([]*token.Token, error) {
	if t.dir != "" {
		d, err := clusterdir.Open(t.dir)
		if err != nil {
			return nil, err
		}
		return d.Tokens()
	}
	client, err := t.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	return tokensecret.List(ctx, client)
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
			t, err := tokensecret.FromConfig(spec, time.Now())
			if err != nil {
				return err
			}
			if err := target.add(cmd.Context(), t); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.Value())
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
			tokens, err := target.list(cmd.Context())
			if err != nil {
				return err
			}
			return printTokens(cmd, tokens)
		},
	}
	target.bind(cmd)
	return cmd
}

func printTokens(cmd *cobra.Command, tokens []*token.Token) error {
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
		// A token's description, usages and groups may come from a cluster's Secrets or a
		// tokens.yaml someone else wrote: printed with its control characters escaped.
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Clean(t.Value()), ttl, expiry(t.Expires),
			termtext.Clean(strings.Join(t.Usages, ",")), termtext.Clean(t.Description), termtext.Clean(strings.Join(t.Groups, ",")))
	}
	return w.Flush()
}
