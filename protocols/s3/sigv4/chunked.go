package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"
	"sync"
)

const (
	// maxChunkLine bounds a chunk header line (size, extensions, signature).
	maxChunkLine = 4096
	// maxTrailer bounds the whole trailer section.
	maxTrailer = 16 << 10
	// minChunk is the smallest chunk allowed but the last.
	minChunk = 8 << 10
)

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, maxChunkLine) }}

// ChunkedReader decodes an aws-chunked body, verifying chained chunk
// signatures (signed modes) and the signed trailer as it goes, and
// collecting trailing headers. Memory is bounded: chunk data streams
// through; only header lines and the trailer are buffered.
//
// Read returns io.EOF only after the last chunk, the trailer and (for
// signed modes) every signature have been verified, and the decoded length
// matches the declared one. Data of a chunk is returned before that chunk's
// signature is checked, so a caller must not commit anything before EOF.
// Not safe for concurrent use. Call Close to return its buffer.
type ChunkedReader struct {
	br       *bufio.Reader
	mode     PayloadMode
	c        chain
	sc       *scratch // signed modes
	h        hash.Hash
	remain   int64  // data bytes left in the current chunk
	sig      []byte // expected signature of the current chunk
	decoded  int64
	declared int64 // -1: unknown
	lastSize int64 // size of the previous data chunk
	err      error
	trailers []string // name, value pairs, names lower-cased
}

// NewChunkedReader decodes r as the body of the verified request res.
// declared is X-Amz-Decoded-Content-Length, or -1 when absent.
func NewChunkedReader(r io.Reader, res *Result, declared int64) *ChunkedReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	cr := &ChunkedReader{br: br, mode: res.Mode, declared: declared, remain: -1}
	if cr.signedChunks() {
		cr.c = res.chainStart()
		cr.h = sha256.New()
		cr.sc = getScratch()
	}
	return cr
}

func (c *ChunkedReader) signedChunks() bool {
	return c.mode == PayloadStreaming || c.mode == PayloadStreamingTrailer
}

// Close returns the reader's buffer to the pool. It does not close the
// underlying reader.
func (c *ChunkedReader) Close() error {
	if c.br != nil {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
	}
	if c.sc != nil {
		putScratch(c.sc)
		c.sc = nil
	}
	if c.err == nil {
		c.err = io.ErrClosedPipe
	}
	return nil
}

// Trailer returns the value of a trailing header (lower-case name), or "".
// Valid after Read returned io.EOF.
func (c *ChunkedReader) Trailer(name string) string {
	for i := 0; i+1 < len(c.trailers); i += 2 {
		if c.trailers[i] == name {
			return c.trailers[i+1]
		}
	}
	return ""
}

// HasTrailers reports whether the body carried trailing headers.
func (c *ChunkedReader) HasTrailers() bool { return len(c.trailers) > 0 }

// Decoded is the number of data bytes returned so far.
func (c *ChunkedReader) Decoded() int64 { return c.decoded }

func (c *ChunkedReader) fail(err error) (int, error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrChunkFormat
	}
	c.err = err
	return 0, err
}

// Read implements io.Reader.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.remain <= 0 {
		if c.remain == 0 {
			if err := c.endChunk(); err != nil {
				return c.fail(err)
			}
		}
		size, err := c.chunkHeader()
		if err != nil {
			return c.fail(err)
		}
		if size == 0 {
			if err := c.finish(); err != nil {
				return c.fail(err)
			}
			c.err = io.EOF
			return 0, io.EOF
		}
		c.remain = size
	}
	if int64(len(p)) > c.remain {
		p = p[:c.remain]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.remain -= int64(n)
		c.decoded += int64(n)
		if c.declared >= 0 && c.decoded > c.declared {
			return c.fail(ErrIncompleteBody)
		}
		return n, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return c.fail(err)
}

// endChunk checks the CRLF after a chunk's data and its signature.
func (c *ChunkedReader) endChunk() error {
	if err := c.expectCRLF(); err != nil {
		return err
	}
	c.remain = -1
	return c.verifyChunk()
}

func (c *ChunkedReader) expectCRLF() error {
	for _, want := range [2]byte{'\r', '\n'} {
		b, err := c.br.ReadByte()
		if err != nil {
			return err
		}
		if b != want {
			return ErrChunkFormat
		}
	}
	return nil
}

func (c *ChunkedReader) verifyChunk() error {
	if c.h == nil {
		return nil
	}
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], c.h.Sum(c.sc.sum[:0]))
	c.h.Reset()
	if !equalHex(c.c.next(c.sc, hexSum[:]), c.sig) {
		return ErrChunkSignature
	}
	return nil
}

// readLine returns one line without its LF (and CR), bounded.
func (c *ChunkedReader) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, ErrChunkFormat
	}
	if err != nil {
		// The partial line, for the caller to judge.
		return line, err
	}
	line = line[:len(line)-1]
	return bytes.TrimSuffix(line, []byte{'\r'}), nil
}

// chunkHeader parses "hex[;chunk-signature=sig][;ext]" ending in CRLF.
func (c *ChunkedReader) chunkHeader() (int64, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return 0, ErrChunkFormat
	}
	if err != nil {
		return 0, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return 0, ErrChunkFormat
	}
	line = line[:len(line)-2]
	sizePart, ext, _ := bytes.Cut(line, []byte{';'})
	size, ok := parseHex(bytes.TrimSpace(sizePart))
	if !ok {
		return 0, ErrChunkFormat
	}
	if c.declared >= 0 && size > c.declared-c.decoded {
		return 0, c.overlong(size)
	}
	if size > 0 && c.lastSize > 0 && c.lastSize < minChunk {
		return 0, ErrChunkTooSmall
	}
	c.lastSize = size
	c.sig = c.sig[:0]
	for len(ext) > 0 {
		var kv []byte
		kv, ext, _ = bytes.Cut(ext, []byte{';'})
		if k, v, ok := bytes.Cut(kv, []byte{'='}); ok && string(bytes.TrimSpace(k)) == "chunk-signature" {
			c.sig = append(c.sig[:0], bytes.TrimSpace(v)...)
		}
	}
	if c.signedChunks() && (len(c.sig) != 64 || !isLowerHex(c.sig)) {
		return 0, ErrChunkFormat
	}
	if size == 0 {
		// The final chunk carries no data; its signature covers none.
		if err := c.verifyChunk(); err != nil {
			return 0, err
		}
	}
	return size, nil
}

// maxOverlong bounds the data of a chunk longer than the declared length
// that is read to tell a malformed body from a length mismatch.
const maxOverlong = 1 << 20

// overlong reports a chunk that claims more data than the declared
// length leaves. As S3 does, a chunk whose data does not end where its
// size says is a malformed body (ErrChunkFormat); a well-formed one is a
// length mismatch (ErrIncompleteBody). The data is discarded, never
// returned.
func (c *ChunkedReader) overlong(size int64) error {
	if size > maxOverlong {
		return ErrIncompleteBody
	}
	if _, err := io.CopyN(io.Discard, c.br, size); err != nil {
		return ErrChunkFormat
	}
	if err := c.expectCRLF(); err != nil {
		return ErrChunkFormat
	}
	return ErrIncompleteBody
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		var d byte
		switch {
		case '0' <= ch && ch <= '9':
			d = ch - '0'
		case 'a' <= ch && ch <= 'f':
			d = ch - 'a' + 10
		case 'A' <= ch && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// finish reads the trailer section after the final chunk up to the end of
// the body. Lines end in CRLF or, as some clients send, a bare LF; blank
// lines are skipped.
func (c *ChunkedReader) finish() error {
	var canon strings.Builder
	sigSeen := false
	total := 0
	// ended: the last line read was blank (the section's terminator).
	ended := false
	for {
		line, err := c.readLine()
		if err == io.EOF {
			// The section ends with a blank line; its line break may be
			// missing. A body that stops elsewhere is cut short.
			if len(bytes.TrimSpace(line)) > 0 || !ended && len(line) == 0 {
				return ErrChunkFormat
			}
			break
		}
		if err != nil {
			return err
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			// A bare CR: the body's line structure is broken.
			return ErrChunkFormat
		}
		total += len(line) + 2
		if total > maxTrailer {
			return ErrMalformedTrailer
		}
		if ended = len(bytes.TrimSpace(line)) == 0; ended {
			continue
		}
		name, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return ErrMalformedTrailer
		}
		n := strings.ToLower(string(bytes.TrimSpace(name)))
		v := string(bytes.TrimSpace(val))
		if n == "x-amz-trailer-signature" {
			if c.mode != PayloadStreamingTrailer || sigSeen {
				return ErrMalformedTrailer
			}
			sigSeen = true
			if len(v) != 64 || !isLowerHex(v) {
				return ErrChunkFormat
			}
			if len(c.trailers) == 0 {
				return ErrMalformedTrailer
			}
			got := c.c.trailer(c.sc, c.sc.sha256Hex([]byte(canon.String())))
			if !equalHex(got, v) {
				return ErrChunkSignature
			}
			continue
		}
		if sigSeen || c.mode == PayloadStreaming {
			return ErrMalformedTrailer
		}
		if c.mode == PayloadStreamingTrailer && len(c.trailers) > 0 {
			// One trailer, then its signature: anything else means the
			// body is not what its framing says.
			return ErrChunkFormat
		}
		canon.WriteString(n + ":" + v + "\n")
		c.trailers = append(c.trailers, n, v)
	}
	if c.mode == PayloadStreamingTrailer && !sigSeen && len(c.trailers) > 0 {
		return ErrMalformedTrailer
	}
	if c.declared >= 0 && c.decoded != c.declared {
		return ErrIncompleteBody
	}
	return nil
}
