package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Progress prints a live progress line (label, throughput and operations so
// far) while a phase runs. On a terminal the line is redrawn in place four
// times a second; otherwise a plain line is printed every five seconds.
// Workers report through atomic counters, so reporting costs no allocation
// and no lock. A nil *Progress is valid and prints nothing.
type Progress struct {
	w     io.Writer
	tty   bool
	ops   atomic.Int64
	bytes atomic.Int64

	mu    sync.Mutex
	label string
	round string
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// NewProgress starts a progress printer on w.
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	go p.loop()
	return p
}

// Begin starts a new phase: counters restart at zero.
func (p *Progress) Begin(label string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.label, p.start = label, time.Now()
	p.ops.Store(0)
	p.bytes.Store(0)
	p.mu.Unlock()
}

// End marks the end of a phase: nothing is printed until the next Begin.
func (p *Progress) End() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.label = ""
	p.mu.Unlock()
}

// setRound sets the round shown in front of the label.
func (p *Progress) setRound(r, of int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.round = fmt.Sprintf("[round %d/%d] ", r, of)
	p.mu.Unlock()
}

func (p *Progress) add(ops, bytes int64) {
	if p == nil {
		return
	}
	p.ops.Add(ops)
	p.bytes.Add(bytes)
}

// Printf prints a message on its own line, above the progress line.
func (p *Progress) Printf(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// Close stops the printer and clears the line.
func (p *Progress) Close() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
}

func (p *Progress) loop() {
	defer close(p.done)
	every := 250 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			if p.tty {
				fmt.Fprint(p.w, "\r\x1b[K")
			}
			return
		case <-t.C:
			p.print()
		}
	}
}

func (p *Progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.label == "" {
		return
	}
	el := time.Since(p.start).Seconds()
	ops, bytes := p.ops.Load(), p.bytes.Load()
	line := fmt.Sprintf("%s%s  %.2f GB/s  %.0f ops/s  %d ops  %.1fs", p.round, p.label, float64(bytes)/el/1e9, float64(ops)/el, ops, el)
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}
