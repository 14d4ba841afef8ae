package hostcontrolplane

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kilnproject/kiln/firstboot"
	"github.com/kilnproject/kiln/internal/agent/manifests"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
)

// renderedPods are kiln's static pods for a control plane at DefaultAdvertiseAddress:6443,
// with a ControlPlane whose ports are remapped as Start remaps them.
func renderedPods(t *testing.T) (*ControlPlane, map[string]*corev1.Pod) {
	t.Helper()
	cfg := config.Default()
	cfg.Cluster.ControlPlaneEndpoint = DefaultAdvertiseAddress + ":6443"
	cfg.Init.LocalAPIEndpoint = config.APIEndpoint{AdvertiseAddress: DefaultAdvertiseAddress, BindPort: 6443}
	pods, err := manifests.StaticPods(&manifests.Inputs{Config: cfg, NodeName: DefaultNodeName, AdvertiseAddress: net.ParseIP(DefaultAdvertiseAddress)})
	if err != nil {
		t.Fatal(err)
	}
	cp := &ControlPlane{NodeRoot: "/tmp/node", ports: map[int]int{
		kubeadm.EtcdClientPort:        40001,
		kubeadm.EtcdPeerPort:          40002,
		kubeadm.EtcdMetricsPort:       40003,
		kubeadm.ControllerManagerPort: 40004,
		kubeadm.SchedulerPort:         40005,
	}}
	byName := map[string]*corev1.Pod{}
	for _, p := range pods {
		byName[p.Name] = p
	}
	return cp, byName
}

func TestRemapMovesEveryNodePathAndFixedPort(t *testing.T) {
	cp, pods := renderedPods(t)
	for name, pod := range pods {
		args := cp.remap(pod.Spec.Containers[0].Command)
		if len(args) != len(pod.Spec.Containers[0].Command) {
			t.Errorf("%s: remap changed the number of arguments", name)
		}
		for _, arg := range args {
			for _, dir := range hostDirs {
				if strings.Contains(arg, "="+dir) {
					t.Errorf("%s: %q still names %s", name, arg, dir)
				}
			}
			for port := range cp.ports {
				if strings.Contains(arg, ":"+strconv.Itoa(port)) {
					t.Errorf("%s: %q still names port %d", name, arg, port)
				}
			}
		}
	}
	etcd := strings.Join(cp.remap(pods["etcd"].Spec.Containers[0].Command), " ")
	for _, want := range []string{"=/tmp/node/etc/kubernetes/pki/etcd/", "=/tmp/node/var/lib/etcd", "127.0.0.1:40001", ":40002"} {
		if !strings.Contains(etcd, want) {
			t.Errorf("remapped etcd command lacks %q:\n%s", want, etcd)
		}
	}
}

// The kubelet stand-in reads back the static pods the init/manifests phase writes.
func TestReadStaticPods(t *testing.T) {
	_, pods := renderedPods(t)
	dir := t.TempDir()
	var all []*corev1.Pod
	for _, p := range pods {
		all = append(all, p)
	}
	if err := manifests.Write(dir, all); err != nil {
		t.Fatal(err)
	}
	got, err := readStaticPods(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name)
		if !slices.Equal(p.Spec.Containers[0].Command, pods[p.Name].Spec.Containers[0].Command) {
			t.Errorf("%s: command read back differs", p.Name)
		}
	}
	if want := "etcd kube-apiserver kube-controller-manager kube-scheduler"; strings.Join(names, " ") != want {
		t.Errorf("read %v, want %s", names, want)
	}
	if _, err := readStaticPods(t.TempDir()); err == nil {
		t.Error("an empty manifest directory was accepted")
	}
}

// The phases a host run skips are phases of the list.
func TestHostSkippedPhasesExist(t *testing.T) {
	if _, err := firstboot.Skip(firstboot.Phases(), HostSkippedPhases...); err != nil {
		t.Fatal(err)
	}
}

func TestBinDirFromEnv(t *testing.T) {
	t.Setenv(EnvBinDir, "")
	t.Setenv(EnvRequire, "")
	if _, err := BinDirFromEnv(); !errors.Is(err, ErrNoBinaries) {
		t.Errorf("unset: got %v, want ErrNoBinaries", err)
	}
	t.Setenv(EnvRequire, "1")
	if _, err := BinDirFromEnv(); err == nil || errors.Is(err, ErrNoBinaries) {
		t.Errorf("unset but required: got %v, want another error", err)
	}
	t.Setenv(EnvBinDir, t.TempDir())
	if _, err := BinDirFromEnv(); err == nil || !strings.Contains(err.Error(), "etcd") {
		t.Errorf("empty directory: got %v, want an error naming etcd", err)
	}
}
