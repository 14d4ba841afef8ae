package firstboot

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kilnproject/kiln/internal/layout"
	"github.com/kilnproject/kiln/internal/manifests"
)

// clientTimeout bounds one API request.
const clientTimeout = 30 * time.Second

// pollInterval is the time between two looks at something the agent waits for.
const pollInterval = time.Second

// ErrTimeout marks a wait that ran out of time; the message names what was awaited and the
// named timeout.
var ErrTimeout = errors.New("timed out")

// waitHTTP polls url until it answers 200 OK. roots verifies TLS; nil with an https URL
// accepts any certificate (the controller manager and scheduler serve self-signed ones).
func waitHTTP(ctx context.Context, n *Node, what, url string, roots *x509.CertPool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil},
		Proxy:           nil,
	}}
	start := n.now()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				n.say("[wait] %s healthy after %s", what, round(n.now().Sub(start)))
				n.Log.Info("healthy", "component", what, "url", url, "after", n.now().Sub(start).String())
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not healthy at %s within %s: last answer: %s", ErrTimeout, what, url, timeout, last)
		case <-time.After(pollInterval):
		}
	}
}

// waitControlPlane waits for the API server (through the cluster CA, at the node's address),
// then the controller manager and the scheduler.
func waitControlPlane(ctx context.Context, n *Node) error {
	caPEM, err := os.ReadFile(n.path(layout.PKIPath("ca.crt")))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	port := int(n.Cluster.Init.LocalAPIEndpoint.BindPort)
	api := "https://" + net.JoinHostPort(n.IP.String(), strconv.Itoa(port)) + "/readyz"
	if err := waitHTTP(ctx, n, "kube-apiserver", api, roots, n.Timeouts.apiServerReady()); err != nil {
		return err
	}
	kcm := fmt.Sprintf("https://127.0.0.1:%d/healthz", manifests.ControllerManagerPort)
	if err := waitHTTP(ctx, n, "kube-controller-manager", kcm, nil, n.Timeouts.controlPlaneHealthy()); err != nil {
		return err
	}
	sched := fmt.Sprintf("https://127.0.0.1:%d/livez", manifests.SchedulerPort)
	return waitHTTP(ctx, n, "kube-scheduler", sched, nil, n.Timeouts.controlPlaneHealthy())
}

// waitNodeRegistered waits for kubelet to register this node's Node object.
func (n *Node) waitNodeRegistered(ctx context.Context, client kubernetes.Interface) error {
	_, err := n.waitNode(ctx, client, "registered", n.Timeouts.nodeRegistered(), func(*corev1.Node) bool { return true })
	return err
}

// waitNode polls this node's Node until ok says so.
func (n *Node) waitNode(ctx context.Context, client kubernetes.Interface, what string, timeout time.Duration, ok func(*corev1.Node) bool) (*corev1.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := n.now()
	var last string
	for {
		node, err := client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		switch {
		case err == nil && ok(node):
			n.say("[wait] Node %s %s after %s", n.Name, what, round(n.now().Sub(start)))
			return node, nil
		case err == nil:
			last = "not yet"
		case apierrors.IsNotFound(err):
			last = "no Node object yet"
		default:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: Node %s not %s within %s: %s", ErrTimeout, n.Name, what, timeout, last)
		case <-time.After(pollInterval):
		}
	}
}
