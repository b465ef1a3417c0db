package s3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"
)

// formReader reads the multipart/form-data body of a browser POST upload
// as a stream: the fields before the file are read into memory, bounded
// by a byte budget; the file part is then handed out as a reader that
// stops at the next delimiter, so the file is never held whole. What
// follows the file part (further fields, the epilogue) is ignored, as S3
// ignores it.
type formReader struct {
	br    *bufio.Reader
	delim []byte // "\r\n--" + boundary
	// n counts the bytes consumed from the body.
	n int64
	// budget is what is left of the bytes allowed before the file part;
	// limited is false once the file part has started.
	budget  int64
	limited bool
	started bool // the first delimiter has been consumed
	inPart  bool // a part's headers were read and its body was not
}

const (
	// maxPostFormData bounds everything before the file part of a POST
	// upload (part headers and field values).
	maxPostFormData = 64 << 10
	// maxBoundary is the longest boundary RFC 2046 allows.
	maxBoundary = 70
	formBufSize = 32 << 10
)

var (
	errMalformedPOST       = &APIError{Code: "MalformedPOSTRequest", Status: 400, Message: "The body of your POST request is not well-formed multipart/form-data."}
	errPostPreDataTooLarge = &APIError{Code: "MaxPostPreDataLengthExceededError", Status: 400, Message: "Your POST request fields preceding the upload file were too large."}
)

// newFormReader reads r with the given boundary; budget bounds the bytes
// before the file part.
func newFormReader(r io.Reader, boundary string, budget int64) (*formReader, error) {
	if boundary == "" || len(boundary) > maxBoundary {
		return nil, errMalformedPOST
	}
	return &formReader{
		br:      bufio.NewReaderSize(r, formBufSize),
		delim:   []byte("\r\n--" + boundary),
		budget:  budget,
		limited: true,
	}, nil
}

// discard consumes n buffered bytes, charging them to the budget.
func (f *formReader) discard(n int) error {
	f.br.Discard(n)
	f.n += int64(n)
	if f.limited {
		f.budget -= int64(n)
		if f.budget < 0 {
			return errPostPreDataTooLarge
		}
	}
	return nil
}

// formPart is the header of one part.
type formPart struct {
	name     string // lower-cased form field name
	filename string
	hasFile  bool // a filename parameter was given
}

// next advances to the next part and reads its headers. It returns
// io.EOF at the closing delimiter. The body of the previous part, if not
// read, is skipped.
func (f *formReader) next() (formPart, error) {
	var p formPart
	if f.inPart {
		if _, err := io.Copy(io.Discard, f.part()); err != nil {
			return p, err
		}
	}
	if !f.started {
		if err := f.skipPreamble(); err != nil {
			return p, err
		}
		f.started = true
	}
	// After a delimiter: "--" closes the form; otherwise optional linear
	// white space and a line break start the next part.
	b, err := f.br.Peek(2)
	if err != nil {
		return p, f.readErr(err)
	}
	if b[0] == '-' && b[1] == '-' {
		return p, io.EOF
	}
	line, err := f.line()
	if err != nil {
		return p, err
	}
	if strings.Trim(line, " \t") != "" {
		return p, errMalformedPOST
	}
	var disposition string
	for {
		line, err := f.line()
		if err != nil {
			return p, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return p, errMalformedPOST
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Disposition") {
			disposition = strings.TrimSpace(value)
		}
	}
	d, params, err := mime.ParseMediaType(disposition)
	if err != nil || d != "form-data" || params["name"] == "" {
		return p, errMalformedPOST
	}
	p.name = strings.ToLower(params["name"])
	p.filename, p.hasFile = params["filename"]
	f.inPart = true
	return p, nil
}

// skipPreamble consumes everything up to and including the first
// delimiter, which may open the body without a leading line break.
func (f *formReader) skipPreamble() error {
	first := f.delim[2:]
	b, err := f.br.Peek(len(first))
	if err == nil && bytes.Equal(b, first) {
		return f.discard(len(first))
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return f.readErr(err)
	}
	_, err = io.Copy(io.Discard, f.part())
	return err
}

// line reads one header line without its line break (CRLF or LF).
func (f *formReader) line() (string, error) {
	b, err := f.br.ReadSlice('\n')
	f.n += int64(len(b))
	if f.limited {
		f.budget -= int64(len(b))
		if f.budget < 0 {
			return "", errPostPreDataTooLarge
		}
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errPostPreDataTooLarge
	}
	if err != nil {
		return "", f.readErr(err)
	}
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return string(b), nil
}

// readErr maps a read error: a body that ends early is malformed.
func (f *formReader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errMalformedPOST
	}
	return err
}

// value reads the body of the current (non-file) part.
func (f *formReader) value() (string, error) {
	var sb strings.Builder
	_, err := io.Copy(&sb, f.part())
	return sb.String(), err
}

// file returns the body of the current part, the file, as a stream that
// ends at the part's delimiter. The byte budget no longer applies.
func (f *formReader) file() io.Reader {
	f.limited = false
	return f.part()
}

// part returns a reader of the current part's body.
func (f *formReader) part() io.Reader {
	f.inPart = false
	return &partReader{f: f}
}

// remaining is the most bytes the current part can hold, given the
// request's total length: the closing delimiter follows it at the
// earliest.
func (f *formReader) remaining(total int64) int64 {
	return total - f.n - int64(len(f.delim)+len("--\r\n"))
}

// partReader streams one part's body up to its delimiter.
type partReader struct {
	f    *formReader
	done bool
}

func (p *partReader) Read(dst []byte) (int, error) {
	if p.done {
		return 0, io.EOF
	}
	if len(dst) == 0 {
		return 0, nil
	}
	f := p.f
	d := f.delim
	for {
		n := f.br.Buffered()
		if n < len(d) {
			n = len(d)
		}
		buf, err := f.br.Peek(n)
		if i := bytes.Index(buf, d); i >= 0 {
			if i == 0 {
				p.done = true
				if err := f.discard(len(d)); err != nil {
					return 0, err
				}
				return 0, io.EOF
			}
			m := copy(dst, buf[:i])
			return m, f.discard(m)
		}
		// Bytes that cannot start a delimiter are part of the body.
		if safe := len(buf) - len(d) + 1; safe > 0 {
			m := copy(dst, buf[:safe])
			return m, f.discard(m)
		}
		if err != nil {
			return 0, f.readErr(err)
		}
	}
}
