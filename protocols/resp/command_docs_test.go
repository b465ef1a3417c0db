package resp

import (
	"strings"
	"testing"
)

// TestCommandDocsComplete: every command of the table has COMMAND DOCS
// (summary, since and group) and a COMMAND INFO entry whose key positions
// agree with its key specs. A command added without documentation fails
// here: add it to kvrocksDocs when Redis does not define it.
func TestCommandDocsComplete(t *testing.T) {
	tab := newCommandTable()
	rc := loadRedisCommands()
	for _, s := range tab.list {
		if !hasDocs(s.name) {
			t.Errorf("%s: no COMMAND DOCS (add it to kvrocksDocs in command_docs.go)", s.name)
			continue
		}
		if d, ok := kvrocksDocs[s.name]; ok {
			if _, dup := rc.docs[s.name]; dup {
				t.Errorf("%s: documented twice (Redis defines it)", s.name)
			}
			if d.summary == "" || d.since == "" || d.group == "" {
				t.Errorf("%s: incomplete docs %+v", s.name, d)
			}
		}
		if len(aclCategories(s)) == 0 {
			t.Errorf("%s: no ACL categories", s.name)
		}
		// A command with fixed key positions finds the same keys through
		// its key specs as through first/last/step.
		if s.first > 0 && s.arity > 0 {
			args := make([][]byte, s.arity)
			for i := range args {
				args[i] = []byte("2")
			}
			args[0] = []byte(s.name)
			idx, _, ok := commandKeys(s, args)
			want := s.keyIndexes(nil, len(args))
			if !ok || len(idx) != len(want) {
				t.Errorf("%s: key specs give keys %v (ok %v), the table %v", s.name, idx, ok, want)
			}
		}
	}
	for name := range kvrocksDocs {
		if _, ok := rc.docs[name]; ok {
			t.Errorf("%s: in kvrocksDocs but Redis documents it", name)
		}
	}
}

// TestGlobMatchFold covers COMMAND LIST FILTERBY PATTERN's matcher.
func TestGlobMatchFold(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "get", true}, {"g?t", "GET", true}, {"z*store", "zunionstore", true},
		{"z*store", "zunion", false}, {"[gs]et", "set", true}, {"[^g]et", "get", false},
		{"[a-c]*", "bgsave", true}, {`\*`, "*", true}, {"h*", "", false}, {"", "", true},
	} {
		if got := globMatchFold(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatchFold(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// FuzzCommandKeys: COMMAND GETKEYS evaluates key specs over arbitrary
// arguments; it must never panic or name an index outside them.
func FuzzCommandKeys(f *testing.F) {
	for _, seed := range []string{
		"zunionstore d 2 a b", "zunionstore d -1 a", "zunionstore d 99999999999 a", "blmpop 0 2 a b left",
		"set k v get", "mset a 1 b", "bitfield k set i8 0 1", "georadius k 1 2 3 m store x",
		"sort k store d", "migrate h p k 0 5 keys a b", "xread count 1 streams a b 0 0", "eval s 1 k",
	} {
		f.Add(seed)
	}
	tab := newCommandTable()
	rc := loadRedisCommands()
	f.Fuzz(func(t *testing.T, line string) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			return
		}
		args := make([][]byte, len(fields))
		for i, a := range fields {
			args[i] = []byte(a)
		}
		specs := []*cmdSpec{}
		if s := tab.lookup(args[0]); s != nil {
			specs = append(specs, s)
		}
		// Every Redis command's key specs, run as if it were in the table.
		if _, ok := rc.info[strings.ToLower(fields[0])]; ok {
			specs = append(specs, &cmdSpec{name: strings.ToLower(fields[0]), arity: -1})
		}
		for _, s := range specs {
			idx, flags, ok := commandKeys(s, args)
			if !ok {
				continue
			}
			if len(flags) != len(idx) {
				t.Fatalf("%q: %d keys, %d flag sets", line, len(idx), len(flags))
			}
			for _, i := range idx {
				if i <= 0 || i >= len(args) {
					t.Fatalf("%q: key index %d outside the arguments", line, i)
				}
			}
		}
	})
}
