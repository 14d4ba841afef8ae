package imagebuild

import (
	"fmt"
	"strings"

	"github.com/kilnproject/kiln/internal/build/artifactstore"
	"github.com/kilnproject/kiln/internal/build/profile"
)

// nodeBinaries places binary artifacts in the root filesystem: what every node runs.
var nodeBinaries = []struct{ artifact, path string }{
	{"kubelet", "/usr/bin/kubelet"},
	{"kubectl", "/usr/bin/kubectl"},
	{"kubeadm", "/usr/bin/kubeadm"},
	{"crictl", "/usr/bin/crictl"},
	{"containerd", "/usr/bin/containerd"},
	{"containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v2"},
	{"ctr", "/usr/bin/ctr"},
	{"runc", "/usr/sbin/runc"},
	{"cni-bridge", "/opt/cni/bin/bridge"},
	{"cni-host-local", "/opt/cni/bin/host-local"},
	{"cni-loopback", "/opt/cni/bin/loopback"},
	{"cni-portmap", "/opt/cni/bin/portmap"},
	{"cni-ptp", "/opt/cni/bin/ptp"},
	{"cni-firewall", "/opt/cni/bin/firewall"},
	{"cni-bandwidth", "/opt/cni/bin/bandwidth"},
	{"cni-tuning", "/opt/cni/bin/tuning"},
}

// ignitionArtifact is the Ignition binary the initramfs runs on first boot.
const ignitionArtifact = "ignition"

// inputs are the profile's artifacts, found in the lock and verified in the store.
type inputs struct {
	store   *artifactstore.Store
	lock    *artifactstore.Lock
	entries map[string]artifactstore.Entry
}

// loadInputs reads the profile's lock and checks that every artifact the build needs is there
// and intact, and that the kubelet's version is the profile's.
func loadInputs(p *profile.Profile) (*inputs, error) {
	lock, err := artifactstore.ReadLock(p.Artifacts.Lock)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w (run make artifacts, or kiln artifacts)", err)
	}
	store, err := artifactstore.Open(p.Artifacts.Store)
	if err != nil {
		return nil, err
	}
	in := &inputs{store: store, lock: lock, entries: map[string]artifactstore.Entry{}}
	names := []string{p.Artifacts.Base, ignitionArtifact}
	for _, b := range nodeBinaries {
		names = append(names, b.artifact)
	}
	names = append(names, p.Images...)
	var missing []string
	for _, n := range names {
		e, ok := lock.Find(n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		if err := store.Verify(e); err != nil {
			return nil, fmt.Errorf("artifacts: %w", err)
		}
		in.entries[n] = e
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("artifacts: the lock %s has no %s", p.Artifacts.Lock, strings.Join(missing, ", "))
	}
	if v := in.entries["kubelet"].Version; v != p.KubernetesVersion {
		return nil, fmt.Errorf("artifacts: kubelet is %s, the profile wants Kubernetes %s", v, p.KubernetesVersion)
	}
	for _, img := range p.Images {
		if k := in.entries[img].Kind; k != "image" {
			return nil, fmt.Errorf("profile images: %s is a %s artifact, not an image", img, k)
		}
	}
	return in, nil
}

// path is where an artifact's content is in the store.
func (in *inputs) path(name string) string { return in.store.Path(in.entries[name]) }

// imageFile is the file name of an image artifact in imagemeta.ImagesDir: "image/kube-apiserver" →
// "kube-apiserver.tar".
func imageFile(artifact string) string {
	return strings.TrimPrefix(artifact, "image/") + ".tar"
}
