package clusterobjects

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
)

// Subjects kubeadm binds (cmd/kubeadm/app/constants).
const (
	// NodeBootstrapTokenGroup is the extra group of kubeadm's default bootstrap token.
	NodeBootstrapTokenGroup = config.DefaultNodeTokenGroup
	// NodesGroup is the group of every kubelet's client certificate.
	NodesGroup = "system:nodes"
	// APIServerKubeletClientUser is the CN of the API server's client certificate for kubelets.
	APIServerKubeletClientUser = "kube-apiserver-kubelet-client"
	anonymousUser              = "system:anonymous"
)

// clusterAdmins binds admin.conf's group to cluster-admin, so that admin.conf needs no
// system:masters (kubeadm's EnsureAdminClusterRoleBinding).
func clusterAdmins(*Inputs) ([]runtime.Object, error) {
	return []runtime.Object{
		clusterRoleBinding("kubeadm:cluster-admins", "cluster-admin", group(kubeconfig.ClusterAdminsGroup)),
	}, nil
}

// meta names an object; ns is empty for cluster-scoped objects.
func meta(ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func serviceAccount(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

// rule allows verbs on resources of one API group ("" is the core group).
func rule(apiGroup string, resources, verbs []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{apiGroup}, Resources: resources, Verbs: verbs}
}

// getConfigMap allows reading the one ConfigMap called name.
func getConfigMap(name string) rbacv1.PolicyRule {
	r := rule("", []string{"configmaps"}, []string{"get"})
	r.ResourceNames = []string{name}
	return r
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: meta("", name, nil), Rules: rules}
}

func clusterRoleBinding(name, clusterRole string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: meta("", name, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   subjects,
	}
}

func role(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: meta(ns, name, nil), Rules: rules}
}

func roleBinding(ns, name, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: meta(ns, name, nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects:   subjects,
	}
}

// readConfigMap is a Role allowing subjects to get one ConfigMap, with its RoleBinding of the
// same name, as kubeadm grants nodes their configuration.
func readConfigMap(ns, roleName, configMap string, subjects ...rbacv1.Subject) []runtime.Object {
	return []runtime.Object{
		role(ns, roleName, getConfigMap(configMap)),
		roleBinding(ns, roleName, roleName, subjects...),
	}
}

func newServiceAccount(ns, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: meta(ns, name, nil)}
}

// PodRoutesName names the ClusterRole and binding that let every node read all Nodes.
const PodRoutesName = "kiln:pod-routes"

// podRoutes lets kiln-routes.service, which runs with the node's kubelet credentials, read
// every Node's pod CIDR and address. Since Kubernetes 1.32 the Node authorizer lets a node
// read only its own Node; this grant, through RBAC and for reads of Nodes only, is kiln's one
// object beyond kubeadm's.
func podRoutes(*Inputs) ([]runtime.Object, error) {
	return []runtime.Object{
		clusterRole(PodRoutesName, rule("", []string{"nodes"}, []string{"get", "list", "watch"})),
		clusterRoleBinding(PodRoutesName, PodRoutesName, group(NodesGroup)),
	}, nil
}
