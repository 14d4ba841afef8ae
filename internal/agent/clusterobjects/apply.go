package clusterobjects

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// result is what apply did to one object.
type result int

const (
	unchanged result = iota
	created
	updated
	numResults
)

// object is what every typed API object is.
type object interface {
	metav1.Object
	runtime.Object
}

// typedClient is the part of a client-go typed client (ConfigMaps(ns), ClusterRoles(), ...)
// that apply needs.
type typedClient[T object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// apply creates or updates obj through the typed client of its kind.
func apply(ctx context.Context, c kubernetes.Interface, obj runtime.Object) (result, error) {
	switch o := obj.(type) {
	case *corev1.Secret:
		return ensure(ctx, c.CoreV1().Secrets(o.Namespace), o)
	case *corev1.ConfigMap:
		return ensure(ctx, c.CoreV1().ConfigMaps(o.Namespace), o)
	case *corev1.ServiceAccount:
		return ensure(ctx, c.CoreV1().ServiceAccounts(o.Namespace), o)
	case *corev1.Service:
		return ensure(ctx, c.CoreV1().Services(o.Namespace), o)
	case *rbacv1.ClusterRole:
		return ensure(ctx, c.RbacV1().ClusterRoles(), o)
	case *rbacv1.ClusterRoleBinding:
		return ensure(ctx, c.RbacV1().ClusterRoleBindings(), o)
	case *rbacv1.Role:
		return ensure(ctx, c.RbacV1().Roles(o.Namespace), o)
	case *rbacv1.RoleBinding:
		return ensure(ctx, c.RbacV1().RoleBindings(o.Namespace), o)
	case *appsv1.Deployment:
		return ensure(ctx, c.AppsV1().Deployments(o.Namespace), o)
	case *appsv1.DaemonSet:
		return ensure(ctx, c.AppsV1().DaemonSets(o.Namespace), o)
	default:
		return unchanged, fmt.Errorf("kind %T is not supported", obj)
	}
}

// ensure creates want, or updates the existing object when it does not already hold everything
// want sets. Conflicts (a concurrent writer) are retried from a fresh read.
func ensure[T object](ctx context.Context, c typedClient[T], want T) (result, error) {
	res := unchanged
	retriable := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	err := retry.OnError(retry.DefaultRetry, retriable, func() error {
		have, err := c.Get(ctx, want.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			res = created
			_, err = c.Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		next := merge(want, have).(T)
		same, err := covers(have, next)
		if err != nil || same {
			res = unchanged
			return err
		}
		res = updated
		_, err = c.Update(ctx, next, metav1.UpdateOptions{})
		return err
	})
	return res, err
}

// merge returns want as an update of have: at have's resourceVersion, keeping the labels and
// annotations others set (controllers annotate Deployments and DaemonSets), the ConfigMap keys
// others own (the bootstrap signer's jws-kubeconfig-<id> signatures in cluster-info), and the
// replica count an operator chose for a Deployment, as kubeadm keeps CoreDNS's.
func merge(want, have object) runtime.Object {
	next := want.DeepCopyObject().(object)
	next.SetResourceVersion(have.GetResourceVersion())
	next.SetLabels(union(have.GetLabels(), want.GetLabels()))
	next.SetAnnotations(union(have.GetAnnotations(), want.GetAnnotations()))
	switch n := next.(type) {
	case *corev1.ConfigMap:
		n.Data = union(have.(*corev1.ConfigMap).Data, n.Data)
	case *appsv1.Deployment:
		if r := have.(*appsv1.Deployment).Spec.Replicas; r != nil {
			n.Spec.Replicas = r
		}
	}
	return next
}

// union returns base with over's entries on top, nil when both are empty.
func union[V any](base, over map[string]V) map[string]V {
	if len(base)+len(over) == 0 {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, over)
	return out
}

// covers reports whether have already holds every value want sets. Both are compared as JSON,
// so fields the API server fills in (defaults, uid, managedFields, status) do not count as
// differences; apiVersion and kind are ignored (typed clients return objects without them), and
// so is status.
// have and want are of the same kind.
func covers(have, want runtime.Object) (bool, error) {
	h, err := toJSONMap(have)
	if err != nil {
		return false, err
	}
	w, err := toJSONMap(want)
	if err != nil {
		return false, err
	}
	delete(w, "apiVersion")
	delete(w, "kind")
	delete(w, "status") // written by controllers, never by kiln
	if s, ok := want.(*corev1.Secret); ok && len(have.(*corev1.Secret).Data) != len(s.Data) {
		return false, nil // a Secret's keys are all kiln's: one too many (a dropped usage) is a change
	}
	return subset(h, w), nil
}

func toJSONMap(obj runtime.Object) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", obj, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode %T: %w", obj, err)
	}
	return m, nil
}

// subset reports whether have matches want wherever want has a value: maps key by key, lists
// element by element with equal length, scalars exactly. A null in want matches anything.
func subset(have, want any) bool {
	switch w := want.(type) {
	case nil:
		return true
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(h[k], v) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !subset(h[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}

// describe names an object for errors: "ClusterRoleBinding kubeadm:get-nodes",
// "ConfigMap kube-public/cluster-info".
func describe(obj runtime.Object) string {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = reflect.TypeOf(obj).Elem().Name()
	}
	o, ok := obj.(metav1.Object)
	switch {
	case !ok:
		return kind
	case o.GetNamespace() == "":
		return kind + " " + o.GetName()
	default:
		return kind + " " + o.GetNamespace() + "/" + o.GetName()
	}
}
