package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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
//
// Two kinds of path are not replaced. A path that exists and is not a regular file or a
// directory (a device such as /dev/null, a FIFO, /dev/stdout, or a symlink to one) is written in
// place: opened write-only and truncated, filled, closed; nothing is renamed or removed, so the
// device stays a device (fill may then not Seek). A symlink to a regular file is followed: the
// file it resolves to is replaced atomically and the symlink itself stays.
func Write(path string, perm os.FileMode, fill func(f *os.File) error) error {
	if err := write(path, perm, fill); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func write(path string, perm os.FileMode, fill func(f *os.File) error) error {
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			return writeInPlace(path, fill)
		}
		if li, err := os.Lstat(path); err == nil && li.Mode()&os.ModeSymlink != 0 {
			resolved, err := filepath.EvalSymlinks(path)
			if err != nil {
				return err
			}
			path = resolved
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	p, err := Create(dir, filepath.Base(path), perm)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	if err := fill(p.File); err != nil {
		return err
	}
	return p.Commit(path)
}

// writeInPlace fills a path that is not a regular file (a device, a FIFO) through an ordinary
// open: there is no temp file to rename, and renaming one over a device would replace it.
func writeInPlace(path string, fill func(f *os.File) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	err = fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Pending is a file being written that nobody sees until Commit: for content whose final name
// is known only once it is written (a content-addressed store names a file by its hash).
type Pending struct {
	*os.File
	done bool
}

// Create starts a pending file with mode perm in dir (on the final path's filesystem), named
// after name with a temp suffix.
func Create(dir, name string, perm os.FileMode) (*Pending, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &Pending{File: f}, nil
}

// Commit fsyncs and closes the file, renames it to path and fsyncs path's directory. After a
// failed Commit the temp file is gone too.
func (p *Pending) Commit(path string) error {
	p.done = true
	err := p.Sync()
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = Rename(p.Name(), path)
	}
	if err != nil {
		os.Remove(p.Name())
	}
	return err
}

// Cleanup removes the file unless it was committed; defer it right after Create.
func (p *Pending) Cleanup() {
	if !p.done {
		p.done = true
		p.Close()
		os.Remove(p.Name())
	}
}

// Rename moves a finished temp file or directory (already fsynced by its writer) to path, then
// fsyncs the directory so that the rename itself survives a power cut. Like rename(2) it
// replaces a file or an empty directory (os.Rename refuses to replace any directory, so this
// calls rename(2) itself).
func Rename(tmp, path string) error {
	if err := syscall.Rename(tmp, path); err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: path, Err: err}
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
