package resp

import (
	"strconv"
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
