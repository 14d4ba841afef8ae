package imagebuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kilnproject/kiln/internal/build/diskimage"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"github.com/kilnproject/kiln/internal/contract/imagemeta"
)

// Inspection is what `kiln inspect` reports of a built image.
type Inspection struct {
	Path       string
	Partitions *diskimage.Table // nil for a PXE bundle or a bare squashfs
	Metadata   *imagemeta.Metadata
}

// Inspect reads a NAME.raw disk image, a NAME-pxe/ bundle or a root squashfs and returns its
// partitions and the metadata the build stored in its root.
func Inspect(ctx context.Context, path string) (*Inspection, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	ins := &Inspection{Path: path}
	squash, offset := path, int64(0)
	switch {
	case fi.IsDir():
		squash = filepath.Join(path, PXERoot)
	case strings.HasSuffix(path, ".squashfs"):
	case strings.HasSuffix(path, ".iso"):
		return nil, fmt.Errorf("inspect %s: ISOs are not read yet; inspect the .raw image or the PXE bundle of the same build", path)
	default:
		t, err := diskimage.ReadPartitions(path)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", path, err)
		}
		ins.Partitions = &t
		root, ok := t.ByLabel(bootmedia.LabelRoot)
		if !ok {
			return nil, fmt.Errorf("inspect %s: no %s partition: not a kiln image", path, bootmedia.LabelRoot)
		}
		offset = root.Start
	}
	cmd := exec.CommandContext(ctx, "unsquashfs", "-o", strconv.FormatInt(offset, 10), "-cat", squash, strings.TrimPrefix(imagemeta.Path, "/"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("inspect %s: read %s from the root filesystem: %v: %s", path, imagemeta.Path, err, strings.TrimSpace(stderr.String()))
	}
	if ins.Metadata, err = imagemeta.Parse(out); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	return ins, nil
}
