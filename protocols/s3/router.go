package s3

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// request is one routed S3 request.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	bucket string     // "" for service-level requests
	key    string     // "" for bucket-level requests
	q      url.Values // nil without a query
	auth   *sigv4.Result

	verified sigv4.Result // auth of a signed request
	hdr      headerSlab
}

// has reports whether the query names the sub-resource.
func (q *request) has(name string) bool {
	_, ok := q.q[name]
	return ok
}

const maxKeyLen = 1024

// route finds the bucket and key: virtual-host style when the Host is a
// subdomain of a configured domain, path style otherwise.
func (s *Server) route(r *http.Request) (*request, error) {
	req := &request{}
	if r.URL.RawQuery != "" {
		req.q = r.URL.Query()
	}
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return req, errInvalidRequest.withMessage("Invalid request path.")
	}
	if b := s.hostBucket(r.Host); b != "" {
		req.bucket, req.key = b, path[1:]
	} else {
		rest := path[1:]
		req.bucket, req.key, _ = strings.Cut(rest, "/")
	}
	if len(req.key) > maxKeyLen {
		return req, errKeyTooLong
	}
	if req.key != "" && !localKey(req.key) {
		return req, errBadRequest
	}
	return req, nil
}

// hostBucket returns the bucket named by a virtual-host style Host.
func (s *Server) hostBucket(host string) string {
	if len(s.cfg.Domains) == 0 {
		return ""
	}
	host = stripPort(host)
	for i := 0; i < len(host); i++ {
		if 'A' <= host[i] && host[i] <= 'Z' {
			host = strings.ToLower(host)
			break
		}
	}
	for _, d := range s.cfg.Domains {
		if len(host) > len(d)+1 && strings.HasSuffix(host, d) && host[len(host)-len(d)-1] == '.' {
			return host[:len(host)-len(d)-1]
		}
	}
	return ""
}

// stripPort returns host without a trailing :port (and an IPv6 literal
// without its brackets), as net.SplitHostPort would, without building an
// error for a host that has none.
func stripPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host, ']') > i {
		return host // no port, or a bare bracketed IPv6 literal
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// dispatch runs the handler for the request's method and sub-resource.
func (s *Server) dispatch(req *request) error {
	m := req.r.Method
	if req.bucket == "" {
		if m == http.MethodGet {
			return s.listBuckets(req)
		}
		return errMethodNotAllowed
	}
	if err := s.checkExpectedOwners(req); err != nil {
		return err
	}
	if h := s.objectLockHandler(req); h != nil {
		return h(req)
	}
	if req.key == "" {
		return s.dispatchBucket(req, m)
	}
	switch m {
	case http.MethodPut:
		if req.has("uploadId") || req.has("partNumber") {
			if req.r.Header.Get("X-Amz-Copy-Source") != "" {
				return s.uploadPartCopy(req)
			}
			return s.uploadPart(req)
		}
		if req.has("tagging") {
			return s.putObjectTagging(req, false)
		}
		if req.has("acl") {
			return s.putObjectACL(req)
		}
		if unsupportedObjectSub(req) {
			return errNotImplemented
		}
		if req.r.Header.Get("X-Amz-Copy-Source") != "" {
			return s.copyObject(req)
		}
		return s.putObject(req)
	case http.MethodGet:
		if req.has("uploadId") {
			return s.listParts(req)
		}
		if req.has("tagging") {
			return s.getObjectTagging(req)
		}
		if req.has("attributes") {
			return s.getObjectAttributes(req)
		}
		if req.has("acl") {
			return s.getObjectACL(req)
		}
		if unsupportedObjectSub(req) {
			return errNotImplemented
		}
		return s.getObject(req, false)
	case http.MethodHead:
		return s.getObject(req, true)
	case http.MethodDelete:
		if req.has("uploadId") {
			return s.abortMultipart(req)
		}
		if req.has("tagging") {
			return s.putObjectTagging(req, true)
		}
		return s.deleteObject(req)
	case http.MethodPost:
		if req.has("uploads") {
			return s.createMultipart(req)
		}
		if req.has("uploadId") {
			return s.completeMultipart(req)
		}
		return errNotImplemented
	}
	return errMethodNotAllowed
}

// unsupportedObjectSub reports object sub-resources the server does not
// implement (tagging, ACLs, retention, ...), which must not be mistaken
// for plain object operations.
func unsupportedObjectSub(req *request) bool {
	for _, sub := range [...]string{"acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"} {
		if req.has(sub) {
			return true
		}
	}
	return false
}

func (s *Server) dispatchBucket(req *request, m string) error {
	if req.has("tagging") {
		return s.bucketTagging(req)
	}
	if h := bucketAccessHandler(req); h != nil {
		return h(s, req)
	}
	switch m {
	case http.MethodPut:
		for _, sub := range [...]string{"acl", "policy", "versioning", "tagging", "cors", "lifecycle", "website", "logging", "notification", "encryption", "ownershipControls", "object-lock", "publicAccessBlock", "accelerate", "requestPayment", "replication"} {
			if req.has(sub) {
				return errNotImplemented
			}
		}
		return s.createBucket(req)
	case http.MethodHead:
		return s.headBucket(req)
	case http.MethodDelete:
		if len(req.q) > 0 {
			return errNotImplemented
		}
		return s.deleteBucket(req)
	case http.MethodGet:
		switch {
		case req.has("location"):
			return s.getBucketLocation(req)
		case req.has("uploads"):
			return s.listMultipartUploads(req)
		case req.has("versioning"):
			return s.getBucketVersioning(req)
		case req.has("versions"):
			return s.listObjectVersions(req)
		case req.q.Get("list-type") == "2":
			return s.listObjectsV2(req)
		}
		for _, sub := range [...]string{"acl", "policy", "tagging", "cors", "lifecycle", "website", "logging", "notification", "encryption", "ownershipControls", "object-lock", "publicAccessBlock", "accelerate", "requestPayment", "replication", "policyStatus", "analytics", "metrics", "inventory", "intelligent-tiering"} {
			if req.has(sub) {
				return errNotImplemented
			}
		}
		return s.listObjectsV1(req)
	case http.MethodPost:
		if req.has("delete") {
			return s.deleteObjects(req)
		}
		return errNotImplemented
	}
	return errMethodNotAllowed
}

// localKey reports whether a key, read as a relative path, names
// something below the bucket: keys that resolve to the bucket itself
// (".", "a/..", "//") or climb out of it ("../x", "a/../../b") are refused,
// as a file-system view of the bucket could not hold them.
func localKey(key string) bool {
	depth := 0
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return depth > 0
}
