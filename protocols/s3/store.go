package s3

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/gpucache/gpucache/engine"
)

// storeBody streams body into the engine under (ks, key). A body of known
// size up to PieceSize goes into one engine buffer and one Put; a larger or
// unknown-size body is stored as bounded pieces under hidden keys of the
// bucket's upload keyspace and then composed, which shares the pieces'
// blob extents instead of copying them. Nothing is visible under key
// unless the whole body arrived and verified. attrs is called after
// verification to build the stored attributes (the ETag is known then).
func (s *Server) storeBody(bucket, ks string, key []byte, body *bodyReader, attrs func() []byte, opts engine.PutOptions) (engine.PutResult, error) {
	defer body.close()
	body.inPlace(s)
	size := body.size
	if size == 0 {
		if err := body.finish(); err != nil {
			return engine.PutResult{}, err
		}
		opts.Attrs = attrs()
		return s.eng.PutBytes(ks, key, []byte{}, opts)
	}
	if size > 0 && size <= s.cfg.PieceSize {
		buf, err := s.eng.NewBuffer(size)
		if err != nil {
			return engine.PutResult{}, err
		}
		if _, err := buf.ReadFrom(body); err != nil {
			buf.Release()
			return engine.PutResult{}, bodyErr(err)
		}
		if err := body.finish(); err != nil {
			buf.Release()
			return engine.PutResult{}, err
		}
		opts.Attrs = attrs()
		return s.eng.Put(ks, key, buf, opts)
	}
	return s.storePieces(bucket, ks, key, body, attrs, opts)
}

// bodyErr maps a short read of a body to IncompleteBody.
func bodyErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errIncompleteBody
	}
	return err
}

func (s *Server) storePieces(bucket, ks string, key []byte, body *bodyReader, attrs func() []byte, opts engine.PutOptions) (engine.PutResult, error) {
	tks := uploadKS(bucket)
	prefix := "t/" + randomHex(12) + "/"
	var srcs []engine.Source
	var tmp [][]byte
	// last is a piece the body ended in: stored under key with one Put
	// when it is the only one, so a small body of unknown size is not
	// composed. (Pieces are otherwise stored as soon as they are read:
	// one piece buffer at a time.)
	var last *engine.Buffer
	defer func() {
		if last != nil {
			last.Release()
		}
		if len(tmp) > 0 {
			s.eng.Delete(tks, tmp)
		}
	}()
	stash := func(buf *engine.Buffer) error {
		// The engine owns the pages from here on.
		body.settle()
		pk := []byte(fmt.Sprintf("%s%06d", prefix, len(srcs)))
		res, err := s.eng.Put(tks, pk, buf, engine.PutOptions{})
		if err != nil {
			return err
		}
		tmp = append(tmp, pk)
		srcs = append(srcs, engine.Source{KS: tks, Key: pk, Len: -1, Version: res.Meta.Version})
		return nil
	}
	remain := body.size // -1: unknown
	for i := 0; ; i++ {
		n := s.cfg.PieceSize
		if remain >= 0 && remain < n {
			n = remain
		} else if remain < 0 && i == 0 && body.sizeHint > 0 && body.sizeHint < n {
			// One more byte than the hint: a body of exactly the hint's
			// size then ends inside the first piece.
			n = body.sizeHint + 1
		}
		if n == 0 {
			break
		}
		buf, got, err := s.readPiece(body, n, remain < 0)
		if err != nil {
			return engine.PutResult{}, err
		}
		if got == 0 {
			break
		}
		if got < n {
			last = buf
			break
		}
		if err := stash(buf); err != nil {
			return engine.PutResult{}, err
		}
		if remain >= 0 {
			remain -= got
		}
	}
	if err := body.finish(); err != nil {
		return engine.PutResult{}, err
	}
	if len(srcs) == 0 {
		opts.Attrs = attrs()
		if last == nil {
			return s.eng.PutBytes(ks, key, []byte{}, opts)
		}
		buf := last
		last = nil
		return s.eng.Put(ks, key, buf, opts)
	}
	if last != nil {
		buf := last
		last = nil
		if err := stash(buf); err != nil {
			return engine.PutResult{}, err
		}
	}
	opts.Attrs = attrs()
	return s.eng.Compose(ks, key, srcs, opts)
}

// readPiece reads up to n bytes into a new engine buffer. With short=true
// (unknown total size) the body may end early: the bytes read are moved
// into a buffer of their exact size (at most one piece is ever copied,
// the last one). It returns a nil buffer when the body had nothing left.
func (s *Server) readPiece(body *bodyReader, n int64, short bool) (*engine.Buffer, int64, error) {
	buf, err := s.eng.NewBuffer(n)
	if err != nil {
		return nil, 0, err
	}
	var got int64
	for _, p := range buf.Pages() {
		m, err := io.ReadFull(body, p)
		got += int64(m)
		if err == nil {
			continue
		}
		if !short || (err != io.EOF && err != io.ErrUnexpectedEOF) {
			buf.Release()
			return nil, 0, bodyErr(err)
		}
		break
	}
	if got == n {
		return buf, got, nil
	}
	defer buf.Release()
	if got == 0 {
		return nil, 0, nil
	}
	exact, err := s.eng.NewBuffer(got)
	if err != nil {
		return nil, 0, err
	}
	src := buf.Pages()
	off := int64(0)
	for _, dst := range exact.Pages() {
		for len(dst) > 0 {
			p := src[0][off:]
			c := copy(dst, p)
			dst = dst[c:]
			off += int64(c)
			if off == int64(len(src[0])) {
				src, off = src[1:], 0
			}
		}
	}
	return exact, got, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
