package s3

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// Browser-based uploads (POST Object): a multipart/form-data POST to the
// bucket whose fields carry the key, the object's headers and metadata, a
// policy and its SigV4 signature, and whose last field is the file. The
// request itself is not signed: the signature covers the policy, and the
// policy says which uploads it allows. The file streams into the engine
// like a PUT body (storeBody): it is never held whole in memory.

// postAuthFields are the form fields of a signed upload, in the order S3
// reports a missing one.
var postAuthFields = [...]string{"policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"}

// maxPostSigningAge bounds how old the x-amz-date of a signed upload may
// be: an older signature counts as an expired policy.
const maxPostSigningAge = time.Hour

var (
	errPostNotMultipart = errPreconditionFailed.withFields("Condition", "Bucket POST must be of the enclosure-type multipart/form-data")
	errPostFileRequired = errInvalidArgument.withMessage("POST requires exactly one file upload per request.").withArg("file", "0")
)

// postMissingField is the error for a required field that is absent.
func postMissingField(name string) *APIError {
	return errInvalidArgument.withMessage("Bucket POST must contain a field named '"+name+"'.  If it is specified, please check the order of the fields.").
		withArg(name, "")
}

// isPostObject reports a browser upload: an unsigned POST to a bucket
// without sub-resource. (Its authentication is in the form.)
func isPostObject(req *request) bool {
	r := req.r
	return r.Method == http.MethodPost && req.bucket != "" && req.key == "" && len(req.q) == 0 &&
		r.Header.Get("Authorization") == ""
}

// postObject answers a browser-based upload.
func (s *Server) postObject(req *request) error {
	r := req.r
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return errPostNotMultipart
	}
	if r.ContentLength < 0 {
		return errMissingContentLength
	}
	if r.ContentLength > s.cfg.MaxObjectSize+maxPostFormData {
		return errEntityTooLarge
	}
	if s.cfg.BodyIdleTimeout > 0 {
		// Until the file streams (bodyReader keeps it fresh then).
		http.NewResponseController(req.w).SetReadDeadline(time.Now().Add(s.cfg.BodyIdleTimeout))
	}
	form, err := newFormReader(r.Body, params["boundary"], maxPostFormData)
	if err != nil {
		return err
	}
	fields, filename, err := readPostFields(form)
	if err != nil {
		return err
	}
	if err := formEncryption(fields, r.TLS != nil); err != nil {
		return err
	}
	if sc, ok := fields["x-amz-storage-class"]; ok && sc != "STANDARD" {
		return errInvalidStorageClass.withArg("x-amz-storage-class", sc)
	}
	key, ok := fields["key"]
	if !ok || key == "" {
		return postMissingField("key")
	}
	key = strings.ReplaceAll(key, "${filename}", filename)
	req.key = key
	if len(key) > maxKeyLen {
		return errKeyTooLong
	}
	if unsafeObjectName(key) {
		return errBadRequest
	}
	var ks string
	policy := &postPolicy{} // an anonymous upload has none (a policy needs a signature)
	if postSigned(fields) {
		ak, err := s.authorizePost(req.bucket, fields)
		if err != nil {
			return err
		}
		if ks, err = s.checkBucket(req.bucket); err != nil {
			return err
		}
		if r := s.roleOf(ak); r != roleRoot && r != roleAdmin {
			if err := s.accountMay(req, ak, "s3:PutObject", req.bucket, key); err != nil {
				return err
			}
		}
		if policy, err = parsePostPolicy(fields["policy"], s.now()); err != nil {
			return err
		}
		if err := policy.check(fields, req.bucket, key); err != nil {
			return err
		}
	} else {
		// Unsigned: an anonymous upload, allowed as far as the bucket's
		// policy or ACL lets anyone PutObject the key.
		if ks, err = s.checkBucket(req.bucket); err != nil {
			return err
		}
		if err := s.anonymousMay(req, "s3:PutObject"); err != nil {
			return err
		}
	}
	// The file can be no longer than what the request has left: a size
	// below the policy's minimum is known now; the maximum is enforced as
	// the file streams.
	proposed := form.remaining(r.ContentLength)
	lo, hi, ranged := policy.lengthRange()
	if ranged && proposed < lo {
		return entityTooSmall(proposed, lo)
	}
	attrs, ck, err := postObjectAttrs(fields)
	if err != nil {
		return err
	}
	var src io.Reader = form.file()
	if ranged {
		src = &sizeRangeReader{r: src, lo: lo, hi: hi, proposed: proposed}
	}
	body := s.newFormBody(req.w, src, ck, proposed)
	_, err = s.storeBody(req.bucket, ks, []byte(key), body, func() []byte {
		attrs.ETag = body.etag()
		if body.ck != nil {
			attrs.ChecksumAlg, attrs.Checksum = body.cksum.alg, body.checksum
		}
		return attrs.encode(nil)
	}, engine.PutOptions{})
	if err != nil {
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	return s.writePostResult(req, fields, &attrs)
}

// readPostFields reads the form up to the file: fields by lower-cased
// name (repeated x-amz-meta-* fields are joined with commas, as repeated
// headers are) and the file's name.
func readPostFields(form *formReader) (map[string]string, string, error) {
	fields := make(map[string]string)
	for {
		p, err := form.next()
		if errors.Is(err, io.EOF) {
			return nil, "", errPostFileRequired
		}
		if err != nil {
			return nil, "", err
		}
		if p.name == "file" {
			return fields, p.filename, nil
		}
		v, err := form.value()
		if err != nil {
			return nil, "", err
		}
		if old, ok := fields[p.name]; ok && strings.HasPrefix(p.name, "x-amz-meta-") {
			v = old + "," + v
		}
		fields[p.name] = v
	}
}

// unsafeObjectName reports keys that, read as paths, resolve to the root
// or climb above it ("..", "a/../../b", "./"): S3 refuses them in uploads
// addressed by form.
func unsafeObjectName(key string) bool {
	depth := 0
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "", ".":
		case "..":
			if depth == 0 {
				return true
			}
			depth--
		default:
			depth++
		}
	}
	return depth == 0
}

// authorizePost checks the form's signature: all of the five auth
// fields, the algorithm, the signing date, the credential and the
// signature over the policy. An upload without any of them is anonymous,
// which no bucket allows.
// postSigned reports whether the form carries any of the SigV4 fields:
// then it must carry them all (authorizePost).
func postSigned(fields map[string]string) bool {
	for _, f := range postAuthFields {
		if _, ok := fields[f]; ok {
			return true
		}
	}
	return false
}

func (s *Server) authorizePost(bucket string, fields map[string]string) (accessKey string, err error) {
	for _, f := range postAuthFields {
		if _, ok := fields[f]; !ok {
			return "", postMissingField(f)
		}
	}
	if alg := fields["x-amz-algorithm"]; alg != sigv4.Algorithm {
		return "", errInvalidArgument.withMessage("Only AWS4-HMAC-SHA256 is supported").withArg("X-Amz-Algorithm", alg)
	}
	date := fields["x-amz-date"]
	t, err := time.Parse(sigv4.TimeFormat, date)
	if err != nil {
		return "", errInvalidArgument.withMessage("X-Amz-Date must be formated via ISO8601 Long format").withArg("X-Amz-Date", date)
	}
	if s.now().Sub(t) > maxPostSigningAge {
		return "", errPolicyExpired
	}
	cred := fields["x-amz-credential"]
	scope, err := sigv4.ParseCredential(cred, "s3")
	if err != nil {
		msg := err.Error()
		if de := (*sigv4.Error)(nil); errors.As(err, &de) {
			msg = strings.TrimPrefix(de.Message, sigv4.MalformedPrefix)
		}
		return "", errInvalidArgument.withMessage(msg).withArg("x-amz-credential", cred)
	}
	if scope.Region != s.cfg.Region && scope.Region != s.bucketRegion(s.bucketKS(bucket)) {
		return "", errInvalidArgument.withMessage("the region "+strconv.Quote(scope.Region)+" is wrong; expecting "+strconv.Quote(s.cfg.Region)).
			withArg("x-amz-credential", cred)
	}
	secret, ok := s.secretOf(scope.AccessKey)
	if !ok {
		return "", errInvalidAccessKeyID.withFields("AWSAccessKeyId", scope.AccessKey)
	}
	if _, ok := fields["x-amz-security-token"]; ok {
		return "", errInvalidToken
	}
	policy, sig := fields["policy"], fields["x-amz-signature"]
	mac := hmac.New(sha256.New, sigv4.SigningKey(secret, scope.Date, scope.Region, scope.Service))
	mac.Write([]byte(policy))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "", errSignatureDoesNotMatch.withFields("AWSAccessKeyId", scope.AccessKey, "StringToSign", policy,
			"SignatureProvided", sig, "StringToSignBytes", hexBytes(policy))
	}
	return scope.AccessKey, nil
}

// hexBytes is s as space-separated hex bytes (StringToSignBytes).
func hexBytes(s string) string {
	var b strings.Builder
	b.Grow(3 * len(s))
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(hex.EncodeToString([]byte{s[i]}))
	}
	return b.String()
}

// postObjectAttrs builds the object's attributes from the form, as a PUT
// builds them from its headers: the header-like fields go through the
// same code, tagging comes as an XML document, checksums as
// x-amz-checksum-* fields.
func postObjectAttrs(fields map[string]string) (objectAttrs, requestChecksum, error) {
	h := make(http.Header)
	for name, v := range fields {
		switch {
		case name == "content-type", name == "content-encoding", name == "content-disposition",
			name == "content-language", name == "cache-control", name == "expires",
			name == "x-amz-website-redirect-location", name == "x-amz-storage-class",
			strings.HasPrefix(name, "x-amz-meta-"):
			h[textproto.CanonicalMIMEHeaderKey(name)] = []string{v}
		}
	}
	var ck requestChecksum
	a, err := attrsFromHeaders(h)
	if err != nil {
		return a, ck, err
	}
	if loc, ok := fields["x-amz-website-redirect-location"]; ok && !validWebsiteRedirect(loc) {
		return a, ck, errInvalidRedirect
	}
	if doc, ok := fields["tagging"]; ok {
		var t tagging
		if err := xml.Unmarshal([]byte(doc), &t); err != nil {
			return a, ck, errMalformedXML
		}
		if a.Tags, err = checkTags(t.TagSet, maxObjectTags); err != nil {
			return a, ck, err
		}
	}
	ck, err = formChecksum(fields)
	return a, ck, err
}

// validWebsiteRedirect applies S3's rule for x-amz-website-redirect-location.
func validWebsiteRedirect(v string) bool {
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")
}

// formChecksum reads the x-amz-checksum-<alg> fields: at most one, of a
// known algorithm, with a well-formed value.
func formChecksum(fields map[string]string) (requestChecksum, error) {
	var rc requestChecksum
	var names []string
	for name := range fields {
		if strings.HasPrefix(name, "x-amz-checksum-") && name != "x-amz-checksum-type" && name != "x-amz-checksum-algorithm" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		a, ok := parseChecksumAlg(strings.TrimPrefix(name, "x-amz-checksum-"))
		if !ok {
			return rc, errInvalidRequest.withMessage("The algorithm type you specified in x-amz-checksum- header is invalid.")
		}
		if rc.alg != checksumNone {
			return rc, errInvalidRequest.withMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		rc.alg, rc.value = a, fields[name]
	}
	if rc.alg != checksumNone && !rc.alg.valid(rc.value) {
		return rc, errInvalidRequest.withMessage("Value for " + rc.alg.header() + " header is invalid.")
	}
	return rc, nil
}

// newFormBody reads the file of a POST upload like a PUT body: ETag,
// flexible checksum (CRC64NVME unless the form named one), idle timeout.
// sizeHint is the most the file can hold.
func (s *Server) newFormBody(w http.ResponseWriter, src io.Reader, ck requestChecksum, sizeHint int64) *bodyReader {
	b := &bodyReader{src: src, idle: s.cfg.BodyIdleTimeout, max: s.cfg.MaxObjectSize, size: -1, sizeHint: sizeHint, stats: &s.stats,
		rc: http.NewResponseController(w)}
	if s.cfg.FastETag {
		b.md5, b.fast = xxhash.New(), true
	} else {
		b.md5 = md5.New()
	}
	if ck.alg == checksumNone && !s.cfg.FastETag {
		ck.alg = checksumCRC64NVME
	}
	b.cksum = ck
	if ck.alg != checksumNone {
		b.ck = ck.alg.new()
	}
	return b
}

func entityTooSmall(proposed, lo int64) *APIError {
	return errEntityTooSmall.withFields("ProposedSize", strconv.FormatInt(proposed, 10),
		"MinSizeAllowed", strconv.FormatInt(lo, 10))
}

// sizeRangeReader enforces a policy's content-length-range on the file as
// it streams: it fails past the maximum, and at the end below the minimum.
type sizeRangeReader struct {
	r        io.Reader
	n        int64
	lo, hi   int64
	proposed int64 // the size the request implies, reported when too large
}

func (s *sizeRangeReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.hi {
		return 0, errEntityTooLarge.withFields("ProposedSize", strconv.FormatInt(max(s.proposed, s.n), 10),
			"MaxSizeAllowed", strconv.FormatInt(s.hi, 10))
	}
	if err == io.EOF && s.n < s.lo {
		return n, entityTooSmall(s.n, s.lo)
	}
	return n, err
}

type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	NS       string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// writePostResult answers a stored upload: a 303 to success_action_redirect
// when given, else success_action_status (200, 201 with a PostResponse
// document, or the default 204).
func (s *Server) writePostResult(req *request, fields map[string]string, a *objectAttrs) error {
	etag := `"` + a.ETag + `"`
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	loc := scheme + "://" + req.r.Host + "/"
	if s.hostBucket(req.r.Host) == "" {
		loc += sigv4.EncodePath(req.bucket) + "/"
	}
	loc += sigv4.EncodePath(req.key)
	h := req.w.Header()
	h.Set("ETag", etag)
	if a.ChecksumAlg != checksumNone {
		h.Set(a.ChecksumAlg.key(), a.Checksum)
		h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
	redirect, ok := fields["success_action_redirect"]
	if !ok {
		redirect, ok = fields["redirect"]
	}
	if ok {
		if u, err := url.Parse(redirect); err == nil && u.IsAbs() {
			q := u.Query()
			q.Set("bucket", req.bucket)
			q.Set("key", req.key)
			q.Set("etag", etag)
			u.RawQuery = q.Encode()
			h.Set("Location", u.String())
			h.Set("Content-Length", "0")
			req.w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	h.Set("Location", loc)
	switch fields["success_action_status"] {
	case "200":
		h.Set("Content-Length", "0")
		req.w.WriteHeader(http.StatusOK)
	case "201":
		return writeXML(req.w, http.StatusCreated, postResponse{NS: s3NS, Location: loc, Bucket: req.bucket, Key: req.key, ETag: etag})
	default:
		req.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}
