package harness

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// CreateOverlay creates overlay, a qcow2 image whose reads fall through to base (format
// baseFormat, "raw" when empty) and which takes every write, so base is never modified. size,
// when not 0, is the overlay's virtual size in bytes (at least base's): a bigger disk for the
// guest. qemuImg defaults to DefaultQEMUImg (Debian package qemu-utils).
func CreateOverlay(ctx context.Context, qemuImg, base, baseFormat, overlay string, size int64) error {
	abs, err := filepath.Abs(base) // qemu-img resolves a relative backing file against overlay's directory
	if err != nil {
		return fmt.Errorf("create overlay of %s: %w", base, err)
	}
	args := []string{"create", "-q", "-f", "qcow2", "-F", orDefault(baseFormat, "raw"), "-b", abs, overlay}
	if size > 0 {
		args = append(args, strconv.FormatInt(size, 10))
	}
	out, err := exec.CommandContext(ctx, orDefault(qemuImg, DefaultQEMUImg), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("create overlay of %s: qemu-img %s: %w: %s", base, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
