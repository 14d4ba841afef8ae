package artifacts

import (
	"errors"
	"strings"
	"testing"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

const manifestHead = "apiVersion: kiln.dev/v1alpha1\nkind: Artifacts\nartifacts:\n"

func TestParse(t *testing.T) {
	m, err := Parse([]byte(manifestHead+`
- {name: kubelet, kind: binary, version: v1.36.3, source: "${CACHE}/kubelet"}
- {name: rootfs, kind: rootfs, version: bookworm, source: "https://example.invalid/rootfs.tar", sha256: "`+strings.Repeat("a", 64)+`"}
- name: image/kube-proxy
  kind: image
  version: v1.36.3
  build:
    ref: registry.k8s.io/kube-proxy:v1.36.3
    files: [{path: /usr/local/bin/kube-proxy, artifact: kubelet}]
    fromRootfs: {artifact: rootfs, binaries: [/usr/sbin/nft], symlinks: {/usr/sbin/iptables: xtables-nft-multi}}
`), lookupFrom(map[string]string{"CACHE": "/c"}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := m.Find("kubelet").Source; got != "/c/kubelet" {
		t.Errorf("expanded source = %q, want /c/kubelet", got)
	}
	if b := m.Find("image/kube-proxy").Build; b == nil || b.FromRootfs.Symlinks["/usr/sbin/iptables"] != "xtables-nft-multi" {
		t.Errorf("build not decoded: %+v", b)
	}
}

func TestParseRejects(t *testing.T) {
	bin := "- {name: kubelet, kind: binary, version: v1, source: /k}\n"
	image := func(body string) string {
		return "- name: img\n  kind: image\n  version: v1\n  build:\n" + body
	}
	tests := []struct {
		name, doc, want string
	}{
		{"wrong kind of document", "apiVersion: kiln.dev/v1alpha1\nkind: Profile\n", `"Profile"`},
		{"unknown field", manifestHead + "- {name: a, kind: binary, version: v1, source: /a, sah256: x}\n", `field "artifacts[0].sah256" is not supported by kiln`},
		{"unknown artifact kind", manifestHead + "- {name: a, kind: blob, version: v1, source: /a}\n", `artifacts[0] (a).kind "blob"`},
		{"no version", manifestHead + "- {name: a, kind: binary, source: /a}\n", `artifacts[0] (a).version is empty`},
		{"duplicate name", manifestHead + bin + bin, `artifacts[1] (kubelet): the name appears twice`},
		{"neither source nor build", manifestHead + "- {name: a, kind: binary, version: v1}\n", `needs a source or a build`},
		{"unset variable", manifestHead + "- {name: a, kind: binary, version: v1, source: \"${NOPE}/a\"}\n", `NOPE is not set`},
		{"built binary", manifestHead + "- {name: a, kind: binary, version: v1, build: {ref: registry.k8s.io/a:v1, files: [{path: /a, artifact: a}]}}\n", `only images can be built`},
		{"ref without tag", manifestHead + bin + image("    ref: registry.k8s.io/kube-proxy\n    files: [{path: /k, artifact: kubelet}]\n"), `build.ref "registry.k8s.io/kube-proxy"`},
		{"relative path", manifestHead + bin + image("    ref: registry.k8s.io/a:v1\n    files: [{path: usr/k, artifact: kubelet}]\n"), `files[0].path "usr/k"`},
		{"missing artifact", manifestHead + bin + image("    ref: registry.k8s.io/a:v1\n    files: [{path: /k, artifact: kubectl}]\n"), `no artifact is called "kubectl"`},
		{"rootfs is a binary", manifestHead + bin + image("    ref: registry.k8s.io/a:v1\n    files: [{path: /k, artifact: kubelet}]\n    fromRootfs: {artifact: kubelet, binaries: [/x]}\n"), `"kubelet" is a binary, want a rootfs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), lookupFrom(nil))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}
