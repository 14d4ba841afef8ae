// Command kiln builds immutable Kubernetes node images and the cluster identity they join.
// This file only wires subcommands; the work lives in internal/ packages.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes scripts can rely on.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a mistake in how kiln was called (exit code 2).
type usageError struct{ error }

func main() {
	root := &cobra.Command{
		Use:   "kiln",
		Short: "Build immutable Kubernetes node images and the clusters they form",
		Long: `kiln bakes Kubernetes node images: a control-plane image and a worker image, built once,
booted anywhere. On first boot a node initialises a control plane or joins one, with no SSH,
no package installs and no image pulls.

A cluster starts as a directory made by "kiln cluster init": its CAs, admin credentials and
bootstrap tokens. Keep that directory safe: it holds the cluster's private keys.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newClusterCommand(), newTokenCommand(), newArtifactsCommand(), newIgnitionCommand(), newBuildCommand(), newInspectCommand(), newServeCommand())
	markUsageErrors(root)

	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "kiln: error: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(exitUsage)
		}
		os.Exit(exitError)
	}
	os.Exit(exitOK)
}
