package hostcontrolplane

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// clientTimeout bounds one request of the clients this package makes.
const clientTimeout = 20 * time.Second

// signaturePollInterval is the time between two reads of cluster-info while waiting for the
// bootstrap signer.
const signaturePollInterval = 200 * time.Millisecond

// SuperAdminClient is a client with the node's super-admin.conf, the break-glass credential
// kubeadm (and kiln's first boot) applies the init objects with.
func (cp *ControlPlane) SuperAdminClient() (kubernetes.Interface, error) {
	return clientFromFile(filepath.Join(cp.NodeRoot, layout.KubernetesDir, layout.SuperAdminConf))
}

// AdminClient is a client with the operator's admin.conf; it works once the init objects bind
// its group (kubeadm:cluster-admins).
func (cp *ControlPlane) AdminClient() (kubernetes.Interface, error) {
	return clientFromFile(cp.Dir.AdminConf())
}

func clientFromFile(path string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	rc.Timeout = clientTimeout
	return kubernetes.NewForConfig(rc)
}

// WaitForClusterInfoSignature waits until the controller manager's bootstrap signer has signed
// kube-public/cluster-info for the token with ID tokenID, as token discovery needs.
func (cp *ControlPlane) WaitForClusterInfoSignature(ctx context.Context, tokenID string) error {
	client, err := cp.AdminClient()
	if err != nil {
		return err
	}
	err = poll.Until(ctx, poll.Every(signaturePollInterval), func(ctx context.Context) error {
		cm, err := client.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cm.Data[bootstrapapi.JWSSignatureKeyPrefix+tokenID] == "" {
			return errors.New("no signature yet")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cluster-info was never signed for token %s: %w", tokenID, err)
	}
	return nil
}
