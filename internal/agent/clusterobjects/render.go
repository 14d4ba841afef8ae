package clusterobjects

import (
	"bytes"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Render writes objects as one YAML stream, as "kubeadm init --dry-run" prints them: without the
// null creationTimestamps and zero status that typed objects carry before the API server sees them.
func Render(objs []runtime.Object) ([]byte, error) {
	var out bytes.Buffer
	for _, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", describe(obj), err)
		}
		dropNullTimestamps(m)
		delete(m, "status") // kiln never sets one; the zero status is noise
		data, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", describe(obj), err)
		}
		out.WriteString("---\n")
		out.Write(data)
	}
	return out.Bytes(), nil
}

// dropNullTimestamps removes the null creationTimestamp of metadata and of pod templates.
func dropNullTimestamps(v any) {
	switch t := v.(type) {
	case map[string]any:
		if ts, ok := t["creationTimestamp"]; ok && ts == nil {
			delete(t, "creationTimestamp")
		}
		for _, sub := range t {
			dropNullTimestamps(sub)
		}
	case []any:
		for _, sub := range t {
			dropNullTimestamps(sub)
		}
	}
}
