package resp_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// A script is a datadriven file of blocks separated by blank lines:
//
//	# comment
//	SET k v          <- commands, sent on one connection
//	GET k
//	----             <- "---- contains": the expected lines must appear in
//	OK                  order among the output lines, others may come between
//	"v"
//
// An expected line starting with "~ " is a regular expression the whole
// output line must match. Run with -rewrite to replace the expectations
// of exact blocks without regular expressions by the actual output.
type scriptBlock struct {
	line     int // of the first command, for messages
	cmds     []string
	contains bool
	expect   []string
}

func parseScript(t *testing.T, path string) []scriptBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []scriptBlock
	var cur *scriptBlock
	inExpect := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if cur != nil {
				if !inExpect {
					t.Fatalf("%s:%d: block without ----", path, cur.line)
				}
				blocks = append(blocks, *cur)
			}
			cur, inExpect = nil, false
		case inExpect:
			cur.expect = append(cur.expect, line)
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "----"):
			if cur == nil {
				t.Fatalf("%s:%d: ---- without commands", path, n)
			}
			mode := strings.TrimSpace(strings.TrimPrefix(line, "----"))
			switch mode {
			case "":
			case "contains":
				cur.contains = true
			default:
				t.Fatalf("%s:%d: unknown mode %q", path, n, mode)
			}
			inExpect = true
		default:
			if cur == nil {
				cur = &scriptBlock{line: n}
			}
			cur.cmds = append(cur.cmds, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		if !inExpect {
			t.Fatalf("%s:%d: block without ----", path, cur.line)
		}
		blocks = append(blocks, *cur)
	}
	return blocks
}

// hasPatterns reports whether the block's expectations need matching
// rather than equality (and so cannot be rewritten).
func (b *scriptBlock) hasPatterns() bool {
	if b.contains {
		return true
	}
	for _, e := range b.expect {
		if strings.HasPrefix(e, "~ ") {
			return true
		}
	}
	return false
}

func lineMatches(expect, got string) bool {
	if re, ok := strings.CutPrefix(expect, "~ "); ok {
		m, err := regexp.MatchString("^(?:"+re+")$", got)
		return err == nil && m
	}
	return expect == got
}

// check compares actual output lines with the block's expectation and
// returns a description of the first difference, or "".
func (b *scriptBlock) check(got []string) string {
	if b.contains {
		i := 0
		for _, g := range got {
			if i < len(b.expect) && lineMatches(b.expect[i], g) {
				i++
			}
		}
		if i < len(b.expect) {
			return fmt.Sprintf("expected line %q not found (in order) in output", b.expect[i])
		}
		return ""
	}
	for i := 0; i < max(len(got), len(b.expect)); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("output ends before expected line %d %q", i+1, b.expect[i])
		case i >= len(b.expect):
			return fmt.Sprintf("unexpected extra output line %d %q", i+1, got[i])
		case !lineMatches(b.expect[i], got[i]):
			return fmt.Sprintf("line %d: got %q, want %q", i+1, got[i], b.expect[i])
		}
	}
	return ""
}

// rewriteScript writes the script back with the given blocks' expectations
// replaced by their actual output. Comments and order are kept.
func rewriteScript(t *testing.T, path string, actual map[int][]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if !strings.HasPrefix(lines[i], "----") {
			continue
		}
		// Find the block's first command line number.
		start := i
		for start > 0 && strings.TrimSpace(lines[start-1]) != "" && !strings.HasPrefix(lines[start-1], "#") {
			start--
		}
		got, ok := actual[start+1]
		if !ok {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "" {
			j++
		}
		out = append(out, got...)
		i = j - 1
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
