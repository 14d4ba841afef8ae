package profile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedProfiles(t *testing.T) {
	for _, name := range []string{"control-plane", "worker"} {
		p, err := LoadFile(filepath.Join("..", "..", "..", "profiles", name+".yaml"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Role != name || p.Name != name {
			t.Errorf("%s: role %q name %q", name, p.Role, p.Name)
		}
		if !strings.HasSuffix(p.Artifacts.Lock, "/artifacts.lock") || strings.Contains(p.Artifacts.Lock, "$") {
			t.Errorf("%s: lock path %q not expanded", name, p.Artifacts.Lock)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const good = `apiVersion: kiln.dev/v1alpha1
kind: Profile
name: worker
role: worker
kubernetesVersion: v1.36.3
artifacts: {lock: /c/artifacts.lock, store: /c/store, base: rootfs}
images: [image/pause]
partitions: {esp: 128Mi, var: 1Gi}
formats: [raw]
`
	lookup := func(string) (string, bool) { return "", false }
	if _, err := Parse([]byte(good), lookup); err != nil {
		t.Fatalf("the good profile: %v", err)
	}
	tests := []struct{ name, from, to, want string }{
		{"unknown field", "role: worker\n", "role: worker\nrule: x\n", `field "rule" is not supported by kiln`},
		{"unknown nested field", "base: rootfs}", "base: rootfs, bsae: x}", `field "artifacts.bsae"`},
		{"bad role", "role: worker", "role: master", `role "master"`},
		{"bad name", "name: worker", "name: Worker_1", `name "Worker_1"`},
		{"bad version", "v1.36.3", `"1.36"`, `kubernetesVersion "1.36"`},
		{"bad format", "[raw]", "[raw, qcow2]", `formats: "qcow2"`},
		{"duplicate format", "[raw]", "[raw, raw]", `"raw" is given twice`},
		{"esp 64Mi", "esp: 128Mi", "esp: 64Mi", `partitions.esp 64Mi`},
		{"esp too small", "esp: 128Mi", "esp: 16Mi", `partitions.esp 16Mi`},
		{"bad quantity", "var: 1Gi", "var: lots", `partitions.var`},
		{"duplicate image", "[image/pause]", "[image/pause, image/pause]", `images[1] "image/pause"`},
		{"kernel arg with space", "formats: [raw]", "formats: [raw]\nkernelArgs: [\"a b\"]", `kernelArgs[0] "a b"`},
		{"unset variable", "/c/store", `"${NOPE}/store"`, `artifacts.store: environment variable NOPE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(good, tt.from, tt.to, 1)
			if doc == good {
				t.Fatalf("test edit %q did not apply", tt.from)
			}
			_, err := Parse([]byte(doc), lookup)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}
