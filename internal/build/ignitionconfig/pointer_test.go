package ignitionconfig

import (
	"crypto/sha512"
	"encoding/hex"
	"testing"

	ignition "github.com/coreos/ignition/v2/config/v3_6"

	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

func TestPointer(t *testing.T) {
	d := newCluster(t)
	full, err := Render(d, Options{Role: nodeconfig.RoleControlPlane, NodeName: "cp-1"})
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://boot.example/nodes/cp-1.ign"
	ptr, err := Pointer(full, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("full config %d bytes, pointer %d bytes", len(full), len(ptr))
	cfg, rpt, err := ignition.Parse(ptr)
	if err != nil || len(rpt.Entries) > 0 {
		t.Fatalf("Ignition's parser: %v\n%s", err, rpt)
	}
	merge := cfg.Ignition.Config.Merge
	if len(merge) != 1 || merge[0].Source == nil || *merge[0].Source != url || merge[0].Verification.Hash == nil {
		t.Fatalf("ignition.config.merge: %+v", merge)
	}
	sum := sha512.Sum512(full)
	if want := "sha512-" + hex.EncodeToString(sum[:]); *merge[0].Verification.Hash != want {
		t.Errorf("hash %s, want %s", *merge[0].Verification.Hash, want)
	}
	if len(ptr) > 1024 || len(cfg.Storage.Files) > 0 {
		t.Errorf("pointer of %d bytes with %d files", len(ptr), len(cfg.Storage.Files))
	}
	// One byte more and the node refuses the config.
	other, _ := Pointer(append(full[:len(full):len(full)], ' '), url)
	if string(other) == string(ptr) {
		t.Error("the pointer does not depend on the full config's bytes")
	}
}

func TestPointerErrors(t *testing.T) {
	d := newCluster(t)
	full, err := Render(d, Options{Role: nodeconfig.RoleWorker})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url string
		full      []byte
	}{
		{"no URL", "", full},
		{"unsupported scheme", "ftp://boot.example/w.ign", full},
		{"not a URL", "boot.example:x/w.ign", full},
		{"not a config", "https://boot.example/w.ign", []byte("{}")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Pointer(tc.full, tc.url)
			if err == nil {
				t.Fatal("want an error")
			}
			t.Log(err)
		})
	}
}
