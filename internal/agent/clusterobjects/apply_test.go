package clusterobjects

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// writes lists the create/update/patch/delete actions a client saw, as "verb resource name".
func writes(c *fake.Clientset) []string {
	var out []string
	for _, a := range c.Actions() {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		name := ""
		switch a := a.(type) {
		case k8stesting.CreateAction: // also every UpdateAction
			name = a.GetObject().(metav1.Object).GetName()
		case k8stesting.PatchAction:
			name = a.GetName()
		case k8stesting.DeleteAction:
			name = a.GetName()
		}
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource+" "+name)
	}
	return out
}

// snapshot returns every object the step owns, as stored.
func snapshot(t *testing.T, c kubernetes.Interface, in *Inputs) []runtime.Object {
	t.Helper()
	objs, err := Objects(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out []runtime.Object
	for _, obj := range objs {
		o := obj.(metav1.Object)
		var got runtime.Object
		var err error
		switch obj.(type) {
		case *corev1.ConfigMap:
			got, err = c.CoreV1().ConfigMaps(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
		case *appsv1.Deployment:
			got, err = c.AppsV1().Deployments(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
		case *appsv1.DaemonSet:
			got, err = c.AppsV1().DaemonSets(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
		case *corev1.Service:
			got, err = c.CoreV1().Services(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
		default:
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", describe(obj), err)
		}
		out = append(out, got)
	}
	return out
}

func TestApplyTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	in := testInputs(t)
	client := fake.NewClientset()
	var steps []string
	if err := Apply(ctx, client, in, func(s string) { steps = append(steps, s) }); err != nil {
		t.Fatal(err)
	}
	objs, _ := Objects(in)
	if got := writes(client); len(got) != len(objs) || !strings.HasPrefix(got[0], "create") {
		t.Errorf("first apply: %d writes for %d objects: %v", len(got), len(objs), got)
	}
	if len(steps) != 8 || !strings.Contains(steps[0], "(1 created, 0 updated, 0 unchanged)") {
		t.Errorf("step log: %q", steps)
	}
	before := snapshot(t, client, in)

	client.ClearActions()
	steps = nil
	if err := Apply(ctx, client, in, func(s string) { steps = append(steps, s) }); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if got := writes(client); len(got) != 0 {
		t.Errorf("second apply wrote: %v", got)
	}
	if !strings.HasSuffix(steps[len(steps)-1], "(0 created, 0 updated, 2 unchanged)") {
		t.Errorf("step log: %q", steps)
	}
	if diff := cmp.Diff(before, snapshot(t, client, in)); diff != "" {
		t.Errorf("second apply changed objects (-before +after):\n%s", diff)
	}
}

// TestApplyKeepsOthersChanges checks what a rerun leaves alone: the bootstrap signer's
// signature in cluster-info, an operator's CoreDNS replica count, a controller's annotation.
func TestApplyKeepsOthersChanges(t *testing.T) {
	ctx := context.Background()
	in := testInputs(t)
	client := fake.NewClientset()
	if err := Apply(ctx, client, in, nil); err != nil {
		t.Fatal(err)
	}
	cms := client.CoreV1().ConfigMaps("kube-public")
	ci, _ := cms.Get(ctx, "cluster-info", metav1.GetOptions{})
	ci.Data["jws-kubeconfig-abcdef"] = "header..signature"
	mustUpdate(t)(cms.Update(ctx, ci, metav1.UpdateOptions{}))
	deps := client.AppsV1().Deployments("kube-system")
	dep, _ := deps.Get(ctx, "coredns", metav1.GetOptions{})
	dep.Spec.Replicas = ptr.To[int32](3)
	dep.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
	mustUpdate(t)(deps.Update(ctx, dep, metav1.UpdateOptions{}))

	client.ClearActions()
	if err := Apply(ctx, client, in, nil); err != nil {
		t.Fatal(err)
	}
	if got := writes(client); len(got) != 0 {
		t.Errorf("rerun wrote: %v", got)
	}

	// A real change (a new CA) updates cluster-info and still keeps the signature.
	in.ControlPlaneURL = "https://cp2.example.test:6443"
	if err := Apply(ctx, client, in, nil); err != nil {
		t.Fatal(err)
	}
	ci, _ = cms.Get(ctx, "cluster-info", metav1.GetOptions{})
	if ci.Data["jws-kubeconfig-abcdef"] != "header..signature" || !strings.Contains(ci.Data["kubeconfig"], "cp2.example.test") {
		t.Errorf("cluster-info after update: %v", ci.Data)
	}
	dep, _ = deps.Get(ctx, "coredns", metav1.GetOptions{})
	if *dep.Spec.Replicas != 3 || dep.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Errorf("coredns replicas %d annotations %v", *dep.Spec.Replicas, dep.Annotations)
	}
}

func mustUpdate(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestApplyRepairsDrift checks that a rerun puts back what kiln owns.
func TestApplyRepairsDrift(t *testing.T) {
	ctx := context.Background()
	in := testInputs(t)
	client := fake.NewClientset()
	if err := Apply(ctx, client, in, nil); err != nil {
		t.Fatal(err)
	}
	crbs := client.RbacV1().ClusterRoleBindings()
	crb, _ := crbs.Get(ctx, "kubeadm:get-nodes", metav1.GetOptions{})
	crb.Subjects = nil
	mustUpdate(t)(crbs.Update(ctx, crb, metav1.UpdateOptions{}))
	secrets := client.CoreV1().Secrets("kube-system")
	s, _ := secrets.Get(ctx, "bootstrap-token-abcdef", metav1.GetOptions{})
	s.Data["usage-bootstrap-extra"] = []byte("true")
	mustUpdate(t)(secrets.Update(ctx, s, metav1.UpdateOptions{}))

	client.ClearActions()
	if err := Apply(ctx, client, in, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"update secrets bootstrap-token-abcdef", "update clusterrolebindings kubeadm:get-nodes"}
	if diff := cmp.Diff(want, writes(client)); diff != "" {
		t.Errorf("repair writes (-want +got):\n%s", diff)
	}
	crb, _ = crbs.Get(ctx, "kubeadm:get-nodes", metav1.GetOptions{})
	if len(crb.Subjects) != 1 || crb.Subjects[0].Name != NodeBootstrapTokenGroup {
		t.Errorf("subjects not repaired: %v", crb.Subjects)
	}
}

func TestApplyErrorNamesObject(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "clusterrolebindings", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("boom")
	})
	err := Apply(context.Background(), client, testInputs(t), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "apply ClusterRoleBinding kubeadm:cluster-admins: ") {
		t.Fatalf("got %v", err)
	}
}

// TestCoversIgnoresServerFields checks that what the API server adds to a stored object
// (defaults, identity, status) does not make a rerun write it again, while a change to a value
// kiln sets does.
func TestCoversIgnoresServerFields(t *testing.T) {
	objs, err := Objects(testInputs(t))
	if err != nil {
		t.Fatal(err)
	}
	want := find[*appsv1.DaemonSet](t, objs, "kube-system/kube-proxy")
	stored := want.DeepCopy()
	stored.TypeMeta = metav1.TypeMeta{}
	stored.UID, stored.ResourceVersion, stored.Generation = "1234", "42", 1
	stored.CreationTimestamp = metav1.Now()
	stored.Annotations = map[string]string{"deprecated.daemonset.template.generation": "1"}
	stored.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	stored.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	stored.Spec.Template.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
	unset := corev1.HostPathUnset
	stored.Spec.Template.Spec.Volumes[2].HostPath.Type = &unset
	stored.Status.NumberReady, stored.Status.DesiredNumberScheduled = 1, 1

	next := merge(want, stored)
	if same, err := covers(stored, next); err != nil || !same {
		t.Errorf("server-filled DaemonSet counts as changed (%v)", err)
	}
	stored.Spec.Template.Spec.Containers[0].Image = "registry.k8s.io/kube-proxy:v1.35.0"
	if same, _ := covers(stored, merge(want, stored)); same {
		t.Error("an older image counts as unchanged")
	}
}
