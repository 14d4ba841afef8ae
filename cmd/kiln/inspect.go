package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/common/termtext"
)

func newInspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Show a built image's partitions, versions and baked container images",
		Long: `Reads a NAME.raw disk image, a NAME-pxe/ bundle or a root squashfs written by kiln build and
prints its partitions (label, type, start, size), its role and versions, the artifacts it was
built from and the container images baked into it with their digests.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ins, err := imagebuild.Inspect(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printInspection(cmd.OutOrStdout(), ins)
		},
	}
}

// printInspection prints what Inspect read of an image. Everything in it comes from the image,
// which anyone may have crafted: text is printed through termtext.Clean, hashes shortened with
// termtext.Shorten, whatever their length.
func printInspection(out io.Writer, ins *imagebuild.Inspection) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	md := ins.Metadata
	c := termtext.Clean
	fmt.Fprintf(w, "image:\t%s\nname:\t%s\nrole:\t%s\nkubernetes:\t%s\nkernel:\t%s\nkernel args:\t%s\n",
		c(ins.Path), c(md.Name), c(md.Role), c(md.KubernetesVersion), c(md.KernelVersion), c(md.KernelArgs))
	if t := ins.Partitions; t != nil {
		fmt.Fprintf(w, "\nPARTITION\tLABEL\tTYPE\tSTART\tSIZE\n")
		for _, p := range t.Partitions {
			fmt.Fprintf(w, "%d\t%s\t%s\t%d MiB\t%s\n", p.Number, c(p.Label), c(p.Type), p.Start>>20, humanSize(p.Size))
		}
	}
	fmt.Fprintf(w, "\nIMAGE\tDIGEST\n")
	for _, img := range md.Images {
		fmt.Fprintf(w, "%s\t%s\n", c(img.Ref), c(img.Digest))
	}
	fmt.Fprintf(w, "\nARTIFACT\tVERSION\tSHA256\n")
	for _, a := range md.Artifacts {
		fmt.Fprintf(w, "%s\t%s\t%s\n", c(a.Name), c(a.Version), c(termtext.Shorten(a.SHA256, 16)))
	}
	return w.Flush()
}
