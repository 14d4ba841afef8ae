package imagebuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBakeSnippet(t *testing.T) {
	root := t.TempDir()
	err := bakeSnippet(root, `variant: fcos
version: 1.7.0
storage:
  files: [{path: /etc/motd, mode: 0640, contents: {inline: "hello\n"}}]
  links: [{path: /usr/local/bin/k, target: /usr/bin/kubectl}]
systemd:
  units:
  - {name: a.service, enabled: true, contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"}
  - {name: b.service, enabled: false, contents: "[Service]\nExecStart=/bin/true\n"}
  - {name: c.service, mask: true}
  - name: kubelet.service
    dropins: [{name: 10-x.conf, contents: "[Service]\nEnvironment=X=1\n"}]
`)
	if err != nil {
		t.Fatalf("bakeSnippet: %v", err)
	}
	check := func(p, want string, mode os.FileMode) {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if mode != 0 && fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
		if want != "" {
			data, _ := os.ReadFile(filepath.Join(root, p))
			if string(data) != want {
				t.Errorf("%s = %q, want %q", p, data, want)
			}
		}
	}
	check("etc/motd", "hello\n", 0o640)
	check("etc/systemd/system/a.service", "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", 0o644)
	check("etc/systemd/system/kubelet.service.d/10-x.conf", "[Service]\nEnvironment=X=1\n", 0o644)
	check(strings.TrimPrefix(presetFile, "/"), "disable b.service\nenable a.service\n", 0o644)
	if target, _ := os.Readlink(filepath.Join(root, "etc/systemd/system/c.service")); target != "/dev/null" {
		t.Errorf("c.service is not masked: %q", target)
	}
	if target, _ := os.Readlink(filepath.Join(root, "usr/local/bin/k")); target != "/usr/bin/kubectl" {
		t.Errorf("link: %q", target)
	}
}

func TestBakeSnippetRefusesUsers(t *testing.T) {
	err := bakeSnippet(t.TempDir(), "variant: fcos\nversion: 1.7.0\npasswd:\n  users: [{name: core}]\n")
	if err == nil || !strings.Contains(err.Error(), "profile butane: passwd") {
		t.Fatalf("error = %v, want a refusal naming passwd", err)
	}
}

func TestLoaderEntry(t *testing.T) {
	cmdline := kernelCmdline([]string{"console=ttyS0", "tsc=reliable"})
	if cmdline != "systemd.gpt_auto=0 console=ttyS0 tsc=reliable" {
		t.Errorf("cmdline = %q", cmdline)
	}
	entry := loaderEntry("6.1.0-56-amd64", cmdline)
	want := "title kiln (6.1.0-56-amd64)\nlinux /kiln/vmlinuz\ninitrd /kiln/initrd.img\noptions systemd.gpt_auto=0 console=ttyS0 tsc=reliable\n"
	if entry != want {
		t.Errorf("entry =\n%s\nwant\n%s", entry, want)
	}
	if got := entryOptions(entry); got != cmdline {
		t.Errorf("entryOptions = %q, want %q", got, cmdline)
	}
}
