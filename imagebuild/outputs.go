package imagebuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/build/diskimage"
	"github.com/kilnproject/kiln/internal/build/profile"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

// Files of the PXE bundle.
const (
	PXEKernel = "vmlinuz"
	PXEInitrd = "initrd.img"
	PXERoot   = "root.squashfs"
	PXEScript = "boot.ipxe"
)

func writeFormat(format, outDir string, p *profile.Profile, esp []diskimage.File, squash, initrd, seed string, mtime time.Time) (Output, error) {
	layout := diskimage.Layout{ESPSize: p.Partitions.ESPBytes(), VARSize: p.Partitions.VarBytes(), Seed: seed, Time: mtime}
	switch format {
	case profile.FormatRaw:
		path := filepath.Join(outDir, p.Name+".raw")
		if _, err := diskimage.WriteRaw(path, esp, squash, layout); err != nil {
			return Output{}, fmt.Errorf("write %s: %w", path, err)
		}
		return fileOutput(format, path)
	case profile.FormatISO:
		path := filepath.Join(outDir, p.Name+".iso")
		layout.ESPSize = 0 // the smallest FAT that holds the loader, kernel and initramfs
		extra := []diskimage.File{{Path: bootmedia.ISORootSquashfs, Source: squash}}
		if err := diskimage.WriteISO(path, esp, extra, layout); err != nil {
			return Output{}, fmt.Errorf("write %s: %w", path, err)
		}
		return fileOutput(format, path)
	case profile.FormatPXE:
		return writePXE(outDir, p, esp, squash, initrd)
	}
	return Output{}, fmt.Errorf("unknown format %q", format)
}

func fileOutput(format, path string) (Output, error) {
	sum, size, err := sha256File(path)
	if err != nil {
		return Output{}, err
	}
	return Output{Format: format, Path: path, Size: size, SHA256: sum}, nil
}

// writePXE writes NAME-pxe/: the kernel, the initramfs, the root squashfs and an iPXE script
// whose base-url the server sets (or the operator edits).
func writePXE(outDir string, p *profile.Profile, esp []diskimage.File, squash, initrd string) (Output, error) {
	final := filepath.Join(outDir, p.Name+"-pxe")
	tmp := final + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return Output{}, err
	}
	defer os.RemoveAll(tmp)
	var kernel, cmdline string
	for _, f := range esp {
		switch {
		case f.Path == espKernel:
			kernel = f.Source
		case strings.HasPrefix(f.Path, "loader/entries/"):
			cmdline = entryOptions(string(f.Data))
		}
	}
	for src, name := range map[string]string{kernel: PXEKernel, initrd: PXEInitrd, squash: PXERoot} {
		if err := copyFile(src, filepath.Join(tmp, name), 0o644); err != nil {
			return Output{}, fmt.Errorf("pxe bundle: %w", err)
		}
	}
	sum, size, err := sha256File(squash)
	if err != nil {
		return Output{}, err
	}
	script := fmt.Sprintf(`#!ipxe
# kiln PXE boot of %[1]s. Serve this directory over HTTP; kiln serve sets base-url, or edit
# the next line. kiln-init fetches the root squashfs and checks its sha256.
isset ${base-url} || set base-url http://SERVER/%[1]s-pxe
kernel ${base-url}/%[2]s initrd=%[3]s %[4]s %[7]s=${base-url}/%[5]s %[8]s=%[6]s %[9]s=${base-url}/ignition?mac=${mac:hexhyp}
initrd ${base-url}/%[3]s
boot
`, p.Name, PXEKernel, PXEInitrd, cmdline, PXERoot, sum,
		bootargs.RootURL, bootargs.RootSHA256, bootargs.IgnitionURL)
	if err := os.WriteFile(filepath.Join(tmp, PXEScript), []byte(script), 0o644); err != nil {
		return Output{}, err
	}
	// A directory can't be renamed over a full one: move the old bundle aside first, so that
	// the final path holds either the old bundle or the new one, never a mix.
	old := final + ".old"
	os.RemoveAll(old)
	if err := os.Rename(final, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Output{}, err
	}
	if err := atomicfile.Rename(tmp, final); err != nil {
		return Output{}, err
	}
	os.RemoveAll(old)
	return Output{Format: profile.FormatPXE, Path: final, Size: size, SHA256: sum}, nil
}

// entryOptions is the "options" line of a systemd-boot loader entry.
func entryOptions(entry string) string {
	for _, line := range strings.Split(entry, "\n") {
		if rest, ok := strings.CutPrefix(line, "options "); ok {
			return rest
		}
	}
	return ""
}
