package hostcontrolplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// startKubelet is kubelet.service on the host: it answers kubelet's health endpoint (on its
// remapped port) and runs every static pod under NodeRoot's manifest directory as a host
// process, restarting one that exits, as kubelet does. It returns once all are started.
func (cp *ControlPlane) startKubelet(context.Context) error {
	pods, err := readStaticPods(filepath.Join(cp.NodeRoot, layout.ManifestsDir))
	if err != nil {
		return err
	}
	if err := cp.serveHealthz(); err != nil {
		return err
	}
	for _, pod := range pods {
		if err := cp.runPod(pod, cp.extraArgs(pod)...); err != nil {
			return err
		}
	}
	return nil
}

// readStaticPods reads the static pods in dir, by file name.
func readStaticPods(dir string) ([]*corev1.Pod, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("static pods: %w", err)
	}
	var pods []*corev1.Pod
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		pod := &corev1.Pod{}
		if err := yaml.UnmarshalStrict(data, pod); err != nil {
			return nil, fmt.Errorf("static pod %s: %w", e.Name(), err)
		}
		if len(pod.Spec.Containers) != 1 || len(pod.Spec.Containers[0].Command) == 0 {
			return nil, fmt.Errorf("static pod %s: want one container with a command", e.Name())
		}
		pods = append(pods, pod)
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("no static pods in %s", dir)
	}
	return pods, nil
}

// extraArgs are what a host process needs beyond its manifest's command: the controller
// manager's and the scheduler's manifests leave --secure-port at its default, which on the
// host must be a free port.
func (cp *ControlPlane) extraArgs(pod *corev1.Pod) []string {
	switch pod.Name {
	case "kube-controller-manager":
		return []string{"--secure-port=" + strconv.Itoa(cp.ports[kubeadm.ControllerManagerPort])}
	case "kube-scheduler":
		return []string{"--secure-port=" + strconv.Itoa(cp.ports[kubeadm.SchedulerPort])}
	}
	return nil
}

// serveHealthz answers kubelet's health endpoint for the stand-in.
func (cp *ControlPlane) serveHealthz() error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cp.ports[kubeadm.KubeletHealthzPort])))
	if err != nil {
		return fmt.Errorf("kubelet's health endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux}
	cp.mu.Lock()
	cp.healthz = srv
	cp.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cp.logf("kubelet stand-in: health endpoint: %v", err)
		}
	}()
	return nil
}
