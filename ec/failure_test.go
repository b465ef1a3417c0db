package ec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/nvme"
)

var parityLayouts = []layout{{1, 1, 2}, {2, 1, 3}, {4, 2, 6}, {4, 2, 8}, {8, 3, 11}}

// without returns devs minus the slots in drop, shuffled.
func without(devs []nvme.Device, drop []int, seed uint64) []nvme.Device {
	var out []nvme.Device
	for i, d := range devs {
		skip := false
		for _, x := range drop {
			skip = skip || x == i
		}
		if !skip {
			out = append(out, d)
		}
	}
	r := rand.New(rand.NewPCG(seed, 3))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestLoseAnyMDevices(t *testing.T) {
	for bname, mk := range backends {
		for _, l := range parityLayouts {
			t.Run(bname+"/"+l.String(), func(t *testing.T) {
				devs := mk(t, l.devs)
				v := mustOpen(t, devs, l.k, l.m)
				want := map[string][]byte{}
				for i := 0; i < 3; i++ {
					name := fmt.Sprintf("f%d", i)
					want[name] = writeFile(t, v, name, 200+7*i, uint64(10+i))
				}
				v.Close()
				r := rand.New(rand.NewPCG(uint64(l.devs), 1))
				for trial := 0; trial < 4; trial++ {
					drop := r.Perm(l.devs)[:l.m]
					v := mustOpen(t, without(devs, drop, uint64(trial)), l.k, l.m)
					for name, w := range want {
						checkFile(t, v, name, w)
					}
					st := v.Status()
					if !st.Degraded || st.Reconstructed == 0 && l.devs == l.k+l.m {
						t.Fatalf("drop %v: status %+v", drop, st)
					}
					v.Close()
				}
				if l.devs != l.k+l.m {
					return
				}
				// One more than m: every read must fail, naming shards.
				drop := r.Perm(l.devs)[:l.m+1]
				if l.devs == l.m+1 {
					if _, err := Open(without(devs, drop, 9), l.k, l.m); err == nil {
						t.Fatal("opened a volume with no devices")
					}
					return
				}
				v = mustOpen(t, without(devs, drop, 9), l.k, l.m)
				defer v.Close()
				f, err := v.Open("f0")
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				buf := nvme.AlignedAlloc(int(f.Size()))
				defer nvme.AlignedFree(buf)
				_, err = f.ReadvAt([][]byte{buf}, 0)
				var se *ShardError
				if !errors.Is(err, ErrUnrecoverable) || !errors.As(err, &se) || len(se.Faults) == 0 {
					t.Fatalf("read with m+1 lost: %v", err)
				}
				if !strings.Contains(err.Error(), "shard") {
					t.Fatalf("error does not name shards: %v", err)
				}
			})
		}
	}
}

// corruptShards flips bytes in up to m shard units per chosen stripe,
// straight in the shard files of a directory-backed volume.
func corruptShards(t *testing.T, root string, l layout, stripes int, r *rand.Rand) int {
	t.Helper()
	var files []string
	for i := 0; i < l.devs; i++ {
		m, _ := filepath.Glob(fmt.Sprintf("%s/nvme%d/*.s*", root, i))
		for _, f := range m {
			if !strings.HasSuffix(f, ".crc") {
				files = append(files, f)
			}
		}
	}
	byName := map[string][]string{}
	for _, f := range files {
		base := filepath.Base(f)
		name := base[:strings.LastIndex(base, ".s")]
		byName[name] = append(byName[name], f)
	}
	n := 0
	for _, shards := range byName {
		for _, s := range r.Perm(stripes)[:20] {
			for _, x := range r.Perm(len(shards))[:l.m] {
				fh, err := os.OpenFile(shards[x], os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				b := []byte{byte(r.Uint32()) | 1}
				off := int64(s)*unit + r.Int64N(unit)
				old := make([]byte, 1)
				fh.ReadAt(old, off)
				b[0] ^= old[0]
				fh.WriteAt(b, off)
				fh.Close()
				n++
			}
		}
	}
	return n
}

func TestCorruptionAndScrub(t *testing.T) {
	for _, l := range parityLayouts {
		t.Run(l.String(), func(t *testing.T) {
			root := t.TempDir()
			devs := make([]nvme.Device, l.devs)
			for i := range devs {
				// Buffered, so the test's own writes to the shard files
				// are seen by the volume's reads.
				d, err := nvme.OpenDir(fmt.Sprintf("%s/nvme%d", root, i), nvme.WithDirect(false))
				if err != nil {
					t.Fatal(err)
				}
				devs[i] = d
			}
			v := mustOpen(t, devs, l.k, l.m)
			const stripes = 300
			want := map[string][]byte{}
			for i := 0; i < 3; i++ {
				name := fmt.Sprintf("c%d", i)
				want[name] = writeFile(t, v, name, stripes, uint64(20+i))
			}
			v.Close()
			corruptShards(t, root, l, stripes, rand.New(rand.NewPCG(5, 5)))
			v = mustOpen(t, devs, l.k, l.m)
			defer v.Close()
			for name, w := range want {
				checkFile(t, v, name, w)
			}
			if st := v.Status(); st.ChecksumErrors == 0 || st.ReadRepaired == 0 {
				t.Fatalf("corruption went unnoticed or unrepaired: %+v", st)
			}
			if err := v.Scrub(context.Background()); err != nil {
				t.Fatal(err)
			}
			sp := v.Status().Scrub
			if sp.Repaired == 0 || sp.Running || sp.FilesDone != 3 {
				t.Fatalf("scrub progress %+v", sp)
			}
			if err := v.Scrub(context.Background()); err != nil {
				t.Fatal(err)
			}
			if sp := v.Status().Scrub; sp.Repaired != 0 {
				t.Fatalf("second scrub repaired %d units: first did not fix them", sp.Repaired)
			}
			before := v.Status().ChecksumErrors
			for name, w := range want {
				checkFile(t, v, name, w)
			}
			if after := v.Status().ChecksumErrors; after != before {
				t.Fatalf("%d checksum errors after scrub", after-before)
			}
		})
	}
}

// faultDevs returns n Fault devices over memory.
func faultDevs(n int) ([]nvme.Device, []*nvme.Fault) {
	devs := make([]nvme.Device, n)
	faults := make([]*nvme.Fault, n)
	for i := range devs {
		faults[i] = nvme.NewFault(nvme.NewMem(fmt.Sprintf("mem%d", i), 1<<30), uint64(i))
		devs[i] = faults[i]
	}
	return devs, faults
}

func TestFaultsMidRun(t *testing.T) {
	devs, faults := faultDevs(6)
	v := mustOpen(t, devs, 4, 2)
	defer v.Close()
	want := map[string][]byte{}
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("f%d", i)
		want[name] = writeFile(t, v, name, 150, uint64(i))
	}
	// Device 1 starts failing every read; device 3 flips bits on reads:
	// m faults at once, while a writer adds a file.
	faults[1].SetRule(nvme.OpRead, nvme.Rule{Nth: 3, Every: true})
	faults[3].FlipBits(0.5)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				for name, data := range want {
					checkFile(t, v, name, data)
				}
			}
		}()
	}
	late := writeFile(t, v, "late", 100, 99)
	wg.Wait()
	want["late"] = late
	// Then the flipping stops and device 5 vanishes.
	faults[3].FlipBits(0)
	faults[5].Vanish()
	for name, data := range want {
		checkFile(t, v, name, data)
	}
	st := v.Status()
	if !st.Degraded || st.Devices[1].State != DeviceFailed || st.Devices[5].State != DeviceFailed {
		t.Fatalf("status %+v", st)
	}
	if st.Reconstructed == 0 || st.ReadErrors == 0 {
		t.Fatalf("counters %+v", st)
	}
}

func TestTornWrites(t *testing.T) {
	devs, faults := faultDevs(6)
	v := mustOpen(t, devs, 4, 2)
	defer v.Close()
	faults[2].TearWrites(1) // silent: reports success
	faults[4].SetRule(nvme.OpWrite, nvme.Rule{Nth: 2})
	want := writeFile(t, v, "t", 300, 1)
	checkFile(t, v, "t", want)
	if v.Status().ChecksumErrors == 0 {
		t.Fatal("torn write not detected")
	}
	faults[2].TearWrites(0)
	if err := v.Scrub(context.Background()); err != nil {
		t.Fatal(err)
	}
	// After scrub the torn and failed shards are whole: lose two others.
	faults[0].Vanish()
	faults[1].Vanish()
	checkFile(t, v, "t", want)
}

func TestWriteQuorum(t *testing.T) {
	devs, faults := faultDevs(6)
	v := mustOpen(t, devs, 4, 2)
	defer v.Close()
	f, err := v.Create("q", 8*v.StripeWidth())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := pattern(t, int(4*v.StripeWidth()), 1)
	faults[0].Vanish()
	faults[1].Vanish()
	if _, err := f.WritevAt([][]byte{buf}, 0); err != nil {
		t.Fatalf("write with m devices gone: %v", err)
	}
	faults[2].Vanish()
	_, err = f.WritevAt([][]byte{buf}, 4*v.StripeWidth())
	var se *ShardError
	if !errors.Is(err, ErrQuorum) || !errors.As(err, &se) || len(se.Faults) != 3 {
		t.Fatalf("write with m+1 gone: %v", err)
	}
	if !errors.Is(err, nvme.ErrFailed) {
		t.Fatalf("cause not kept: %v", err)
	}
}

func TestRebuild(t *testing.T) {
	devs, faults := faultDevs(6)
	v := mustOpen(t, devs, 4, 2, WithBatchStripes(32))
	defer v.Close()
	want := map[string][]byte{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("r%d", i)
		want[name] = writeFile(t, v, name, 128, uint64(i))
	}
	faults[1].Vanish()
	fresh := nvme.NewMem("fresh", 1<<30)
	if err := v.Replace(1, fresh); err != nil {
		t.Fatal(err)
	}
	if st := v.Status(); st.Devices[1].State != DeviceRebuilding {
		t.Fatalf("state %v", st.Devices[1].State)
	}
	// Rebuild in the background, with a bandwidth bound, while a writer
	// adds files.
	const rate = 4 << 20
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- v.Rebuild(context.Background(), 1, rate) }()
	for i := 3; i < 5; i++ {
		name := fmt.Sprintf("r%d", i)
		want[name] = writeFile(t, v, name, 64, uint64(i))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rb := v.Status().Rebuild
	if min := time.Duration(float64(rb.Bytes) / rate * float64(time.Second) * 0.9); time.Since(start) < min {
		t.Fatalf("rebuilt %d bytes in %v: faster than %d B/s", rb.Bytes, time.Since(start), rate)
	}
	if rb.Running || rb.FilesDone != rb.Files || rb.Bytes == 0 {
		t.Fatalf("rebuild progress %+v", rb)
	}
	if st := v.Status(); st.Devices[1].State != DeviceOK {
		t.Fatalf("after rebuild: %v", st.Devices[1].State)
	}
	// Now lose two other devices: the rebuilt one must carry its share.
	faults[0].Vanish()
	faults[4].Vanish()
	for name, w := range want {
		checkFile(t, v, name, w)
	}
	v.Close()
	// And the same holds after a restart, devices in another order.
	v2 := mustOpen(t, []nvme.Device{devs[5], fresh, devs[3], devs[2]}, 4, 2)
	defer v2.Close()
	for name, w := range want {
		checkFile(t, v2, name, w)
	}
}

func TestBlankDeviceAtOpen(t *testing.T) {
	devs := backends["dir"](t, 6)
	v := mustOpen(t, devs, 4, 2)
	want := writeFile(t, v, "b", 64, 3)
	v.Close()
	blank, err := nvme.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v = mustOpen(t, append(without(devs, []int{2}, 1), blank), 4, 2)
	defer v.Close()
	st := v.Status()
	if st.Devices[2].State != DeviceRebuilding || st.Devices[2].Name != blank.Name() {
		t.Fatalf("blank device not placed in slot 2: %+v", st.Devices)
	}
	if err := v.Rebuild(context.Background(), 2, 0); err != nil {
		t.Fatal(err)
	}
	v.Close()
	v = mustOpen(t, append(without(devs, []int{0, 2, 4}, 1), blank), 4, 2)
	defer v.Close()
	checkFile(t, v, "b", want)
}

func TestRebuildResumesAfterRestart(t *testing.T) {
	devs, faults := faultDevs(6)
	v := mustOpen(t, devs, 4, 2, WithBatchStripes(16))
	want := map[string][]byte{}
	for i := 0; i < 4; i++ {
		name := fmt.Sprintf("s%d", i)
		want[name] = writeFile(t, v, name, 96, uint64(i))
	}
	faults[3].Vanish()
	fresh := nvme.NewMem("fresh", 1<<30)
	if err := v.Replace(3, fresh); err != nil {
		t.Fatal(err)
	}
	// Stop the rebuild part way: slow it down and cancel.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for v.Status().Rebuild.Bytes == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := v.Rebuild(ctx, 3, 8<<20); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled rebuild: %v", err)
	}
	v.Close()
	reopened := []nvme.Device{devs[0], devs[1], devs[2], fresh, devs[4], devs[5]}
	v = mustOpen(t, reopened, 4, 2, WithBatchStripes(16))
	defer v.Close()
	if st := v.Status(); st.Devices[3].State != DeviceRebuilding {
		t.Fatalf("after restart: %v", st.Devices[3].State)
	}
	if err := v.Rebuild(context.Background(), 3, 0); err != nil {
		t.Fatal(err)
	}
	faults[0].Vanish()
	faults[5].Vanish()
	for name, w := range want {
		checkFile(t, v, name, w)
	}
}

func TestScrubAndRebuildDuringIO(t *testing.T) {
	devs, faults := faultDevs(6)
	v := mustOpen(t, devs, 4, 2, WithBatchStripes(16))
	defer v.Close()
	var mu sync.Mutex
	want := map[string][]byte{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("a%d", i)
		want[name] = writeFile(t, v, name, 80, uint64(i))
	}
	faults[2].FlipBits(0.2)
	faults[4].Vanish()
	if err := v.Replace(4, nvme.NewMem("fresh", 1<<30)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := 3; i < 8; i++ {
			name := fmt.Sprintf("a%d", i)
			data := writeFile(t, v, name, 40, uint64(i))
			mu.Lock()
			want[name] = data
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 3; i++ {
			mu.Lock()
			snap := make(map[string][]byte, len(want))
			for k, d := range want {
				snap[k] = d
			}
			mu.Unlock()
			for name, d := range snap {
				checkFile(t, v, name, d)
			}
		}
	}()
	go func() {
		defer wg.Done()
		if err := v.Scrub(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	if err := v.Rebuild(context.Background(), 4, 0); err != nil {
		t.Error(err)
	}
	wg.Wait()
	faults[2].FlipBits(0)
	// Whatever the rebuild missed of files written meanwhile was written
	// to the new device directly; a second pass must find nothing to do
	// that loses data. Then two other devices go.
	if err := v.Rebuild(context.Background(), 4, 0); err != nil {
		t.Fatal(err)
	}
	faults[0].Vanish()
	faults[1].Vanish()
	for name, d := range want {
		checkFile(t, v, name, d)
	}
}
