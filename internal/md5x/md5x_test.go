package md5x

import (
	"bytes"
	"crypto/md5"
	"math/rand/v2"
	"runtime/trace"
	"strconv"
	"sync"
	"testing"
	"time"
)

// lanesUnderTest are the services to check: the CPU's kernel and the
// portable one.
func lanesUnderTest() map[string]*Lanes {
	m := map[string]*Lanes{
		"generic8":  newLanes(generic(8), nil),
		"generic16": newLanes(generic(8), generic(16)),
	}
	if Available() {
		m["vector"] = New()
	}
	return m
}

// writeIn writes data to h in pieces: consecutive sub-slices of data
// (adjacent in memory) or, with gaps, copies in separate buffers. It
// returns the buffers, which must stay alive until Sum.
func writeIn(h *Hasher, data []byte, r *rand.Rand, gaps bool) [][]byte {
	var keep [][]byte
	for len(data) > 0 {
		n := min(len(data), r.IntN(70000)+1)
		if r.IntN(4) == 0 {
			n = min(len(data), r.IntN(130))
		}
		p := data[:n]
		if gaps && r.IntN(3) == 0 {
			p = append([]byte(nil), p...)
			keep = append(keep, p)
		}
		h.Write(p)
		data = data[n:]
	}
	return keep
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestHasherMatchesCryptoMD5(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for name, l := range lanesUnderTest() {
		for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 1000, 65536, 1<<20 + 13} {
			for _, gaps := range []bool{false, true} {
				data := randomBytes(r, n)
				h := l.NewHash()
				keep := writeIn(h, data, r, gaps)
				got := h.Sum(nil)
				if want := md5.Sum(data); !bytes.Equal(got, want[:]) {
					t.Fatalf("%s: len %d gaps %v: %x, want %x", name, n, gaps, got, want)
				}
				h.Close()
				_ = keep
			}
		}
	}
}

// Many more streams than lanes, of different lengths, written from their
// own goroutines: each must get its own digest.
func TestHasherConcurrentStreams(t *testing.T) {
	for name, l := range lanesUnderTest() {
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		streams, objects := 24, 5
		if testing.Short() {
			streams, objects = 12, 2
		}
		for g := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 7))
				for range objects {
					data := randomBytes(r, r.IntN(3<<20))
					h := l.NewHash()
					keep := writeIn(h, data, r, g%2 == 0)
					if mid := r.IntN(2) == 0; mid {
						h.Flush()
					}
					got := h.Sum(nil)
					h.Close()
					if want := md5.Sum(data); !bytes.Equal(got, want[:]) {
						errs <- name
					}
					_ = keep
				}
			}()
		}
		wg.Wait()
		close(errs)
		for n := range errs {
			t.Fatalf("%s: a stream got a wrong digest", n)
		}
	}
}

// Sum does not end the stream, and Reset starts it over.
func TestHasherSumThenContinue(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	data := randomBytes(r, 300000)
	for name, l := range lanesUnderTest() {
		h := l.NewHash()
		h.Write(data[:100001])
		first := md5.Sum(data[:100001])
		if got := h.Sum(nil); !bytes.Equal(got, first[:]) {
			t.Fatalf("%s: first Sum %x, want %x", name, got, first)
		}
		h.Write(data[100001:])
		all := md5.Sum(data)
		if got := h.Sum([]byte("x")); !bytes.Equal(got[1:], all[:]) || got[0] != 'x' {
			t.Fatalf("%s: second Sum %x, want x%x", name, got, all)
		}
		h.Reset()
		h.Write(data[:5])
		if got, want := h.Sum(nil), md5.Sum(data[:5]); !bytes.Equal(got, want[:]) {
			t.Fatalf("%s: after Reset %x, want %x", name, got, want)
		}
		h.Close()
	}
}

// After Flush the hasher holds no reference to written memory: the caller
// may overwrite it, and the digest is of what was written.
func TestHasherFlushReleasesMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for name, l := range lanesUnderTest() {
		buf := randomBytes(r, 200003)
		want := md5.New()
		want.Write(buf)
		h := l.NewHash()
		h.Write(buf)
		h.Flush()
		clear(buf)
		more := randomBytes(r, 77)
		want.Write(more)
		h.Write(more)
		if got := h.Sum(nil); !bytes.Equal(got, want.Sum(nil)) {
			t.Fatalf("%s: digest changed with memory written after Flush", name)
		}
		h.Close()
	}
}

// Close drops queued bytes and returns at once for a stream it abandons;
// the other streams are unaffected.
func TestHasherCloseMidStream(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	l := New()
	data := randomBytes(r, 8<<20)
	other := l.NewHash()
	for range 20 {
		h := l.NewHash()
		h.Write(data)
		other.Write(data[:1<<20])
		h.Close()
	}
	want := md5.New()
	for range 20 {
		want.Write(data[:1<<20])
	}
	if got := other.Sum(nil); !bytes.Equal(got, want.Sum(nil)) {
		t.Fatal("a stream's digest changed when another was closed")
	}
	other.Close()
}

// The lane goroutine exits when idle and comes back with work.
func TestLanesIdleExit(t *testing.T) {
	l := New()
	h := l.NewHash()
	h.Write(make([]byte, 4096))
	h.Sum(nil)
	if !l.Running() {
		t.Fatal("no lane goroutine while hashing")
	}
	deadline := time.Now().Add(idleExit + 5*time.Second)
	for l.Running() {
		if time.Now().After(deadline) {
			t.Fatal("lane goroutine still running long after its work ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.Reset()
	h.Write([]byte("abc"))
	if got, want := h.Sum(nil), md5.Sum([]byte("abc")); !bytes.Equal(got, want[:]) {
		t.Fatalf("after restart %x, want %x", got, want)
	}
	h.Close()
}

// An execution trace walks goroutine stacks by frame pointer while the
// kernel runs. A kernel that clobbers the frame pointer crashes the
// process here.
func TestHashingUnderExecutionTrace(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("a trace is already running")
	}
	var out bytes.Buffer
	if err := trace.Start(&out); err != nil {
		t.Fatal(err)
	}
	defer trace.Stop()
	r := rand.New(rand.NewPCG(14, 15))
	data := randomBytes(r, 4<<20)
	want := md5.Sum(data)
	l := New()
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				h := l.NewHash()
				for off := 0; off < len(data); off += 1000 {
					h.Write(data[off:min(off+1000, len(data))])
				}
				if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
					t.Error("wrong digest under trace")
				}
				h.Close()
			}
		}()
	}
	wg.Wait()
}

func BenchmarkLanes(b *testing.B) {
	for _, streams := range []int{1, 4, 8, 16} {
		b.Run(strconv.Itoa(streams), func(b *testing.B) {
			l := New()
			const size = 8 << 20
			data := make([]byte, size*streams)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var wg sync.WaitGroup
				for s := range streams {
					wg.Add(1)
					go func() {
						defer wg.Done()
						h := l.NewHash()
						p := data[s*size : (s+1)*size]
						for off := 0; off < size; off += 65000 {
							h.Write(p[off:min(off+65000, size)])
						}
						h.Sum(nil)
						h.Close()
					}()
				}
				wg.Wait()
			}
		})
	}
}

// FuzzHasher writes data in the pieces cuts describes (each byte a piece
// length; odd ones are copied to a separate buffer, so runs both continue
// in memory and jump) and compares with crypto/md5.
func FuzzHasher(f *testing.F) {
	f.Add([]byte("hello"), []byte{1, 2})
	f.Add(bytes.Repeat([]byte{7}, 300), []byte{63, 64, 65, 1, 128})
	l := New()
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		h := l.NewHash()
		defer h.Close()
		var keep [][]byte
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(n, int(cuts[i])+1)
			}
			p := rest[:n]
			if i < len(cuts) && cuts[i]%2 == 1 {
				p = append([]byte(nil), p...)
				keep = append(keep, p)
			}
			h.Write(p)
			rest = rest[n:]
			if i < len(cuts) && cuts[i] == 0 {
				h.Flush()
			}
		}
		if got, want := h.Sum(nil), md5.Sum(data); !bytes.Equal(got, want[:]) {
			t.Fatalf("%x, want %x", got, want)
		}
		_ = keep
	})
}
