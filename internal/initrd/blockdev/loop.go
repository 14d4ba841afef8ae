package blockdev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
	"golang.org/x/sys/unix"
)

// loopNodeTimeout bounds the wait for devtmpfs to create a new loop device's node.
const loopNodeTimeout = 5 * time.Second

// AttachLoop attaches file read-only to a free loop device and returns the device, open. The
// device detaches itself when its last user goes away (LO_FLAGS_AUTOCLEAR): the caller closes
// it only once the device is mounted, which keeps it.
func AttachLoop(ctx context.Context, file string) (*os.File, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("attach %s to a loop device: %w (is the loop module in %s?)", file, err, bootmedia.InitramfsModuleList)
	}
	defer ctl.Close()
	n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
	if err != nil {
		return nil, fmt.Errorf("attach %s: find a free loop device: %w", file, err)
	}
	dev := fmt.Sprintf("/dev/loop%d", n)
	var loop *os.File
	err = poll.Until(ctx, poll.Every(PollInterval).Within(loopNodeTimeout), func(context.Context) error {
		var err error
		loop, err = os.OpenFile(dev, os.O_RDWR, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("attach %s: wait for %s: %w", file, dev, err)
	}
	backing, err := os.Open(file)
	if err != nil {
		loop.Close()
		return nil, fmt.Errorf("attach %s: %w", file, err)
	}
	defer backing.Close()

	info := unix.LoopInfo64{Flags: unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR}
	copy(info.File_name[:len(info.File_name)-1], filepath.Base(file))
	cfg := unix.LoopConfig{Fd: uint32(backing.Fd()), Info: info}
	err = unix.IoctlLoopConfigure(int(loop.Fd()), &cfg)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) { // kernels before 5.8
		if err = unix.IoctlSetInt(int(loop.Fd()), unix.LOOP_SET_FD, int(backing.Fd())); err == nil {
			err = unix.IoctlLoopSetStatus64(int(loop.Fd()), &info)
		}
	}
	if err != nil {
		loop.Close()
		return nil, fmt.Errorf("attach %s to %s: %w", file, dev, err)
	}
	return loop, nil
}
