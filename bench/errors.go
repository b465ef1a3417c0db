package bench

import (
	"errors"
	"fmt"
)

// Errors reported by the load path. Operation-level failures (an error reply,
// wrong bytes, a value that went missing) are counted per phase and do not stop
// the run; connection-level failures end the worker that saw them.
var (
	// ErrProtocol reports a reply that does not follow the protocol or does
	// not fit the request (for example a bulk reply to SET).
	ErrProtocol = errors.New("bench: protocol violation")
	// ErrCorrupt reports a GET reply whose bytes are not the bytes written.
	ErrCorrupt = errors.New("bench: corrupt value")
	// ErrLost reports a key that was written and acknowledged but is missing.
	ErrLost = errors.New("bench: acknowledged value missing")
	// ErrUnreachable reports an endpoint that did not answer; workloads that
	// see it are skipped with a message rather than failed.
	ErrUnreachable = errors.New("bench: endpoint unreachable")
)

// ReplyError is an error reply from the server (RESP "-ERR ...", or an S3
// error), carried per operation.
type ReplyError struct {
	Msg string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("bench: error reply: %s", e.Msg) }
