package ec

import (
	"encoding/hex"
	"sync"
	"time"

	"github.com/gpucache/gpucache/nvme"
)

// DeviceState is the state of one device slot.
type DeviceState int

// Device slot states.
const (
	DeviceOK         DeviceState = iota
	DeviceMissing                // no device in the slot
	DeviceFailed                 // marked failed after repeated errors, or vanished
	DeviceRebuilding             // blank replacement whose older shards are not rebuilt yet
)

func (s DeviceState) String() string {
	return [...]string{"ok", "missing", "failed", "rebuilding"}[s]
}

// DeviceStatus describes one slot.
type DeviceStatus struct {
	Slot   int
	Name   string // empty when missing
	State  DeviceState
	Health nvme.HealthStats
}

// Progress describes a scrub or rebuild, running or last finished.
type Progress struct {
	Running          bool
	Slot             int   // rebuild target
	Files, FilesDone int   // files to visit and visited
	Bytes            int64 // shard bytes verified (scrub) or rebuilt (rebuild)
	Repaired         int64 // units rewritten
	Lost             int64 // stripes with more than m shards unusable
	Err              string
	Started, Ended   time.Time
}

// Status is a snapshot of the volume's health, for INFO and metrics.
type Status struct {
	ID       string
	K, M     int
	Degraded bool // some slot is not ok, or an open file has an unusable shard
	Devices  []DeviceStatus

	ReadErrors, WriteErrors int64 // shard I/O errors seen by reads and writes
	ChecksumErrors          int64 // units that failed verification on read
	Reconstructed           int64 // stripes decoded on read
	Unrecoverable           int64 // reads that failed for lack of shards
	ReadRepaired            int64 // corrupt data units rewritten by reads

	Scrub, Rebuild Progress
}

// progress is a Progress under a mutex.
type progress struct {
	mu sync.Mutex
	p  Progress
}

func (p *progress) update(fn func(*Progress)) {
	p.mu.Lock()
	fn(&p.p)
	p.mu.Unlock()
}

func (p *progress) get() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.p
}

// Status returns a snapshot of device states, counters and repair
// progress. Safe to call at any time.
func (v *Volume) Status() Status {
	s := Status{
		ID: hex.EncodeToString(v.id[:]), K: v.k, M: v.m,
		ReadErrors:     v.stats.readErrors.Load(),
		WriteErrors:    v.stats.writeErrors.Load(),
		ChecksumErrors: v.stats.checksumErrors.Load(),
		Reconstructed:  v.stats.reconstructed.Load(),
		Unrecoverable:  v.stats.unrecoverable.Load(),
		ReadRepaired:   v.stats.readRepaired.Load(),
		Scrub:          v.scrubProgress.get(),
		Rebuild:        v.rebuildProgress.get(),
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for i, sl := range v.slots {
		ds := DeviceStatus{Slot: i}
		switch {
		case sl.dev == nil:
			ds.State = DeviceMissing
		case sl.dev.Health().Failed():
			ds.State = DeviceFailed
		case sl.rebuilding:
			ds.State = DeviceRebuilding
		}
		if sl.dev != nil {
			ds.Name = sl.dev.Name()
			ds.Health = sl.dev.Health().Stats()
		}
		if ds.State != DeviceOK {
			s.Degraded = true
		}
		s.Devices = append(s.Devices, ds)
	}
	for _, e := range v.files {
		if e.st == nil {
			continue
		}
		for i := range e.st.shards {
			if !e.st.shards[i].Load().readable() {
				s.Degraded = true
			}
		}
	}
	return s
}

// checker is a device that can look at itself (nvme.DirDevice).
type checker interface{ Check() error }

// CheckDevices asks every device that can tell whether it is still there
// (a directory that vanished under the process is marked failed) and
// returns how many were found failed by this check.
func (v *Volume) CheckDevices() int {
	v.mu.Lock()
	var devs []nvme.Device
	for _, sl := range v.slots {
		if sl.dev != nil && !sl.dev.Health().Failed() {
			devs = append(devs, sl.dev)
		}
	}
	v.mu.Unlock()
	n := 0
	for _, d := range devs {
		if c, ok := d.(checker); ok && c.Check() != nil {
			n++
		}
	}
	return n
}
