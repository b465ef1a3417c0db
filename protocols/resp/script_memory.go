package resp

import (
	"runtime"
	"runtime/metrics"
	"strconv"
	"time"
)

// A script's memory is bounded by lua-memory-limit (bytes; 0: no bound),
// as far as a Go interpreter allows: gopher-lua allocates its strings and
// tables on the Go heap and has no allocator hook, so the bound is kept
// three ways:
//
//   - a watch samples the process's heap (runtime/metrics, no stop of the
//     world) every scriptMemEvery while the script runs; when it grew past
//     the limit since the script began, a collection separates the live
//     growth from garbage, and if the live growth is still past the limit
//     the script is stopped with Lua's "not enough memory" error. While a
//     script runs no other client's command does (scripts run alone), so
//     the growth is the script's.
//   - a single call that would build a value past the limit at once
//     (string.rep) raises the error instead of allocating;
//   - a redis.call reply larger than the limit raises it too.
//
// What the script wrote before the error stays (the group commits), as
// after any script error in Redis. The sampling interval lets a script
// overshoot by what it allocates in scriptMemEvery: the bound is for
// runaway scripts, not an exact accounting.

const (
	defaultScriptMemLimit = 256 << 20
	scriptMemEvery        = 5 * time.Millisecond
)

// SetScriptMemoryLimit sets lua-memory-limit: how much heap one script may
// grow by before it is stopped (n <= 0: no bound).
func (s *Server) SetScriptMemoryLimit(n int64) {
	if n <= 0 {
		n = -1
	}
	s.lua.memLimit.Store(n)
}

// memoryLimit is lua-memory-limit, 256 MiB unless set; 0: none.
func (sc *scripting) memoryLimit() int64 {
	switch n := sc.memLimit.Load(); {
	case n < 0:
		return 0
	case n == 0:
		return defaultScriptMemLimit
	default:
		return n
	}
}

// errScriptMemory is the error reply of a script stopped for its memory.
func errScriptMemory(limit int64) string {
	return "ERR not enough memory: the script exceeded lua-memory-limit (" + strconv.FormatInt(limit, 10) + " bytes)"
}

// heapObjects reads a heap metric in bytes: objects live and not yet swept,
// or those the last collection marked live.
func heapObjects(s []metrics.Sample) uint64 {
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// watchMemory starts the memory watch of run; the returned function ends
// it (and must be called before run's result is read).
func (sc *scripting) watchMemory(run *scriptRun, limit int64) (stop func()) {
	if limit <= 0 {
		return func() {}
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	// NB: base counts garbage too, so live growth past it is the script's.
	base := heapObjects(sample)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(scriptMemEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if heapObjects(sample) < base+uint64(limit) {
				continue
			}
			// Over the limit: garbage or live? A collection tells: the
			// bytes it found live (not what the script allocated while it
			// ran, which a busy script can make more than the limit).
			runtime.GC()
			if heapObjects(live) < base+uint64(limit) {
				continue
			}
			run.mu.Lock()
			run.outOfMemory = true
			if run.cancel != nil {
				run.cancel()
			}
			run.mu.Unlock()
			return
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
