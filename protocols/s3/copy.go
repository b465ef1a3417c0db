package s3

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gpucache/gpucache/engine"
)

// copySource is the object named by x-amz-copy-source, as stat'ed.
type copySource struct {
	bucket, key, ks string
	meta            engine.Meta
	attrs           objectAttrs
	etag            string
}

// loadCopySource parses x-amz-copy-source ("[/]bucket/key[?versionId=]",
// URL-encoded) and checks the x-amz-copy-source-if-* conditions.
func (s *Server) loadCopySource(req *request) (*copySource, error) {
	b, k, err := parseCopySource(req.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return nil, err
	}
	ks, err := s.checkBucket(b)
	if err != nil {
		return nil, err
	}
	m, err := s.eng.Stat(ks, []byte(k))
	if errors.Is(err, engine.ErrNotFound) || err == nil && m.Type != engine.TypeString {
		return nil, errNoSuchKey
	}
	if err != nil {
		return nil, err
	}
	a, err := decodeAttrs(m.Attrs)
	if err != nil {
		return nil, err
	}
	src := &copySource{bucket: b, key: k, ks: ks, meta: m, attrs: a, etag: etagOf(ks, []byte(k), &m, &a)}
	if err := copyConds.check(req.r.Header, src.etag, m.ModTime); err != nil {
		return nil, err
	}
	return src, nil
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	NS           string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumFields
}

// copyObject composes the destination from the source's extents: a copy
// costs metadata, not bytes.
func (s *Server) copyObject(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	h := req.r.Header
	newAlg := checksumNone
	if v := h.Get("X-Amz-Checksum-Algorithm"); v != "" {
		var ok bool
		if newAlg, ok = parseChecksumAlg(v); !ok {
			return errInvalidRequest.withMessage("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]")
		}
	}
	for _, d := range [...][2]string{{"X-Amz-Metadata-Directive", "metadata"}, {"X-Amz-Tagging-Directive", "tagging"}} {
		switch v := h.Get(d[0]); strings.ToUpper(v) {
		case "", "COPY", "REPLACE":
		default:
			return errInvalidArgument.withMessage("Unknown "+d[1]+" directive.").withArg(strings.ToLower(d[0]), v)
		}
	}
	src, err := s.loadCopySource(req)
	if err != nil {
		return err
	}
	ha, err := attrsFromHeaders(h)
	if err != nil {
		return err
	}
	a := src.attrs
	a.ETag = src.etag
	switch strings.ToUpper(h.Get("X-Amz-Metadata-Directive")) {
	case "", "COPY":
		// As on S3, the redirect location is never copied: the new
		// object has the one given with the copy, if any.
		a.WebsiteRedirect = ha.WebsiteRedirect
		if src.ks == ks && src.key == req.key && newAlg == checksumNone && ha.WebsiteRedirect == "" {
			return errInvalidRequest.withMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
	case "REPLACE":
		na, err := attrsFromHeaders(h)
		if err != nil {
			return err
		}
		na.ETag, na.ChecksumAlg, na.Checksum, na.ChecksumType, na.PartSizes, na.Tags = a.ETag, a.ChecksumAlg, a.Checksum, a.ChecksumType, a.PartSizes, a.Tags
		a = na
	default:
		return errInvalidArgument.withMessage("Unknown metadata directive.")
	}
	switch strings.ToUpper(h.Get("X-Amz-Tagging-Directive")) {
	case "", "COPY":
	case "REPLACE":
		if a.Tags, err = headerTags(h); err != nil {
			return err
		}
	default:
		return errInvalidArgument.withMessage("Unknown tagging directive.")
	}
	if err := s.applyObjectACL(req, &a); err != nil {
		return err
	}
	if newAlg != checksumNone && newAlg != a.ChecksumAlg {
		// A new checksum needs the bytes: read the source once.
		sum, err := s.checksumOf(src, newAlg)
		if err != nil {
			return err
		}
		a.ChecksumAlg, a.Checksum, a.ChecksumType = newAlg, sum, checksumFullObject
	}
	// The copy is a new object: it takes the request's Object Lock
	// headers or the bucket default, never the source's lock.
	lockEnabled, err := s.newObjectLock(req, &a, true)
	if err != nil {
		return err
	}
	bypass, err := s.overwriteBypass(req, lockEnabled)
	if err != nil {
		return err
	}
	key := []byte(req.key)
	res, err := s.eng.Compose(ks, key, []engine.Source{{KS: src.ks, Key: []byte(src.key), Len: -1, Version: src.meta.Version}},
		engine.PutOptions{Attrs: a.encode(nil), Check: s.overwriteCheck(req, ks, key, bypass)})
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return errNoSuchKey
		}
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	out := copyObjectResult{NS: s3NS, LastModified: isoTime(res.Meta.ModTime), ETag: `"` + a.ETag + `"`}
	out.setChecksum(a.ChecksumAlg, a.Checksum)
	return writeXML(req.w, http.StatusOK, out)
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	NS           string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumFields
}

// parseCopyRange parses x-amz-copy-source-range: "bytes=first-last", both
// required and inside the source.
func parseCopyRange(v string, size int64) (byteRange, error) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	a, b, ok2 := strings.Cut(spec, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || first < 0 || last < first {
		return byteRange{}, errInvalidArgument.withMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	}
	if last >= size {
		return byteRange{}, errInvalidArgument.withMessage("Range specified is not valid for source object of size: " + strconv.FormatInt(size, 10))
	}
	return byteRange{first, last - first + 1}, nil
}

// uploadPartCopy makes a part from a range of an existing object. The
// bytes are read once to compute the part's MD5 (and checksum), but the
// part itself shares the source's extents where the range allows.
func (s *Server) uploadPartCopy(req *request) error {
	n, err := parsePartNumber(req)
	if err != nil {
		return err
	}
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	if _, _, err := parseCopySource(req.r.Header.Get("X-Amz-Copy-Source")); err != nil {
		return err
	}
	_, up, _, err := s.loadUpload(req)
	if err != nil {
		return err
	}
	src, err := s.loadCopySource(req)
	if err != nil {
		return err
	}
	rng := byteRange{0, src.meta.Size}
	if v := req.r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		if rng, err = parseCopyRange(v, src.meta.Size); err != nil {
			return err
		}
	}
	if rng.n > s.cfg.MaxObjectSize {
		return errEntityTooLarge
	}
	val, err := s.eng.Open(src.ks, []byte(src.key))
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return errNoSuchKey
		}
		return err
	}
	version := val.Meta().Version
	md := md5.New()
	var w io.Writer = md
	var ck hash.Hash
	if up.ChecksumAlg != checksumNone {
		ck = up.ChecksumAlg.new()
		w = io.MultiWriter(md, ck)
	}
	_, err = val.WriteRange(w, rng.off, rng.n)
	val.Release()
	if err != nil {
		return err
	}
	pa := objectAttrs{ETag: hex.EncodeToString(md.Sum(nil))}
	if ck != nil {
		pa.ChecksumAlg, pa.Checksum = up.ChecksumAlg, base64.StdEncoding.EncodeToString(ck.Sum(nil))
	}
	uks := uploadKS(req.bucket)
	res, err := s.eng.Compose(uks, partKey(req.q.Get("uploadId"), n),
		[]engine.Source{{KS: src.ks, Key: []byte(src.key), Off: rng.off, Len: rng.n, Version: version}},
		engine.PutOptions{Attrs: pa.encode(nil)})
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return errNoSuchKey
		}
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	out := copyPartResult{NS: s3NS, LastModified: isoTime(res.Meta.ModTime), ETag: `"` + pa.ETag + `"`}
	out.setChecksum(pa.ChecksumAlg, pa.Checksum)
	return writeXML(req.w, http.StatusOK, out)
}

// parseCopySource splits x-amz-copy-source ("[/]bucket/key[?versionId=]",
// URL-encoded) into bucket and key.
func parseCopySource(v string) (bucket, key string, err error) {
	raw := v
	v, ver, _ := strings.Cut(v, "?versionId=")
	dec, uerr := url.PathUnescape(v)
	if uerr != nil || !utf8.ValidString(dec) {
		return "", "", errInvalidArgument.withMessage("Invalid copy source encoding").withArg("x-amz-copy-source", raw)
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if !validBucketName(bucket) {
		return "", "", errInvalidArgument.withMessage("Invalid copy source bucket name").withArg("x-amz-copy-source", raw)
	}
	if key == "" || !localKey(key) {
		return "", "", errInvalidArgument.withMessage("Invalid copy source object key").withArg("x-amz-copy-source", key)
	}
	if ver != "" && ver != "null" {
		return "", "", &APIError{Code: "NoSuchVersion", Status: 404, Message: "The specified version does not exist."}
	}
	return bucket, key, nil
}

// checksumOf streams a copy source through a hasher of alg.
func (s *Server) checksumOf(src *copySource, alg checksumAlg) (string, error) {
	v, err := s.eng.Open(src.ks, []byte(src.key))
	if err != nil {
		return "", err
	}
	defer v.Release()
	if v.Meta().Version != src.meta.Version {
		return "", errConditionalConflict
	}
	h := alg.new()
	if _, err := v.WriteRange(h, 0, v.Len()); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}
