package vmcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kilnproject/kiln/internal/common/poll"
)

// pollInterval is the time between two looks at the cluster.
const pollInterval = 2 * time.Second

// WaitNodesReady waits until every name is a Ready Node, calling ready once for each as it
// becomes Ready.
func WaitNodesReady(ctx context.Context, c kubernetes.Interface, names []string, ready func(name string)) error {
	seen := map[string]bool{}
	err := poll.Until(ctx, poll.Every(pollInterval), func(ctx context.Context) error {
		var last error
		for _, name := range names {
			if seen[name] {
				continue
			}
			node, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			switch {
			case err != nil:
				last = fmt.Errorf("%s: %w", name, err)
			case nodeReady(node):
				seen[name] = true
				if ready != nil {
					ready(name)
				}
			default:
				last = fmt.Errorf("%s is not Ready", name)
			}
		}
		return last
	})
	if err != nil {
		return fmt.Errorf("nodes not Ready: %w", err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitCoreDNS waits until CoreDNS has a Ready pod for each of its replicas.
func WaitCoreDNS(ctx context.Context, c kubernetes.Interface) error {
	err := poll.Until(ctx, poll.Every(pollInterval), func(ctx context.Context) error {
		d, err := c.AppsV1().Deployments(metav1.NamespaceSystem).Get(ctx, "coredns", metav1.GetOptions{})
		switch {
		case err != nil:
			return err
		case d.Spec.Replicas != nil && d.Status.ReadyReplicas == *d.Spec.Replicas:
			return nil
		}
		return fmt.Errorf("%d of %d replicas Ready", d.Status.ReadyReplicas, ptr.Deref(d.Spec.Replicas, 0))
	})
	if err != nil {
		return fmt.Errorf("CoreDNS not Ready: %w", err)
	}
	return nil
}

// netcheckAttempts is how many times NetcheckPod runs the check before it fails, and
// netcheckRetryDelay the pause between two runs. A node Ready a moment ago may not have its
// Service rules yet (kube-proxy's first sync is slow under TCG), nor CoreDNS its caches: the
// check gets about a minute and a half to pass, then fails with every run's log.
const (
	netcheckAttempts   = 4
	netcheckRetryDelay = 20 * time.Second
)

// NetcheckPod runs "kiln-agent netcheck" in a pod on node: the node's own kiln-agent binary,
// mounted into a container of the baked pause image (a static binary needs nothing else), so
// nothing is pulled. It returns the log of the run that passed, or an error with the log of
// every run when none did in netcheckAttempts; logf is told of each failed run.
func NetcheckPod(ctx context.Context, c kubernetes.Interface, node string, logf func(format string, args ...any)) (string, error) {
	var failures []string
	for attempt := 1; ; attempt++ {
		logs, err := netcheckOnce(ctx, c, node)
		if err == nil {
			return logs, nil
		}
		failures = append(failures, fmt.Sprintf("run %d: %v", attempt, err))
		if attempt == netcheckAttempts || ctx.Err() != nil {
			return "", errors.New(strings.Join(failures, "\n"))
		}
		logf("netcheck run %d of %d failed, again in %s: %v", attempt, netcheckAttempts, netcheckRetryDelay, err)
		select {
		case <-ctx.Done():
		case <-time.After(netcheckRetryDelay):
		}
	}
}

// netcheckOnce runs the netcheck pod once; its log, and an error when the check failed.
func netcheckOnce(ctx context.Context, c kubernetes.Interface, node string) (string, error) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "netcheck-" + node, Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{
			NodeName:      node,
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:            "netcheck",
				Image:           "registry.k8s.io/pause:3.10.2",
				ImagePullPolicy: corev1.PullNever,
				Command:         []string{"/kiln/kiln-agent", "netcheck", "--name", "kubernetes.default"},
				VolumeMounts:    []corev1.VolumeMount{{Name: "agent", MountPath: "/kiln/kiln-agent", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "agent", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: "/usr/bin/kiln-agent", Type: ptr.To(corev1.HostPathFile),
			}}}},
		},
	}
	pods := c.CoreV1().Pods(metav1.NamespaceDefault)
	if err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return "", err
	}
	err := poll.Until(ctx, poll.Every(pollInterval), func(ctx context.Context) error {
		_, err := pods.Create(ctx, pod, metav1.CreateOptions{})
		// The default service account appears shortly after the namespace controller runs.
		if err != nil && !apierrors.IsAlreadyExists(err) && !strings.Contains(err.Error(), "serviceaccount") {
			return poll.Stop(err)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create pod %s: %w", pod.Name, err)
	}
	var phase corev1.PodPhase
	err = poll.Until(ctx, poll.Every(pollInterval), func(ctx context.Context) error {
		got, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if phase = got.Status.Phase; phase == corev1.PodSucceeded || phase == corev1.PodFailed {
			return nil
		}
		return fmt.Errorf("pod %s is %s", pod.Name, phase)
	})
	if err != nil {
		return "", err
	}
	logs, err := podLog(ctx, c, pod.Name)
	if err != nil {
		return "", err
	}
	if phase != corev1.PodSucceeded {
		return logs, errors.New("netcheck failed in pod " + pod.Name + ":\n" + logs)
	}
	return logs, nil
}

func podLog(ctx context.Context, c kubernetes.Interface, name string) (string, error) {
	rc, err := c.CoreV1().Pods(metav1.NamespaceDefault).GetLogs(name, &corev1.PodLogOptions{}).Stream(ctx)
	if err != nil {
		return "", fmt.Errorf("logs of %s: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return string(data), err
}
