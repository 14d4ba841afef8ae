package earlyboot

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Filesystem magic numbers (statfs f_type) of the initramfs.
const (
	ramfsMagic = 0x858458f6
	tmpfsMagic = 0x01021994
)

// switchRoot makes Sysroot the root and executes init there: it moves /dev, /proc, /sys and
// /run into Sysroot, frees the initramfs's memory by deleting its files, moves Sysroot onto /,
// chroots into it and executes init. It returns only on failure; after the chroot a failure
// leaves nothing to go back to, so the caller stops.
func switchRoot(init string) error {
	for _, m := range apiMounts {
		if err := moveMount(m.target, filepath.Join(Sysroot, m.target)); err != nil {
			return err
		}
	}
	if err := unix.Chdir(Sysroot); err != nil {
		return fmt.Errorf("chdir %s: %w", Sysroot, err)
	}
	freeInitramfs()
	if err := moveMount(".", "/"); err != nil {
		return err
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", Sysroot, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in the new root: %w", err)
	}
	if err := unix.Access(init, unix.X_OK); err != nil {
		return fmt.Errorf("%s in the root filesystem: %w", init, err)
	}
	if err := unix.Exec(init, []string{init}, os.Environ()); err != nil {
		return fmt.Errorf("execute %s: %w", init, err)
	}
	return nil
}

// freeInitramfs deletes the files of the initramfs (a ramfs or tmpfs that stays mounted below the
// new root and would hold its memory for good), staying on that filesystem: Sysroot and the
// moved mount points are left alone. Errors are ignored: what is not freed only costs memory.
func freeInitramfs() {
	var sfs unix.Statfs_t
	if unix.Statfs("/", &sfs) != nil || (sfs.Type != ramfsMagic && sfs.Type != tmpfsMagic) {
		return
	}
	var st unix.Stat_t
	if unix.Lstat("/", &st) != nil {
		return
	}
	removeOnDev("/", st.Dev)
}

// removeOnDev removes the entries of directory dir that are on device dev, recursively.
func removeOnDev(dir string, dev uint64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Dev != dev || p == Sysroot {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			removeOnDev(p, dev)
			_ = unix.Rmdir(p)
			continue
		}
		_ = unix.Unlink(p)
	}
}
