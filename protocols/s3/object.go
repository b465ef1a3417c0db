package s3

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

// putObject stores a body streamed from the request (PutObject).
func (s *Server) putObject(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	h := req.r.Header
	attrs, err := newObjectAttrs(h)
	if err != nil {
		return err
	}
	if err := s.applyObjectACL(req, &attrs); err != nil {
		return err
	}
	if err := checkWriteConditionHeaders(h); err != nil {
		return err
	}
	lockEnabled, err := s.newObjectLock(req, &attrs, true)
	if err != nil {
		return err
	}
	bypass, err := s.overwriteBypass(req, lockEnabled)
	if err != nil {
		return err
	}
	key := []byte(req.key)
	check := s.overwriteCheck(req, ks, key, bypass)
	if lockEnabled || writeConditions(h, ks, key) != nil {
		// Fail fast, before the body; the check runs again under the lock.
		m, err := s.eng.Stat(ks, key)
		exists := err == nil
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
		if err := check(m, exists); err != nil {
			return err
		}
	}
	body, err := s.newBodyReader(req.w, req.r, req.auth, s.cfg.MaxObjectSize)
	if err != nil {
		return err
	}
	if body.size < 0 && body.chunked == nil && len(req.r.TransferEncoding) == 0 && req.r.ProtoMajor == 1 {
		body.close()
		return errMissingContentLength
	}
	if body.ck == nil && !s.cfg.FastETag {
		// Like S3, store a full-object CRC64NVME when the client sent
		// no checksum (hardware-assisted, a small cost next to MD5).
		body.cksum.alg, body.ck = checksumCRC64NVME, checksumCRC64NVME.new()
	}
	_, err = s.storeBody(req.bucket, ks, key, body, func() []byte {
		attrs.ETag = body.etag()
		if body.ck != nil {
			attrs.ChecksumAlg, attrs.Checksum = body.cksum.alg, body.checksum
		}
		return attrs.encode(nil)
	}, engine.PutOptions{Check: check})
	if err != nil {
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	wh, hs := req.w.Header(), &req.hdr
	hs.set(wh, "Etag", `"`+attrs.ETag+`"`)
	hs.set(wh, "X-Amz-Object-Size", strconv.FormatInt(body.n, 10))
	if attrs.ChecksumAlg != checksumNone {
		hs.set(wh, attrs.ChecksumAlg.key(), attrs.Checksum)
		hs.set(wh, "X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	hs.set(wh, "Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// notFound tells NoSuchBucket from NoSuchKey after a lookup missed.
func (s *Server) notFound(bucket string) error {
	if _, err := s.checkBucket(bucket); err != nil {
		return err
	}
	return errNoSuchKey
}

// getObject answers GetObject and HeadObject: conditions, Range or
// partNumber, headers, then the bytes streamed from the engine.
func (s *Server) getObject(req *request, head bool) error {
	if pn := req.q.Get("partNumber"); pn != "" {
		if n, err := strconv.Atoi(pn); err != nil || n < 1 || n > maxParts {
			return errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive.")
		}
		if req.r.Header.Get("Range") != "" {
			return errInvalidRequest.withMessage("Cannot specify both Range header and partNumber query parameter")
		}
	}
	ks := s.bucketKS(req.bucket)
	key := []byte(req.key)
	var (
		v   *engine.Value
		m   engine.Meta
		err error
	)
	if head {
		m, err = s.eng.Stat(ks, key)
	} else {
		v, err = s.eng.Open(ks, key)
		if err == nil {
			defer v.Release()
			m = *v.Meta()
		}
	}
	if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrWrongType) || err == nil && m.Type != engine.TypeString {
		return s.notFound(req.bucket)
	}
	if err != nil {
		return err
	}
	a, err := decodeAttrs(m.Attrs)
	if err != nil {
		return err
	}
	etag := etagOf(ks, key, &m, &a)
	h := req.w.Header()
	if err := readConds.check(req.r.Header, etag, m.ModTime); err != nil {
		if err == errNotModified {
			h.Set("ETag", `"`+etag+`"`)
			h.Set("Last-Modified", httpTime(m.ModTime))
		}
		return err
	}
	size := m.Size
	rng, partial, err := s.selectRange(req, &a, size)
	if err != nil {
		if err == errInvalidRange {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		}
		return err
	}
	setObjectHeaders(&req.hdr, h, &m, &a, etag, req.q)
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		req.hdr.set(h, "Content-Range", rng.contentRange(size))
	} else if strings.EqualFold(req.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		setChecksumHeaders(h, &a)
	}
	req.hdr.set(h, "Content-Length", strconv.FormatInt(rng.n, 10))
	req.w.WriteHeader(status)
	if head || rng.n == 0 {
		return nil
	}
	if _, err := s.writeBody(req, v, rng); err != nil {
		// Headers are gone: abort the response so the client sees a
		// truncated body, never silently short data.
		s.cfg.Logf("s3: GET %s/%s: %v", req.bucket, req.key, err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// writeBody sends the range of v. Over plain HTTP the response writer ends
// in the TCP socket and resident pages go to it by reference; over TLS
// they must be encrypted, so they are copied.
func (s *Server) writeBody(req *request, v *engine.Value, rng byteRange) (n int64, err error) {
	if sw, ok := req.w.(engine.SendWriter); ok && req.r.TLS == nil {
		n, err = v.SendRange(sw, rng.off, rng.n)
	} else {
		n, err = v.WriteRange(req.w, rng.off, rng.n)
	}
	s.stats.out.Add(uint64(n))
	return n, err
}

// selectRange resolves ?partNumber or Range into the bytes to send.
func (s *Server) selectRange(req *request, a *objectAttrs, size int64) (byteRange, bool, error) {
	whole := byteRange{0, size}
	if pn := req.q.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > maxParts {
			return whole, false, errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive.")
		}
		if req.r.Header.Get("Range") != "" {
			return whole, false, errInvalidRequest.withMessage("Cannot specify both Range header and partNumber query parameter.")
		}
		if len(a.PartSizes) == 0 {
			if n != 1 {
				return whole, false, errInvalidPartNumber
			}
			return whole, size > 0, nil
		}
		if n > len(a.PartSizes) {
			return whole, false, errInvalidPartNumber
		}
		var off int64
		for _, ps := range a.PartSizes[:n-1] {
			off += ps
		}
		return byteRange{off, a.PartSizes[n-1]}, true, nil
	}
	rh := req.r.Header.Get("Range")
	if rh == "" {
		return whole, false, nil
	}
	r, ok, err := parseRange(rh, size)
	if err != nil || !ok {
		return whole, false, err
	}
	return r, true, nil
}

// deleteObject removes one key; deleting a missing key succeeds.
func (s *Server) deleteObject(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	h := req.r.Header
	im, ims, imt := h.Get("If-Match"), h.Get("X-Amz-If-Match-Size"), h.Get("X-Amz-If-Match-Last-Modified-Time")
	if im != "" || ims != "" || imt != "" {
		m, err := s.eng.Stat(ks, []byte(req.key))
		if err != nil {
			if errors.Is(err, engine.ErrNotFound) {
				return errNoSuchKey
			}
			return err
		}
		a, _ := decodeAttrs(m.Attrs)
		if im != "" && !etagMatches(im, etagOf(ks, []byte(req.key), &m, &a)) ||
			ims != "" && ims != strconv.FormatInt(m.Size, 10) ||
			imt != "" && !sameSecond(imt, m.ModTime) {
			return errPreconditionFailed
		}
	}
	if err := s.deleteUnlocked(ks, []byte(req.key), bypassGovernance(req)); err != nil {
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// getObjectBody answers GetObject.
func (s *Server) getObjectBody(req *request) error { return s.getObject(req, false) }

// headObject answers HeadObject.
func (s *Server) headObject(req *request) error { return s.getObject(req, true) }
