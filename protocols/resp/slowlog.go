package resp

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Slow log limits per entry, as Redis and KVRocks keep them: at most 32
// arguments (the last one then says how many more there were), each cut
// to 128 bytes (with how many more there were).
const (
	slowlogMaxArgs     = 32
	slowlogMaxArgBytes = 128
)

// slowLog keeps the latest commands that ran longer than a threshold
// (slowlog-log-slower-than, microseconds; negative: off; 0: every
// command), at most slowlog-max-len of them, for SLOWLOG GET. The zero
// value is off. Safe for concurrent use; observe costs two atomic loads
// for a command under the threshold.
type slowLog struct {
	// threshold is slowlog-log-slower-than in microseconds; below 0
	// nothing is logged.
	threshold atomic.Int64
	maxLen    atomic.Int64
	on        atomic.Bool // false until SetSlowlog: the zero value is off

	mu      sync.Mutex
	nextID  int64
	entries []slowEntry // oldest first

	perf perfLog // PERFLOG, fed by the same observation
}

type slowEntry struct {
	id       int64
	time     int64 // unix seconds
	duration int64 // microseconds
	args     []string
	addr     string
	name     string
}

// SetSlowlog sets slowlog-log-slower-than (a negative threshold turns the
// slow log off; 0 logs every command) and slowlog-max-len, and trims the
// log to the new length. Safe for concurrent use.
func (s *Server) SetSlowlog(threshold time.Duration, maxLen int) {
	l := &s.slowlog
	us := threshold.Microseconds()
	if threshold < 0 {
		us = -1
	}
	l.threshold.Store(us)
	l.maxLen.Store(int64(max(maxLen, 0)))
	l.on.Store(true)
	l.mu.Lock()
	l.trimLocked()
	l.mu.Unlock()
}

func (l *slowLog) trimLocked() {
	if n := int64(len(l.entries)) - l.maxLen.Load(); n > 0 {
		k := copy(l.entries, l.entries[n:])
		clear(l.entries[k:])
		l.entries = l.entries[:k]
	}
}

// observe records cmd if it ran for longer than the threshold since
// start. Called by the dispatcher after each command, before its
// arguments are released.
func (l *slowLog) observe(c *conn, cmd *Command, start time.Time) {
	elapsed := c.countCommand(cmd, start) // commandstats.go
	if p := l.perf.cfg.Load(); p != nil {
		l.perf.sample(p, cmd, start)
	}
	if !l.on.Load() {
		return
	}
	th := l.threshold.Load()
	if th < 0 {
		return
	}
	d := elapsed.Microseconds()
	if d < th || l.maxLen.Load() == 0 {
		return
	}
	e := slowEntry{time: start.Unix(), duration: d, addr: c.addr}
	c.mu.Lock()
	e.name = c.name
	c.mu.Unlock()
	args := cmd.Args
	n := min(len(args), slowlogMaxArgs)
	e.args = make([]string, n)
	for i := range n {
		a := args[i]
		switch {
		case n < len(args) && i == n-1:
			e.args[i] = "... (" + strconv.Itoa(len(args)-n+1) + " more arguments)"
		case len(a) > slowlogMaxArgBytes:
			e.args[i] = string(a[:slowlogMaxArgBytes]) + "... (" + strconv.Itoa(len(a)-slowlogMaxArgBytes) + " more bytes)"
		default:
			e.args[i] = string(a)
		}
	}
	l.mu.Lock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trimLocked()
	l.mu.Unlock()
}

// latest returns up to n entries, newest first (n < 0: all).
func (l *slowLog) latest(n int) []slowEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	out := make([]slowEntry, n)
	for i := range out {
		out[i] = l.entries[len(l.entries)-1-i]
	}
	return out
}

func (l *slowLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *slowLog) reset() {
	l.mu.Lock()
	clear(l.entries)
	l.entries = l.entries[:0]
	l.mu.Unlock()
}

// SLOWLOG GET [count|*] | LEN | RESET, as KVRocks answers: GET gives the
// newest entries first (10 by default; "*", 0 or a negative count: all),
// each [id, unix time, microseconds, [args...], "ip:port", client name].
func (c *conn) cmdSlowlog(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	l := &c.s.slowlog
	switch {
	case eqFold(sub, "len") && len(args) == 2:
		c.wr.Int(int64(l.len()))
	case eqFold(sub, "reset") && len(args) == 2:
		l.reset()
		c.wr.OK()
	case eqFold(sub, "get") && len(args) <= 3:
		n := 10
		if len(args) == 3 && string(args[2]) != "*" {
			v, err := strconv.ParseInt(string(args[2]), 10, 64)
			if err != nil {
				c.err(errNotInteger)
				return
			}
			n = int(max(min(v, 1<<30), -1))
			if n == 0 {
				n = -1
			}
		} else if len(args) == 3 {
			n = -1
		}
		entries := l.latest(n)
		c.wr.Array(len(entries))
		for _, e := range entries {
			c.wr.Array(6)
			c.wr.Int(e.id)
			c.wr.Int(e.time)
			c.wr.Int(e.duration)
			c.wr.Array(len(e.args))
			for _, a := range e.args {
				c.wr.BulkString(a)
			}
			c.wr.BulkString(e.addr)
			c.wr.BulkString(e.name)
		}
	case eqFold(sub, "len"), eqFold(sub, "reset"), eqFold(sub, "get"):
		c.wrongArgs()
	default:
		c.err("ERR SLOWLOG subcommand must be one of RESET, LEN, GET")
	}
}

// perfLog is KVRocks's PERFLOG: a sample of commands (profiling-sample-ratio
// percent of those named by profiling-sample-commands) that ran for at
// least profiling-sample-record-threshold-ms, at most
// profiling-sample-record-max-len of them. Off (cfg nil) it costs the
// dispatcher one atomic load per command.
type perfLog struct {
	cfg atomic.Pointer[perfConfig]

	mu      sync.Mutex
	lastID  int64
	entries []perfEntry // oldest first
}

type perfConfig struct {
	ratio     int             // percent of the commands sampled, 1..100
	all       bool            // profiling-sample-commands *
	commands  map[string]bool // lower-case names
	threshold time.Duration
	maxLen    int
}

type perfEntry struct {
	id, time int64 // time: unix seconds
	name     string
	duration int64 // microseconds
}

// SetPerflog sets the profiling-sample-* keys: ratio percent (0 turns
// PERFLOG sampling off) of the commands named in the comma-separated list
// commands ("*": all), recorded when they run for at least threshold; the
// log keeps maxLen entries. Safe for concurrent use.
func (s *Server) SetPerflog(ratio int, commands string, threshold time.Duration, maxLen int) {
	p := &s.slowlog.perf
	if ratio <= 0 {
		p.cfg.Store(nil)
	} else {
		cfg := &perfConfig{ratio: min(ratio, 100), commands: map[string]bool{}, threshold: threshold, maxLen: max(maxLen, 0)}
		for _, name := range strings.Split(commands, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "*" {
				cfg.all = true
			} else if name != "" {
				cfg.commands[name] = true
			}
		}
		p.cfg.Store(cfg)
	}
	p.mu.Lock()
	if n := len(p.entries) - max(maxLen, 0); n > 0 {
		p.entries = append(p.entries[:0], p.entries[n:]...)
	}
	p.mu.Unlock()
}

func (p *perfLog) sample(cfg *perfConfig, cmd *Command, start time.Time) {
	name := cmd.Args[0]
	if !cfg.all {
		var lower [32]byte
		if len(name) > len(lower) {
			return
		}
		for i, ch := range name {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			lower[i] = ch
		}
		if !cfg.commands[string(lower[:len(name)])] {
			return
		}
	}
	d := time.Since(start)
	if d < cfg.threshold || cfg.maxLen == 0 || rand.IntN(100) >= cfg.ratio {
		return
	}
	e := perfEntry{time: time.Now().Unix(), name: strings.ToLower(string(name)), duration: d.Microseconds()}
	p.mu.Lock()
	p.lastID++
	e.id = p.lastID
	p.entries = append(p.entries, e)
	if n := len(p.entries) - cfg.maxLen; n > 0 {
		p.entries = append(p.entries[:0], p.entries[n:]...)
	}
	p.mu.Unlock()
}

// PERFLOG GET [count|*] | LEN | RESET, as KVRocks answers: GET gives the
// newest entries first (10 by default; "*", 0 or a negative count: all),
// each [id, unix time, command, microseconds, perf_context,
// iostats_context]. The two contexts are RocksDB's per-operation counters
// in KVRocks; the engine here keeps no per-request counters, so they are
// empty.
func (c *conn) cmdPerflog(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	p := &c.s.slowlog.perf
	switch {
	case eqFold(sub, "len"):
		p.mu.Lock()
		n := len(p.entries)
		p.mu.Unlock()
		c.wr.Int(int64(n))
	case eqFold(sub, "reset"):
		p.mu.Lock()
		p.entries = p.entries[:0]
		p.mu.Unlock()
		c.wr.OK()
	case eqFold(sub, "get"):
		n := int64(10)
		if len(args) >= 3 {
			if string(args[2]) == "*" {
				n = 0
			} else {
				v, err := strconv.ParseInt(string(args[2]), 10, 64)
				if err != nil {
					c.err(errNotInteger)
					return
				}
				n = v
			}
		}
		p.mu.Lock()
		k := int64(len(p.entries))
		if n > 0 && n < k {
			k = n
		}
		out := make([]perfEntry, k)
		for i := range out {
			out[i] = p.entries[len(p.entries)-1-i]
		}
		p.mu.Unlock()
		c.wr.Array(len(out))
		for _, e := range out {
			c.wr.Array(6)
			c.wr.Int(e.id)
			c.wr.Int(e.time)
			c.wr.BulkString(e.name)
			c.wr.Int(e.duration)
			c.wr.BulkString("")
			c.wr.BulkString("")
		}
	default:
		c.err("ERR PERFLOG subcommand must be one of RESET, LEN, GET")
	}
}
