package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/internal/bytesize"
)

// ParseBytes parses a size key's value: KVRocks's units (k, m, g, t, p
// are powers of 1024) and Redis's spellings kb, mb, gb, tb; the same parser
// reads the config file, the command line and CONFIG SET (bytesize).
func ParseBytes(s string) (int64, error) { return bytesize.Parse(s) }

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

// checkNoReplication refuses a replica's configuration: there is no
// replication here, and starting anyway would serve writes where a
// read-only replica was configured.
func checkNoReplication(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return errors.New("replication is not supported (a replica's configuration would start a writable master, also in cluster mode); remove slaveof/replicaof from the configuration")
}

// checkCursorCompatible accepts only yes: SCAN cursors are always numbers
// here (KVRocks's string cursors of "no" are not implemented).
func checkCursorCompatible(v string) error {
	if v != "yes" {
		return errors.New("only yes is supported: SCAN cursors are numbers")
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

// checkSendByReference accepts dram-send-by-reference: yes, no, or auto
// (a start-up probe picks).
func checkSendByReference(v string) error {
	if v != "yes" && v != "no" && v != "auto" {
		return errors.New("want yes, no or auto")
	}
	return nil
}
