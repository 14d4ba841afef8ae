package firstboot

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// clientTimeout bounds one API request.
const clientTimeout = 30 * time.Second

// pollInterval is the time between two looks at something the agent waits for.
const pollInterval = time.Second

// ErrTimeout marks a wait that ran out of time: it is poll.ErrTimeout, which every wait's
// timeout error wraps; the message names what was awaited, the named timeout and the last
// answer.
var ErrTimeout = poll.ErrTimeout

// waitHTTP polls url with client until it answers 200 OK.
func waitHTTP(ctx context.Context, n *Node, what, url string, client *http.Client, timeout time.Duration) error {
	start := n.now()
	every := poll.Every(pollInterval).Within(timeout).Reporting(n.Timeouts.progress(), n.stillWaiting(what+" at "+url))
	err := poll.Until(ctx, every, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return poll.Stop(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		answer := describeAnswer(resp)
		if resp.StatusCode != http.StatusOK {
			return errors.New(answer)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s not healthy at %s%s: %w", what, url, within(timeout), err)
	}
	took := n.now().Sub(start)
	n.report(slog.LevelInfo, fmt.Sprintf("[wait] %s healthy after %s", what, round(took)), "healthy", "component", what, "url", url, "after", took.String())
	return nil
}

// stillWaiting is a long wait's progress report: at least once a minute a console line and a
// journal entry say what the agent waits for, for how long already, and the last answer.
func (n *Node) stillWaiting(what string) func(waited time.Duration, last error) {
	return func(waited time.Duration, last error) {
		n.report(slog.LevelInfo, fmt.Sprintf("[wait] still waiting for %s after %s: %v", what, round(waited), last),
			"still waiting", "for", what, "waited", waited.Round(time.Second).String(), "last_answer", last.Error())
	}
}

// describeAnswer reads and closes resp's body and says what it answered: its status, and for
// a health endpoint's verbose answer the checks that failed ("[-]etcd failed: …"), else the
// body's first line.
func describeAnswer(resp *http.Response) string {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return resp.Status
	}
	var failed []string
	for _, line := range strings.Split(string(body), "\n") {
		if check, ok := strings.CutPrefix(line, "[-]"); ok {
			failed = append(failed, strings.TrimSuffix(check, " failed: reason withheld"))
		}
	}
	if len(failed) > 0 {
		return resp.Status + ": failing checks: " + strings.Join(failed, ", ")
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(first) > 200 {
		first = first[:200] + "…"
	}
	if first == "" {
		return resp.Status
	}
	return resp.Status + ": " + first
}

// localHealthClient polls the node's own components, which serve self-signed certificates
// (controller manager, scheduler) or plain HTTP (kubelet).
func localHealthClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		Proxy:           nil,
	}}
}

// manager and the scheduler.
func waitControlPlane(ctx context.Context, n *Node) error {
	port := int(n.Cluster.Init.LocalAPIEndpoint.BindPort)
	return waitAPIServer(ctx, n, net.JoinHostPort(n.IP.String(), strconv.Itoa(port)))
}

// waitControllers is the wait-controllers phase: the controller manager and the scheduler
// answer their local health endpoints (side by side: neither needs the other).
func waitControllers(ctx context.Context, n *Node) error {
	local := localHealthClient()
	kcm := fmt.Sprintf("https://127.0.0.1:%d/healthz", n.localPort(kubeadm.ControllerManagerPort))
	sched := fmt.Sprintf("https://127.0.0.1:%d/livez", n.localPort(kubeadm.SchedulerPort))
	var g errgroup.Group
	g.Go(func() error {
		return waitHTTP(ctx, n, "kube-controller-manager", kcm, local, n.Timeouts.controlPlaneHealthy())
	})
	g.Go(func() error {
		return waitHTTP(ctx, n, "kube-scheduler", sched, local, n.Timeouts.controlPlaneHealthy())
	})
	return g.Wait()
}

// waitAPIServer waits for the API server at endpoint (host:port) to answer /readyz. Like
// kubeadm's init it asks with super-admin.conf (system:masters, which needs no RBAC): until the
// API server's RBAC bootstrap is done anyone else is forbidden even /readyz, and only an
// authorised caller is told which checks still fail.
func waitAPIServer(ctx context.Context, n *Node, endpoint string) error {
	conf := layout.KubeconfigPath(layout.SuperAdminConf)
	rc, err := clientcmd.BuildConfigFromFlags("", n.path(conf))
	if err != nil {
		return fmt.Errorf("load %s: %w", conf, err)
	}
	rc.Timeout = 5 * time.Second
	superAdmin, err := rest.HTTPClientFor(rc)
	if err != nil {
		return fmt.Errorf("client from %s: %w", conf, err)
	}
	return waitHTTP(ctx, n, "kube-apiserver", "https://"+endpoint+"/readyz?verbose", superAdmin, n.Timeouts.apiServerReady())
}

// waitNodeRegistered waits for kubelet to register this node's Node object.
func (n *Node) waitNodeRegistered(ctx context.Context, client kubernetes.Interface) error {
	_, err := n.waitNode(ctx, client, "registered", n.Timeouts.nodeRegistered(), func(*corev1.Node) bool { return true })
	return err
}

// waitNode polls this node's Node until ok says so.
func (n *Node) waitNode(ctx context.Context, client kubernetes.Interface, what string, timeout time.Duration, ok func(*corev1.Node) bool) (*corev1.Node, error) {
	start := n.now()
	var node *corev1.Node
	every := poll.Every(pollInterval).Within(timeout).Reporting(n.Timeouts.progress(), n.stillWaiting("Node "+n.Name+" "+what))
	err := poll.Until(ctx, every, func(ctx context.Context) error {
		got, err := client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		switch {
		case err == nil && ok(got):
			node = got
			return nil
		case err == nil:
			return errors.New("not yet")
		case apierrors.IsNotFound(err):
			return errors.New("no Node object yet")
		default:
			return err
		}
	})
	if err != nil {
		return nil, fmt.Errorf("Node %s not %s%s: %w", n.Name, what, within(timeout), err)
	}
	n.say("[wait] Node %s %s after %s", n.Name, what, round(n.now().Sub(start)))
	return node, nil
}
