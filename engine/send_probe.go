package engine

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Whether sending by reference pays depends on the host, not on gpucache:
// the kernel's cost per page reference (vmsplice pins each page, splice
// hands each to the socket, the socket releases each when the peer has
// read it) against the cost of copying the same bytes, which depends on
// the CPU's memory bandwidth and cache sizes, on whether the memory is in
// huge pages (transparent_hugepage), and on how large a pipe an
// unprivileged process may have (fs.pipe-max-size, fs.pipe-user-pages-*).
// On one 2-vCPU host it cut the server's CPU per GB sent by 2.2-2.7x; on
// another (kernel 6.18) it saved nothing and lowered throughput. So with
// dram-send-by-reference auto the server measures both at start-up, on
// its own loopback, and picks.

// SendProbe is what ProbeSend measured: the same bytes sent through a
// loopback TCP connection from memory prepared as a renewed arena page is,
// once by copying (write) and once by reference (vmsplice, splice), a few
// times each, alternating. CPU is the sending thread's user + system time.
type SendProbe struct {
	Bytes             int64 // bytes per measurement
	CopyCPU, RefCPU   time.Duration
	CopyWall, RefWall time.Duration
	HugePages         string // /sys/kernel/mm/transparent_hugepage/enabled
	Kernel            string
	PipeSize          int   // bytes a pipe could be given
	Err               error // by reference could not be measured
}

// ByReference reports whether sending by reference won: clearly less CPU
// (at most 0.8x) and no slower.
func (p SendProbe) ByReference() bool {
	return p.Err == nil && p.CopyCPU > 0 &&
		float64(p.RefCPU) <= 0.8*float64(p.CopyCPU) && float64(p.RefWall) <= 1.05*float64(p.CopyWall)
}

// String describes the measurement for logs and INFO.
func (p SendProbe) String() string {
	if p.Err != nil {
		return fmt.Sprintf("by reference unavailable (%v)", p.Err)
	}
	gb := float64(p.Bytes) / 1e9
	perGB := func(d time.Duration) string { return fmt.Sprintf("%.0fms", d.Seconds()*1000/gb) }
	rate := func(d time.Duration) string { return fmt.Sprintf("%.2fGB/s", gb/d.Seconds()) }
	return fmt.Sprintf("sender CPU per GB copy %s, by reference %s; loopback copy %s, by reference %s; kernel %s, transparent_hugepage %s, pipe %d KiB",
		perGB(p.CopyCPU), perGB(p.RefCPU), rate(p.CopyWall), rate(p.RefWall), p.Kernel, p.HugePages, p.PipeSize>>10)
}

// SendProbe returns the measurement that chose whether to send by
// reference (nil: the setting was given, yes or no).
func (e *Engine) SendProbe() *SendProbe { return e.opts.SendProbe }

// probeBytes and probeRounds size the probe: about 0.2 GB moved, a few
// hundred milliseconds at the first start on a host.
const (
	probeBytes  = 32 << 20
	probeRounds = 3
	probeChunk  = 1 << 20
)

// ProbeSend measures copying against sending by reference on this host.
func ProbeSend() SendProbe {
	p := SendProbe{Bytes: probeBytes, HugePages: thpMode(), Kernel: kernelRelease()}
	mem, err := mapAligned(probeChunk * 32)
	if err != nil {
		p.Err = err
		return p
	}
	defer unmapAligned(mem)
	// Prepared as the arena's pages are in steady state: written, sent,
	// dropped and faulted in again in pageSize runs (renew).
	for i := range mem {
		mem[i] = byte(i)
	}
	for off := 0; off < len(mem); off += pageSize {
		unix.Madvise(mem[off:off+pageSize], unix.MADV_DONTNEED)
		unix.Madvise(mem[off:off+pageSize], unix.MADV_POPULATE_WRITE)
	}
	var copies, refs, copyWall, refWall []time.Duration
	for range probeRounds {
		cpu, wall, err := probeOnce(mem, false, &p.PipeSize)
		if err != nil {
			p.Err = err
			return p
		}
		copies, copyWall = append(copies, cpu), append(copyWall, wall)
		cpu, wall, err = probeOnce(mem, true, &p.PipeSize)
		if err != nil {
			p.Err = err
			return p
		}
		refs, refWall = append(refs, cpu), append(refWall, wall)
	}
	// NB: the least disturbed of the rounds: on a shared host, other
	// processes only ever add time.
	p.CopyCPU, p.RefCPU = slices.Min(copies), slices.Min(refs)
	p.CopyWall, p.RefWall = slices.Min(copyWall), slices.Min(refWall)
	return p
}

// probeOnce sends probeBytes from mem (cycling) to a loopback peer that
// reads and discards them, and returns the sending thread's CPU time and
// the elapsed time.
func probeOnce(mem []byte, byRef bool, pipeSize *int) (cpu, wall time.Duration, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.CopyBuffer(io.Discard, io.LimitReader(c, probeBytes), make([]byte, probeChunk))
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var pr, pw int
	if byRef {
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
			return 0, 0, err
		}
		pr, pw = fds[0], fds[1]
		defer unix.Close(pr)
		defer unix.Close(pw)
		unix.FcntlInt(uintptr(pw), unix.F_SETPIPE_SZ, probeChunk)
		*pipeSize, _ = unix.FcntlInt(uintptr(pw), unix.F_GETPIPE_SZ, 0)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
	start := time.Now()
	for sent := 0; sent < probeBytes && err == nil; {
		off := sent % len(mem)
		chunk := mem[off:min(off+probeChunk, len(mem))]
		if byRef {
			err = spliceChunk(rc, pr, pw, chunk)
		} else {
			_, err = tc.Write(chunk)
		}
		sent += len(chunk)
	}
	wall = time.Since(start)
	unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
	if err != nil {
		return 0, 0, err
	}
	if err := <-done; err != nil {
		return 0, 0, err
	}
	cpu = time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	return cpu, wall, nil
}

// spliceChunk sends chunk by reference through the pipe (pr, pw).
func spliceChunk(rc syscall.RawConn, pr, pw int, chunk []byte) error {
	for len(chunk) > 0 {
		iov := unix.Iovec{Base: &chunk[0]}
		iov.SetLen(len(chunk))
		k, err := unix.Vmsplice(pw, []unix.Iovec{iov}, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("vmsplice: %w", err)
		}
		left := k
		var serr error
		werr := rc.Write(func(fd uintptr) bool {
			for left > 0 {
				n, err := unix.Splice(pr, nil, int(fd), nil, left, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				if err == unix.EAGAIN {
					return false
				}
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					serr = fmt.Errorf("splice: %w", err)
					return true
				}
				left -= int(n)
			}
			return true
		})
		if werr != nil {
			return werr
		}
		if serr != nil {
			return serr
		}
		chunk = chunk[k:]
	}
	return nil
}

// thpMode is the bracketed word of transparent_hugepage/enabled.
func thpMode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return "unavailable"
	}
	s := string(b)
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(s)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// probeFile is the name under which ProbeSendCached keeps the last probe.
const probeFile = "send-probe"

// ProbeSendCached returns the probe recorded in one of dirs when it was
// taken on the same kernel with the same huge-page mode and pipe limit, so
// restarts cost nothing; otherwise it probes and records the result in
// every dir.
func ProbeSendCached(dirs ...string) (p SendProbe, cached bool) {
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, probeFile))
		if err != nil {
			continue
		}
		var q SendProbe
		var ns [4]int64
		var limit int
		_, err = fmt.Sscanf(string(b), "%s %s %d %d %d %d %d %d %d", &q.Kernel, &q.HugePages, &limit, &q.PipeSize, &q.Bytes, &ns[0], &ns[1], &ns[2], &ns[3])
		if err == nil && q.Kernel == kernelRelease() && q.HugePages == thpMode() && limit == pipeMaxSize() {
			q.CopyCPU, q.RefCPU, q.CopyWall, q.RefWall = time.Duration(ns[0]), time.Duration(ns[1]), time.Duration(ns[2]), time.Duration(ns[3])
			return q, true
		}
	}
	p = ProbeSend()
	if p.Err == nil {
		line := fmt.Sprintf("%s %s %d %d %d %d %d %d %d\n", p.Kernel, p.HugePages, pipeMaxSize(), p.PipeSize, p.Bytes,
			int64(p.CopyCPU), int64(p.RefCPU), int64(p.CopyWall), int64(p.RefWall))
		for _, dir := range dirs {
			if os.MkdirAll(dir, 0o755) == nil {
				_ = os.WriteFile(filepath.Join(dir, probeFile), []byte(line), 0o644)
			}
		}
	}
	return p, false
}

// pipeMaxSize is the largest pipe an unprivileged process may ask for.
func pipeMaxSize() int {
	b, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
