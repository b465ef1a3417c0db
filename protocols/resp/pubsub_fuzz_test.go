package resp

import (
	"bytes"
	"strconv"
	"testing"
)

// unrepr undoes appendRepr.
func unrepr(s []byte) ([]byte, bool) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case '\\', '"':
			out = append(out, s[i])
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'x':
			if i+2 >= len(s) {
				return nil, false
			}
			n, err := strconv.ParseUint(string(s[i+1:i+3]), 16, 8)
			if err != nil {
				return nil, false
			}
			out = append(out, byte(n))
			i += 2
		default:
			return nil, false
		}
	}
	return out, true
}

// FuzzMonitorLine: whatever a command's arguments are, its MONITOR line
// is one simple-string line, and each argument reads back (whole, or its
// first monitorArgMax bytes when cut), except the credentials redacted.
func FuzzMonitorLine(f *testing.F) {
	f.Add([]byte("SET"), []byte("k"), []byte("v\r\n\"\\\x00\xff"), uint16(0))
	f.Add([]byte("AUTH"), []byte("user"), []byte("pass"), uint16(0))
	f.Add([]byte("HELLO"), []byte("3"), []byte("AUTH"), uint16(0))
	f.Add([]byte("SET"), []byte("big"), []byte("x"), uint16(6000))
	eng := openEngine(f)
	s := NewServer(eng, Config{})
	f.Cleanup(func() { s.Close() })
	c := newSyncConn(s).c
	f.Fuzz(func(t *testing.T, name, a1, a2 []byte, pad uint16) {
		a2 = append(a2, bytes.Repeat([]byte{'p'}, int(pad))...)
		spec := s.commands.lookup(name)
		if spec == nil {
			spec = &cmdSpec{name: string(bytes.ToLower(name))}
		}
		cmd := &Command{Args: [][]byte{name, a1, a2, []byte("u"), []byte("p")}}
		line := c.monitorLine(spec, cmd)
		if line == nil {
			if !monitorSkips[spec.name] && spec.name != "client" {
				t.Fatalf("%q: no line", name)
			}
			return
		}
		if line[0] != '+' || !bytes.HasSuffix(line, []byte("\r\n")) || bytes.ContainsAny(line[:len(line)-2], "\r\n") {
			t.Fatalf("not one simple-string line: %q", line)
		}
		body := line[bytes.IndexByte(line, ']')+1 : len(line)-2]
		for i, a := range cmd.Args {
			if len(body) < 3 || body[0] != ' ' || body[1] != '"' {
				t.Fatalf("argument %d: %q", i, body)
			}
			body = body[2:]
			end := 0
			for end < len(body) && body[end] != '"' {
				if body[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(body) {
				t.Fatalf("argument %d unterminated in %q", i, line)
			}
			got, ok := unrepr(body[:end])
			body = body[end+1:]
			if !ok {
				t.Fatalf("argument %d: bad escape in %q", i, line)
			}
			if redacted(spec.name, cmd.Args, i) {
				if string(got) != "(redacted)" {
					t.Fatalf("argument %d of %s not redacted: %q", i, spec.name, got)
				}
				continue
			}
			want := a
			if len(a) > monitorArgMax {
				want = append(append([]byte(nil), a[:monitorArgMax]...), "... ("+strconv.Itoa(len(a))+" bytes)"...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("argument %d: %q, want %q", i, got, want)
			}
		}
		if len(body) != 0 {
			t.Fatalf("trailing %q", body)
		}
	})
}
