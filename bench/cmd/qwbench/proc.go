package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
// Linux exposes 100 on every architecture Go supports.
const clockTicks = 100

// cpuSeconds returns the user+system CPU time a process has used, from
// /proc/PID/stat (pid 0 means this process).
func cpuSeconds(pid int) (float64, error) {
	name := "/proc/self/stat"
	if pid != 0 {
		name = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", name)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: too few fields", name)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: bad utime/stime", name)
	}
	return float64(ut+st) / clockTicks, nil
}

// statusKB returns a "kB" field of /proc/PID/status, such as VmHWM.
func statusKB(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// resetPeakRSS resets VmHWM to the current RSS (Linux 4.0+, writing 5 to
// clear_refs), so that each phase reports its own peak. It reports whether
// that worked; when it did not, VmHWM is the peak since the process started.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// machineCPU returns the machine's busy and total CPU time in ticks, from
// the first line of /proc/stat, to tell how much of the machine other
// processes used during a phase.
func machineCPU() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, nil
}

// processCPU returns the CPU seconds of every process now running, by
// pid, with their command names, to name the other processes that used
// the machine during a phase.
func processCPU() map[int]procTime {
	out := map[int]procTime{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || close < open {
			continue
		}
		secs, err := cpuSeconds(pid)
		if err != nil {
			continue
		}
		out[pid] = procTime{name: string(b[open+1 : close]), secs: secs}
	}
	return out
}

type procTime struct {
	name string
	secs float64
}

// topOthers names the processes, other than skip, that used the most CPU
// between two processCPU readings.
func topOthers(before, after map[int]procTime, skip map[int]bool, n int) []string {
	type use struct {
		name string
		secs float64
	}
	var uses []use
	for pid, a := range after {
		if skip[pid] {
			continue
		}
		d := a.secs - before[pid].secs // a process started meanwhile counts in full
		if d >= 0.05 {
			uses = append(uses, use{fmt.Sprintf("%s (pid %d)", a.name, pid), d})
		}
	}
	slices.SortFunc(uses, func(x, y use) int { return cmp.Compare(y.secs, x.secs) })
	var out []string
	for i, u := range uses {
		if i == n {
			break
		}
		out = append(out, fmt.Sprintf("%s %.1f s", u.name, u.secs))
	}
	return out
}
