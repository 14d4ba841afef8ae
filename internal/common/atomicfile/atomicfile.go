package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DirMode is the mode of the directories WriteFile and Write create.
const DirMode = 0o755

// WriteFile writes data to path atomically with mode perm: readers see the old file or the new
// one, never part of it, and after a power cut the file is either old or whole.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Write is WriteFile for content produced by fill, which writes it into a temp file beside path
// (it may also Truncate or Seek). The temp file is fsynced, renamed over path and the directory
// fsynced; on any error nothing is left behind and path is untouched.
func Write(path string, perm os.FileMode, fill func(f *os.File) error) error {
	if err := write(path, perm, fill); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func write(path string, perm os.FileMode, fill func(f *os.File) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once the rename succeeded
	err = errors.Join(tmp.Chmod(perm), fill(tmp))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return Rename(tmp.Name(), path)
}

// Rename moves a finished temp file or directory (already fsynced by its writer) to path, then
// fsyncs the directory so that the rename itself survives a power cut. Like rename(2) it
// replaces a file or an empty directory.
func Rename(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory, making the entries created, renamed or removed in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
