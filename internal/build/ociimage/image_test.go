package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var created = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// testSpec returns a spec with every kind of file: data, host source, symlink, directory.
func testSpec(t *testing.T) Spec {
	t.Helper()
	src := filepath.Join(t.TempDir(), "kube-apiserver")
	if err := os.WriteFile(src, []byte("#!/bin/true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Spec{
		Ref: "registry.k8s.io/kube-apiserver:v1.36.3",
		Files: []File{
			{Path: "/usr/local/bin/kube-apiserver", Source: src, Mode: 0o755},
			{Path: "/etc/kubernetes/note", Data: []byte("hello\n")},
			{Path: "/usr/bin/kube-apiserver", Symlink: "../local/bin/kube-apiserver"},
			{Path: "/var/run", Mode: fs.ModeDir | 0o700},
		},
		Entrypoint: []string{"/usr/local/bin/kube-apiserver"},
		Cmd:        []string{"--help"},
		Env:        []string{"GODEBUG=x509ignoreCN=0"},
		WorkingDir: "/",
		Created:    created.In(time.FixedZone("CEST", 2*3600)).Add(300 * time.Millisecond),
	}
}

func digest(t *testing.T, spec Spec) v1.Hash {
	t.Helper()
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBuildIsDeterministic(t *testing.T) {
	spec := testSpec(t)
	first := digest(t, spec)
	if again := digest(t, spec); again != first {
		t.Errorf("same spec built twice: digests %s and %s", first, again)
	}
	shuffled := spec
	shuffled.Files = slices.Clone(spec.Files)
	slices.Reverse(shuffled.Files)
	if d := digest(t, shuffled); d != first {
		t.Errorf("file order changed the digest: %s, want %s", d, first)
	}
	later := spec
	later.Created = created.Add(time.Hour)
	if d := digest(t, later); d == first {
		t.Errorf("another creation time gave the same digest %s", d)
	}
}

type entry struct {
	Name     string
	Type     byte
	Mode     int64
	Linkname string
	Content  string
}

func TestBuildLayer(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("got %d layers (%v), want 1", len(layers), err)
	}
	if mt, _ := layers[0].MediaType(); mt != types.OCILayerZStd {
		t.Errorf("layer media type %s, want %s", mt, types.OCILayerZStd)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if want := []byte{0x28, 0xb5, 0x2f, 0xfd}; !bytes.Equal(head, want) {
		t.Errorf("layer starts %x, want the zstd frame magic %x", head, want)
	}

	rc, err = layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got []entry
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || !hdr.ModTime.Equal(created) || !hdr.AccessTime.IsZero() ||
			!hdr.ChangeTime.IsZero() || len(hdr.PAXRecords) != 0 {
			t.Errorf("%s: uid %d gid %d mtime %s atime %s ctime %s pax %v; want 0 0 %s and no more",
				hdr.Name, hdr.Uid, hdr.Gid, hdr.ModTime, hdr.AccessTime, hdr.ChangeTime, hdr.PAXRecords, created)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, entry{hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, string(content)})
	}
	want := []entry{
		{Name: "etc/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "etc/group", Type: tar.TypeReg, Mode: 0o644, Content: "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"},
		{Name: "etc/kubernetes/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "etc/kubernetes/note", Type: tar.TypeReg, Mode: 0o644, Content: "hello\n"},
		{Name: "etc/nsswitch.conf", Type: tar.TypeReg, Mode: 0o644, Content: "passwd: files\ngroup: files\nhosts: files dns\n"},
		{Name: "etc/passwd", Type: tar.TypeReg, Mode: 0o644, Content: string(baseFiles()[2].Data)},
		{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "usr/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/bin/kube-apiserver", Type: tar.TypeSymlink, Mode: 0o777, Linkname: "../local/bin/kube-apiserver"},
		{Name: "usr/local/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/local/bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/local/bin/kube-apiserver", Type: tar.TypeReg, Mode: 0o755, Content: "#!/bin/true\n"},
		{Name: "var/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "var/run/", Type: tar.TypeDir, Mode: 0o700},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer entries (-want +got):\n%s", diff)
	}
}

func TestBuildConfig(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("manifest %s with config %s, want %s with %s", m.MediaType, m.Config.MediaType,
			types.OCIManifestSchema1, types.OCIConfigJSON)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Time.Equal(created) {
		t.Errorf("config platform %s/%s created %s, want linux/amd64 %s", cf.OS, cf.Architecture, cf.Created.Time, created)
	}
	wantConfig := v1.Config{
		Entrypoint: []string{"/usr/local/bin/kube-apiserver"},
		Cmd:        []string{"--help"},
		Env:        []string{DefaultPath, "GODEBUG=x509ignoreCN=0"},
		WorkingDir: "/",
	}
	if diff := cmp.Diff(wantConfig, cf.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if len(cf.History) != 1 || !cf.History[0].Created.Time.Equal(created) {
		t.Errorf("history %+v, want one entry created %s", cf.History, created)
	}
	if len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("rootfs has %d diff IDs, want 1", len(cf.RootFS.DiffIDs))
	}
}

func TestBuildBaseFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want []string
	}{
		{name: "default", want: []string{"etc/", "etc/group", "etc/nsswitch.conf", "etc/passwd", "pause", "tmp/"}},
		{name: "none", spec: Spec{NoBaseFiles: true}, want: []string{"pause"}},
		{
			name: "replaced",
			spec: Spec{Files: []File{{Path: "/etc/passwd", Data: []byte("root:x:0:0::/:/pause\n")}}},
			want: []string{"etc/", "etc/group", "etc/nsswitch.conf", "etc/passwd", "pause", "tmp/"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Ref = "registry.k8s.io/pause:3.10.2"
			spec.Files = append(spec.Files, File{Path: "/pause", Data: []byte("x"), Mode: 0o755})
			files, err := spec.layerFiles()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				name := strings.TrimPrefix(f.Path, "/")
				if f.Mode.IsDir() {
					name += "/"
				}
				got = append(got, name)
				if f.Path == "/etc/passwd" && tc.name == "replaced" && string(f.Data) != "root:x:0:0::/:/pause\n" {
					t.Errorf("/etc/passwd is %q, want the spec's", f.Data)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	const ref = "registry.k8s.io/pause:3.10.2"
	for _, tc := range []struct {
		name  string
		ref   string
		files []File
	}{
		{name: "no tag", ref: "registry.k8s.io/pause"},
		{name: "no registry", ref: "pause:3.10.2"},
		{name: "implicit library", ref: "docker.io/busybox:1"},
		{name: "digest", ref: "registry.k8s.io/pause@sha256:" + strings.Repeat("0", 64)},
		{name: "relative path", files: []File{{Path: "pause"}}},
		{name: "unclean path", files: []File{{Path: "/usr//pause"}}},
		{name: "root", files: []File{{Path: "/", Mode: fs.ModeDir}}},
		{name: "twice", files: []File{{Path: "/pause"}, {Path: "/pause"}}},
		{name: "source and data", files: []File{{Path: "/pause", Source: "/bin/true", Data: []byte("x")}}},
		{name: "symlink with data", files: []File{{Path: "/pause", Symlink: "x", Data: []byte("x")}}},
		{name: "directory symlink", files: []File{{Path: "/pause", Symlink: "x", Mode: fs.ModeDir}}},
		{name: "device", files: []File{{Path: "/dev/null", Mode: fs.ModeDevice | fs.ModeCharDevice}}},
		{name: "parent is a file", files: []File{{Path: "/bin", Data: []byte("x")}, {Path: "/bin/sh"}}},
		{name: "parent is a symlink", files: []File{{Path: "/bin", Symlink: "usr/bin"}, {Path: "/bin/sh"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Ref: ref, Files: tc.files}
			if tc.ref != "" {
				spec.Ref = tc.ref
			}
			if _, err := Build(spec); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("Build: got %v, want ErrInvalidSpec", err)
			}
		})
	}
	if _, err := Build(Spec{Ref: ref, Files: []File{{Path: "/pause", Source: "/nonexistent/pause"}}}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing source: got %v, want fs.ErrNotExist", err)
	}
}

// The manifest names the layer's compression: zstd by default, gzip on request; both read back.
func TestBuildCompression(t *testing.T) {
	for _, c := range []struct {
		compression Compression
		want        types.MediaType
	}{{"", types.OCILayerZStd}, {Gzip, types.OCILayer}} {
		spec := testSpec(t)
		spec.Compression = c.compression
		img, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Layers[0].MediaType; got != c.want {
			t.Errorf("compression %q: manifest layer media type %s, want %s", c.compression, got, c.want)
		}
		layers, _ := img.Layers()
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tar.NewReader(rc).Next(); err != nil {
			t.Errorf("compression %q: the layer does not read back as tar: %v", c.compression, err)
		}
		rc.Close()
	}
	spec := testSpec(t)
	spec.Compression = "lz4"
	if _, err := Build(spec); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("compression lz4: %v, want ErrInvalidSpec", err)
	}
}
