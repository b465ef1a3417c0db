package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { srv.Close(); dialed.Close() })
	return srv.(*net.TCPConn), dialed.(*net.TCPConn)
}

func openSending(t *testing.T, mod func(*Options)) *Engine {
	t.Helper()
	e := openTest(t, t.TempDir(), func(o *Options) {
		o.SendByReference = true
		if mod != nil {
			mod(o)
		}
	})
	t.Cleanup(func() { e.Close() })
	if e.arena.exposed == nil {
		t.Skip("the kernel takes no page references through pipes: the arena cannot send by reference")
	}
	return e
}

// A sent page is still the kernel's until the peer reads it. The key is
// deleted and its pages rewritten with other values before the peer reads
// a byte: the peer must still get the value as it was when sent.
func TestSendRangeSurvivesPageReuse(t *testing.T) {
	e := openSending(t, func(o *Options) { o.DRAMCacheSize = 4 * pageSize })
	// Send all but the first 4 KiB by reference, and keep the value small
	// enough for the socket buffers to hold it unread.
	e.arena.limits = sendLimits{min: 8 << 10, head: 4 << 10}
	const size = pageSize + 44<<10
	orig := pattern(1, size)
	if _, err := e.PutBytes("", []byte("k"), orig, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	srv, cli := tcpPair(t)
	srv.SetWriteBuffer(1 << 20)
	cli.SetReadBuffer(1 << 20)

	v, err := e.Get("", []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetWriteDeadline(time.Now().Add(10 * time.Second))
	n, err := v.SendRange(srv, 0, size)
	v.Release()
	if err != nil || n != size {
		t.Fatalf("SendRange = %d, %v (the socket buffers must hold %d unread bytes)", n, err, size)
	}
	if got := e.Stats().DRAMBytesSentByRef; got != size-4<<10 {
		t.Fatalf("sent by reference: %d bytes, want %d", got, size-4<<10)
	}

	// Free the pages and write other values over them.
	if _, err := e.Delete("", [][]byte{[]byte("k")}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := e.PutBytes("", []byte{'o', byte(i)}, pattern(uint64(100+i), size), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.Stats().DRAMPagesRenewed; r < 2 {
		t.Fatalf("%d sent pages renewed before reuse, want 2", r)
	}

	got := make([]byte, size)
	cli.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(cli, got); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, orig); i >= 0 {
		t.Fatalf("byte %d changed in flight: got %#x want %#x", i, got[i], orig[i])
	}
}

// Pages sent by reference and then freed are renewed in the background,
// before anything asks for them, and come back ready to write.
func TestRenewerRenewsFreedPages(t *testing.T) {
	e := openSending(t, nil)
	e.arena.limits = sendLimits{min: 8 << 10, head: 4 << 10}
	const size = 4 * pageSize
	v := putGet(t, e, "k", pattern(5, size))
	srv, cli := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, cli, size)
		done <- err
	}()
	if _, err := v.SendRange(srv, 0, size); err != nil {
		t.Fatal(err)
	}
	v.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := e.Delete("", [][]byte{[]byte("k")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().DRAMPagesRenewed < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pages renewed in the background, want 4", e.Stats().DRAMPagesRenewed)
		}
		time.Sleep(time.Millisecond)
	}
	a := e.arena
	a.mu.Lock()
	dirty, renewing := len(a.dirty), a.renewing
	a.mu.Unlock()
	if dirty != 0 || renewing != 0 {
		t.Fatalf("after renewal: %d dirty pages, %d renewing", dirty, renewing)
	}
	for i := range a.exposed {
		if a.exposed[i].Load() {
			t.Fatalf("page %d still marked sent after renewal", i)
		}
	}
}

// Writers overwrite values in a small arena while readers send them by
// reference to sockets whose peers check every byte: pages cycle through
// sent, freed, renewed (in the background or by alloc) and rewritten, and
// no peer may see a byte of a later value.
func TestSendByReferenceUnderChurn(t *testing.T) {
	e := openSending(t, func(o *Options) { o.DRAMCacheSize = 24 * pageSize })
	e.arena.limits = sendLimits{min: 8 << 10, head: 4 << 10}
	const (
		workers = 4
		size    = 3*pageSize - 1000
	)
	vals := make([][]byte, 8)
	for i := range vals {
		vals[i] = pattern(uint64(200+i), size)
	}
	stop := time.Now().Add(time.Second)
	errc := make(chan error, workers)
	for w := range workers {
		go func() {
			errc <- func() error {
				srv, cli := tcpPair(t)
				key := []byte{'c', byte(w)}
				for n := 0; time.Now().Before(stop); n++ {
					want := vals[(w+n)%len(vals)]
					if _, err := e.PutBytes("", key, want, PutOptions{}); errors.Is(err, ErrBusy) {
						continue
					} else if err != nil {
						return err
					}
					v, err := e.Get("", key)
					if err != nil {
						return err
					}
					got := make(chan []byte, 1)
					go func() {
						b := make([]byte, size)
						io.ReadFull(cli, b)
						got <- b
					}()
					_, err = v.SendRange(srv, 0, size)
					v.Release()
					if err != nil {
						return err
					}
					// Overwrite before the peer has read: the sent pages
					// are freed while the socket holds them.
					if _, err := e.PutBytes("", key, vals[(w+n+1)%len(vals)], PutOptions{}); err != nil && !errors.Is(err, ErrBusy) {
						return err
					}
					if i := firstDiff(<-got, want); i >= 0 {
						return fmt.Errorf("worker %d round %d: byte %d changed in flight", w, n, i)
					}
				}
				return nil
			}()
		}()
	}
	for range workers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if e.Stats().DRAMPagesRenewed == 0 {
		t.Fatal("no page was renewed")
	}
}

// putGet stores val under key and returns the Value read back.
func putGet(t *testing.T, e *Engine, key string, val []byte) *Value {
	t.Helper()
	if _, err := e.PutBytes("", []byte(key), val, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := e.Get("", []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// Every range comes out whole through every path: spliced to a socket,
// spliced by the ReadFrom of a connection from SpliceListener (how net/http
// sends a body), and read by a ReaderFrom that is neither.
func TestSendRangeRanges(t *testing.T) {
	e := openSending(t, nil)
	e.arena.limits = sendLimits{min: 8 << 10, head: 4 << 10}
	// Leave holes in the arena so that the value's pages come in runs
	// of consecutive pages and lone ones.
	for i := range 6 {
		if _, err := e.PutBytes("", []byte{'h', byte(i)}, pattern(uint64(50+i), pageSize-100), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []byte{0, 2, 3} {
		if _, err := e.Delete("", [][]byte{{'h', i}}); err != nil {
			t.Fatal(err)
		}
	}
	const size = 5*pageSize + 1000
	val := pattern(2, size)
	if _, err := e.PutBytes("", []byte("k"), val, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, err := e.Get("", []byte("k")); err != nil {
		t.Fatal(err)
	} else {
		runs := 1
		for i := 1; i < len(v.buf.idx); i++ {
			if v.buf.idx[i] != v.buf.idx[i-1]+1 {
				runs++
			}
		}
		idx := fmt.Sprint(v.buf.idx)
		v.Release()
		if runs < 3 {
			t.Fatalf("pages %s: want a value in several runs", idx)
		}
		t.Logf("value pages %s", idx)
	}
	srv, cli := tcpPair(t)
	srvRaw, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	viaListener := &spliceConn{TCPConn: srv, rc: srvRaw}
	ranges := [][2]int64{
		{0, size}, {1, size - 1}, {0, 8 << 10}, {pageSize - 5000, 10000},
		{pageSize, pageSize}, {2*pageSize + 7, pageSize + 993}, {100, 7 << 10}, {size - 9000, 9000},
		{pageSize - 1, 3*pageSize + 2}, {3 * pageSize, 2*pageSize + 1000},
	}
	for _, r := range ranges {
		v, err := e.Get("", []byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		want := val[r[0] : r[0]+r[1]]

		var buf bytes.Buffer
		before := e.Stats().DRAMBytesSentByRef
		if n, err := v.SendRange(&buf, r[0], r[1]); err != nil || n != r[1] || !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("range %v to a buffer: %d, %v, equal %v", r, n, err, bytes.Equal(buf.Bytes(), want))
		}
		if after := e.Stats().DRAMBytesSentByRef; after != before {
			t.Fatalf("a copy to a buffer counted %d bytes as sent by reference", after-before)
		}

		for _, dst := range []struct {
			name string
			w    SendWriter
		}{
			{"a socket", srv},
			{"a spliceConn's ReadFrom", writerOnly{viaListener}},
		} {
			before := e.Stats().DRAMBytesSentByRef
			done := make(chan error, 1)
			go func() {
				_, err := v.SendRange(dst.w, r[0], r[1])
				done <- err
			}()
			got := make([]byte, r[1])
			if _, err := io.ReadFull(cli, got); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("range %v to %s: %v", r, dst.name, err)
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("range %v to %s: byte %d differs", r, dst.name, i)
			}
			if sent := e.Stats().DRAMBytesSentByRef - before; r[1] >= e.arena.limits.min && sent != r[1]-e.arena.limits.head {
				t.Fatalf("range %v to %s: %d bytes sent by reference, want %d", r, dst.name, sent, r[1]-e.arena.limits.head)
			}
		}
		v.Release()
	}
	if e.Stats().DRAMBytesSentByRef == 0 {
		t.Fatal("nothing was sent by reference")
	}
	v, err := e.Get("", []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	if _, err := v.SendRange(srv, size-(16<<10), 32<<10); err == nil {
		t.Fatal("SendRange past the end succeeded")
	}
}

// writerOnly hides all of a SendWriter but Write and ReadFrom, as an
// http.ResponseWriter does.
type writerOnly struct{ w SendWriter }

func (w writerOnly) Write(p []byte) (int, error)         { return w.w.Write(p) }
func (w writerOnly) ReadFrom(r io.Reader) (int64, error) { return w.w.ReadFrom(r) }

// A peer that stops reading stalls a splice until the socket's write
// deadline, which must end SendRange with the deadline's error and leave
// the engine sending to other sockets.
func TestSendRangeDeadline(t *testing.T) {
	e := openSending(t, nil)
	const size = 8 << 20
	val := pattern(4, size)
	v := putGet(t, e, "k", val)
	defer v.Release()
	srv, _ := tcpPair(t)
	srv.SetWriteBuffer(64 << 10)
	srv.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := v.SendRange(srv, 0, size)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n >= size {
		t.Fatalf("SendRange to a peer that reads nothing: %d bytes, %v", n, err)
	}

	srv2, cli2 := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := v.SendRange(srv2, 0, size)
		done <- err
	}()
	got := make([]byte, size)
	cli2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(cli2, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, val); i >= 0 {
		t.Fatalf("byte %d differs", i)
	}
}

// Without SendByReference SendRange copies.
func TestSendRangeCopies(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	if e.arena.exposed != nil {
		t.Fatal("the arena sends by reference without SendByReference")
	}
	val := pattern(3, 2<<20)
	v := putGet(t, e, "k", val)
	defer v.Release()
	var buf bytes.Buffer
	if _, err := v.SendRange(&buf, 0, int64(len(val))); err != nil || !bytes.Equal(buf.Bytes(), val) {
		t.Fatalf("SendRange: %v", err)
	}
	if e.Stats().DRAMBytesSentByRef != 0 {
		t.Fatal("bytes counted as sent by reference")
	}
}

// BenchmarkSendRange sends resident 32 MiB values to a loopback socket,
// copying or by reference, while a goroutine of the same process reads
// them away. The values rotate over 768 MiB, more than the caches hold.
// Both ends share the cores, so the figure is the pair's: by reference
// the sender stops copying, while the reader's copy comes from memory
// instead of from the lines the sender's copy left in the cache. What the
// server alone saves shows in its CPU time (README). The socket is a
// connection as SpliceListener gives servers, so the allocations per send
// are a server's.
func BenchmarkSendRange(b *testing.B) {
	for _, byRef := range []bool{false, true} {
		name := "copy"
		if byRef {
			name = "by-reference"
		}
		b.Run(name, func(b *testing.B) {
			e := openTest(b, b.TempDir(), func(o *Options) {
				o.SendByReference = byRef
				o.DRAMCacheSize = 1 << 30
			})
			defer e.Close()
			const size, count = 32 << 20, 24
			vals := make([]*Value, count)
			for i := range vals {
				k := fmt.Sprint("k", i)
				mustPut(b, e, "", k, pattern(uint64(i), size), PutOptions{})
				v, err := e.Get("", []byte(k))
				if err != nil || !v.Resident() {
					b.Fatalf("%s: %v, resident %v", k, err, err == nil && v.Resident())
				}
				defer v.Release()
				vals[i] = v
			}
			tc, cli := tcpPair(b)
			rc, err := tc.SyscallConn()
			if err != nil {
				b.Fatal(err)
			}
			srv := &spliceConn{TCPConn: tc, rc: rc}
			go func() {
				buf := make([]byte, 1<<20)
				for {
					if _, err := cli.Read(buf); err != nil {
						return
					}
				}
			}()
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := vals[i%count].SendRange(srv, 0, size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// At most bigPipes pipes are enlarged at once, so that many concurrent
// senders stay inside an unprivileged user's pipe budget; the rest keep
// the default capacity, and closing an enlarged pipe frees its place.
func TestPipePoolBudget(t *testing.T) {
	var pp pipePool
	var pipes []pipe
	for range bigPipes + 8 {
		p, err := pp.get()
		if err != nil {
			t.Fatal(err)
		}
		pipes = append(pipes, p)
	}
	big := 0
	for _, p := range pipes {
		if p.big {
			big++
		} else if p.size > 64<<10 {
			t.Fatalf("a pipe beyond the budget holds %d bytes", p.size)
		}
	}
	if big != bigPipes || pp.big != bigPipes {
		t.Fatalf("%d pipes enlarged (pool counts %d), want %d", big, pp.big, bigPipes)
	}
	for _, p := range pipes {
		pp.put(p)
	}
	pp.close()
	if pp.big != 0 {
		t.Fatalf("%d enlarged pipes counted after close", pp.big)
	}
}
