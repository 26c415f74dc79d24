package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a result was measured.
type Machine struct {
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	CPU        string    `json:"cpu,omitempty"` // model name from /proc/cpuinfo, where there is one
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	GoVersion  string    `json:"go_version"`
	Date       time.Time `json:"date"`
}

func machineFacts() Machine {
	return Machine{
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		CPU:        cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		Date:       time.Now().UTC().Truncate(time.Second),
	}
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Markdown renders the result as a short heading line and a table, one row
// per engine in the order measured.
func (r *LocateResult) Markdown() string {
	var b strings.Builder
	m := r.Machine
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(&b, "Countries at 1:%s, %s points (seed %d), one goroutine per engine; %s, %s/%s, %d CPUs, GOMAXPROCS %d, %s, %s.\n\n",
		r.Resolution, thousands(float64(r.Points)), r.Seed, cpu, m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.Date.Format(time.DateOnly))
	b.WriteString("| engine | build s | heap MB | lookups/s | vs " + r.Baseline + " | agreement % | points timed |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, e := range r.Engines {
		ratio := "-"
		if e.VsBaseline > 0 {
			ratio = strconv.FormatFloat(e.VsBaseline, 'f', 2, 64)
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.1f | %s | %s | %.4f | %s |\n",
			e.Engine, e.BuildSec, float64(e.HeapBytes)/(1<<20), thousands(e.LookupsPerSec), ratio, 100*e.Agreement, thousands(float64(e.PointsTimed)))
	}
	return b.String()
}

// thousands formats v rounded to a whole number with commas: 1,234,567.
func thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
