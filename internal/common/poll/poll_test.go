package poll

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUntilSucceedsAfterRetries(t *testing.T) {
	tries := 0
	err := Until(context.Background(), Every(time.Millisecond).Within(time.Second), func(context.Context) error {
		tries++
		if tries < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || tries != 3 {
		t.Fatalf("Until = %v after %d tries, want nil after 3", err, tries)
	}
}

func TestUntilTimeoutKeepsLastAnswer(t *testing.T) {
	notReady := errors.New("503 Service Unavailable")
	n := 0
	err := Until(context.Background(), Every(5*time.Millisecond).Within(50*time.Millisecond), func(context.Context) error {
		n++
		if n == 1 {
			return errors.New("connection refused")
		}
		return notReady
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !errors.Is(err, notReady) {
		t.Errorf("err = %v, want it to wrap the last answer", err)
	}
	if !strings.Contains(err.Error(), "timed out after") || !strings.Contains(err.Error(), "last answer: 503 Service Unavailable") {
		t.Errorf("err = %q, want the timeout and the last answer", err)
	}
}

func TestUntilStopsOnPermanentError(t *testing.T) {
	wrongPin := errors.New("no certificate matches the CA pin")
	tries := 0
	err := Until(context.Background(), Every(time.Millisecond).Within(time.Second), func(context.Context) error {
		tries++
		return Stop(wrongPin)
	})
	if err != wrongPin || tries != 1 {
		t.Fatalf("Until = %v after %d tries, want the permanent error itself after 1", err, tries)
	}
	if Stop(nil) != nil {
		t.Error("Stop(nil) is not nil")
	}
}

func TestUntilCallerCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := Until(ctx, Every(time.Millisecond), func(context.Context) error {
		cancel()
		return errors.New("still down")
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled and not ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "still down") {
		t.Errorf("err = %q, want the last answer", err)
	}
}

func TestUntilBackoffDoublesToCap(t *testing.T) {
	var starts []time.Time
	_ = Until(context.Background(), Backoff(10*time.Millisecond, 40*time.Millisecond).Within(200*time.Millisecond), func(context.Context) error {
		starts = append(starts, time.Now())
		return errors.New("down")
	})
	if len(starts) < 4 {
		t.Fatalf("%d tries in 200ms, want at least 4", len(starts))
	}
	// Gaps are at least 10, 20, 40, 40 ms: each try waits no less than its interval.
	want := []time.Duration{10, 20, 40, 40}
	for i := 0; i+1 < len(starts) && i < len(want); i++ {
		if gap := starts[i+1].Sub(starts[i]); gap < want[i]*time.Millisecond {
			t.Errorf("gap %d = %s, want at least %dms", i, gap, want[i])
		}
	}
}

func TestUntilRejectsZeroInterval(t *testing.T) {
	if err := Until(context.Background(), Schedule{}, func(context.Context) error { return nil }); err == nil {
		t.Fatal("a zero interval was accepted")
	}
}

func TestUntilReportsProgress(t *testing.T) {
	var reports []time.Duration
	var lastSeen error
	down := errors.New("connection refused")
	s := Every(time.Millisecond).Within(time.Minute).Reporting(10*time.Millisecond, func(waited time.Duration, last error) {
		reports = append(reports, waited)
		lastSeen = last
	})
	err := Until(context.Background(), s, func(context.Context) error {
		if len(reports) == 3 {
			return nil
		}
		return down
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range reports {
		if w < time.Duration(i+1)*10*time.Millisecond {
			t.Errorf("report %d after %s: reports come at most every 10ms", i, w)
		}
	}
	if lastSeen != down {
		t.Errorf("progress heard %v, want the last answer", lastSeen)
	}
	// A wait that succeeds at once never reports.
	reports = nil
	_ = Until(context.Background(), s, func(context.Context) error { return nil })
	if len(reports) != 0 {
		t.Errorf("a wait done at once reported %v", reports)
	}
}
