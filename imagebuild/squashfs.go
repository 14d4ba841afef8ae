package imagebuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// makeSquashfs packs the tree into a read-only, reproducible squashfs: zstd, every file owned
// by root as the base's are, every time the build time. (go-diskfs's squashfs writer corrupts
// real trees; mksquashfs does not.)
func makeSquashfs(ctx context.Context, tree, out string, epoch int64) error {
	t := strconv.FormatInt(epoch, 10)
	cmd := exec.CommandContext(ctx, "mksquashfs", tree, out,
		"-noappend", "-comp", "zstd", "-reproducible", "-mkfs-time", t, "-all-time", t,
		"-no-progress", "-quiet", "-processors", "2")
	// mksquashfs refuses SOURCE_DATE_EPOCH next to the explicit times it is given here.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if outb, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mksquashfs: %v: %s", err, outb)
	}
	return nil
}
