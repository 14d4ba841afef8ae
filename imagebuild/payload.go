package imagebuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
	"github.com/kilnproject/kiln/internal/build/profile"
	"github.com/kilnproject/kiln/internal/contract/imagemeta"
)

// assemblePayload makes the root filesystem tree in dir: the base rootfs, the node binaries,
// the baked images, kiln's own programs, and the image's metadata. It returns the metadata.
func assemblePayload(ctx context.Context, dir string, p *profile.Profile, in *inputs, kiln kilnBinaries) (*imagemeta.Metadata, error) {
	// tar keeps the base's owners, modes and special files exactly; mksquashfs then fixes times.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-xpf", in.path(p.Artifacts.Base), "-C", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("unpack the base rootfs: %v: %s", err, out)
	}
	if err := adaptBase(dir); err != nil {
		return nil, fmt.Errorf("adapt the base rootfs: %w", err)
	}
	kver, err := kernelVersion(dir)
	if err != nil {
		return nil, err
	}
	md := &imagemeta.Metadata{Name: p.Name, Role: p.Role, KubernetesVersion: p.KubernetesVersion, KernelVersion: kver}
	for _, b := range nodeBinaries {
		if err := copyFile(in.path(b.artifact), filepath.Join(dir, b.path), 0o755); err != nil {
			return nil, fmt.Errorf("place %s: %w", b.artifact, err)
		}
	}
	for _, img := range p.Images {
		file := imageFile(img)
		if err := copyFile(in.path(img), filepath.Join(dir, imagemeta.ImagesDir, file), 0o644); err != nil {
			return nil, fmt.Errorf("place %s: %w", img, err)
		}
		entries, err := ociarchive.Read(in.path(img))
		if err != nil || len(entries) != 1 {
			return nil, fmt.Errorf("read image %s: %v (want one image, got %d)", img, err, len(entries))
		}
		md.Images = append(md.Images, imagemeta.Image{Ref: entries[0].RefName, Digest: entries[0].ManifestDigest.String(), File: file})
	}
	for _, k := range kiln.payload() {
		if err := copyFile(k.src, filepath.Join(dir, k.dst), 0o755); err != nil {
			return nil, fmt.Errorf("place %s: %w", filepath.Base(k.dst), err)
		}
	}
	if err := placeUnits(dir); err != nil {
		return nil, fmt.Errorf("place units: %w", err)
	}
	for _, n := range sortedKeys(in.entries) {
		e := in.entries[n]
		md.Artifacts = append(md.Artifacts, imagemeta.Artifact{Name: n, Version: e.Version, SHA256: e.SHA256})
	}
	return md, nil
}

// adaptBase fits the base to a read-only root: home directories move to VAR (Ignition's users
// get a writable home; /home and /root become links into /var), and the serial console is left
// to the kernel, kiln-init and services (a getty on ttyS0 swallows what others write there).
func adaptBase(dir string) error {
	for _, m := range []struct{ link, target string }{{"home", "var/home"}, {"root", "var/roothome"}} {
		from, to := filepath.Join(dir, m.link), filepath.Join(dir, m.target)
		fi, err := os.Lstat(from)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			continue
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
		if err := os.Symlink(m.target, from); err != nil {
			return err
		}
	}
	mask := filepath.Join(dir, "etc/systemd/system/serial-getty@ttyS0.service")
	if err := os.MkdirAll(filepath.Dir(mask), 0o755); err != nil {
		return err
	}
	os.Remove(mask)
	return os.Symlink("/dev/null", mask)
}

// writeMetadata stores md in the tree.
func writeMetadata(dir string, md *imagemeta.Metadata) error {
	data, err := md.Marshal()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, imagemeta.Path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// kernelVersion is the one kernel of the base: its modules directory's name.
func kernelVersion(root string) (string, error) {
	dirs, err := os.ReadDir(filepath.Join(root, "usr/lib/modules"))
	if err != nil {
		return "", fmt.Errorf("the base rootfs has no kernel modules: %w", err)
	}
	if len(dirs) != 1 {
		return "", fmt.Errorf("the base rootfs has %d kernels in /usr/lib/modules, want exactly one", len(dirs))
	}
	kver := dirs[0].Name()
	for _, f := range []string{"boot/vmlinuz-" + kver, "usr/lib/modules/" + kver + "/modules.dep"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return "", fmt.Errorf("the base rootfs lacks /%s", f)
		}
	}
	return kver, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}
