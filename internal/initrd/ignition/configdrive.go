package ignition

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/initrd/blockdev"
	"golang.org/x/sys/unix"
)

// DefaultConfigDeviceTimeout is how long kiln-init waits for the filesystem named by
// ignition.config.device, as long as Ignition itself would.
const DefaultConfigDeviceTimeout = 30 * time.Second

// maxUserData bounds the size of a config read from a device.
const maxUserData = 64 << 20

// errNotYet is the answer of a wait's try while what it waits for is missing.
var errNotYet = errors.New("not there yet")

// Machine is the Sources of the running machine.
type Machine struct {
	Sys, Dev   string // where sysfs and devtmpfs are mounted
	MountPoint string // where a config drive is mounted while it is read
	// Mount mounts a filesystem, creating target (kiln-init's mount, which explains errors).
	Mount func(source, target, fstype string, flags uintptr, data string) error
}

// NetworkUp reports whether some interface other than loopback has a usable address.
func (Machine) NetworkUp() bool {
	ifaces, err := net.Interfaces()
	if err != nil {
		return false
	}
	for _, i := range ifaces {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && usableAddress(n.IP) {
				return true
			}
		}
	}
	return false
}

// usableAddress reports whether an interface address reaches beyond the machine: a global
// address, or an IPv4 link-local one (169.254.0.0/16), on which a cloud's metadata service
// 169.254.169.254 is on-link. IPv6 link-local addresses (fe80::/10, on every interface that is
// up) do not count.
func usableAddress(ip net.IP) bool {
	return ip.IsGlobalUnicast() || (ip.To4() != nil && ip.IsLinkLocalUnicast())
}

// ReadLabelled reads the file of the first of files whose filesystem exists; see Sources.
func (m Machine) ReadLabelled(ctx context.Context, files []LabelledFile, wait bool) ([]byte, string, bool, error) {
	var (
		dev  blockdev.Device
		info blockdev.FSInfo
		file LabelledFile
	)
	// look reports whether one of the filesystems is there.
	look := func() (bool, error) {
		devs, err := blockdev.Scan(m.Sys)
		if err != nil {
			return false, err
		}
		var ok bool
		dev, info, file, ok = findLabelled(devs, files, func(name string) (blockdev.FSInfo, error) {
			return blockdev.ProbeFile(filepath.Join(m.Dev, name))
		})
		return ok, nil
	}
	if wait {
		err := poll.Until(ctx, poll.Every(blockdev.PollInterval).Within(DefaultConfigDeviceTimeout), func(context.Context) error {
			ok, err := look()
			switch {
			case err != nil:
				return err // sysfs changing under Scan: look again
			case !ok:
				return errNotYet
			}
			return nil
		})
		if err != nil {
			return nil, "", false, fmt.Errorf("wait for a filesystem labelled %s: %w", files[0].Label, err)
		}
	} else if ok, err := look(); err != nil || !ok {
		return nil, "", false, err
	}
	where := fmt.Sprintf("%s (%s %q)", dev.Name, info.Type, info.Label)
	data, err := m.readFromFS(filepath.Join(m.Dev, dev.Name), info.Type, file.Path)
	if err != nil {
		return nil, where, true, err
	}
	return data, where, true, nil
}

// findLabelled returns the first device, in the order of files and then of devs, holding a
// filesystem labelled as one of files. Config drives are ISO 9660 or FAT; ext4 is accepted too.
func findLabelled(devs []blockdev.Device, files []LabelledFile, probe func(name string) (blockdev.FSInfo, error)) (blockdev.Device, blockdev.FSInfo, LabelledFile, bool) {
	infos := map[string]blockdev.FSInfo{}
	for _, d := range devs {
		if d.Size == 0 {
			continue
		}
		if info, err := probe(d.Name); err == nil {
			infos[d.Name] = info
		}
	}
	for _, f := range files {
		for _, d := range devs {
			info, ok := infos[d.Name]
			if !ok || info.Label != f.Label {
				continue
			}
			switch info.Type {
			case blockdev.FSISO9660, blockdev.FSVFAT, blockdev.FSExt4:
				return d, info, f, true
			}
		}
	}
	return blockdev.Device{}, blockdev.FSInfo{}, LabelledFile{}, false
}

// readFromFS mounts the filesystem on dev read-only, reads file from it and unmounts it. A
// missing file gives nil data and no error.
func (m Machine) readFromFS(dev, fstype, file string) ([]byte, error) {
	if err := m.Mount(dev, m.MountPoint, fstype, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return nil, err
	}
	defer unix.Unmount(m.MountPoint, 0) //nolint:errcheck // read-only: nothing to lose
	p := filepath.Join(m.MountPoint, path.Clean("/"+file))
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", file, dev, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUserData+1))
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", file, dev, err)
	}
	if len(data) > maxUserData {
		return nil, fmt.Errorf("read %s from %s: larger than %d MiB", file, dev, maxUserData>>20)
	}
	return data, nil
}
