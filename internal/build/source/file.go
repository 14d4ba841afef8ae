package source

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
)

// File is a local file: something this machine built.
type File struct {
	Path string
}

func parseFileURL(spec string) (*File, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", spec, ErrInvalidSpec, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("%s: %w: a file URL names no host (want file:///abs/path)", spec, ErrInvalidSpec)
	}
	if u.Path == "" || !filepath.IsAbs(u.Path) || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: %w: want file:///abs/path", spec, ErrInvalidSpec)
	}
	return &File{Path: filepath.Clean(u.Path)}, nil
}

// String returns the path.
func (f *File) String() string { return f.Path }

// Kind returns KindFile.
func (f *File) Kind() Kind { return KindFile }

// Fetch copies the file to w. Errors name the path.
func (f *File) Fetch(ctx context.Context, w io.Writer) error {
	in, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("read %s: not a regular file (%s)", f.Path, info.Mode().Type())
	}
	if _, err := io.Copy(w, ctxReader{ctx, in}); err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	return nil
}
