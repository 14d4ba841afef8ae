package fakesystemd

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	runs := 0
	s := New(map[string]StartFunc{
		"a.service":    func(context.Context) error { runs++; return nil },
		"fail.service": func(context.Context) error { return boom },
		"none.service": nil,
	})
	for range 2 {
		if err := s.Start(ctx, "a.service"); err != nil {
			t.Fatal(err)
		}
	}
	if active, _ := s.Active(ctx, "a.service"); !active || runs != 1 {
		t.Errorf("a.service active %v after %d runs, want active after one", active, runs)
	}
	if err := s.Start(ctx, "fail.service"); !errors.Is(err, boom) {
		t.Errorf("failing unit: %v", err)
	}
	if active, _ := s.Active(ctx, "fail.service"); active {
		t.Error("a unit whose start failed is active")
	}
	if err := s.Start(ctx, "none.service"); err != nil {
		t.Error(err)
	}
	if err := s.Start(ctx, "missing.service"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown unit: %v, want ErrNotFound", err)
	}
	want := []string{"a.service", "a.service", "fail.service", "none.service", "missing.service"}
	if got := s.Starts(); !slices.Equal(got, want) {
		t.Errorf("Starts() = %v, want %v", got, want)
	}
}
