package artifacts

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kilnproject/kiln/internal/build/ociarchive"
)

// TestContainerdImportsLockedImages imports every image archive of the lock into a real
// containerd (the lock's own) the way a node does on first boot, and checks each lands under
// its upstream name with the archive's digest. Like TestLockedArtifacts it runs where make
// artifacts ran.
func TestContainerdImportsLockedImages(t *testing.T) {
	lock, store, _ := lockedArtifacts(t)
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	dir := t.TempDir()
	bins := map[string]string{}
	for _, name := range []string{"containerd", "ctr"} {
		e, ok := lock.Find(name)
		if !ok {
			t.Fatalf("%s is not in the lock", name)
		}
		bins[name] = filepath.Join(dir, name)
		data, err := os.ReadFile(store.Path(e))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bins[name], data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "containerd.sock")
	config := "version = 3\nroot = \"" + dir + "/root\"\nstate = \"" + dir + "/state\"\n[grpc]\n  address = \"" + sock + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(bins["containerd"], "--config", filepath.Join(dir, "config.toml"))
	daemon.Stdout, daemon.Stderr = logFile, logFile
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- daemon.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			daemon.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctr := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bins["ctr"], append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := ctr("version"); err == nil {
			break
		} else if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("containerd did not come up: %v\n%s", err, log)
		}
	}

	want := map[string]string{} // ref → manifest digest
	for _, e := range lock.Artifacts {
		if e.Kind != KindImage {
			continue
		}
		entries, err := ociarchive.Read(store.Path(e))
		if err != nil {
			t.Fatal(err)
		}
		want[entries[0].RefName] = entries[0].ManifestDigest.String()
		if out, err := ctr("images", "import", "--no-unpack", store.Path(e)); err != nil {
			t.Fatalf("import %s: %v\n%s", e.Name, err, out)
		}
	}
	if len(want) == 0 {
		t.Fatal("the lock holds no images")
	}
	out, err := ctr("images", "ls")
	if err != nil {
		t.Fatalf("ctr images ls: %v\n%s", err, out)
	}
	for ref, digest := range want {
		found := false
		for _, line := range strings.Split(out, "\n") {
			fields := strings.Fields(line)
			if len(fields) >= 3 && fields[0] == ref {
				found = true
				if fields[2] != digest {
					t.Errorf("%s imported with digest %s, the archive says %s", ref, fields[2], digest)
				}
			}
		}
		if !found {
			t.Errorf("containerd has no image %s after the import:\n%s", ref, out)
		}
	}
}
