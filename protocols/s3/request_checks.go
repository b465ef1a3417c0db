package s3

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// Checks on the shape of a request that S3 makes before (or right after)
// authentication: requests that cannot name any operation, oversized
// header sections, signatures for a region this endpoint does not serve,
// and empty bodies whose declared payload hash is wrong.

// maxHeaderSection is the largest request header section S3 accepts.
const maxHeaderSection = 8 << 10

var errHeaderSectionTooLarge = (&APIError{Code: "RequestHeaderSectionTooLarge", Status: 400,
	Message: "Your request header section exceeds the maximum allowed size."}).withFields("MaxSizeAllowed", strconv.Itoa(maxHeaderSection))

// headerSectionSize is the size of the request's header lines as sent
// ("Name: value\r\n" each, Host included).
func headerSectionSize(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for name, vals := range r.Header {
		for _, v := range vals {
			n += len(name) + len(": \r\n") + len(v)
		}
	}
	return n
}

// methodNotAllowed is MethodNotAllowed naming the method and the kind of
// resource addressed (SERVICE, BUCKET, OBJECT, UPLOAD).
func methodNotAllowed(method, resource string) *APIError {
	return errMethodNotAllowed.withFields("Method", method, "ResourceType", resource)
}

// checkShape refuses, before authentication, requests that cannot name
// any S3 operation whoever sends them.
func (s *Server) checkShape(req *request) error {
	r := req.r
	if headerSectionSize(r) > maxHeaderSection {
		return errHeaderSectionTooLarge
	}
	m := r.Method
	if req.bucket == "" {
		if m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions {
			return methodNotAllowed(m, "SERVICE")
		}
		return nil
	}
	if cs := r.Header.Get("X-Amz-Copy-Source"); cs != "" {
		copyReq := m == http.MethodPut && req.key != ""
		if !copyReq && (m != http.MethodPost || req.has("uploadId")) {
			return errInvalidArgument.withMessage("You can only specify a copy source header for copy requests.").
				withArg("x-amz-copy-source", cs)
		}
	}
	if req.key == "" {
		return nil
	}
	switch m {
	case http.MethodPut:
		switch {
		case req.has("partNumber") && !req.has("uploadId"):
			return errInvalidArgument.withMessage("This operation does not accept partNumber without uploadId").
				withArg("partNumber", "partNumber")
		case req.has("uploadId") && !req.has("partNumber"):
			req.w.Header().Set("Allow", "DELETE, POST, GET")
			return methodNotAllowed(m, "UPLOAD")
		}
	case http.MethodGet:
		switch {
		case req.has("uploads"):
			return errInvalidRequest.withMessage("Key is not expected for the GET method ?uploads subresource")
		case req.has("versions"):
			return errInvalidRequest.withMessage("There is no such thing as the ?versions sub-resource for a key")
		}
	case http.MethodPost:
		if len(req.q) == 0 {
			return methodNotAllowed(m, "SERVICE")
		}
	}
	return nil
}

// checkRegion refuses a signature for a region the request cannot be
// served in: requests are signed for the configured region, or for the
// region of the bucket they address. CreateBucket may be signed for any
// region: the bucket is created there (createBucket checks that the
// LocationConstraint agrees).
func (s *Server) checkRegion(req *request) error {
	got := req.auth.Region
	if got == s.cfg.Region || req.auth.AccessKey == "" { // anonymous: nothing signed
		return nil
	}
	if req.bucket != "" {
		if req.op == opCreateBucket {
			return nil
		}
		if ks := s.bucketKS(req.bucket); ks != "" {
			if ki, err := s.eng.Keyspace(ks); err == nil && string(ki.Attrs) == got {
				return nil
			}
		}
	}
	msg := fmt.Sprintf("the region %q is wrong; expecting %q", got, s.cfg.Region)
	if req.auth.Presigned {
		return errAuthorizationQuery.withMessage("Error parsing the X-Amz-Credential parameter; "+msg).withFields("Region", s.cfg.Region)
	}
	return errAuthorizationMalformed.withMessage(sigv4.MalformedPrefix+msg).withFields("Region", s.cfg.Region)
}

// contentSHA256Mismatch is XAmzContentSHA256Mismatch naming both digests.
func contentSHA256Mismatch(client, computed string) *APIError {
	return errContentSHA256Mismatch.withFields("ClientComputedContentSHA256", client, "S3ComputedContentSHA256", computed)
}

// checkEmptyPayload verifies the declared payload hash of a request
// whose body is known to be empty at once, before any handler runs (a
// handler may otherwise answer from state without reading the body).
func checkEmptyPayload(req *request) error {
	a := req.auth
	if a.Mode == sigv4.PayloadSHA256 && req.r.ContentLength == 0 && a.PayloadHash != sigv4.EmptySHA256 {
		return contentSHA256Mismatch(a.PayloadHash, sigv4.EmptySHA256)
	}
	return nil
}

var errStreamingNotAllowed = errInvalidRequest.withMessage("The value of x-amz-content-sha256 header is invalid.")

// checkStreaming refuses aws-chunked bodies (STREAMING-* payload modes)
// outside PutObject and UploadPart, the only operations S3 accepts them on.
func checkStreaming(req *request) error {
	if !req.auth.Mode.Chunked() {
		return nil
	}
	if req.op != opPutObject && req.op != opUploadPart {
		return errStreamingNotAllowed
	}
	return nil
}
