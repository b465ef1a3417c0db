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

	// op is the request's operation, decided once (classify); opErr,
	// when set, refuses the request.
	op    op
	opErr error

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

// dispatch runs the handler of the request's operation (classify).
func (s *Server) dispatch(req *request) error {
	if req.bucket != "" {
		if err := s.checkExpectedOwners(req); err != nil {
			return err
		}
	}
	run := opSpecs[req.op].run
	if run == nil {
		return errNotImplemented
	}
	return run(s, req)
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
