package imagemeta

import (
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	md := &Metadata{Name: "worker", Role: "worker", KubernetesVersion: "v1.36.3",
		Artifacts: []Artifact{{Name: "kubelet", Version: "v1.36.3", SHA256: strings.Repeat("a", 64)}},
		Images:    []Image{{Ref: "registry.k8s.io/pause:3.10.2", Digest: "sha256:" + strings.Repeat("b", 64), File: "pause.tar"}}}
	data, err := md.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(data), "}\n") || !strings.Contains(string(data), `"kubernetesVersion": "v1.36.3"`) {
		t.Errorf("marshalled form:\n%s", data)
	}
	got, err := Parse(data)
	if err != nil || !reflect.DeepEqual(got, md) {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, md)
	}
	if _, err := Parse([]byte("{")); err == nil || !strings.Contains(err.Error(), Path) {
		t.Errorf("a broken file: %v, want an error naming %s", err, Path)
	}
}
