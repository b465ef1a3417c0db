package resp

import (
	"sync"
)

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], as KVRocks handles it: the
// server stops cleanly (the listeners close, every connection is closed,
// the engine syncs and closes, the pid file is removed) and the client's
// connection closes without a reply, as in Redis. The store is always
// durable, so there is nothing to save: NOSAVE and SAVE stop it alike, as
// do NOW and FORCE (there are no replicas to wait for and no save that
// could fail). ABORT finds no shutdown to abort: the stop is immediate.
//
// As in Redis, SHUTDOWN is refused inside MULTI and from scripts, needs
// the admin password, and is the one command besides SCRIPT KILL and
// FUNCTION KILL that a script running past lua-time-limit lets through,
// with NOSAVE: the script is stopped and nothing it wrote is committed.
//
// The server only signals the request (ShutdownRequested); the process
// that owns it (gateway.Run) performs the stop.

const errNoShutdown = "ERR No shutdown in progress."

// shutdownState is the server's pending stop request.
type shutdownState struct {
	mu        sync.Mutex
	ch        chan struct{}
	requested bool
}

func (st *shutdownState) chanLocked() chan struct{} {
	if st.ch == nil {
		st.ch = make(chan struct{})
	}
	return st.ch
}

// ShutdownRequested returns a channel closed when a client asked the
// server to stop (SHUTDOWN). Safe for concurrent use.
func (s *Server) ShutdownRequested() <-chan struct{} {
	st := &s.shutdown
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.chanLocked()
}

// requestShutdown signals the stop; it reports whether this call did.
func (s *Server) requestShutdown() bool {
	st := &s.shutdown
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.requested {
		return false
	}
	st.requested = true
	close(st.chanLocked())
	return true
}

// shutdownOpts are SHUTDOWN's options.
type shutdownOpts struct {
	nosave, save, now, force, abort bool
}

// parseShutdown reads SHUTDOWN's options; ok is false on a syntax error
// (an unknown option, NOSAVE with SAVE, ABORT with any other).
func parseShutdown(args [][]byte) (o shutdownOpts, ok bool) {
	for _, a := range args[1:] {
		switch {
		case eqFold(a, "nosave"):
			o.nosave = true
		case eqFold(a, "save"):
			o.save = true
		case eqFold(a, "now"):
			o.now = true
		case eqFold(a, "force"):
			o.force = true
		case eqFold(a, "abort"):
			o.abort = true
		default:
			return o, false
		}
	}
	if o.nosave && o.save || o.abort && (o.nosave || o.save || o.now || o.force) {
		return o, false
	}
	return o, true
}

func kvrocksServerCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "shutdown", arity: -1, flags: flagAdmin | flagLoading, fn: (*conn).cmdShutdown},
	}
}

func (c *conn) cmdShutdown(cmd *Command) {
	o, ok := parseShutdown(cmd.Args)
	if !ok {
		c.syntaxErr()
		return
	}
	if o.abort {
		c.err(errNoShutdown)
		return
	}
	c.s.logf("SHUTDOWN command received from client id=%d addr=%s, stopping the server", c.id, c.addr)
	c.s.requestShutdown()
	// No reply: the connection closes once what it already answered
	// has gone out.
	c.closeAfter = true
}
