package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/build/profile"
	"github.com/kilnproject/kiln/internal/common/linelog"
)

func newBuildCommand() *cobra.Command {
	var profileFile, out, formats, kilnBin string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "build --profile FILE --out DIR [--format raw,iso,pxe]",
		Short: "Build a node image from a profile: a GPT disk image, a UEFI ISO and a PXE bundle",
		Long: `Builds the outputs of a node profile (profiles/control-plane.yaml, profiles/worker.yaml) from
the artifacts its lock names (make artifacts):

  DIR/NAME.raw    GPT disk image: ESP (systemd-boot, kernel, initramfs) | KILN-ROOT (squashfs,
                  read-only) | KILN-VAR (empty; formatted and grown on first boot)
  DIR/NAME.iso    UEFI El Torito ISO booting the same system
  DIR/NAME-pxe/   vmlinuz, initrd.img, root.squashfs and an iPXE script

Images hold no secrets: a node's identity comes from its Ignition config (kiln ignition).
Builds are reproducible: the same inputs and SOURCE_DATE_EPOCH give byte-identical outputs.
Needs root (the base root filesystem keeps its owners) and mksquashfs.

Exit codes: 0 built, 1 failed (nothing is left half-written), 2 wrong usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if profileFile == "" || out == "" {
				return usageError{errors.New("--profile and --out are required")}
			}
			var fmts []string
			if formats != "" {
				fmts = strings.Split(formats, ",")
				if err := profile.CheckFormats(fmts); err != nil {
					return usageError{fmt.Errorf("--format: %w", err)}
				}
			}
			epoch, err := sourceDateEpoch()
			if err != nil {
				return usageError{err}
			}
			p, err := profile.LoadFile(profileFile)
			if err != nil {
				return err
			}
			o := imagebuild.Options{Profile: p, OutDir: out, Formats: fmts, Epoch: epoch.Unix(), KilnBinDir: kilnBin}
			start := time.Now()
			if !quiet {
				o.Log = linelog.New(cmd.OutOrStdout())
			}
			outs, err := imagebuild.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			if !quiet {
				for _, o := range outs {
					fmt.Fprintf(cmd.OutOrStdout(), "%-4s %s  %s  sha256:%s\n", o.Format, o.Path, humanSize(o.Size), o.SHA256)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "built %s in %s\n", p.Name, time.Since(start).Round(100*time.Millisecond))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&profileFile, "profile", "", "node profile (YAML, kind Profile)")
	cmd.Flags().StringVar(&out, "out", "", "output directory")
	cmd.Flags().StringVar(&formats, "format", "", "comma-separated outputs: raw, iso, pxe (default: the profile's formats)")
	cmd.Flags().StringVar(&kilnBin, "kiln-bin", "", "directory holding kiln-init and kiln-agent (default: next to this kiln binary)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
