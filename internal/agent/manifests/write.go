package manifests

import (
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// File and directory modes of the manifests, as kubeadm writes them.
const (
	FileMode = 0o600
	DirMode  = 0o700
)

// Marshal returns pod as the YAML a kubelet reads from its static pod directory.
func Marshal(pod *corev1.Pod) ([]byte, error) {
	data, err := yaml.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("encode static pod %s: %w", pod.Name, err)
	}
	return data, nil
}

// Write writes each pod to dir/<name>.yaml atomically with mode 0600.
func Write(dir string, pods []*corev1.Pod) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create manifest directory: %w", err)
	}
	for _, p := range pods {
		data, err := Marshal(p)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, p.Name+".yaml"), data, FileMode); err != nil {
			return err
		}
	}
	return nil
}
