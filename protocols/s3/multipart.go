package s3

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Multipart uploads live in the bucket's upload keyspace (uploadKS):
//
//	u/<object key>\x00<upload id>   the pending upload; attrs: content type,
//	                                 user metadata, checksum algorithm
//	p/<upload id>/<part, 5 digits>  one part's bytes; attrs: ETag, checksum
//
// Complete composes the parts into the object: their blob extents are
// shared, no byte is copied.

const maxParts = 10000

func uploadRecordKey(key, uploadID string) []byte {
	return []byte("u/" + key + "\x00" + uploadID)
}

// newUploadID returns a fresh upload ID: the creation time (big-endian
// nanoseconds) then 8 random bytes, in hex, so that a key's uploads sort
// by initiation time, as ListMultipartUploads lists them.
func newUploadID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}

func partPrefix(uploadID string) string { return "p/" + uploadID + "/" }

func partKey(uploadID string, n int) []byte {
	return []byte(fmt.Sprintf("p/%s/%05d", uploadID, n))
}

// loadUpload returns a pending upload's attributes, or NoSuchUpload.
func (s *Server) loadUpload(req *request) (string, objectAttrs, engine.Meta, error) {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return "", objectAttrs{}, engine.Meta{}, err
	}
	id := req.q.Get("uploadId")
	if id == "" || strings.ContainsAny(id, "/\x00") {
		return "", objectAttrs{}, engine.Meta{}, errNoSuchUpload
	}
	m, err := s.eng.Stat(uploadKS(req.bucket), uploadRecordKey(req.key, id))
	if errors.Is(err, engine.ErrNotFound) {
		return "", objectAttrs{}, m, errNoSuchUpload
	}
	if err != nil {
		return "", objectAttrs{}, m, err
	}
	a, err := decodeAttrs(m.Attrs)
	return ks, a, m, err
}

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (s *Server) createMultipart(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	h := req.r.Header
	a, err := newObjectAttrs(h)
	if err != nil {
		return err
	}
	if err := s.applyObjectACL(req, &a); err != nil {
		return err
	}
	if _, err := s.newObjectLock(req, &a, false /* default retention at Complete */); err != nil {
		return err
	}
	if v := h.Get("X-Amz-Checksum-Algorithm"); v != "" {
		alg, ok := parseChecksumAlg(v)
		if !ok {
			return errInvalidRequest.withMessage("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]")
		}
		a.ChecksumAlg = alg
		a.ChecksumType = checksumComposite
	}
	switch strings.ToUpper(h.Get("X-Amz-Checksum-Type")) {
	case "":
		if a.ChecksumAlg == checksumCRC64NVME {
			a.ChecksumType = checksumFullObject
		}
	case "COMPOSITE", "FULL_OBJECT":
		t := strings.ToUpper(h.Get("X-Amz-Checksum-Type"))
		if a.ChecksumAlg == checksumNone {
			return errInvalidRequest.withMessage("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		_, isCRC := crcSpecs[a.ChecksumAlg]
		if t == "COMPOSITE" && a.ChecksumAlg == checksumCRC64NVME || t == "FULL_OBJECT" && !isCRC {
			return errInvalidRequest.withMessage("The " + t + " checksum type cannot be used with the " + strings.ToLower(a.ChecksumAlg.String()) + " checksum algorithm.")
		}
		a.ChecksumType = checksumComposite
		if t == "FULL_OBJECT" {
			a.ChecksumType = checksumFullObject
		}
	default:
		return errInvalidRequest.withMessage("Value for x-amz-checksum-type header is invalid.")
	}
	id := newUploadID(s.now())
	if _, err := s.eng.PutBytes(uploadKS(req.bucket), uploadRecordKey(req.key, id), []byte{}, engine.PutOptions{Attrs: a.encode(nil)}); err != nil {
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	if a.ChecksumAlg != checksumNone {
		req.w.Header().Set("X-Amz-Checksum-Algorithm", a.ChecksumAlg.String())
		req.w.Header().Set("X-Amz-Checksum-Type", checksumTypeName(a.ChecksumType))
	}
	return writeXML(req.w, http.StatusOK, initiateMultipartUploadResult{NS: s3NS, Bucket: req.bucket, Key: req.key, UploadID: id})
}

func checksumTypeName(t uint8) string {
	if t == checksumComposite {
		return "COMPOSITE"
	}
	return "FULL_OBJECT"
}

func parsePartNumber(req *request) (int, error) {
	n, err := strconv.Atoi(req.q.Get("partNumber"))
	if err != nil || n < 1 || n > maxParts {
		return 0, errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive.")
	}
	return n, nil
}

func (s *Server) uploadPart(req *request) error {
	n, err := parsePartNumber(req)
	if err != nil {
		return err
	}
	_, up, _, err := s.loadUpload(req)
	if err != nil {
		return err
	}
	body, err := s.newBodyReader(req.w, req.r, req.auth, s.cfg.MaxObjectSize)
	if err != nil {
		return err
	}
	if body.size < 0 && body.chunked == nil && len(req.r.TransferEncoding) == 0 && req.r.ProtoMajor == 1 {
		body.close()
		return errMissingContentLength
	}
	if up.ChecksumAlg != checksumNone {
		if body.ck == nil && up.ChecksumType == checksumComposite {
			// A composite checksum is made of the parts' checksums as
			// the client computed them: each part must bring its own.
			body.close()
			return errInvalidRequest.withMessage("Checksum Type mismatch occurred, expected checksum Type: " +
				up.ChecksumAlg.String() + ", actual checksum Type: null")
		}
		if body.ck == nil {
			body.cksum.alg, body.ck = up.ChecksumAlg, up.ChecksumAlg.new()
		} else if body.cksum.alg != up.ChecksumAlg {
			body.close()
			return errInvalidRequest.withMessage("Checksum Type mismatch occurred, expected checksum Type: " +
				up.ChecksumAlg.String() + ", actual checksum Type: " + body.cksum.alg.String())
		}
	}
	// An upload without a checksum algorithm still gets a full-object
	// CRC64NVME (see objectAttrs.PartCRC64), whatever checksum its parts
	// bring.
	implicit := up.ChecksumAlg == checksumNone
	if implicit {
		body.withCRC64()
	}
	var pa objectAttrs
	uks := uploadKS(req.bucket)
	id := req.q.Get("uploadId")
	_, err = s.storeBody(req.bucket, uks, partKey(id, n), body, func() []byte {
		pa.ETag = body.etag()
		if body.ck != nil {
			pa.ChecksumAlg, pa.Checksum = body.cksum.alg, body.checksum
		}
		if implicit {
			pa.PartCRC64 = body.crc64Sum
		}
		return pa.encode(nil)
	}, engine.PutOptions{})
	if err != nil {
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	h := req.w.Header()
	h.Set("ETag", `"`+pa.ETag+`"`)
	if pa.ChecksumAlg != checksumNone {
		h.Set(pa.ChecksumAlg.key(), pa.Checksum)
	}
	h.Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

type completeMultipartUpload struct {
	Parts []completePart `xml:"Part"`
}

type completePart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
	checksumFields
}

type completeMultipartUploadResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	checksumFields
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// completedTTL is how long a completed upload is remembered, so that a
// retried or concurrent Complete of the same upload succeeds as on S3.
const completedTTL = time.Hour

func completedKey(key, uploadID string) []byte {
	return []byte("c/" + key + "\x00" + uploadID)
}

func (s *Server) completeMultipart(req *request) error {
	err := s.complete(req)
	if err == errNoSuchUpload || err == errInvalidPart {
		m, serr := s.eng.Stat(uploadKS(req.bucket), completedKey(req.key, req.q.Get("uploadId")))
		if serr != nil {
			return err
		}
		a, _ := decodeAttrs(m.Attrs)
		return s.writeCompleteResult(req, &a)
	}
	return err
}

// testHookCompleting, when set by tests, runs between the two steps that
// end an upload on Complete: recording the completion, dropping the upload.
var testHookCompleting func()

func (s *Server) complete(req *request) error {
	ks, up, _, err := s.loadUpload(req)
	if err != nil {
		return err
	}
	if err := checkWriteConditionHeaders(req.r.Header); err != nil {
		return err
	}
	body, err := s.newXMLBodyReader(req, false)
	if err != nil {
		return err
	}
	var cmu completeMultipartUpload
	err = readXML(body, &cmu, true)
	body.close()
	if err != nil {
		return err
	}
	if len(cmu.Parts) == 0 {
		return errMalformedXML
	}
	if err := checkCompleteRequest(req, &up, &cmu); err != nil {
		return err
	}
	id := req.q.Get("uploadId")
	uks := uploadKS(req.bucket)
	srcs := make([]engine.Source, 0, len(cmu.Parts))
	sizes := make([]int64, 0, len(cmu.Parts))
	etagMD5 := md5.New()
	var ckRaw, implicitCRC []byte
	var total int64
	for i := range cmu.Parts {
		p := &cmu.Parts[i]
		if p.ETag == "" || p.PartNumber == 0 {
			return errMalformedXML
		}
		if p.PartNumber < 1 {
			return errInvalidArgument.withMessage("PartNumber must be >= 1")
		}
		if p.PartNumber > maxParts {
			return errInvalidArgument.withMessage("Part number must be an integer between 1 and 10000, inclusive.")
		}
		if i > 0 && p.PartNumber <= cmu.Parts[i-1].PartNumber {
			return errInvalidPartOrder
		}
	}
	for i := range cmu.Parts {
		p := &cmu.Parts[i]
		if p.PartNumber < 1 || p.PartNumber > maxParts {
			return errInvalidPart
		}
		pk := partKey(id, p.PartNumber)
		m, err := s.eng.Stat(uks, pk)
		if errors.Is(err, engine.ErrNotFound) {
			return errInvalidPart
		}
		if err != nil {
			return err
		}
		pa, err := decodeAttrs(m.Attrs)
		if err != nil {
			return err
		}
		if strings.Trim(strings.TrimSpace(p.ETag), `"`) != pa.ETag {
			return errInvalidPart
		}
		if up.ChecksumAlg != checksumNone {
			if c := p.get(up.ChecksumAlg); c != "" && c != pa.Checksum {
				return errInvalidPart
			}
		}
		if i < len(cmu.Parts)-1 && m.Size < s.cfg.MinPartSize {
			return errEntityTooSmall
		}
		raw, err := hex.DecodeString(pa.ETag)
		if err != nil {
			return errInvalidPart
		}
		etagMD5.Write(raw)
		if up.ChecksumAlg != checksumNone && pa.ChecksumAlg == up.ChecksumAlg {
			if d, err := base64.StdEncoding.DecodeString(pa.Checksum); err == nil {
				ckRaw = append(ckRaw, d...)
			}
		}
		if up.ChecksumAlg == checksumNone {
			if d, err := base64.StdEncoding.DecodeString(pa.PartCRC64); err == nil && len(d) == 8 {
				implicitCRC = append(implicitCRC, d...)
			}
		}
		srcs = append(srcs, engine.Source{KS: uks, Key: pk, Len: -1, Version: m.Version})
		sizes = append(sizes, m.Size)
		total += m.Size
	}
	a := up
	a.ETag = hex.EncodeToString(etagMD5.Sum(nil)) + "-" + strconv.Itoa(len(cmu.Parts))
	a.PartSizes = sizes
	a.Checksum = ""
	if up.ChecksumAlg != checksumNone && len(ckRaw) == len(cmu.Parts)*up.ChecksumAlg.rawSize() {
		if up.ChecksumType == checksumComposite {
			hh := up.ChecksumAlg.new()
			hh.Write(ckRaw)
			a.Checksum = base64.StdEncoding.EncodeToString(hh.Sum(nil)) + "-" + strconv.Itoa(len(cmu.Parts))
		} else if c, ok := combineCRC(up.ChecksumAlg, ckRaw, sizes); ok {
			a.Checksum = c
		}
	}
	if err := checkCompleteResult(req, &a, total); err != nil {
		return err
	}
	// After the check: a final checksum sent for an upload created without
	// an algorithm is ignored, as S3 does.
	if up.ChecksumAlg == checksumNone && len(implicitCRC) == 8*len(cmu.Parts) {
		if c, ok := combineCRC(checksumCRC64NVME, implicitCRC, sizes); ok {
			a.ChecksumAlg, a.ChecksumType, a.Checksum = checksumCRC64NVME, checksumFullObject, c
		}
	}
	lockEnabled, err := s.completedLock(req.bucket, &a)
	if err != nil {
		return err
	}
	bypass, err := s.overwriteBypass(req, lockEnabled)
	if err != nil {
		return err
	}
	key := []byte(req.key)
	if _, err := s.eng.Compose(ks, key, srcs, engine.PutOptions{Attrs: a.encode(nil), Check: s.overwriteCheck(req, ks, key, bypass)}); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return errInvalidPart
		}
		return err
	}
	// NB: the record of the completion goes in before the upload goes
	// away, so that a concurrent or retried Complete of the same upload
	// finds one or the other and answers the same result.
	done := objectAttrs{ETag: a.ETag, ChecksumAlg: a.ChecksumAlg, Checksum: a.Checksum, ChecksumType: a.ChecksumType}
	if _, err := s.eng.PutBytes(uks, completedKey(req.key, id), []byte{}, engine.PutOptions{
		Attrs: done.encode(nil), ExpireAt: s.now().Add(completedTTL).UnixMilli()}); err != nil {
		return err
	}
	if testHookCompleting != nil {
		testHookCompleting()
	}
	s.dropUpload(req.bucket, req.key, id)
	if err := s.eng.Sync(); err != nil {
		return err
	}
	return s.writeCompleteResult(req, &a)
}

func (s *Server) writeCompleteResult(req *request, a *objectAttrs) error {
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	res := completeMultipartUploadResult{NS: s3NS, Location: scheme + "://" + req.r.Host + "/" + req.bucket + "/" + req.key,
		Bucket: req.bucket, Key: req.key, ETag: `"` + a.ETag + `"`}
	if a.Checksum != "" {
		res.setChecksum(a.ChecksumAlg, a.Checksum)
		res.ChecksumType = checksumTypeName(a.ChecksumType)
	}
	return writeXML(req.w, http.StatusOK, res)
}

// dropUpload deletes an upload's record and all its parts.
func (s *Server) dropUpload(bucket, key, id string) {
	uks := uploadKS(bucket)
	keys := [][]byte{uploadRecordKey(key, id)}
	prefix := []byte(partPrefix(id))
	s.eng.Scan(uks, engine.ScanOptions{Prefix: prefix}, func(k []byte, _ *engine.Meta) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	if _, err := s.eng.Delete(uks, keys); err != nil {
		s.cfg.Logf("s3: cannot drop upload %s of %s/%s: %v", id, bucket, key, err)
	}
}

func (s *Server) abortMultipart(req *request) error {
	_, _, m, err := s.loadUpload(req)
	if err != nil {
		return err
	}
	if v := req.r.Header.Get("X-Amz-If-Match-Initiated-Time"); v != "" && !sameSecond(v, m.ModTime) && !future(v, s.now()) {
		// NB: a time in the future is ignored, as S3 does.
		return errPreconditionFailed
	}
	s.dropUpload(req.bucket, req.key, req.q.Get("uploadId"))
	if err := s.eng.Sync(); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}
