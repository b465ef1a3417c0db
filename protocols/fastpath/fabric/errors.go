package fabric

import (
	"errors"
	"fmt"
)

// ErrUnavailable is returned by Open when the binary was built without
// the fabric (no build tag "fabric").
var ErrUnavailable = errors.New("fabric: not built in (build with -tags fabric and libfabric-dev installed)")

// ErrTimeout is returned by Batch.Wait when the operations did not all
// complete before the deadline. They may still complete later: the memory
// they use stays owned by the batch until Done is closed.
var ErrTimeout = errors.New("fabric: transfer timed out")

// ErrCanceled is returned by Batch.WaitOr when its stop channel closed
// first (the peer went away). As with ErrTimeout, the operations may still
// complete later.
var ErrCanceled = errors.New("fabric: transfer abandoned: the client went away")

// ErrClosed is returned for operations on a closed endpoint.
var ErrClosed = errors.New("fabric: endpoint closed")

// Error is a libfabric call's failure: the call and libfabric's error
// code (positive, as in fi_errno.h) with its text.
type Error struct {
	Op   string
	Code int
	Text string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Op, e.Text) }
