package firstboot

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// notReady is what kube-apiserver's /readyz?verbose answers while its RBAC bootstrap runs.
const notReady = `[+]ping ok
[+]etcd ok
[-]poststarthook/rbac/bootstrap-roles failed: reason withheld
[+]poststarthook/start-apiextensions-controllers ok
[-]poststarthook/bootstrap-controller failed: reason withheld
readyz check failed
`

// A component that is not ready at first is polled until it answers 200, over the client given.
func TestWaitHTTPPollsUntilReady(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if asked.Add(1) < 3 {
			http.Error(w, notReady, http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	n, _, console := testNode(t.TempDir())
	if err := waitHTTP(context.Background(), n, "kube-apiserver", srv.URL+"/readyz?verbose", srv.Client(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if asked.Load() != 3 || !strings.Contains(console.String(), "kube-apiserver healthy after") {
		t.Errorf("asked %d times, console %q; want 3 and the healthy line", asked.Load(), console.String())
	}
}

// A wait that runs out of time names the checks the API server still fails.
func TestWaitHTTPTimeoutNamesFailingChecks(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, notReady, http.StatusInternalServerError)
	}))
	defer srv.Close()
	n, _, _ := testNode(t.TempDir())
	err := waitHTTP(context.Background(), n, "kube-apiserver", srv.URL+"/readyz?verbose", srv.Client(), 1500*time.Millisecond)
	want := "last answer: 500 Internal Server Error: failing checks: poststarthook/rbac/bootstrap-roles, poststarthook/bootstrap-controller"
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want ErrTimeout ending in %q", err, want)
	}
}

func TestDescribeAnswer(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{200, "ok", "200 OK"},
		{403, `{"kind":"Status","message":"forbidden: User \"system:anonymous\" cannot get path \"/readyz\""}` + "\n", `403 Forbidden: {"kind":"Status","message":"forbidden: User \"system:anonymous\" cannot get path \"/readyz\""}`},
		{503, "", "503 Service Unavailable"},
		{500, strings.Repeat("x", 300), "500 Internal Server Error: " + strings.Repeat("x", 200) + "…"},
	} {
		rec := httptest.NewRecorder()
		rec.WriteHeader(c.status)
		rec.WriteString(c.body)
		if got := describeAnswer(rec.Result()); got != c.want {
			t.Errorf("%d %q: %q, want %q", c.status, c.body, got, c.want)
		}
	}
}

// A long wait says what it waits for, for how long and the last answer, on the console and in
// the journal, every Timeouts.Progress.
func TestWaitHTTPSaysWhatItWaitsFor(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if asked.Add(1) < 4 {
			http.Error(w, notReady, http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	n, log, console := testNode(t.TempDir())
	n.Timeouts.Progress = time.Nanosecond // every failed look reports
	if err := waitHTTP(context.Background(), n, "kube-apiserver", srv.URL+"/readyz?verbose", srv.Client(), time.Minute); err != nil {
		t.Fatal(err)
	}
	want := "[wait] still waiting for kube-apiserver at " + srv.URL + "/readyz?verbose after "
	if got := strings.Count(console.String(), want); got != 3 {
		t.Errorf("console has %d progress lines, want 3 (one per failed look):\n%s", got, console.String())
	}
	if !strings.Contains(console.String(), "failing checks: poststarthook/rbac/bootstrap-roles") {
		t.Errorf("the progress lines lack the last answer:\n%s", console.String())
	}
	if !strings.Contains(log.String(), "still waiting") || !strings.Contains(log.String(), "last_answer=") {
		t.Errorf("the journal lacks the progress entries:\n%s", log.String())
	}
}
