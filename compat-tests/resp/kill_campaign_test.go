package resp_test

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// killCampaignKills is the number of kill -9s: 100 in CI (about a minute
// on two shared cores), more with GPUCACHE_KILLS=N.
func killCampaignKills(t *testing.T) int {
	if s := os.Getenv("GPUCACHE_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("GPUCACHE_KILLS=%q: want a positive count", s)
		}
		return n
	}
	if testing.Short() {
		return 20
	}
	return 100
}

// kcState is what one key may hold: the value of its last acknowledged
// write (nil: absent), and the writes sent after it but not acknowledged,
// any of which the server may have applied.
type kcState struct {
	acked    *stormValue // nil: absent (never written, or deleted)
	inflight []*stormValue
	delSent  bool // an unacknowledged DEL is among the in-flight writes
}

// kcServer is one server of the campaign and what its clients did.
type kcServer struct {
	srv  *internal.Server
	mode string
	mu   sync.Mutex
	keys map[string]*kcState
}

// TestKillCampaign kills the real binary with SIGKILL at random moments,
// alternating between a server with rocksdb.write_options.sync yes and one
// with no, while four clients write small values (one at a time and in
// pipelines of eight), large ones (64 KiB-1 MiB) and deletes over a fixed
// set of keys. After every restart each key holds exactly its last
// acknowledged value or one of the writes in flight at the kill: no
// acknowledged write is lost in either mode, and no value comes back with
// wrong bytes.
func TestKillCampaign(t *testing.T) {
	kills := killCampaignKills(t)
	seed := *stormSeed
	t.Logf("seed %d (-storm.seed), %d kills", seed, kills)
	r := rand.New(rand.NewPCG(seed, 4242))
	base := randomBytes(seed, 4<<20)
	var servers []*kcServer
	for _, mode := range []string{"yes", "no"} {
		servers = append(servers, &kcServer{
			srv:  internal.Start(t, internal.Options{Args: []string{"--rocksdb.write_options.sync", mode}}),
			mode: mode, keys: make(map[string]*kcState),
		})
	}
	// INFO persistence says which mode runs and what it promises.
	for _, s := range servers {
		want := int64(1000)
		if s.mode == "yes" {
			want = 0
		}
		if got := s.srv.InfoInt(t, "power_cut_may_lose_ms"); got != want {
			t.Fatalf("sync %s: INFO power_cut_may_lose_ms = %d, want %d", s.mode, got, want)
		}
	}
	var ackedTotal, restored atomic.Int64
	start := time.Now()
	for kill := range kills {
		s := servers[kill%2]
		var killed atomic.Bool
		errs := make(chan string, 4)
		var wg sync.WaitGroup
		for w := range 4 {
			wr := rand.New(rand.NewPCG(seed, uint64(kill*4+w)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				if msg := s.write(w, wr, base, &killed, &ackedTotal); msg != "" {
					errs <- msg
				}
			}()
		}
		time.Sleep(time.Duration(10+r.IntN(150)) * time.Millisecond) // a random moment
		killed.Store(true)
		s.srv.Kill(t)
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if t.Failed() {
			return
		}
		s.srv.Restart(t)
		restored.Add(s.verify(t, base))
		if t.Failed() {
			t.Fatalf("kill %d (sync %s) failed; rerun with -storm.seed %d", kill, s.mode, seed)
		}
	}
	t.Logf("%d kills in %v: %d writes acknowledged, %d unacknowledged writes found applied after restart",
		kills, time.Since(start).Round(time.Millisecond), ackedTotal.Load(), restored.Load())
}

// write runs one client until the kill: it returns a message for anything
// that goes wrong before the kill.
func (s *kcServer) write(w int, r *rand.Rand, base []byte, killed *atomic.Bool, acked *atomic.Int64) string {
	nc, err := net.DialTimeout("tcp", s.srv.Addr(), 5*time.Second)
	if err != nil {
		return err.Error()
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	type sent struct {
		key string
		v   *stormValue // nil: DEL
	}
	var batch []sent
	for {
		batch = batch[:0]
		var bufs net.Buffers
		pipeline := 1
		if r.IntN(4) == 0 {
			pipeline = 8
		}
		for range pipeline {
			key := fmt.Sprintf("kc:%d:%d", w, r.IntN(32))
			if r.IntN(10) == 0 {
				batch = append(batch, sent{key, nil})
				bufs = append(bufs, encodeStrings("DEL", key))
				continue
			}
			size := 1 + r.IntN(4096)
			if pipeline == 1 && r.IntN(4) == 0 {
				size = 64<<10 + r.IntN(960<<10)
			}
			off := r.IntN(len(base) - size)
			v := &stormValue{off, size, crc32.Checksum(base[off:off+size], castagnoli)}
			batch = append(batch, sent{key, v})
			bufs = append(bufs, []byte(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(key), key, size)),
				base[off:off+size], []byte("\r\n"))
		}
		s.mu.Lock()
		for _, b := range batch {
			st := s.state(b.key)
			if b.v == nil {
				st.delSent = true
			} else {
				st.inflight = append(st.inflight, b.v)
			}
		}
		s.mu.Unlock()
		nc.SetDeadline(time.Now().Add(rawTimeout))
		if _, err := bufs.WriteTo(nc); err != nil {
			if killed.Load() {
				return ""
			}
			return fmt.Sprintf("sync %s, client %d: %v before the kill", s.mode, w, err)
		}
		for _, b := range batch {
			line, err := br.ReadString('\n')
			if err != nil {
				if killed.Load() {
					return ""
				}
				return fmt.Sprintf("sync %s, client %d: %v before the kill", s.mode, w, err)
			}
			want := "+OK\r\n"
			if b.v == nil {
				want = ":" // :0 or :1
			}
			if len(line) < len(want) || line[:len(want)] != want {
				return fmt.Sprintf("sync %s, client %d: %q for %s", s.mode, w, line, b.key)
			}
			s.mu.Lock()
			st := s.state(b.key)
			// Replies come in order, and one client owns the key: this
			// write supersedes everything before it.
			st.acked, st.inflight, st.delSent = b.v, removeUpTo(st.inflight, b.v), st.delSent && b.v != nil
			s.mu.Unlock()
			acked.Add(1)
		}
	}
}

// removeUpTo drops v and every value sent before it.
func removeUpTo(inflight []*stormValue, v *stormValue) []*stormValue {
	for i, x := range inflight {
		if x == v {
			return inflight[i+1:]
		}
	}
	if v == nil {
		return inflight
	}
	return inflight[:0]
}

func (s *kcServer) state(key string) *kcState {
	st := s.keys[key]
	if st == nil {
		st = &kcState{}
		s.keys[key] = st
	}
	return st
}

// verify reads every key back and settles its state to what it holds; it
// returns how many keys held an unacknowledged write.
func (s *kcServer) verify(t *testing.T, base []byte) int64 {
	t.Helper()
	c := dialRaw(t, s.srv.Addr())
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var req []byte
	for _, k := range keys {
		req = append(req, encodeStrings("GET", k)...)
	}
	c.write(req)
	var applied int64
	for _, k := range keys {
		got := c.readBulk()
		st := s.keys[k]
		matches := func(v *stormValue) bool {
			return v != nil && got != nil && len(got) == v.size && crc32.Checksum(got, castagnoli) == v.crc
		}
		switch {
		case got == nil && st.acked == nil:
		case got == nil && st.delSent:
			applied++
		case got == nil:
			t.Errorf("sync %s: %s is missing after kill -9; its acknowledged %d-byte value is lost", s.mode, k, st.acked.size)
			continue
		case matches(st.acked):
		default:
			found := false
			for _, v := range st.inflight {
				if matches(v) {
					st.acked, found = v, true
				}
			}
			if !found {
				t.Errorf("sync %s: %s holds %d bytes that are neither its acknowledged value nor one in flight", s.mode, k, len(got))
				continue
			}
			applied++
		}
		if got == nil {
			st.acked = nil
		}
		st.inflight, st.delSent = nil, false
	}
	return applied
}
