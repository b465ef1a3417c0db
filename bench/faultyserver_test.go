package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultyServer is a minimal in-memory RESP server that loses or corrupts
// values on purpose, to check that the workloads notice.
type faultyServer struct {
	ln      net.Listener
	mu      sync.Mutex
	data    map[string][]byte
	sets    int
	dropNth int // every n-th SET is acknowledged but not stored
	flipNth int // every n-th GET hit has one byte flipped
	gets    int
	wg      sync.WaitGroup
}

func startFaulty(t *testing.T, dropNth, flipNth int) *faultyServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &faultyServer{ln: ln, data: map[string][]byte{}, dropNth: dropNth, flipNth: flipNth}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); defer c.Close(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *faultyServer) serve(c net.Conn) {
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		args, err := readCommand(br)
		if err != nil {
			return
		}
		s.mu.Lock()
		switch strings.ToUpper(string(args[0])) {
		case "HELLO":
			bw.WriteString("%1\r\n+proto\r\n:3\r\n")
		case "PING":
			bw.WriteString("+PONG\r\n")
		case "SET":
			s.sets++
			if s.dropNth == 0 || s.sets%s.dropNth != 0 {
				s.data[string(args[1])] = args[2]
			}
			bw.WriteString("+OK\r\n")
		case "GET":
			v, ok := s.data[string(args[1])]
			if !ok {
				bw.WriteString("$-1\r\n")
				break
			}
			s.gets++
			if s.flipNth > 0 && s.gets%s.flipNth == 0 {
				v = append([]byte(nil), v...)
				v[len(v)-1] ^= 1 // inside the tail stamp: the cheap check sees it
			}
			fmt.Fprintf(bw, "$%d\r\n", len(v))
			bw.Write(v)
			bw.WriteString("\r\n")
		case "EXISTS", "DEL":
			_, ok := s.data[string(args[1])]
			if strings.EqualFold(string(args[0]), "DEL") {
				delete(s.data, string(args[1]))
			}
			fmt.Fprintf(bw, ":%d\r\n", map[bool]int{true: 1}[ok])
		default:
			bw.WriteString("-ERR unknown command\r\n")
		}
		s.mu.Unlock()
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

func readCommand(br *bufio.Reader) ([][]byte, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || line[0] != '*' || n < 1 {
		return nil, errors.New("bad command")
	}
	args := make([][]byte, n)
	for i := range args {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l, err := strconv.Atoi(strings.TrimSpace(line[1:]))
		if err != nil {
			return nil, err
		}
		args[i] = make([]byte, l+2)
		if _, err := io.ReadFull(br, args[i]); err != nil {
			return nil, err
		}
		args[i] = args[i][:l]
	}
	return args, nil
}

func TestWorkloadsDetectFaults(t *testing.T) {
	p := NewPayload(256 << 10)
	env := &Env{Payload: p, Keys: NewKeySpace(3, "m", 2), Verify: VerifyCheap, Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name          string
		drop, flip    int
		wantLost      bool
		wantCorrupted bool
	}{
		{"healthy", 0, 0, false, false},
		{"drops", 5, 0, true, false},
		{"flips", 0, 7, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFaulty(t, tc.drop, tc.flip)
			tg := &Target{Name: "faulty", Addr: s.ln.Addr().String()}
			var all []*PhaseResult
			for _, cfg := range []LMCacheConfig{
				{Mode: ModeNative, Batch: 4, Concurrency: 2, WorkingSet: 4 << 20, GetPasses: 3, PrefixChunks: 4, HitRatio: 0.75},
				{Mode: ModePython, Concurrency: 2, WorkingSet: 4 << 20, GetPasses: 3, PrefixChunks: 4, HitRatio: 0.75},
			} {
				res, err := RunLMCache(context.Background(), env, tg, cfg, 256<<10)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, res...)
			}
			res, err := RunSmall(context.Background(), env, tg, SmallConfig{Clients: 2, Depth: 4, Keys: 50, Ops: 400, SetRatio: 0, MinSize: 64, MaxSize: 512})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, res...)
			var lost, corrupt int
			for _, r := range all {
				if r.Errors == 0 {
					continue
				}
				switch {
				case errors.Is(r.FirstErr, ErrLost):
					lost++
				case errors.Is(r.FirstErr, ErrCorrupt):
					corrupt++
				default:
					t.Errorf("%s %s %s: unexpected failure %v", r.Workload, r.Mode, r.Phase, r.FirstErr)
				}
			}
			if (lost > 0) != tc.wantLost || (corrupt > 0) != tc.wantCorrupted {
				t.Errorf("phases reporting lost values: %d, corrupt values: %d; want lost %v corrupt %v", lost, corrupt, tc.wantLost, tc.wantCorrupted)
			}
		})
	}
}
