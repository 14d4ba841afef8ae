package podroutes

import (
	"context"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kilnproject/kiln/internal/common/linelog"
)

func node(name, ip, cidr string) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr}}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func TestWanted(t *testing.T) {
	nodes := []corev1.Node{
		node("cp", "192.168.100.10", "10.244.0.0/24"),
		node("w1", "192.168.100.11", "10.244.1.0/24"),
		node("w2", "", "10.244.2.0/24"),            // no address yet
		node("w3", "192.168.100.13", ""),           // no pod range yet
		node("w4", "192.168.100.14", "not-a-cidr"), // ignored
	}
	got := Wanted(nodes, "w1")
	want := []Route{{CIDR: "10.244.0.0/24", Via: "192.168.100.10"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Wanted = %v, want %v", got, want)
	}
}

type fakeTable struct{ routes map[string]string }

func (f *fakeTable) List(context.Context) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range f.routes {
		out[k] = v
	}
	return out, nil
}
func (f *fakeTable) Replace(_ context.Context, r Route) error { f.routes[r.CIDR] = r.Via; return nil }
func (f *fakeTable) Delete(_ context.Context, c string) error { delete(f.routes, c); return nil }

// Sync adds what is missing, moves what changed gateway and removes kiln's routes to nodes
// that left.
func TestSync(t *testing.T) {
	tab := &fakeTable{routes: map[string]string{"10.244.5.0/24": "192.168.100.15", "10.244.1.0/24": "192.168.100.99"}}
	want := []Route{{CIDR: "10.244.0.0/24", Via: "192.168.100.10"}, {CIDR: "10.244.1.0/24", Via: "192.168.100.11"}}
	var changes strings.Builder
	if err := Sync(context.Background(), tab, want, linelog.New(&changes)); err != nil {
		t.Fatal(err)
	}
	exp := map[string]string{"10.244.0.0/24": "192.168.100.10", "10.244.1.0/24": "192.168.100.11"}
	if !reflect.DeepEqual(tab.routes, exp) {
		t.Errorf("routes = %v, want %v", tab.routes, exp)
	}
	lines := strings.Split(strings.TrimSpace(changes.String()), "\n")
	if len(lines) != 3 || !strings.Contains(changes.String(), "route 10.244.5.0/24 removed: its node left") {
		t.Errorf("reported %q, want 3 changes", lines)
	}
}
