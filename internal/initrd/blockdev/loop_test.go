package blockdev

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/common/poll"
)

func TestAttachLoop(t *testing.T) {
	if f, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0); err != nil {
		t.Skipf("no loop devices here: %v", err)
	} else {
		f.Close()
	}
	content := bytes.Repeat([]byte("kiln"), 256<<10) // 1 MiB
	file := filepath.Join(t.TempDir(), "root.squashfs")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	loop, err := AttachLoop(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	size, err := loop.Seek(0, io.SeekEnd)
	if err != nil || size != int64(len(content)) {
		t.Errorf("loop device size = %d, %v; want %d", size, err, len(content))
	}
	got := make([]byte, 4096)
	if _, err := loop.ReadAt(got, 4096); err != nil || !bytes.Equal(got, content[4096:8192]) {
		t.Errorf("read from %s: %v, content differs", loop.Name(), err)
	}
	if _, err := loop.WriteAt([]byte("x"), 0); err == nil {
		t.Errorf("%s is writable", loop.Name())
	}
	name := filepath.Base(loop.Name())
	if err := loop.Close(); err != nil {
		t.Fatal(err)
	}
	// Without a mount holding it, closing the device detaches it (LO_FLAGS_AUTOCLEAR), on newer
	// kernels a moment later.
	err = poll.Until(context.Background(), poll.Every(PollInterval).Within(5*time.Second), func(context.Context) error {
		data, err := os.ReadFile(filepath.Join("/sys/block", name, "size"))
		if err != nil || string(bytes.TrimSpace(data)) == "0" {
			return nil
		}
		return errors.New("still attached")
	})
	if err != nil {
		t.Errorf("wait for %s to detach: %v", name, err)
	}
}
