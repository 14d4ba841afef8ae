package elfdeps

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveHost(t *testing.T) {
	for _, tc := range []struct {
		bin      string
		wantBase []string
	}{
		{bin: "/bin/bash", wantBase: []string{"bash", "libc.so.6", "libtinfo.so.6", "ld-linux-x86-64.so.2"}},
		{bin: "/usr/bin/ls", wantBase: []string{"ls", "libc.so.6", "ld-linux-x86-64.so.2"}},
	} {
		t.Run(tc.bin, func(t *testing.T) {
			if _, err := os.Stat(tc.bin); err != nil {
				t.Skipf("host has no %s: %v", tc.bin, err)
			}
			got, err := Resolve("/", tc.bin)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %q", tc.bin, got)
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("result not sorted and unique: %q", got)
			}
			for _, base := range tc.wantBase {
				if !slices.ContainsFunc(got, func(p string) bool { return path.Base(p) == base }) {
					t.Errorf("result has no %s: %q", base, got)
				}
			}
			checkParentsAreDirs(t, "/", got)
		})
	}
}

// checkParentsAreDirs fails unless every parent directory of every path is a real directory,
// so that the paths can be recreated in an image in sorted order.
func checkParentsAreDirs(t *testing.T, root string, paths []string) {
	t.Helper()
	for _, p := range paths {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			fi, err := os.Lstat(filepath.Join(root, d))
			if err != nil || !fi.IsDir() {
				t.Errorf("parent %s of %s is not a directory (%v)", d, p, err)
			}
		}
	}
}

// copyRoot copies the host paths (from Resolve against "/") into a new root, symlinks as
// symlinks, and returns it.
func copyRoot(t *testing.T, paths []string) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		dst := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dst); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveCopiedRoot(t *testing.T) {
	const bin = "/bin/bash"
	want, err := Resolve("/", bin)
	if err != nil {
		t.Skipf("host cannot resolve %s: %v", bin, err)
	}
	root := copyRoot(t, want)
	got, err := Resolve(root, bin)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("copied root resolves differently (-host +copy):\n%s", diff)
	}
	checkParentsAreDirs(t, root, got)

	// The same tree with one library replaced: missing, or a symlink that tries to leave the
	// root towards a real copy of it outside. Each must be "not found", naming bash and the lib.
	tinfo := want[slices.IndexFunc(want, func(p string) bool { return path.Base(p) == "libtinfo.so.6" })]
	outside := filepath.Join(t.TempDir(), "libtinfo.so.6")
	data, err := os.ReadFile(tinfo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		target string // "" removes the library
	}{
		{name: "missing"},
		{name: "absolute symlink out of the root", target: outside},
		{name: "dot-dot symlink out of the root", target: strings.Repeat("../", 20) + strings.TrimPrefix(outside, "/")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := copyRoot(t, want)
			// Remove the library under every name it has in the copy.
			for _, p := range want {
				if strings.HasPrefix(path.Base(p), "libtinfo.so") {
					if err := os.Remove(filepath.Join(root, p)); err != nil {
						t.Fatal(err)
					}
					if tc.target != "" {
						if err := os.Symlink(tc.target, filepath.Join(root, p)); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			_, err := Resolve(root, bin)
			if !errors.Is(err, ErrLibraryNotFound) {
				t.Fatalf("got %v, want ErrLibraryNotFound", err)
			}
			t.Log(err)
			for _, s := range []string{"bash", "libtinfo.so.6"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
		})
	}
}

func TestResolveSpecialFiles(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	symlink := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	write("/usr/sbin/script", "#!/bin/sh\necho hi\n")
	write("/usr/sbin/tiny", "x")
	if err := os.Mkdir(filepath.Join(root, "sbin-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink("usr/sbin", "/sbin")
	symlink("script", "/usr/sbin/relative-link")
	symlink("/sbin/script", "/usr/sbin/absolute-link")
	symlink("loop-b", "/usr/sbin/loop-a")
	symlink("loop-a", "/usr/sbin/loop-b")

	for _, tc := range []struct {
		name    string
		paths   []string
		want    []string
		wantErr error // nil: no error; errAny: any error
	}{
		{name: "script", paths: []string{"/usr/sbin/script"}, want: []string{"/usr/sbin/script"}},
		{name: "file shorter than an ELF header", paths: []string{"/usr/sbin/tiny"}, want: []string{"/usr/sbin/tiny"}},
		{name: "through a directory symlink", paths: []string{"/sbin/script"}, want: []string{"/sbin", "/usr/sbin/script"}},
		{
			name:  "symlink chain",
			paths: []string{"/usr/sbin/absolute-link", "/usr/sbin/relative-link"},
			want:  []string{"/sbin", "/usr/sbin/absolute-link", "/usr/sbin/relative-link", "/usr/sbin/script"},
		},
		{name: "missing", paths: []string{"/usr/sbin/nope"}, wantErr: fs.ErrNotExist},
		{name: "directory", paths: []string{"/sbin-dir"}, wantErr: ErrNotRegular},
		{name: "symlink loop", paths: []string{"/usr/sbin/loop-a"}, wantErr: errAny},
		{name: "relative path", paths: []string{"usr/sbin/script"}, wantErr: errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(root, tc.paths...)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatal(err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("got %q, %v; want error %v", got, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); tc.wantErr == nil && diff != "" {
				t.Errorf("Resolve(%q) (-want +got):\n%s", tc.paths, diff)
			}
		})
	}
}

var errAny = errors.New("any error")
