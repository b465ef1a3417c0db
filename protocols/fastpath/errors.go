package fastpath

import "errors"

var (
	// ErrUnavailable: no fabric on this server (not built in, not
	// configured, or it failed to open). The TCP forms still work.
	ErrUnavailable = errors.New("fastpath: fabric unavailable")
	// ErrTooManySessions: fabric-max-sessions sessions are open.
	ErrTooManySessions = errors.New("fastpath: too many fabric sessions")
	// ErrBusy: no transfer slot freed up within the transfer timeout
	// (fabric-max-transfers are in flight).
	ErrBusy = errors.New("fastpath: too many transfers in flight")
	// ErrShort: the client's regions hold less than the value.
	ErrShort = errors.New("fastpath: client regions smaller than the value")
	// ErrSessionClosed: the session ended (its connection closed).
	ErrSessionClosed = errors.New("fastpath: session closed")
	// ErrBadAddress: the peer's fabric address was refused.
	ErrBadAddress = errors.New("fastpath: bad peer address")
)

// TransferError is a failed fi_write (Write) or fi_read transfer.
type TransferError struct {
	Write bool
	Err   error
}

func (e *TransferError) Error() string {
	if e.Write {
		return "write to client memory failed: " + e.Err.Error()
	}
	return "read from client memory failed: " + e.Err.Error()
}

func (e *TransferError) Unwrap() error { return e.Err }
