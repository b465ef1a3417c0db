package resp

import (
	"errors"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

// Reply error texts, worded as KVRocks words them (Redis where KVRocks has
// no equivalent). Each carries its prefix.
const (
	errSyntax          = "ERR syntax error"
	errWrongArgs       = "ERR wrong number of arguments"
	errNotInteger      = "ERR value is not an integer or out of range"
	errNotFloat        = "ERR value is not a valid float"
	errNoAuth          = "NOAUTH Authentication required."
	errNoPassword      = "ERR Client sent AUTH, but no password is set"
	errInvalidPassword = "ERR Invalid password"
	errAdminRequired   = "ERR admin permission required to perform the command"
	errNoSuchKey       = "ERR no such key"
	errInvalidExpire   = "ERR invalid expire time"
	errWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errMaxClients      = "ERR max number of clients reached"
	errStringTooLong   = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errOffsetRange     = "ERR offset is out of range"
	errIncrOverflow    = "ERR increment or decrement would overflow"
	errIncrNaN         = "ERR increment would produce NaN or Infinity"
	errInvalidCursor   = "ERR invalid cursor"
	errNoReplication   = "ERR replication is not supported: this server runs standalone only (SLAVEOF NO ONE is accepted)"
)

// errOutputLimit reports a malformed output-buffer-limit.
var errOutputLimit = errors.New("want <hard> [<soft> <soft-seconds>], or normal <hard> <soft> <soft-seconds> groups as client-output-buffer-limit")

// engineErrors is the one table from engine errors to reply errors.
var engineErrors = []struct {
	err  error
	text string
}{
	{engine.ErrWrongType, errWrongType},
	{engine.ErrNotInteger, errNotInteger},
	{engine.ErrNotFloat, errNotFloat},
	{engine.ErrNoSpace, "OOM command not allowed when used memory > 'maxmemory'."},
	{engine.ErrBusy, "BUSY memory for incoming values is exhausted, try again later"},
	{engine.ErrTooLarge, "ERR value is larger than the DRAM tier can hold"},
	{engine.ErrCorrupt, "ERR stored data failed its checksum and could not be reconstructed"},
	{engine.ErrClosed, "ERR server is shutting down"},
	{engine.ErrNotFound, errNoSuchKey},
	{engine.ErrKeyspaceExists, "ERR namespace already exists"},
	{engine.ErrKeyspaceNotFound, "ERR namespace not found"},
	{engine.ErrKeyspaceNotEmpty, "ERR namespace is not empty"},
}

// replyError is an error that is already a reply text.
type replyError string

func (e replyError) Error() string { return string(e) }

// errorText maps an error to the reply it is answered with.
func errorText(err error) string {
	var re replyError
	if errors.As(err, &re) {
		return string(re)
	}
	for _, m := range engineErrors {
		if errors.Is(err, m.err) {
			return m.text
		}
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return "ERR " + pe.Error()
	}
	return "ERR " + strings.TrimPrefix(err.Error(), "engine: ")
}
