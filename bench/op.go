package bench

import (
	"io"
	"net"
	"time"
)

// OpKind is the kind of a key-value operation.
type OpKind uint8

const (
	// OpSet writes a value (RESP SET, raw upload).
	OpSet OpKind = iota
	// OpGet reads a value (RESP GET, raw download).
	OpGet
	// OpExists asks whether a key exists (RESP EXISTS with one key).
	OpExists
	// OpDel deletes a key (RESP DEL with one key).
	OpDel
)

func (k OpKind) String() string {
	return [...]string{"set", "get", "exists", "del"}[k]
}

// Op is one operation in a batch handed to Client.Do. The caller fills the
// request fields; Do fills the result fields. Key and Literal are borrowed
// for the duration of Do only.
type Op struct {
	Kind OpKind
	Key  []byte
	// Size and Stamp describe the value written by OpSet and the value
	// expected by OpGet when the key is found (see Payload).
	Size  int
	Stamp uint64
	// Literal, when non-nil, is the exact value instead of a Payload value
	// (the Python connector's small metadata records).
	Literal []byte

	// Found reports, for OpGet and OpExists, that the key existed, and for
	// OpDel that it was deleted.
	Found bool
	// Lat is the time from the start of the batch's write until this
	// operation's reply had been read completely.
	Lat time.Duration
	// Err is an operation-level failure: an error reply or a value that
	// failed verification. It does not affect the other operations.
	Err error
}

// ValueSize returns the number of value bytes the operation moves when it
// succeeds (and, for a read, finds its key).
func (op *Op) ValueSize() int {
	if op.Literal != nil {
		return len(op.Literal)
	}
	return op.Size
}

// Client runs batches of operations over one connection.
//
// Do writes every request of the batch with one scatter-gather write before
// it reads any reply, then reads the replies in order; a batch of one is a
// plain request/response round trip. It returns an error only when the
// connection is no longer usable; per-operation failures are reported in
// Op.Err. A Client is not safe for concurrent use: each worker owns one.
type Client interface {
	Do(ops []Op) error
	Close() error
}

// inlineMax is the largest value slice copied into the contiguous request
// buffer; larger slices go out as their own iovec, by reference.
const inlineMax = 16 << 10

// iovecs builds one batch of requests as net.Buffers: small pieces are
// appended to one contiguous buffer, large values are spliced in by
// reference. All storage is reused from batch to batch.
type iovecs struct {
	small []byte
	marks []iovMark
	out   net.Buffers // NB: a field, so WriteTo's pointer receiver does not escape a local.
	keep  net.Buffers
}

type iovMark struct {
	at int
	b  []byte
}

func (v *iovecs) reset() {
	v.small = v.small[:0]
	clear(v.marks) // drop references to value memory
	v.marks = v.marks[:0]
}

// large splices b into the stream at the current position.
func (v *iovecs) large(b []byte) {
	if len(b) <= inlineMax {
		v.small = append(v.small, b...)
		return
	}
	v.marks = append(v.marks, iovMark{at: len(v.small), b: b})
}

// writeTo writes the batch with writev when w supports it.
func (v *iovecs) writeTo(w io.Writer) (int64, error) {
	bufs := v.keep[:0]
	prev := 0
	for _, m := range v.marks {
		if m.at > prev {
			bufs = append(bufs, v.small[prev:m.at])
		}
		bufs = append(bufs, m.b)
		prev = m.at
	}
	if len(v.small) > prev {
		bufs = append(bufs, v.small[prev:])
	}
	v.keep = bufs // WriteTo consumes out (and nils the entries); keep holds the backing array
	v.out = bufs
	n, err := v.out.WriteTo(w)
	v.out = nil
	return n, err
}
