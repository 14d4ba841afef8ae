package discovery

import (
	"fmt"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kilnproject/kiln/internal/cluster/kubeconfig"
)

// ByFile is file discovery: the node's configuration carries the cluster CA (caPEM) and the
// API server URL, so nothing is fetched. It checks its inputs and returns the content of
// bootstrap-kubelet.conf. An empty clusterName means DefaultClusterName.
func ByFile(server string, caPEM []byte, token, clusterName string) (*clientcmdapi.Config, error) {
	if err := checkServerURL(server); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	if _, err := parseCA(caPEM); err != nil {
		return nil, fmt.Errorf("%w: cluster CA: %v", ErrInvalidInput, err)
	}
	if _, _, err := parseToken(token); err != nil {
		return nil, err
	}
	if clusterName == "" {
		clusterName = DefaultClusterName
	}
	return kubeconfig.NewBootstrapKubelet(server, clusterName, caPEM, token), nil
}
