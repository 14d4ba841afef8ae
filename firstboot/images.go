package firstboot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/kilnproject/kiln/internal/contract/imagemeta"
)

// importImages is the images phase: every baked OCI archive goes into containerd's k8s.io
// namespace, where kubelet looks, before kubelet starts. An image already there with the
// baked digest is left alone. Nothing is pulled: the archives are the whole source. Imports
// run side by side, one per CPU: unpacking a layer is CPU-bound, and the images share no
// layer. The whole phase is bounded by Timeouts.Images, so that a containerd that stopped
// answering fails the first boot with a message rather than stalling it.
func importImages(ctx context.Context, n *Node) error {
	ctx, cancel := context.WithTimeout(ctx, n.Timeouts.images())
	defer cancel()
	err := importBaked(ctx, n)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: the baked images were not all in containerd within %s (journalctl -u containerd tells more): %w",
			ErrTimeout, n.Timeouts.images(), err)
	}
	return err
}

// importBaked imports what containerd lacks, then checks every digest.
func importBaked(ctx context.Context, n *Node) error {
	data, err := os.ReadFile(n.path(imagemeta.Path))
	if err != nil {
		return fmt.Errorf("read the image's metadata: %w", err)
	}
	md, err := imagemeta.Parse(data)
	if err != nil {
		return err
	}
	have, err := containerdImages(ctx)
	if err != nil {
		return err
	}
	var imported atomic.Int32
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.NumCPU())
	for _, img := range md.Images {
		if have[img.Ref] == img.Digest {
			continue
		}
		g.Go(func() error {
			archive := n.path(filepath.Join(imagemeta.ImagesDir, img.File))
			out, err := exec.CommandContext(gctx, "ctr", "--namespace", "k8s.io", "images", "import", archive).CombinedOutput()
			if err != nil {
				return fmt.Errorf("import %s from %s: %v: %s", img.Ref, archive, err, strings.TrimSpace(string(out)))
			}
			imported.Add(1)
			n.Log.Info("image imported", "image", img.Ref, "digest", img.Digest)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	have, err = containerdImages(ctx)
	if err != nil {
		return err
	}
	for _, img := range md.Images {
		if got := have[img.Ref]; got != img.Digest {
			return fmt.Errorf("after import containerd has %s at digest %q, the image baked %s", img.Ref, got, img.Digest)
		}
	}
	n.say("[images] %d baked images in containerd (%d imported now, up to %d at once)", len(md.Images), imported.Load(), runtime.NumCPU())
	return nil
}

// containerdImages lists the k8s.io namespace: reference → digest.
func containerdImages(ctx context.Context) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, "ctr", "--namespace", "k8s.io", "images", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("list containerd's images: %w", err)
	}
	images := map[string]string{}
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 3 {
			continue // the header, or an empty line
		}
		// REF TYPE DIGEST SIZE PLATFORMS LABELS
		images[f[0]] = f[2]
	}
	return images, nil
}
