package s3

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

var (
	errBodyTimeout   = errors.New("s3: request body idle timeout")
	errBodyTooLarge  = errors.New("s3: request body too large")
	errUnexpectedEOF = errors.New("s3: request body ended early")
	errBodyClosed    = errors.New("s3: request body read after close")
)

// bodyReader streams a request body, decoding aws-chunked encoding and
// computing, as the bytes flow, the MD5 (the ETag), the payload SHA-256
// and the flexible checksum the request asked for. Read returns io.EOF
// only after every digest matched what the request declared; a mismatch
// comes back as the error of the final Read, before anything is committed.
type bodyReader struct {
	src     io.Reader
	chunked *sigv4.ChunkedReader
	rc      *http.ResponseController
	idle    time.Duration
	lastDL  time.Time

	md5     hash.Hash // MD5, or xxhash with fast (see Config.FastETag)
	eh      etagHash  // the MD5 behind md5, released by close
	fast    bool
	sha     hash.Hash
	wantSHA string
	wantMD5 []byte
	ck      hash.Hash
	cksum   requestChecksum
	crc64   hash.Hash // a CRC64NVME the server keeps besides ck (see withCRC64)
	// crc64Shared: ck is the CRC64NVME withCRC64 asked for.
	crc64Shared bool

	size  int64 // decoded length, -1 if unknown
	max   int64
	n     int64
	stats *serverStats // counts n at close
	done  bool
	err   error

	// sizeHint, when size is unknown, is the most the body can hold
	// (0: no idea); it sizes the first buffer of a small body.
	sizeHint int64

	// Results, valid after EOF.
	md5Sum   [md5.Size]byte
	checksum string // base64 of the computed flexible checksum
	crc64Sum string // base64 CRC64NVME, with withCRC64
}

// newBodyReader prepares the body of r. size is the decoded length or -1.
// With objectBody=false (XML bodies of Complete and DeleteObjects) the
// x-amz-checksum-* headers are not about the body and are left alone,
// except that DeleteObjects passes its body checksum in them: see
// newXMLBodyReader.
func (s *Server) newBodyReader(w http.ResponseWriter, r *http.Request, auth *sigv4.Result, max int64) (*bodyReader, error) {
	return s.newBody(w, r, auth, max, true)
}

// newXMLBodyReader reads a small XML body; its checksum headers are
// verified only when they describe the body (bodyChecksum).
func (s *Server) newXMLBodyReader(req *request, bodyChecksum bool) (*bodyReader, error) {
	return s.newBody(req.w, req.r, req.auth, maxXMLBody, bodyChecksum)
}

func (s *Server) newBody(w http.ResponseWriter, r *http.Request, auth *sigv4.Result, max int64, bodyChecksum bool) (*bodyReader, error) {
	b := &bodyReader{src: r.Body, idle: s.cfg.BodyIdleTimeout, max: max, size: r.ContentLength, stats: &s.stats}
	if w != nil {
		b.rc = http.NewResponseController(w)
	}
	if auth.Mode.Chunked() {
		v := r.Header.Get("X-Amz-Decoded-Content-Length")
		if v == "" {
			return nil, errMissingContentLength
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, errMissingContentLength
		}
		b.size = n
		b.chunked = sigv4.NewChunkedReader(r.Body, auth, b.size)
		b.src = b.chunked
	} else if auth.Mode == sigv4.PayloadSHA256 {
		b.sha, b.wantSHA = sha256.New(), auth.PayloadHash
	}
	if b.size > max {
		b.close()
		return nil, errEntityTooLarge
	}
	if s.cfg.FastETag && r.Header.Get("Content-Md5") == "" {
		b.md5, b.fast = xxhash.New(), true
	} else {
		b.eh = newETagHash()
		b.md5 = b.eh.Hash
	}
	if vs, ok := r.Header["Content-Md5"]; ok {
		// NB: an empty Content-MD5 is present, and not valid.
		v := vs[0]
		d, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(d) != md5.Size {
			b.close()
			return nil, errInvalidDigest.withFields("Content-MD5", v)
		}
		b.wantMD5 = d
	}
	var ck requestChecksum
	if bodyChecksum || r.Header.Get("X-Amz-Trailer") != "" {
		var err error
		if ck, err = parseRequestChecksum(r.Header); err != nil {
			b.close()
			return nil, err
		}
	}
	if ck.trailer && b.chunked == nil {
		b.close()
		return nil, errInvalidRequest.withMessage("x-amz-trailer requires an aws-chunked body.")
	}
	b.cksum = ck
	if ck.alg != checksumNone {
		b.ck = ck.alg.new()
	}
	return b, nil
}

func (b *bodyReader) close() {
	if b.stats != nil {
		b.stats.in.Add(uint64(b.n))
		b.stats = nil
	}
	b.dropHash()
	if b.err == nil {
		b.err = errBodyClosed // the hashers are gone
	}
	if b.chunked != nil {
		b.chunked.Close()
		b.chunked = nil
	}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.rc != nil && b.idle > 0 {
		// Refresh the idle deadline at most every second.
		if now := time.Now(); now.Sub(b.lastDL) > time.Second {
			b.rc.SetReadDeadline(now.Add(b.idle))
			b.lastDL = now
		}
	}
	n, err := b.src.Read(p)
	if n > 0 {
		d := p[:n]
		b.md5.Write(d)
		if b.sha != nil {
			b.sha.Write(d)
		}
		if b.ck != nil {
			b.ck.Write(d)
		}
		if b.crc64 != nil {
			b.crc64.Write(d)
		}
		b.n += int64(n)
		if b.n > b.max {
			b.dropHash()
			b.err = errBodyTooLarge
			return 0, b.err
		}
	}
	if err == io.EOF {
		if verr := b.verify(); verr != nil {
			b.dropHash()
			b.err = verr
			return n, verr
		}
		b.done = true
		b.err = io.EOF
		return n, io.EOF
	}
	if err != nil {
		// The body is abandoned: stop hashing the caller's memory.
		b.dropHash()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			err = errBodyTimeout
		case errors.Is(err, io.ErrUnexpectedEOF), h2BodyMismatch(err):
			err = errUnexpectedEOF
		}
		b.err = err
	}
	return n, err
}

// inPlace declares that every Read from now on is into engine memory that
// stays unmodified until the body is stored or abandoned (and settle is
// called before a piece of it changes hands), so the ETag MD5 can be
// hashed there asynchronously. Call it before the first Read.
func (b *bodyReader) inPlace(s *Server) {
	if !b.fast && b.n == 0 && b.md5 != nil {
		b.eh.inPlace(&s.md5, b.size)
		b.md5 = b.eh.Hash
	}
}

// dropHash lets go of the ETag lane: the body is done or abandoned.
func (b *bodyReader) dropHash() {
	b.eh.release()
	if !b.fast {
		b.md5 = nil
	}
}

// settle waits until the bytes read so far are hashed: after it, no memory
// read into is referenced.
func (b *bodyReader) settle() { b.eh.settle() }

// withCRC64 makes the body compute a CRC64NVME of itself besides any
// checksum the request declared (crc64Sum, valid after EOF). A body that
// declared a CRC64NVME is not hashed twice: its checksum is the one.
func (b *bodyReader) withCRC64() {
	if b.ck != nil && b.cksum.alg == checksumCRC64NVME {
		b.crc64Shared = true
		return
	}
	b.crc64 = checksumCRC64NVME.new()
}

// verify checks the declared digests once the body has ended.
func (b *bodyReader) verify() error {
	if b.crc64 != nil {
		b.crc64Sum = base64.StdEncoding.EncodeToString(b.crc64.Sum(nil))
	}
	if b.size >= 0 && b.n != b.size {
		return errIncompleteBody
	}
	if b.fast {
		// 64 bits of content hash and 64 bits of length: 16 bytes, like
		// an MD5, so multipart ETags compose the same way.
		binary.BigEndian.PutUint64(b.md5Sum[:8], b.md5.(*xxhash.Digest).Sum64())
		binary.BigEndian.PutUint64(b.md5Sum[8:], uint64(b.n))
	} else {
		b.md5.Sum(b.md5Sum[:0])
		b.dropHash()
	}
	if b.wantMD5 != nil && string(b.wantMD5) != string(b.md5Sum[:]) {
		return errBadDigest.withFields("ExpectedDigest", hex.EncodeToString(b.wantMD5),
			"CalculatedDigest", base64.StdEncoding.EncodeToString(b.md5Sum[:]))
	}
	if b.sha != nil {
		var sum [sha256.Size]byte
		if got := hex.EncodeToString(b.sha.Sum(sum[:0])); got != b.wantSHA {
			return &sha256MismatchError{client: b.wantSHA, computed: got}
		}
	}
	if b.chunked != nil && b.chunked.HasTrailers() && !b.cksum.trailer {
		return errMalformedTrailer
	}
	if b.ck != nil {
		b.checksum = base64.StdEncoding.EncodeToString(b.ck.Sum(nil))
		if b.crc64Shared {
			b.crc64Sum = b.checksum
		}
		want := b.cksum.value
		if b.cksum.trailer {
			want = b.chunked.Trailer(b.cksum.alg.header())
			if want == "" {
				return errMalformedTrailer
			}
			if !b.cksum.alg.valid(want) {
				return errInvalidRequest.withMessage("Value for " + b.cksum.alg.header() + " trailing header is invalid.")
			}
		}
		if want != "" && want != b.checksum {
			return errBadDigest.withMessage("The " + b.cksum.alg.String() + " you specified did not match the calculated checksum.")
		}
	}
	return nil
}

// finish reads what is left of the body, which must be nothing, so that
// trailers and signatures are verified. Call it after reading size bytes.
func (b *bodyReader) finish() error {
	if b.done {
		return nil
	}
	var one [1]byte
	for {
		n, err := b.Read(one[:])
		if n > 0 {
			return errIncompleteBody
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// etag is the hex MD5 of the body (valid after EOF).
func (b *bodyReader) etag() string { return hex.EncodeToString(b.md5Sum[:]) }

// storedContentEncoding is Content-Encoding without the transfer-level
// aws-chunked token.
func storedContentEncoding(h http.Header) string {
	v := h.Get("Content-Encoding")
	if v == "" || !strings.Contains(v, "aws-chunked") {
		return v
	}
	var keep []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" && p != "aws-chunked" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ",")
}

// h2BodyMismatch reports whether err is net/http's HTTP/2 server saying
// that a request body ended before, or ran past, its Content-Length, or
// that the client reset the stream mid-body. (HTTP/1.1 reports the first
// as io.ErrUnexpectedEOF; HTTP/2's errors are untyped, so their text is
// all there is to go on.) All are the client's doing: IncompleteBody, not
// InternalError.
func h2BodyMismatch(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "request declared a Content-Length of") ||
		strings.Contains(msg, "sender tried to send more than declared Content-Length") ||
		strings.HasPrefix(msg, "stream error: stream ID") ||
		msg == "client disconnected"
}
