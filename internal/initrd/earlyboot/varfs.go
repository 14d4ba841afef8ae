package earlyboot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/internal/contract/console"
	"github.com/kilnproject/kiln/internal/initrd/blockdev"
	"golang.org/x/sys/unix"
)

// The layout kiln-init keeps on VAR, as paths in the booted system (VAR is mounted at /var).
const (
	KilnVarDir     = "/var/.kiln"               // 0700 root
	EtcUpperDir    = "/var/.kiln/etc-upper"     // overlay upper layer of /etc: every change to /etc
	EtcWorkDir     = "/var/.kiln/etc-work"      // the overlay's work directory
	PopulatedStamp = "/var/.kiln/var-populated" // /var holds the root image's /var content
	IgnitionStamp  = "/var/.kiln/ignition-done" // Ignition ran (or found no config): never again
)

// ErrForeignFS marks a VAR partition holding a filesystem kiln-init did not make.
var ErrForeignFS = errors.New("unexpected filesystem")

const (
	// resizeThreshold is how much larger than its ext4 VAR must be to have the ext4 grown.
	resizeThreshold = 8 << 20
	// DefaultFsckTimeout bounds e2fsck -p, mke2fs and resize2fs on VAR.
	DefaultFsckTimeout = 30 * time.Minute
)

// inVar maps a path below /var of the booted system to the VAR filesystem mounted at mnt.
func inVar(mnt, p string) string {
	return filepath.Join(mnt, strings.TrimPrefix(p, "/var"))
}

// findVar returns the partition named KILN-VAR on disk.
func findVar(sys, disk string) (blockdev.Device, error) {
	devs, err := blockdev.Scan(sys)
	if err != nil {
		return blockdev.Device{}, err
	}
	var found []blockdev.Device
	for _, d := range blockdev.ByPartName(devs, bootmedia.LabelVar) {
		if d.Disk == disk {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return blockdev.Device{}, fmt.Errorf("%w: no partition named %s on %s, the disk of %s", blockdev.ErrNoPartition, bootmedia.LabelVar, disk, bootmedia.LabelRoot)
	case 1:
		return found[0], nil
	}
	return blockdev.Device{}, fmt.Errorf("%w: %d partitions named %s on %s", ErrAmbiguous, len(found), bootmedia.LabelVar, disk)
}

// growVar fits the GPT of VAR's disk to the disk and grows VAR to the disk's end when the disk was
// enlarged, then tells the kernel. It returns VAR as the kernel sees it afterwards.
func (b *boot) growVar(v blockdev.Device) (blockdev.Device, error) {
	f, err := os.OpenFile(filepath.Join(b.dev, v.Disk), os.O_RDWR, 0)
	if err != nil {
		return v, fmt.Errorf("grow %s: %w", bootmedia.LabelVar, err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return v, fmt.Errorf("grow %s: size of %s: %w", bootmedia.LabelVar, v.Disk, err)
	}
	ss, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET)
	if err != nil {
		return v, fmt.Errorf("grow %s: sector size of %s: %w", bootmedia.LabelVar, v.Disk, err)
	}
	g, err := blockdev.GrowGPT(f, size, ss, bootmedia.LabelVar)
	if err != nil {
		return v, fmt.Errorf("grow %s on %s: %w", bootmedia.LabelVar, v.Disk, err)
	}
	if g.MovedBackup {
		b.con.Printf("%s was enlarged to %s: moved the backup GPT to its end", v.Disk, mib(size))
	}
	if !g.Grew() {
		return v, nil
	}
	if err := blockdev.ResizePartition(f, g.Number, g.Start, g.NewSize); err != nil {
		b.con.Printf("grew %s in the GPT, but the kernel keeps the old size until the next boot: %v", bootmedia.LabelVar, err)
		return v, nil
	}
	b.con.Mark(console.InitGrewVar, " (%s) from %s to %s", v.Name, mib(g.OldSize), mib(g.NewSize))
	return blockdev.Read(b.sys, v.Name)
}

// prepareVar makes VAR ready and mounts it at varMnt: formats it on first boot, checks it on later
// boots, grows its ext4 when the partition grew, and copies the root image's /var into it until
// PopulatedStamp says that was done.
func (b *boot) prepareVar(ctx context.Context) error {
	v, err := findVar(b.sys, b.root.Dev.Disk)
	if err != nil {
		return err
	}
	if v, err = b.growVar(v); err != nil {
		return err
	}
	devPath := filepath.Join(b.dev, v.Name)
	info, err := blockdev.ProbeFile(devPath)
	if err != nil {
		return fmt.Errorf("probe %s (%s): %w", bootmedia.LabelVar, devPath, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultFsckTimeout)
	defer cancel()
	switch info.Type {
	case "":
		if _, err := runCmd(ctx, "mke2fs", "-t", "ext4", "-L", bootmedia.LabelVar, "-F", "-q",
			"-E", "lazy_itable_init=1,lazy_journal_init=1", devPath); err != nil {
			return fmt.Errorf("format %s: %w", bootmedia.LabelVar, err)
		}
		b.con.Printf("formatted %s (%s, %s) as ext4: first boot", bootmedia.LabelVar, v.Name, mib(v.Size))
	case blockdev.FSExt4:
		out, err := fsck(ctx, devPath)
		if err != nil {
			return err
		}
		b.con.Printf("checked %s (%s): %s", bootmedia.LabelVar, v.Name, firstLine(out, "e2fsck -p found nothing to report"))
	default:
		return fmt.Errorf("%w: %s (%s) holds %s, not ext4; refusing to format it (wipe it to start afresh)",
			ErrForeignFS, bootmedia.LabelVar, devPath, info.Type)
	}
	if err := mount(devPath, varMnt, "ext4", 0, ""); err != nil {
		return err
	}
	if info.Type == blockdev.FSExt4 && v.Size-info.Size >= resizeThreshold {
		if _, err := runCmd(ctx, "resize2fs", devPath); err != nil {
			return fmt.Errorf("grow the ext4 of %s: %w", bootmedia.LabelVar, err)
		}
		b.con.Printf("grew the ext4 of %s from %s to %s", bootmedia.LabelVar, mib(info.Size), mib(v.Size))
	}
	return b.populateVar()
}

// prepareVolatileVar puts /var, and with it /etc's upper layer, on a tmpfs: the ISO and a root
// fetched over the network have no VAR.
func (b *boot) prepareVolatileVar() error {
	if err := mountTmpfs(varMnt, 0o755); err != nil {
		return err
	}
	b.con.Mark(console.InitVolatile, "%s: /var and changes to /etc live in RAM; nothing is persistent", b.root)
	return b.populateVar()
}

// populateVar copies the root image's /var to the filesystem at varMnt, unless PopulatedStamp
// says a previous boot finished that.
func (b *boot) populateVar() error {
	stamp := inVar(varMnt, PopulatedStamp)
	if _, err := os.Stat(stamp); err == nil {
		return nil
	}
	if err := os.MkdirAll(inVar(varMnt, KilnVarDir), 0o700); err != nil {
		return fmt.Errorf("populate /var: %w", err)
	}
	n, err := copyTree(filepath.Join(Sysroot, "var"), varMnt)
	if err != nil {
		return fmt.Errorf("populate /var: %w", err)
	}
	unix.Sync()
	if err := atomicfile.WriteFile(stamp, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return fmt.Errorf("populate /var: %w", err)
	}
	b.con.Printf("copied /var of the root image (%d entries)", n)
	return nil
}

// mountVarEtcTmp moves VAR from varMnt to Sysroot/var, mounts the /etc overlay (upper layer on
// VAR) and a tmpfs on /tmp.
func (b *boot) mountVarEtcTmp() error {
	var etc unix.Stat_t
	if err := unix.Stat(filepath.Join(Sysroot, "etc"), &etc); err != nil {
		return fmt.Errorf("stat /etc of the root image: %w", err)
	}
	upper, work := inVar(varMnt, EtcUpperDir), inVar(varMnt, EtcWorkDir)
	for _, d := range []string{inVar(varMnt, KilnVarDir), upper, work} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	// The overlay's root directory takes the upper directory's owner and mode.
	if err := os.Lchown(upper, int(etc.Uid), int(etc.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", upper, err)
	}
	if err := unix.Chmod(upper, etc.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", upper, err)
	}
	if err := moveMount(varMnt, filepath.Join(Sysroot, "var")); err != nil {
		return err
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", filepath.Join(Sysroot, "etc"),
		filepath.Join(Sysroot, EtcUpperDir), filepath.Join(Sysroot, EtcWorkDir))
	if err := mount("overlay", filepath.Join(Sysroot, "etc"), "overlay", 0, opts); err != nil {
		return err
	}
	if err := mountTmpfs(filepath.Join(Sysroot, "tmp"), 0o777|os.ModeSticky); err != nil {
		return err
	}
	return nil
}

// fsck runs e2fsck -p on dev and returns its output. Its exit status is a bit mask: 1 and 2
// mean errors were corrected, anything above means they were not.
func fsck(ctx context.Context, dev string) (string, error) {
	out, err := runCmd(ctx, "e2fsck", "-p", dev)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode()&^3 == 0 {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("check %s: %w (repair it with e2fsck from a rescue system)", bootmedia.LabelVar, err)
	}
	return out, nil
}

// firstLine is the first non-empty line of s, or def.
func firstLine(s, def string) string {
	for line := range strings.Lines(s) {
		if l := strings.TrimSpace(line); l != "" {
			return l
		}
	}
	return def
}

// runCmd runs a program and returns its combined output; on failure the error holds the output.
func runCmd(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg != "" {
			msg = ": " + strings.ReplaceAll(msg, "\n", "; ")
		}
		return string(out), fmt.Errorf("%s %s: %w%s", name, strings.Join(args, " "), err, msg)
	}
	return string(out), nil
}

// mib formats a size in MiB.
func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
