package nvme

import (
	"errors"
	"strings"
)

// Errors returned by devices. Errors from a device operation arrive wrapped
// in an *OpError that names the device and file; test them with errors.Is.
var (
	// ErrNotExist reports that a named file does not exist on the device.
	ErrNotExist = errors.New("nvme: file does not exist")
	// ErrFailed reports that the device has been marked failed after
	// repeated errors, or has vanished.
	ErrFailed = errors.New("nvme: device failed")
	// ErrReadOnly reports a write to a device that became read-only.
	ErrReadOnly = errors.New("nvme: device is read-only")
	// ErrUnaligned reports a buffer, offset or length that is not a multiple of Align.
	ErrUnaligned = errors.New("nvme: unaligned I/O")
	// ErrNoSpace reports that a write or reservation does not fit in the
	// device's capacity.
	ErrNoSpace = errors.New("nvme: no space left on device")
	// ErrClosed reports an operation on a closed device or file.
	ErrClosed = errors.New("nvme: device or file closed")
	// ErrBadName reports a file name that is empty, contains '/' or is "."
	// or "..". Devices are flat.
	ErrBadName = errors.New("nvme: bad file name")
	// ErrInjected is the error returned by a Fault device for an injected
	// I/O error.
	ErrInjected = errors.New("nvme: injected I/O error")
)

// OpError is the error returned by a device operation. It names the
// operation, the device and (when there is one) the file, so a log line or
// INFO entry says which drive misbehaved.
type OpError struct {
	Op     string // "read", "write", "sync", "create", "open", "remove", "list", "usage"
	Device string // Device.Name()
	File   string // empty for device-wide operations
	Err    error
}

func (e *OpError) Error() string {
	var sb strings.Builder
	sb.WriteString("nvme: ")
	sb.WriteString(e.Op)
	sb.WriteString(" ")
	sb.WriteString(e.Device)
	if e.File != "" {
		sb.WriteString(": ")
		sb.WriteString(e.File)
	}
	sb.WriteString(": ")
	sb.WriteString(strings.TrimPrefix(e.Err.Error(), "nvme: "))
	return sb.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// deviceError reports whether err says something about the health of the
// device (as opposed to a caller mistake or an expected condition), and so
// counts towards marking it failed.
func deviceError(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrUnaligned), errors.Is(err, ErrNotExist),
		errors.Is(err, ErrBadName), errors.Is(err, ErrClosed),
		errors.Is(err, ErrNoSpace), errors.Is(err, errEOF):
		return false
	}
	return true
}
