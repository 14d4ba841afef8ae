package firstboot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/contract/imagemeta"
)

// fakeCtr puts a ctr on PATH whose "images list" prints list and whose "images import" runs
// importScript (sh).
func fakeCtr(t *testing.T, list, importScript string) {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$4\" in\nlist) printf '%s' '" + list + "' ;;\nimport) " + importScript + " ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "ctr"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

const pauseImageJSON = `{"images":[{"ref":"registry.k8s.io/pause:3.10","digest":"sha256:1111","file":"pause.tar"}]}`

const ctrListHeader = "REF TYPE DIGEST SIZE PLATFORMS LABELS\n"

// A containerd that never finishes an import fails the phase at Timeouts.Images, named.
func TestImagesPhaseTimesOut(t *testing.T) {
	root := t.TempDir()
	write(t, root, imagemeta.Path, []byte(pauseImageJSON), 0o644)
	fakeCtr(t, ctrListHeader, "exec sleep 60")
	n, _, _ := testNode(root)
	n.Timeouts.Images = 300 * time.Millisecond

	start := time.Now()
	err := importImages(context.Background(), n)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "not all in containerd within 300ms") {
		t.Fatalf("err = %v, want the images timeout", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the phase returned after %s, not at its timeout", took)
	}
}

// An image containerd already has with the baked digest is not imported again; one with
// another digest is an error naming both.
func TestImagesPhaseChecksDigests(t *testing.T) {
	root := t.TempDir()
	write(t, root, imagemeta.Path, []byte(pauseImageJSON), 0o644)
	n, _, console := testNode(root)

	fakeCtr(t, ctrListHeader+"registry.k8s.io/pause:3.10 application/vnd.oci.image.index.v1+json sha256:1111 300KiB linux/amd64 -\n", "exit 1")
	if err := importImages(context.Background(), n); err != nil {
		t.Fatalf("image already there: %v", err)
	}
	if !strings.Contains(console.String(), "1 baked images in containerd (0 imported now") {
		t.Errorf("console: %q", console.String())
	}

	fakeCtr(t, ctrListHeader+"registry.k8s.io/pause:3.10 application/vnd.oci.image.index.v1+json sha256:2222 300KiB linux/amd64 -\n", "exit 0")
	err := importImages(context.Background(), n)
	if err == nil || !strings.Contains(err.Error(), `containerd has registry.k8s.io/pause:3.10 at digest "sha256:2222", the image baked sha256:1111`) {
		t.Fatalf("err = %v, want the digest mismatch", err)
	}
}
