package resp

import (
	"sync"
	"time"
)

// idleReapInterval is how often clients idle beyond timeout are looked for
// (Redis checks in its once-a-second cron too).
const idleReapInterval = time.Second

// idleReaper is the server's once-a-second sweep: it closes clients idle
// for longer than the timeout in force, so that CONFIG SET timeout applies
// to the clients already connected, also those blocked reading when it
// changed, and samples the totals behind INFO's instantaneous rates. It
// runs from the first connection until Close.
type idleReaper struct {
	once sync.Once
	stop chan struct{}
	done chan struct{}
}

// start runs the reaper once per server.
func (r *idleReaper) start(s *Server) {
	r.once.Do(func() {
		// NB: start runs under s.mu (ServeConn): nothing here may take it.
		r.stop = make(chan struct{})
		r.done = make(chan struct{})
		go r.run(s)
	})
}

// halt stops the reaper and waits for it, if it runs.
func (r *idleReaper) halt() {
	r.once.Do(func() {}) // no reaper starts after halt
	if r.stop != nil {
		close(r.stop)
		<-r.done
	}
}

func (r *idleReaper) run(s *Server) {
	defer close(r.done)
	t := time.NewTicker(idleReapInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			s.closeIdle(now)
			s.closeOverSoftLimit(now)
			s.sampleRates(now)
		}
	}
}

// closeIdle closes the clients that have neither sent nor received
// anything for longer than the timeout.
func (s *Server) closeIdle(now time.Time) {
	timeout := s.live.Load().timeout
	if timeout <= 0 {
		return
	}
	oldest := now.Add(-timeout).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c.lastActive.Load() < oldest && !c.pushExempt() {
			s.logf("resp: client id=%d addr=%s idle for more than %v (timeout), closing", c.id, c.addr, timeout)
			c.nc.Close()
		}
	}
}

// idleTimeout is the timeout in force now (CONFIG SET timeout changes it
// for every client).
func (c *conn) idleTimeout() time.Duration {
	if c.ps != nil && c.pushExempt() {
		return 0
	}
	return c.s.live.Load().timeout
}
