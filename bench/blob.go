package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gpucache/gpucache/client"
)

// The blob workload: BLOB.SET and BLOB.GET over each libfabric provider
// (the server reads from and writes into the client's registered memory)
// beside RESP SET and GET of the same values over TCP, against the same
// gpucache process, in alternating rounds. Reported per provider, value
// size and client count: GB/s, p50/p99 latency, and the server's CPU
// time per GB moved, with the fabric-to-TCP ratios of the same round.

// BlobOptions configure RunBlob.
type BlobOptions struct {
	Bin       string   // gpucache built with -tags fabric
	Providers []string // e.g. "shm", "tcp;ofi_rxm"
	Sizes     []int
	Clients   []int
	Rounds    int
	Ops       int // operations per client per phase
	DRAM      string
}

// BlobResult is one phase of one round.
type BlobResult struct {
	Provider, Op         string
	Size, Clients, Round int
	GBps                 float64
	P50, P99             time.Duration
	CPUPerGB             time.Duration // server CPU per GB moved
}

// blobPhases are the four phases of a round, in the order they run; the
// order flips every other round so neither side always runs first.
var blobPhases = []string{"resp-set", "blob-set", "resp-get", "blob-get"}

// RunBlob runs the workload and returns every phase's result.
func RunBlob(ctx context.Context, o BlobOptions, log io.Writer) ([]BlobResult, error) {
	var out []BlobResult
	for _, prov := range o.Providers {
		srv, err := StartGpucache(ctx, GpucacheOptions{Bin: o.Bin, DRAMCacheSize: o.DRAM,
			Extra: []string{"--fabric-provider", prov}})
		if err != nil {
			return out, err
		}
		res, err := runBlobProvider(ctx, srv, prov, o, log)
		out = append(out, res...)
		srv.Stop()
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// blobWorker is one client: a RESP connection for the TCP phases and a
// BLOB.* client with a registered buffer for the fabric ones.
type blobWorker struct {
	resp *RESPClient
	fab  *client.Client
	buf  *client.Buffer
	key  []byte // the RESP phases' key
	bkey string // the BLOB phases' key
	size int    // the value size buf holds
}

func runBlobProvider(ctx context.Context, srv *Server, prov string, o BlobOptions, log io.Writer) ([]BlobResult, error) {
	maxSize := 0
	for _, s := range o.Sizes {
		maxSize = max(maxSize, s)
	}
	maxClients := 0
	for _, c := range o.Clients {
		maxClients = max(maxClients, c)
	}
	payload := NewPayload(maxSize)
	var workers []*blobWorker
	defer func() {
		for _, w := range workers {
			w.resp.Close()
			if w.buf != nil {
				w.buf.Free()
			}
			w.fab.Close()
		}
	}()
	co := client.Options{Provider: prov}
	if prov != "shm" {
		co.Domain, co.Node = "lo", "127.0.0.1"
	}
	for i := 0; i < maxClients; i++ {
		rc, err := DialRESP(srv.Addr, payload, RESPOptions{Verify: VerifyCheap})
		if err != nil {
			return nil, err
		}
		fc, err := client.Dial(srv.Addr, co)
		if err != nil {
			rc.Close()
			return nil, err
		}
		w := &blobWorker{resp: rc, fab: fc, key: []byte(fmt.Sprintf("resp-bench-%d", i)), bkey: fmt.Sprintf("blob-bench-%d", i)}
		workers = append(workers, w)
		if fc.FallbackReason() != nil {
			return nil, fmt.Errorf("provider %s: the client is on TCP: %v", prov, fc.FallbackReason())
		}
		if w.buf, err = fc.Alloc(maxSize); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "blob: provider %s, transport %s\n", prov, workers[0].fab.Transport())
	var out []BlobResult
	for r := 0; r < o.Rounds; r++ {
		for _, size := range o.Sizes {
			for _, nc := range o.Clients {
				phases := append([]string(nil), blobPhases...)
				if r%2 == 1 {
					phases[0], phases[1] = phases[1], phases[0]
					phases[2], phases[3] = phases[3], phases[2]
				}
				for _, ph := range phases {
					res, err := blobPhase(ctx, srv, workers[:nc], ph, size, o.Ops, payload)
					if err != nil {
						return out, fmt.Errorf("%s %s %d bytes x%d: %w", prov, ph, size, nc, err)
					}
					res.Provider, res.Round = prov, r
					out = append(out, res)
					fmt.Fprintf(log, "blob: %-12s %-8s %3d MiB x%d round %d: %6.2f GB/s p50 %v p99 %v srv CPU %v/GB\n",
						prov, ph, size>>20, nc, r, res.GBps, res.P50.Round(time.Microsecond),
						res.P99.Round(time.Microsecond), res.CPUPerGB.Round(time.Millisecond))
				}
			}
		}
	}
	return out, nil
}

func blobPhase(ctx context.Context, srv *Server, ws []*blobWorker, phase string, size, ops int, payload *Payload) (BlobResult, error) {
	for _, w := range ws {
		if w.size != size {
			// The value BLOB.SET sends, written once per size (untimed).
			copy(w.buf.Bytes(), payload.AppendValue(nil, 2, size))
			w.size = size
		}
	}
	hist := NewHistogram()
	var mu sync.Mutex
	var firstErr error
	cpu0, _ := ProcCPU(srv.PID())
	start := time.Now()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func(w *blobWorker) {
			defer wg.Done()
			lat := make([]time.Duration, 0, ops)
			var err error
			for i := 0; i < ops && err == nil && ctx.Err() == nil; i++ {
				t0 := time.Now()
				switch phase {
				case "resp-set":
					op := []Op{{Kind: OpSet, Key: w.key, Size: size, Stamp: 1}}
					if err = w.resp.Do(op); err == nil {
						err = op[0].Err
					}
				case "resp-get":
					op := []Op{{Kind: OpGet, Key: w.key, Size: size, Stamp: 1}}
					if err = w.resp.Do(op); err == nil {
						err = op[0].Err
					}
					if err == nil && !op[0].Found {
						err = fmt.Errorf("GET: key missing")
					}
				case "blob-set":
					err = w.fab.Set(w.bkey, w.buf, 0, size)
				case "blob-get":
					var n int
					n, _, err = w.fab.Get(w.bkey, w.buf, 0, size)
					if err == nil && n != size {
						err = fmt.Errorf("BLOB.GET: %d bytes, want %d", n, size)
					}
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			for _, l := range lat {
				hist.RecordDuration(l)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	cpu1, _ := ProcCPU(srv.PID())
	if firstErr != nil {
		return BlobResult{}, firstErr
	}
	gb := float64(size) * float64(ops*len(ws)) / 1e9
	return BlobResult{Op: phase, Size: size, Clients: len(ws),
		GBps: gb / el.Seconds(), P50: time.Duration(hist.Percentile(50)), P99: time.Duration(hist.Percentile(99)),
		CPUPerGB: time.Duration(float64(cpu1-cpu0) / gb)}, nil
}

// PrintBlob prints the medians over rounds and the fabric/TCP ratios.
func PrintBlob(w io.Writer, rs []BlobResult) {
	type k struct {
		prov, op      string
		size, clients int
	}
	groups := map[k][]BlobResult{}
	var keys []k
	for _, r := range rs {
		kk := k{r.Provider, r.Op, r.Size, r.Clients}
		if _, ok := groups[kk]; !ok {
			keys = append(keys, kk)
		}
		groups[kk] = append(groups[kk], r)
	}
	med := func(kk k) (BlobResult, bool) {
		g := groups[kk]
		if len(g) == 0 {
			return BlobResult{}, false
		}
		s := append([]BlobResult(nil), g...)
		sort.Slice(s, func(i, j int) bool { return s[i].GBps < s[j].GBps })
		m := s[len(s)/2]
		cpu := make([]time.Duration, len(g))
		for i, r := range g {
			cpu[i] = r.CPUPerGB
		}
		sort.Slice(cpu, func(i, j int) bool { return cpu[i] < cpu[j] })
		m.CPUPerGB = cpu[len(cpu)/2]
		return m, true
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "provider\tsize\tclients\top\tGB/s\tp50\tp99\tsrv CPU/GB\tvs RESP GB/s\tvs RESP CPU/GB\t")
	for _, kk := range keys {
		m, _ := med(kk)
		ratio, cratio := "", ""
		if peer, ok := strings.CutPrefix(kk.op, "blob-"); ok {
			if p, ok := med(k{kk.prov, "resp-" + peer, kk.size, kk.clients}); ok && p.GBps > 0 {
				ratio = strconv.FormatFloat(m.GBps/p.GBps, 'f', 2, 64) + "x"
				if p.CPUPerGB > 0 {
					cratio = strconv.FormatFloat(float64(m.CPUPerGB)/float64(p.CPUPerGB), 'f', 2, 64) + "x"
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%d MiB\t%d\t%s\t%.2f\t%v\t%v\t%v\t%s\t%s\t\n", kk.prov, kk.size>>20, kk.clients, kk.op,
			m.GBps, m.P50.Round(time.Microsecond), m.P99.Round(time.Microsecond), m.CPUPerGB.Round(time.Millisecond), ratio, cratio)
	}
	tw.Flush()
}

// blobMain is `gpucache-bench blob`.
func blobMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("blob", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("gpucache-bin", "", "gpucache built with -tags fabric (required)")
	provs := fs.String("providers", "shm,tcp;ofi_rxm", "libfabric providers, comma-separated")
	sizes := fs.String("sizes", "4mb,32mb,80mb", "value sizes")
	clients := fs.String("clients", "1,4", "client counts")
	rounds := fs.Int("rounds", 3, "alternating rounds")
	ops := fs.Int("ops", 8, "operations per client per phase")
	dram := fs.String("dram-cache-size", "2gb", "gpucache --dram-cache-size")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bin == "" {
		fmt.Fprintln(stderr, "gpucache-bench blob: --gpucache-bin (a gpucache built with -tags fabric) is required")
		return 2
	}
	o := BlobOptions{Bin: *bin, Providers: strings.Split(*provs, ","), Rounds: *rounds, Ops: *ops, DRAM: *dram}
	var perr error
	if o.Sizes, perr = ParseSizes(*sizes); perr != nil {
		fmt.Fprintln(stderr, "gpucache-bench blob: --sizes:", perr)
		return 2
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintln(stderr, "gpucache-bench blob: --clients: bad count", s)
			return 2
		}
		o.Clients = append(o.Clients, n)
	}
	rs, err := RunBlob(context.Background(), o, stderr)
	PrintBlob(stdout, rs)
	if err != nil {
		fmt.Fprintln(stderr, "gpucache-bench blob:", err)
		return 1
	}
	return 0
}
