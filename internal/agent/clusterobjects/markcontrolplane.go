package clusterobjects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// ErrNodeNotFound means the Node to mark has not registered (yet).
var ErrNodeNotFound = errors.New("node not registered")

// ControlPlaneTaint keeps ordinary pods off control-plane nodes.
var ControlPlaneTaint = corev1.Taint{Key: ControlPlaneLabel, Effect: corev1.TaintEffectNoSchedule}

// MarkControlPlane labels the Node nodeName node-role.kubernetes.io/control-plane="" and
// node.kubernetes.io/exclude-from-external-load-balancers="", and taints it
// node-role.kubernetes.io/control-plane:NoSchedule, as kubeadm's mark-control-plane phase does:
// the taint goes first and the Node's other taints are kept. The change is a strategic merge
// patch guarded by the Node's resourceVersion; a Node already marked is not written.
func MarkControlPlane(ctx context.Context, client kubernetes.Interface, nodeName string) error {
	nodes := client.CoreV1().Nodes()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, nodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: %s", ErrNodeNotFound, nodeName)
		}
		if err != nil {
			return err
		}
		marked := node.DeepCopy()
		markControlPlane(marked)
		patch, err := nodePatch(node, marked)
		if err != nil || patch == nil {
			return err
		}
		_, err = nodes.Patch(ctx, nodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("mark node %s as control plane: %w", nodeName, err)
	}
	return nil
}

// markControlPlane sets kubeadm's control-plane labels and taint on n.
func markControlPlane(n *corev1.Node) {
	labels := maps.Clone(n.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[ControlPlaneLabel] = ""
	labels[ExcludeFromExternalLBsLabel] = ""
	n.Labels = labels

	taints := []corev1.Taint{ControlPlaneTaint}
	for _, t := range n.Spec.Taints {
		if t.Key != ControlPlaneTaint.Key || t.Effect != ControlPlaneTaint.Effect {
			taints = append(taints, t)
		}
	}
	if !slices.EqualFunc(taints, n.Spec.Taints, func(a, b corev1.Taint) bool { return a.MatchTaint(&b) && a.Value == b.Value }) {
		n.Spec.Taints = taints
	}
}

// nodePatch returns the strategic merge patch from old to new, with old's resourceVersion as a
// precondition; nil when there is nothing to change.
func nodePatch(old, new *corev1.Node) ([]byte, error) {
	oldJSON, err := json.Marshal(old)
	if err != nil {
		return nil, err
	}
	newJSON, err := json.Marshal(new)
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, corev1.Node{})
	if err != nil || string(patch) == "{}" {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(patch, &m); err != nil {
		return nil, err
	}
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		m["metadata"] = md
	}
	md["resourceVersion"] = old.ResourceVersion
	return json.Marshal(m)
}
