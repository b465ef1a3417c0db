package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// link is the source's RESP connection to the target of a migration:
// commands are pipelined (written without waiting), and a reader counts
// their replies; the first error reply, or a broken connection, fails the
// link. At most window commands are unanswered at once.
type link struct {
	c  net.Conn
	w  *bufio.Writer
	rd *bufio.Reader

	timeout time.Duration
	window  chan struct{} // one token per unanswered command

	mu       sync.Mutex
	err      error         // first failure
	answered chan struct{} // closed by the reader when it stops
	sent     int64         // commands sent (mu)
	replies  int64         // replies read (mu)
	cond     *sync.Cond    // replies or err changed
}

const linkWindow = 512

func dialLink(addr string, timeout time.Duration) (*link, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	l := &link{
		c:        c,
		w:        bufio.NewWriterSize(c, 256<<10),
		rd:       bufio.NewReaderSize(c, 64<<10),
		timeout:  timeout,
		window:   make(chan struct{}, linkWindow),
		answered: make(chan struct{}),
	}
	l.cond = sync.NewCond(&l.mu)
	go l.readLoop()
	return l, nil
}

// fail records err (the first one wins) and wakes waiters.
func (l *link) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.cond.Broadcast()
	l.mu.Unlock()
}

func (l *link) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *link) readLoop() {
	defer close(l.answered)
	for {
		kind, msg, err := readReply(l.rd)
		if err != nil {
			l.fail(fmt.Errorf("reading the target's replies: %w", err))
			return
		}
		select {
		case <-l.window:
		default:
			l.fail(errors.New("the target sent a reply to no command"))
			return
		}
		l.mu.Lock()
		l.replies++
		if kind == '-' && l.err == nil {
			l.err = fmt.Errorf("the target answered: %s", msg)
		}
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

// begin takes a window token for one more command, flushing what is
// buffered when the window is full so that replies can come.
func (l *link) begin() error {
	select {
	case l.window <- struct{}{}:
		return l.failed()
	default:
	}
	if err := l.flush(); err != nil {
		return err
	}
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	select {
	case l.window <- struct{}{}:
	case <-l.answered:
		if err := l.failed(); err != nil {
			return err
		}
		return io.ErrUnexpectedEOF
	case <-t.C:
		err := errors.New("the target did not answer in time")
		l.fail(err)
		return err
	}
	return l.failed()
}

func (l *link) flush() error {
	_ = l.c.SetWriteDeadline(time.Now().Add(l.timeout))
	if err := l.w.Flush(); err != nil {
		l.fail(err)
		return err
	}
	return nil
}

// header writes the array header and the first bulks of a command whose
// last argument follows as n bytes written by the caller (large values).
func (l *link) header(nargs int, args ...[]byte) {
	l.w.WriteByte('*')
	l.w.WriteString(strconv.Itoa(nargs))
	l.w.WriteString("\r\n")
	for _, a := range args {
		l.bulkHead(int64(len(a)))
		l.w.Write(a)
		l.w.WriteString("\r\n")
	}
}

func (l *link) bulkHead(n int64) {
	l.w.WriteByte('$')
	l.w.WriteString(strconv.FormatInt(n, 10))
	l.w.WriteString("\r\n")
}

// send pipelines one command.
func (l *link) send(args ...[]byte) error {
	if err := l.begin(); err != nil {
		return err
	}
	l.header(len(args), args...)
	l.count()
	return nil
}

// wait flushes and waits until every command sent is answered; it
// returns the link's failure, if any.
func (l *link) wait() error {
	if err := l.flush(); err != nil {
		return err
	}
	// Fail when no reply came for a whole timeout (a large value may take
	// long; silence may not).
	last := int64(-1)
	stopped := false
	var deadline *time.Timer
	l.mu.Lock() // deadline is read under mu by its own callback
	deadline = time.AfterFunc(l.timeout, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if stopped {
			return
		}
		if l.replies == last && l.replies < l.sent && l.err == nil {
			l.err = errors.New("the target did not answer in time")
			l.cond.Broadcast()
			return
		}
		last = l.replies
		deadline.Reset(l.timeout)
	})
	for l.replies < l.sent && l.err == nil {
		l.cond.Wait()
	}
	stopped = true
	deadline.Stop()
	err := l.err
	l.mu.Unlock()
	return err
}

// count records one more command sent.
func (l *link) count() {
	l.mu.Lock()
	l.sent++
	l.mu.Unlock()
}

func (l *link) close() {
	l.c.Close()
	<-l.answered
}

// maxReplyLine bounds a reply's first line; maxReplyBulk bounds a bulk
// reply (the migration's commands answer +OK, :n or short bulks).
const (
	maxReplyLine  = 64 << 10
	maxReplyBulk  = 1 << 20
	maxReplyDepth = 8
)

var errBadReply = errors.New("malformed RESP reply")

// readReply reads one RESP2/RESP3 reply and returns its type byte and, for
// errors and simple strings, its text. Arrays, maps and sets are read
// through (the migration's commands do not answer them, but a reply is a
// reply).
func readReply(r *bufio.Reader) (byte, string, error) {
	return readReplyDepth(r, 0)
}

func readReplyDepth(r *bufio.Reader, depth int) (byte, string, error) {
	if depth > maxReplyDepth {
		return 0, "", errBadReply
	}
	line, err := readLine(r)
	if err != nil {
		return 0, "", err
	}
	if len(line) == 0 {
		return 0, "", errBadReply
	}
	kind, rest := line[0], string(line[1:])
	switch kind {
	case '+', '-', ':', ',', '_', '#', '(':
		return kind, rest, nil
	case '$', '=', '!':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < -1 || n > maxReplyBulk {
			return 0, "", errBadReply
		}
		if n == -1 {
			return kind, "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0, "", err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return 0, "", errBadReply
		}
		if kind == '!' {
			return '-', string(buf[:n]), nil
		}
		return kind, string(buf[:n]), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < -1 || n > maxReplyBulk {
			return 0, "", errBadReply
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			if _, _, err := readReplyDepth(r, depth+1); err != nil {
				return 0, "", err
			}
		}
		if kind == '|' {
			// An attribute precedes the reply it annotates.
			return readReplyDepth(r, depth+1)
		}
		return kind, "", nil
	}
	return 0, "", errBadReply
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if err == nil || err == bufio.ErrBufferFull {
			line = append(line, frag...)
			if len(line) > maxReplyLine {
				return nil, errBadReply
			}
			if err == nil {
				break
			}
			continue
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errBadReply
	}
	return line[:len(line)-2], nil
}
