package resp

import (
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata scripts with the actual replies")

// TestScripts replays testdata/*.txt against a real engine. A script is a
// sequence of requests ("> SET k v"; arguments split on spaces, Go-quoted
// when they contain spaces or escapes), each followed by its expected reply
// with "\r\n" shown as line breaks. Lines starting with "#" are comments;
// directives start with "@":
//
//	@server key=value ...   a new server on the same (flushed) engine, with
//	                        requirepass=, namespace.<name>=, resp3=no,
//	                        cluster=yes, port=
//	@conn name              switch to (or open) the named connection
//	@sleep ms               wait
//
// go test -run TestScripts -rewrite regenerates the expected replies.
func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no scripts in testdata")
	}
	eng := openEngine(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if err := eng.FlushAll(); err != nil {
				t.Fatal(err)
			}
			runScript(t, eng, file)
		})
	}
}

func runScript(t *testing.T, eng *engine.Engine, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out strings.Builder
	var srv *Server
	conns := map[string]*syncConn{}
	var cur *syncConn
	newServer := func(cfg Config) {
		if srv != nil {
			srv.Close()
		}
		srv = NewServer(eng, cfg, WithConfigStore(newMapConfig(cfg)))
		conns = map[string]*syncConn{}
		cur = newSyncConn(srv)
		conns["default"] = cur
	}
	newServer(Config{})
	defer func() { srv.Close() }()
	failed := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "@server"):
			out.WriteString(line + "\n")
			cfg := Config{Namespaces: map[string]string{}}
			for _, kv := range strings.Fields(line)[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch {
				case k == "requirepass":
					cfg.RequirePass = v
				case k == "resp3":
					cfg.DisableRESP3 = v == "no"
				case k == "cluster":
					cfg.ClusterEnabled = v == "yes"
				case k == "port":
					cfg.Port, _ = strconv.Atoi(v)
				case strings.HasPrefix(k, "namespace."):
					cfg.Namespaces[strings.TrimPrefix(k, "namespace.")] = v
				default:
					t.Fatalf("%s:%d: unknown server option %q", file, i+1, k)
				}
			}
			newServer(cfg)
		case strings.HasPrefix(line, "@conn"):
			out.WriteString(line + "\n")
			name := strings.TrimSpace(strings.TrimPrefix(line, "@conn"))
			if conns[name] == nil {
				conns[name] = newSyncConn(srv)
			}
			cur = conns[name]
		case strings.HasPrefix(line, "@sleep"):
			out.WriteString(line + "\n")
			ms, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "@sleep")))
			time.Sleep(time.Duration(ms) * time.Millisecond)
		case strings.HasPrefix(line, "> "):
			out.WriteString(line + "\n")
			args, err := splitScriptArgs(line[2:])
			if err != nil {
				t.Fatalf("%s:%d: %v", file, i+1, err)
			}
			// The reply runs to the next request, directive or comment;
			// blank lines at its end separate sections.
			var want strings.Builder
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "> ") && !strings.HasPrefix(lines[i+1], "@") && !strings.HasPrefix(lines[i+1], "#") {
				i++
				want.WriteString(lines[i] + "\n")
			}
			got := strings.ReplaceAll(string(cur.run(encode(args...))), "\r\n", "\n")
			out.WriteString(got)
			if strings.HasSuffix(want.String(), "\n\n") && !strings.HasSuffix(got, "\n\n") {
				out.WriteString("\n")
			}
			if strings.TrimRight(got, "\n") != strings.TrimRight(want.String(), "\n") && !*rewrite {
				t.Errorf("%s:%d: %s\n got: %q\nwant: %q", file, i+1, line, got, want.String())
				failed = true
			}
		default:
			out.WriteString(line + "\n")
		}
	}
	if *rewrite && (failed || out.String() != string(data)) {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// splitScriptArgs splits on spaces; a double-quoted argument is unquoted
// with Go's rules.
func splitScriptArgs(s string) ([]string, error) {
	var args []string
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		if s[0] == '"' {
			end := 1
			for end < len(s) && (s[end] != '"' || s[end-1] == '\\') {
				end++
			}
			a, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			s = s[end+1:]
			continue
		}
		a, rest, _ := strings.Cut(s, " ")
		args = append(args, a)
		s = rest
	}
	return args, nil
}

// mapConfig is an in-memory ConfigStore.
type mapConfig struct {
	mu sync.Mutex
	m  map[string]string
}

func newMapConfig(cfg Config) *mapConfig {
	m := map[string]string{"maxclients": "10000", "requirepass": cfg.RequirePass, "timeout": "0"}
	for name, token := range cfg.Namespaces {
		m["namespace."+name] = token
	}
	return &mapConfig{m: m}
}

func (mc *mapConfig) Get(pattern string) [][2]string {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	var out [][2]string
	for k, v := range mc.m {
		if ok, _ := path.Match(pattern, k); ok {
			out = append(out, [2]string{k, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func (mc *mapConfig) Set(key, value string) error {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if key == "bogus" {
		return errors.New("unsupported CONFIG parameter")
	}
	if value == "" && strings.HasPrefix(key, "namespace.") {
		delete(mc.m, key)
	} else {
		mc.m[key] = value
	}
	return nil
}

func (mc *mapConfig) Rewrite() error { return nil }
