package firstboot

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// refused is a real "connection refused": a dial to a port nothing listens on.
func refused(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = net.Dial("tcp", addr)
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	return &url.Error{Op: "Get", URL: "https://" + addr + "/api", Err: err}
}

func TestTransientAPIError(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused(t), true},
		{"cut off", fmt.Errorf("apply: %w", &url.Error{Op: "Get", URL: "https://x/api", Err: io.ErrUnexpectedEOF}), true},
		{"client timeout", &url.Error{Op: "Get", URL: "https://x/api", Err: context.DeadlineExceeded}, true},
		{"503", apierrors.NewServiceUnavailable("starting"), true},
		{"429", apierrors.NewTooManyRequests("slow down", 1), true},
		{"server timeout", apierrors.NewServerTimeout(gr, "get", 1), true},
		{"forbidden", apierrors.NewForbidden(gr, "x", errors.New("no")), false},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "x", field.ErrorList{field.Required(field.NewPath("data"), "")}), false},
		{"bad certificate", &url.Error{Op: "Get", URL: "https://x/api", Err: x509.UnknownAuthorityError{}}, false},
	} {
		if got := transientAPIError(c.err); got != c.want {
			t.Errorf("%s: transientAPIError(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// An API server that refuses a connection once is asked again; one that forbids is not.
func TestRetryAPI(t *testing.T) {
	n, _, console := testNode(t.TempDir())
	calls := 0
	err := retryAPI(context.Background(), n, "cluster-objects", func(context.Context) error {
		calls++
		if calls == 1 {
			return refused(t)
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls, want success on the second", err, calls)
	}
	if !strings.Contains(console.String(), "[cluster-objects] attempt 1: the API server did not answer: ") ||
		!strings.Contains(console.String(), "trying again in 2s") {
		t.Errorf("console: %q", console.String())
	}

	calls = 0
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "cp-1", errors.New("no"))
	err = retryAPI(context.Background(), n, "mark-control-plane", func(context.Context) error {
		calls++
		return forbidden
	})
	if !apierrors.IsForbidden(err) || calls != 1 {
		t.Errorf("err %v after %d calls, want forbidden at once", err, calls)
	}
}

// An API server that never answers ends the retries at Timeouts.APIServerReady, named.
func TestRetryAPITimesOut(t *testing.T) {
	n, _, _ := testNode(t.TempDir())
	n.Timeouts.APIServerReady = 500 * time.Millisecond
	start := time.Now()
	err := retryAPI(context.Background(), n, "cluster-objects", func(context.Context) error { return refused(t) })
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "did not answer within 500ms") {
		t.Fatalf("err = %v, want the API timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %s, want at the 500ms window", took)
	}
}
