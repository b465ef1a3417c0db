package client

import "errors"

// ErrNotFound is returned by Get for a key that does not exist.
var ErrNotFound = errors.New("client: no such key")

// ErrForeignBuffer is returned for a Buffer of another Client.
var ErrForeignBuffer = errors.New("client: buffer belongs to another client")

// ErrRange is returned for an offset and length outside the Buffer.
var ErrRange = errors.New("client: range outside the buffer")

// ServerError is an error reply, verbatim.
type ServerError struct{ Text string }

func (e *ServerError) Error() string { return e.Text }

// ProtocolError is a reply the client could not make sense of.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "client: protocol error: " + e.Msg }

// CRCError is a fetched value whose CRC32C differs from the server's.
type CRCError struct{ Got, Want uint32 }

func (e *CRCError) Error() string {
	return "client: value crc32c mismatch"
}
