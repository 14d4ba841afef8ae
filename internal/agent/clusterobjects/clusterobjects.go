package clusterobjects

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
)

// Inputs are what the init-time objects depend on.
type Inputs struct {
	// Config is the cluster's configuration, defaulted (config.Parse and config.Default do
	// that). Its ClusterConfiguration is uploaded as kubeadm-config; its InitConfiguration gives
	// kube-proxy's bind address family.
	Config *config.Config
	// CACertPEM is the cluster CA certificate, published in cluster-info.
	CACertPEM []byte
	// ControlPlaneURL is the API server URL written into cluster-info and into kube-proxy's
	// kubeconfig: the controlPlaneEndpoint, or this node (config.Config.APIServerURL).
	ControlPlaneURL string
	// Tokens are the bootstrap tokens to store as Secrets.
	Tokens []*token.Token
}

// Step is one named group of objects, applied in order. The names follow kubeadm's phases.
type Step struct {
	Name    string
	Objects []runtime.Object
}

// steps is kubeadm init's order: the admin binding first (kubeadm creates it with admin.conf),
// then upload-config, bootstrap-token and the addons; last kiln's own pod-route reader.
var steps = []struct {
	name  string
	build func(*Inputs) ([]runtime.Object, error)
}{
	{"cluster-admins", clusterAdmins},
	{"upload-config/kubeadm", kubeadmConfig},
	{"upload-config/kubelet", kubeletConfig},
	{"bootstrap-token", bootstrapTokens},
	{"bootstrap-token/cluster-info", clusterInfo},
	{"addon/coredns", coreDNS},
	{"addon/kube-proxy", kubeProxy},
	{"addon/kiln-pod-routes", podRoutes},
}

// Steps builds every object, grouped and in apply order. It needs no client.
func Steps(in *Inputs) ([]Step, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := make([]Step, 0, len(steps))
	for _, s := range steps {
		objs, err := s.build(in)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", s.name, err)
		}
		for _, obj := range objs {
			if err := setKind(obj); err != nil {
				return nil, fmt.Errorf("build %s: %w", s.name, err)
			}
		}
		out = append(out, Step{Name: s.name, Objects: objs})
	}
	return out, nil
}

// Objects returns every object of Steps in apply order.
func Objects(in *Inputs) ([]runtime.Object, error) {
	steps, err := Steps(in)
	if err != nil {
		return nil, err
	}
	var objs []runtime.Object
	for _, s := range steps {
		objs = append(objs, s.Objects...)
	}
	return objs, nil
}

// Apply creates or updates every object in order and reports each step through log (nil for
// none). Objects that already hold what kiln wants are not written.
func Apply(ctx context.Context, client kubernetes.Interface, in *Inputs, log func(step string)) error {
	steps, err := Steps(in)
	if err != nil {
		return err
	}
	for _, s := range steps {
		var n [numResults]int
		for _, obj := range s.Objects {
			res, err := apply(ctx, client, obj)
			if err != nil {
				return fmt.Errorf("apply %s: %w", describe(obj), err)
			}
			n[res]++
		}
		if log != nil {
			log(fmt.Sprintf("%s: %d objects (%d created, %d updated, %d unchanged)",
				s.Name, len(s.Objects), n[created], n[updated], n[unchanged]))
		}
	}
	return nil
}

func (in *Inputs) check() error {
	switch {
	case in == nil || in.Config == nil:
		return errors.New("cluster objects: no configuration")
	case in.ControlPlaneURL == "":
		return errors.New("cluster objects: no control-plane URL")
	}
	if _, err := certutil.ParseCertsPEM(in.CACertPEM); err != nil {
		return fmt.Errorf("cluster objects: CA certificate: %w", err)
	}
	for _, t := range in.Tokens {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("cluster objects: %w", err)
		}
	}
	return nil
}

// setKind fills in apiVersion and kind, so that each object describes itself when rendered.
func setKind(obj runtime.Object) error {
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	return nil
}
