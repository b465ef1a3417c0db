package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// multiKeys are keys that may appear on several lines, each line one value
// (KVRocks's rename-command); REWRITE leaves their lines as they are.
var multiKeys = map[string]bool{"rename-command": true}

// Rewrite is CONFIG REWRITE. The file keeps its comments, unknown lines
// and order. A key's current value goes where its last line was (the line
// that took effect when the file was read); earlier lines of the same key
// are dropped, so the file never holds two values of one key, as Redis's
// rewrite does. Keys set since that have no line are appended, unless they
// still hold their default.
//
// The new file replaces the old one atomically: it is written to a
// temporary file in the same directory with the old file's mode (the file
// may hold requirepass: a 0600 file stays 0600) and owner, synced, renamed
// over the old one, and the directory is synced, so a crash leaves either
// the old file or the new one, never a mix.
func (c *Config) Rewrite() error {
	c.rewriteMu.Lock()
	defer c.rewriteMu.Unlock()
	c.mu.RLock()
	if c.file == "" {
		c.mu.RUnlock()
		//lint:ignore ST1005 Redis's own reply text, which clients show.
		return errors.New("The server is running without a config file")
	}
	text := c.rewrittenLocked()
	name := c.file
	c.mu.RUnlock()
	if err := replaceFile(name, []byte(text)); err != nil {
		return fmt.Errorf("cannot rewrite config file: %w", err)
	}
	c.mu.Lock()
	c.lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	c.mu.Unlock()
	return nil
}

// rewrittenLocked builds the new file text; c.mu is held.
func (c *Config) rewrittenLocked() string {
	last := make(map[string]int) // key -> index of its last line
	for i, line := range c.lines {
		if key, _, ok := parseLine(line); ok {
			last[key] = i
		}
	}
	written := make(map[string]bool)
	var b strings.Builder
	for i, line := range c.lines {
		key, _, ok := parseLine(line)
		v, set := c.values[key]
		if !ok || !set || multiKeys[key] {
			b.WriteString(line)
			b.WriteByte('\n')
			continue
		}
		if last[key] != i {
			continue // an earlier duplicate: the value goes to the last line
		}
		written[key] = true
		fmt.Fprintf(&b, "%s %s\n", key, quoteValue(v))
	}
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if written[k] || multiKeys[k] {
			continue
		}
		if d := defsByName[k]; d != nil && d.def == c.values[k] {
			continue // still the default: leave it out
		}
		fmt.Fprintf(&b, "%s %s\n", k, quoteValue(c.values[k]))
	}
	return b.String()
}

// replaceFile atomically replaces the file name (following a symbolic link
// to the file it names) with data, keeping the old file's mode and, where
// permitted, its owner.
func replaceFile(name string, data []byte) error {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	mode := fs.FileMode(0o600) // a new file may hold secrets
	uid, gid := -1, -1
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".rewrite-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// NB: CreateTemp makes the file 0600; set the old mode explicitly
	// (Chmod is not subject to the umask).
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if uid >= 0 && (uid != os.Getuid() || gid != os.Getgid()) {
		f.Chown(uid, gid) // best effort: only root may give a file away
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
