package ociimage

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrInvalidSpec marks a Spec that cannot be built: a bad reference or a bad file list.
var ErrInvalidSpec = errors.New("invalid image spec")

// DefaultPath is the PATH an image's environment gets when Spec.Env sets none, distroless's.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// File is one entry of an image's filesystem: a regular file (from Source or Data), a symlink
// (Symlink set) or a directory (Mode has fs.ModeDir).
type File struct {
	// Path is the absolute, clean path in the image, e.g. /usr/local/bin/kube-apiserver.
	Path string
	// Source is the host path to read a regular file's content from; Data is the content
	// itself. At most one of them is set; neither means an empty file.
	Source string
	Data   []byte
	// Mode holds the permission bits (0o755 for programs), fs.ModeDir for a directory and
	// fs.ModeSticky, fs.ModeSetuid, fs.ModeSetgid (or the raw 0o7000 bits). Zero permission
	// bits mean 0o644 for files and 0o755 for directories.
	Mode fs.FileMode
	// Symlink, when set, makes the entry a symlink to this target.
	Symlink string
}

// Spec describes one image.
type Spec struct {
	// Ref is the image's name, fully qualified with registry and tag, e.g.
	// registry.k8s.io/kube-apiserver:v1.36.3. Build only validates it; archives carry it.
	Ref string
	// Files are the image's single layer. Parent directories are added with mode 0o755.
	Files []File
	// NoBaseFiles leaves out /etc/passwd, /etc/group, /etc/nsswitch.conf and /tmp. Files of
	// the Spec with these paths replace the base files anyway.
	NoBaseFiles bool

	Entrypoint []string
	Cmd        []string
	// Env is the environment as KEY=value; DefaultPath is added unless it sets PATH.
	Env []string
	// User is the user (and group) processes run as, e.g. "65532"; "" is root, as upstream's
	// control-plane images.
	User       string
	WorkingDir string
	// Created is the image's creation time and every file's mtime, normally SOURCE_DATE_EPOCH;
	// the zero time means the Unix epoch. It is stored in UTC, whole seconds.
	Created time.Time
	// Compression of the layer: Zstd (the default) or Gzip, for registries and tools that
	// cannot read zstd layers.
	Compression Compression
}

// ParseRef parses a fully qualified, tagged image name such as registry.k8s.io/pause:3.10.2.
// Shorthands ("pause:3.10.2", "registry.k8s.io/pause") are ErrInvalidSpec: containerd would
// know the image under another name than the manifests use.
func ParseRef(ref string) (name.Tag, error) {
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return name.Tag{}, fmt.Errorf("%w: reference %q: %w", ErrInvalidSpec, ref, err)
	}
	if tag.Name() != ref {
		return name.Tag{}, fmt.Errorf("%w: reference %q is not in canonical form %q", ErrInvalidSpec, ref, tag.Name())
	}
	return tag, nil
}

func (s *Spec) created() time.Time {
	if s.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return s.Created.UTC().Truncate(time.Second)
}

func (s *Spec) env() []string {
	env := slices.Clone(s.Env)
	if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		env = append([]string{DefaultPath}, env...)
	}
	return env
}

// baseFiles are the files of distroless's base every image gets unless the Spec opts out.
func baseFiles() []File {
	return []File{
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")},
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte("passwd: files\ngroup: files\nhosts: files dns\n")},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
			"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	}
}

// layerFiles returns the Spec's files, the base files it does not replace and every missing
// parent directory, validated and sorted by path.
func (s *Spec) layerFiles() ([]File, error) {
	byPath := map[string]File{}
	for _, f := range s.Files {
		if err := f.validate(); err != nil {
			return nil, err
		}
		if _, dup := byPath[f.Path]; dup {
			return nil, fmt.Errorf("%w: %s is listed twice", ErrInvalidSpec, f.Path)
		}
		byPath[f.Path] = f
	}
	if !s.NoBaseFiles {
		for _, f := range baseFiles() {
			if _, replaced := byPath[f.Path]; !replaced {
				byPath[f.Path] = f
			}
		}
	}
	for p := range byPath {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			parent, ok := byPath[d]
			if !ok {
				byPath[d] = File{Path: d, Mode: fs.ModeDir | 0o755}
				continue
			}
			if !parent.Mode.IsDir() {
				return nil, fmt.Errorf("%w: parent %s of %s is not a directory", ErrInvalidSpec, d, p)
			}
		}
	}
	files := make([]File, 0, len(byPath))
	for _, f := range byPath {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

func (f *File) validate() error {
	if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
		return fmt.Errorf("%w: path %q is not an absolute, clean file path", ErrInvalidSpec, f.Path)
	}
	kinds := 0
	for _, set := range []bool{f.Source != "" || f.Data != nil, f.Symlink != "", f.Mode.IsDir()} {
		if set {
			kinds++
		}
	}
	switch {
	case f.Source != "" && f.Data != nil:
		return fmt.Errorf("%w: %s has both Source and Data", ErrInvalidSpec, f.Path)
	case kinds > 1:
		return fmt.Errorf("%w: %s is more than one of file, symlink and directory", ErrInvalidSpec, f.Path)
	case f.Mode.Type()&^fs.ModeDir != 0:
		return fmt.Errorf("%w: %s has unsupported file type %s", ErrInvalidSpec, f.Path, f.Mode.Type())
	}
	return nil
}
