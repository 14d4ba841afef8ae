package clusterobjects

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestMarkControlPlane(t *testing.T) {
	notReady := corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name       string
		labels     map[string]string
		taints     []corev1.Taint
		wantTaints []corev1.Taint
	}{
		{name: "bare node", wantTaints: []corev1.Taint{ControlPlaneTaint}},
		{
			name:       "keeps other labels and taints",
			labels:     map[string]string{"kubernetes.io/hostname": "cp-1"},
			taints:     []corev1.Taint{notReady},
			wantTaints: []corev1.Taint{ControlPlaneTaint, notReady},
		},
		{
			name:       "already tainted",
			taints:     []corev1.Taint{notReady, ControlPlaneTaint},
			wantTaints: []corev1.Taint{ControlPlaneTaint, notReady},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-1", Labels: tc.labels}, Spec: corev1.NodeSpec{Taints: tc.taints}}
			client := fake.NewClientset(node)
			if err := MarkControlPlane(ctx, client, "cp-1"); err != nil {
				t.Fatal(err)
			}
			got, err := client.CoreV1().Nodes().Get(ctx, "cp-1", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range []string{ControlPlaneLabel, ExcludeFromExternalLBsLabel} {
				if v, ok := got.Labels[l]; !ok || v != "" {
					t.Errorf("label %s: %q, %v", l, v, ok)
				}
			}
			for k, v := range tc.labels {
				if got.Labels[k] != v {
					t.Errorf("label %s lost", k)
				}
			}
			if diff := cmp.Diff(tc.wantTaints, got.Spec.Taints); diff != "" {
				t.Errorf("taints (-want +got):\n%s", diff)
			}

			// Marking again changes nothing.
			client.ClearActions()
			if err := MarkControlPlane(ctx, client, "cp-1"); err != nil {
				t.Fatal(err)
			}
			if w := writes(client); len(w) != 0 {
				t.Errorf("second mark wrote: %v", w)
			}
		})
	}
}

func TestMarkControlPlaneMissingNode(t *testing.T) {
	err := MarkControlPlane(context.Background(), fake.NewClientset(), "cp-1")
	if !errors.Is(err, ErrNodeNotFound) {
		t.Fatalf("got %v, want ErrNodeNotFound", err)
	}
	if want := "mark node cp-1 as control plane: node not registered: cp-1"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
