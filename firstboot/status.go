package firstboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// Status is the content of StatusPath.
type Status struct {
	// State is running, failed or complete.
	State string `json:"state"`
	// Phase is the phase running now (phases running side by side, comma-separated), or the one
	// that failed.
	Phase string `json:"phase,omitempty"`
	// Progress is "done/total" over the phases that apply to this node so far.
	Progress  string        `json:"progress"`
	LastError string        `json:"lastError,omitempty"`
	Started   time.Time     `json:"started"`
	Updated   time.Time     `json:"updated"`
	Phases    []PhaseStatus `json:"phases"`
	// Footprint is the agent's own cost, once the run is complete.
	Footprint *Footprint `json:"footprint,omitempty"`
}

// PhaseStatus is one phase's outcome.
type PhaseStatus struct {
	Name string `json:"name"`
	// State is pending, running, done, skipped, failed, or cancelled (it ran beside a phase that
	// failed).
	State   string  `json:"state"`
	Seconds float64 `json:"seconds,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// The states of a run.
const (
	StateRunning  = "running"
	StateFailed   = "failed"
	StateComplete = "complete"
)

// status keeps Status current on disk. Failing to write it is logged, never fatal: the status
// file is for people, the first boot matters more.
type status struct {
	n  *Node
	mu sync.Mutex // phases side by side update it at once
	s  Status
}

func newStatus(n *Node, phases []Phase) *status {
	st := &status{n: n, s: Status{State: StateRunning, Started: n.now()}}
	for _, p := range phases {
		st.s.Phases = append(st.s.Phases, PhaseStatus{Name: p.Name, State: "pending"})
	}
	st.write()
	return st
}

func (st *status) begin(i int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Phases[i].State = "running"
	st.showRunning()
	st.write()
}

// showRunning names the phases running now in Phase, unless a failed phase is named there.
func (st *status) showRunning() {
	if st.s.State == StateFailed {
		return
	}
	var names []string
	for _, p := range st.s.Phases {
		if p.State == "running" {
			names = append(names, p.Name)
		}
	}
	st.s.Phase = strings.Join(names, ", ")
}

func (st *status) skip(i int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Phases[i].State = "skipped"
}

func (st *status) finish(i int, took time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Phases[i].State = "done"
	st.s.Phases[i].Seconds = took.Seconds()
	st.showRunning()
	st.write()
}

func (st *status) fail(i int, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.State = StateFailed
	st.s.Phase = st.s.Phases[i].Name
	st.s.Phases[i].State = "failed"
	st.s.Phases[i].Error = err.Error()
	st.s.LastError = fmt.Sprintf("%s: %v", st.s.Phases[i].Name, err)
	st.write()
}

func (st *status) cancelled(i int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Phases[i].State = "cancelled"
	st.write()
}

func (st *status) complete(fp *Footprint) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.State = StateComplete
	st.s.Phase = ""
	st.s.Footprint = fp
	st.write()
}

// write puts the status on disk; the caller holds mu.
func (st *status) write() {
	done, total := 0, 0
	for _, p := range st.s.Phases {
		if p.State == "skipped" {
			continue
		}
		total++
		if p.State == "done" {
			done++
		}
	}
	st.s.Progress = fmt.Sprintf("%d/%d", done, total)
	st.s.Updated = st.n.now()
	data, err := json.MarshalIndent(st.s, "", "  ")
	if err == nil {
		path := st.n.path(StatusPath)
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = atomicfile.WriteFile(path, append(data, '\n'), 0o644)
		}
	}
	if err != nil {
		st.n.Log.Warn("cannot write the status file", "path", StatusPath, "error", err.Error())
	}
}

// ReadStatus reads the status file under root.
func ReadStatus(root string) (*Status, error) {
	data, err := os.ReadFile(filepath.Join(root, StatusPath))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no first-boot status at %s: the agent has not run in this boot: %w", StatusPath, fs.ErrNotExist)
		}
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StatusPath, err)
	}
	return &s, nil
}

// PrintStatus writes s for people, or as JSON.
func PrintStatus(w io.Writer, s *Status, asJSON bool) error {
	if asJSON {
		data, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	fmt.Fprintf(w, "state:    %s\nprogress: %s phases\n", s.State, s.Progress)
	if s.Phase != "" {
		fmt.Fprintf(w, "phase:    %s\n", s.Phase)
	}
	if s.LastError != "" {
		fmt.Fprintf(w, "error:    %s\n", s.LastError)
	}
	for _, p := range s.Phases {
		line := fmt.Sprintf("  %-26s %-8s", p.Name, p.State)
		if p.Seconds > 0 {
			line += fmt.Sprintf(" %6.1fs", p.Seconds)
		}
		fmt.Fprintln(w, line)
	}
	if s.Footprint != nil {
		fmt.Fprintf(w, "agent:    %s\n", s.Footprint)
	}
	return nil
}
