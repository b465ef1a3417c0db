package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key on two lines: the second took effect on load, so CONFIG SET then
// REWRITE must leave one line with the new value, which a restart reads.
func TestRewriteDuplicateKeyKeepsNewValue(t *testing.T) {
	f := filepath.Join(t.TempDir(), "g.conf")
	os.WriteFile(f, []byte("timeout 5\n# later override\ntimeout 10\nport 7001\n"), 0o644)
	c := NewConfig(nil)
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	if c.Int("timeout") != 10 {
		t.Fatalf("loaded timeout %d, want the last line's 10", c.Int("timeout"))
	}
	if err := c.SetRuntime("timeout", "30"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	if want := "# later override\ntimeout 30\nport 7001\n"; string(b) != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", b, want)
	}
	c2 := NewConfig(nil)
	if err := c2.Load(f); err != nil || c2.Int("timeout") != 30 {
		t.Fatalf("after restart timeout = %d (%v), want 30", c2.Int("timeout"), err)
	}
	// A second rewrite starts from the rewritten file and changes nothing.
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(f); string(b2) != string(b) {
		t.Fatalf("second rewrite changed the file:\n%s", b2)
	}
}

// The file may hold requirepass: its mode survives REWRITE, and no
// temporary file is left behind.
func TestRewriteKeepsModeAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "g.conf")
	os.WriteFile(f, []byte("requirepass old\n"), 0o600)
	os.Chmod(f, 0o600)
	c := NewConfig(nil)
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	c.SetRuntime("requirepass", "new")
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rewrite %v, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory after rewrite: %v", ents)
	}
	if b, _ := os.ReadFile(f); string(b) != "requirepass new\n" {
		t.Fatalf("file %q", b)
	}
}

// A rewrite through a symbolic link replaces the file it names, not the
// link.
func TestRewriteFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.conf")
	link := filepath.Join(dir, "link.conf")
	os.WriteFile(real, []byte("timeout 1\n"), 0o640)
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	c := NewConfig(nil)
	if err := c.Load(link); err != nil {
		t.Fatal(err)
	}
	c.SetRuntime("timeout", "2")
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v %v", fi, err)
	}
	b, _ := os.ReadFile(real)
	if !strings.Contains(string(b), "timeout 2") {
		t.Fatalf("target file %q", b)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

// Lines of a key that may repeat stay as they are.
func TestRewriteKeepsMultiValueLines(t *testing.T) {
	f := filepath.Join(t.TempDir(), "g.conf")
	os.WriteFile(f, []byte("rename-command KEYS \"\"\nrename-command FLUSHALL x\ntimeout 1\n"), 0o644)
	c := NewConfig(nil)
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	c.SetRuntime("timeout", "2")
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	if want := "rename-command KEYS \"\"\nrename-command FLUSHALL x\ntimeout 2\n"; string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
}

// FuzzRewriteRoundTrip: whatever file loads, its rewrite loads back to the
// same values, and a second rewrite changes nothing.
func FuzzRewriteRoundTrip(f *testing.F) {
	for _, s := range []string{
		"timeout 5\ntimeout 10\n", "# c\nrequirepass \"a b\"\nport 7001\n",
		"rename-command KEYS \"\"\nnamespace.x tok\n", "maxclients 5\n\n  maxclients   6  \n",
		"dram-cache-size 1k\nlog-level warning\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "g.conf")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c := NewConfig(nil)
		if c.Load(file) != nil {
			return
		}
		if err := c.Rewrite(); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		first, _ := os.ReadFile(file)
		c2 := NewConfig(nil)
		if err := c2.Load(file); err != nil {
			t.Fatalf("rewritten file does not load: %v\n%s", err, first)
		}
		for k, v := range c.values {
			if multiKeys[k] {
				continue
			}
			if c2.values[k] != v {
				t.Fatalf("%s: %q after rewrite, was %q\nfile:\n%s", k, c2.values[k], v, first)
			}
		}
		if err := c2.Rewrite(); err != nil {
			t.Fatal(err)
		}
		if second, _ := os.ReadFile(file); string(second) != string(first) {
			t.Fatalf("second rewrite changed the file:\n%s\n---\n%s", first, second)
		}
	})
}

// A value CONFIG SET gave, with a newline or a control byte, survives
// REWRITE and a restart instead of breaking the file.
func TestRewriteQuotesUnprintableValues(t *testing.T) {
	f := filepath.Join(t.TempDir(), "g.conf")
	os.WriteFile(f, []byte("port 7001\n"), 0o600)
	c := NewConfig(nil)
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	pass := "line1\nport 1\x00#\"x\""
	if err := c.SetRuntime("requirepass", pass); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	c2 := NewConfig(nil)
	if err := c2.Load(f); err != nil || c2.Get("requirepass") != pass || c2.Int("port") != 7001 {
		b, _ := os.ReadFile(f)
		t.Fatalf("reload: %v, requirepass %q, port %d\n%s", err, c2.Get("requirepass"), c2.Int("port"), b)
	}
}
