package resp

import "sync"

// workGuard gives the commands that must run alone (EXEC, EVAL, FCALL and
// the like, flagged flagExclusive) their isolation, as KVRocks's work
// exclusivity guard does: every other command that reads or writes the
// keyspace holds the guard shared while it runs, an exclusive command holds
// it alone, so nothing of another RESP client interleaves with it.
//
// What holds the guard, and what does not:
//   - exec holds it around the command's handler only: reading the request
//     and sending replies happen outside it, so a slow client never stalls
//     an exclusive command.
//   - the pipelined SET run (commitRun) and the large-SET writer goroutine
//     take it shared for their own commit.
//   - a blocked client (BLPOP & co.) gives it back while it waits, and a
//     blocking command run under the exclusive guard does not wait (MULTI
//     and scripts never block, as in Redis).
//
// NB: the guard is not reentrant. A handler that runs other commands (EXEC's
// queue, redis.call) calls their handlers directly, never conn.exec.
type workGuard struct {
	mu sync.RWMutex
}

// guardMode is what a connection holds.
type guardMode uint8

const (
	guardNone guardMode = iota
	guardShared
	guardExclusive
)

// enter takes the guard for c in mode m.
func (c *conn) enterGuard(m guardMode) {
	switch m {
	case guardShared:
		c.s.work.mu.RLock()
	case guardExclusive:
		c.s.work.mu.Lock()
	}
	c.guard = m
}

// tryEnterGuard takes the guard in mode m if it is free now.
func (c *conn) tryEnterGuard(m guardMode) bool {
	var ok bool
	switch m {
	case guardShared:
		ok = c.s.work.mu.TryRLock()
	case guardExclusive:
		ok = c.s.work.mu.TryLock()
	}
	if ok {
		c.guard = m
	}
	return ok
}

// leaveGuard gives back what c holds and reports what it was.
func (c *conn) leaveGuard() guardMode {
	m := c.guard
	switch m {
	case guardShared:
		c.s.work.mu.RUnlock()
	case guardExclusive:
		c.s.work.mu.Unlock()
	}
	c.guard = guardNone
	return m
}

// modeOf is the guard a command runs under.
func modeOf(spec *cmdSpec) guardMode {
	if spec.flags&flagExclusive != 0 {
		return guardExclusive
	}
	return guardShared
}
