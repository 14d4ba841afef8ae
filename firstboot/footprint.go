package firstboot

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Footprint is what the first boot cost the node in the agent itself: the CPU time it used
// (user plus system; waiting for the API server or a Node costs none) and its peak resident
// memory, and apart from that the CPU time of the programs it ran and waited for (ctr).
type Footprint struct {
	CPUSeconds         float64 `json:"cpuSeconds"`
	PeakRSSMiB         float64 `json:"peakRSSMiB"`
	ProgramsCPUSeconds float64 `json:"programsCPUSeconds"`
}

// measureFootprint reads the agent's resource usage so far from the kernel.
func measureFootprint() (Footprint, error) {
	var self, children unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &self); err != nil {
		return Footprint{}, fmt.Errorf("getrusage: %w", err)
	}
	if err := unix.Getrusage(unix.RUSAGE_CHILDREN, &children); err != nil {
		return Footprint{}, fmt.Errorf("getrusage: %w", err)
	}
	return Footprint{
		CPUSeconds:         cpuSeconds(self),
		PeakRSSMiB:         float64(self.Maxrss) / 1024, // Maxrss is in KiB on Linux
		ProgramsCPUSeconds: cpuSeconds(children),
	}, nil
}

func cpuSeconds(r unix.Rusage) float64 {
	d := time.Duration(r.Utime.Nano()) + time.Duration(r.Stime.Nano())
	return d.Seconds()
}

// String is the console's form: "1.9 s CPU, peak RSS 41.2 MiB; programs it ran 52.0 s CPU".
func (f Footprint) String() string {
	return fmt.Sprintf("%.1f s CPU, peak RSS %.1f MiB; programs it ran %.1f s CPU", f.CPUSeconds, f.PeakRSSMiB, f.ProgramsCPUSeconds)
}
