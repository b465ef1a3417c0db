package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseSlotRanges parses CLUSTERX SETSLOT's slots: space-separated slots
// and first-last ranges (first <= last), with KVRocks's error texts.
func ParseSlotRanges(s string) ([]SlotRange, error) {
	if s == "" {
		return nil, errors.New("No slots to parse.")
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("Invalid slots: `%s`. No slots to parse. Please use spaces to separate slots.", s)
	}
	var out []SlotRange
	for _, f := range fields {
		if !strings.Contains(f, "-") {
			n, msg := parseSlotNumber(f)
			if msg != "" {
				return nil, fmt.Errorf("%s: %s", ErrInvalidSlotID, msg)
			}
			out = append(out, SlotRange{n, n})
			continue
		}
		if f[0] == '-' || f[len(f)-1] == '-' {
			return nil, fmt.Errorf("Invalid slot range: `%s`. The character '-' can't appear in the first or last position.", f)
		}
		parts := strings.FieldsFunc(f, func(r rune) bool { return r == '-' })
		if len(parts) != 2 {
			return nil, fmt.Errorf("Invalid slot range: `%s`. The slot range should be of the form `int1-int2`.", f)
		}
		a, m1 := parseSlotNumber(parts[0])
		b, m2 := parseSlotNumber(parts[1])
		if m1 != "" || m2 != "" || a > b {
			return nil, fmt.Errorf("Invalid slot range: `%s`. The slot range `int1-int2` needs to satisfy the condition (int1 <= int2).", f)
		}
		out = append(out, SlotRange{a, b})
	}
	return out, nil
}

// parseSlotNumber parses a slot number; the message is KVRocks's integer
// parser's when it fails.
func parseSlotNumber(s string) (int, string) {
	n, err := strconv.Atoi(s)
	switch {
	case err == nil && (n < 0 || n >= Slots):
		return 0, "out of numeric range"
	case err == nil:
		return n, ""
	case errors.Is(err, strconv.ErrRange):
		return 0, "out of range of integer type"
	case s == "" || !(s[0] == '-' || s[0] == '+' || '0' <= s[0] && s[0] <= '9'):
		return 0, "not started as an integer"
	}
	return 0, "encounter non-integer characters"
}

// Save writes the version, this node's id and the topology to path in
// KVRocks's nodes file format ("version N", "id ID", "node <SETNODES
// line>"), through a temporary file renamed into place. Before a topology
// is set there is nothing to keep, and path is removed.
func (s *State) Save(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.view.Load()
	if !v.Initialized() {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b := fmt.Appendf(nil, "version %d\nid %s\n", v.Version, v.MyID)
	for _, line := range strings.SplitAfter(string(v.Topology.AppendText(nil)), "\n") {
		if line != "" {
			b = append(b, "node "...)
			b = append(b, line...)
		}
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Load reads a nodes file written by Save (or by KVRocks); a missing file
// is not an error and leaves the state uninitialized.
func (s *State) Load(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	version := int64(-1)
	var id string
	var nodes strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		val = strings.TrimSpace(val)
		if val == "" {
			continue
		}
		switch key {
		case "version":
			if version, err = strconv.ParseInt(val, 10, 64); err != nil {
				return fmt.Errorf("%s: %w", path, ErrInvalidVersion)
			}
		case "id":
			if len(val) != NodeIDLen {
				return fmt.Errorf("%s: %w", path, ErrInvalidNodeID)
			}
			id = val
		case "node":
			nodes.WriteString(val + "\n")
		default:
			return fmt.Errorf("%s: unknown key: %s", path, key)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if id != "" {
		if err := s.SetNodeID(id); err != nil {
			return err
		}
	}
	if version < 0 {
		return nil
	}
	if err := s.SetNodes(nodes.String(), version, false); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
