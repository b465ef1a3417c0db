package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

// ParseBytes parses a size the way Redis and KVRocks config files write
// them: a plain number of bytes, or with a unit — k/m/g (powers of 1000)
// and kb/mb/gb (powers of 1024), case-insensitive.
func ParseBytes(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size out of range: %q", s)
	}
	return n * mult, nil
}

// ParseEC parses "K+M".
func ParseEC(s string) (k, m int, err error) {
	a, b, ok := strings.Cut(s, "+")
	if !ok {
		return 0, 0, errors.New("want K+M, e.g. 4+2")
	}
	k, err1 := strconv.Atoi(a)
	m, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || k < 1 || m < 0 || k+m > 256 {
		return 0, 0, errors.New("want K+M with K >= 1, M >= 0, K+M <= 256")
	}
	return k, m, nil
}

func checkBytes(v string) error { _, err := ParseBytes(v); return err }

func checkEC(v string) error { _, _, err := ParseEC(v); return err }

func checkPolicy(v string) error {
	if _, ok := engine.ParsePolicy(v); !ok {
		return errors.New("want noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random or volatile-ttl")
	}
	return nil
}

func checkBool(v string) error {
	if v != "yes" && v != "no" {
		return errors.New("want yes or no")
	}
	return nil
}

func checkSendByReference(v string) error {
	if v != "yes" && v != "no" && v != "auto" {
		return errors.New("want yes, no or auto")
	}
	return nil
}

func checkPort(v string) error { return checkInt(0, 65535)(v) }

func checkInt(lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		if n < lo || n > hi {
			return fmt.Errorf("out of range [%d, %d]", lo, hi)
		}
		return nil
	}
}
