package s3

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// Bucket CORS: the configuration is validated and stored, re-encoded, as
// the bucket sub-resource document "cors". OPTIONS preflight requests are
// answered from it (they need no signature), and a request carrying an
// Origin header gets the Access-Control-* headers of the first rule
// matching its origin and method.

const maxCORSBody = 64 << 10

var (
	errNoSuchCORS       = &APIError{Code: "NoSuchCORSConfiguration", Status: 404, Message: "The CORS configuration does not exist"}
	errCORSForbidden    = &APIError{Code: "AccessForbidden", Status: 403, Message: "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."}
	errCORSNotEnabled   = &APIError{Code: "AccessForbidden", Status: 403, Message: "CORSResponse: CORS is not enabled for this bucket."}
	errMissingCORSOrign = &APIError{Code: "BadRequest", Status: 400, Message: "Insufficient information. Origin request header needed."}
)

type corsConfiguration struct {
	XMLName xml.Name   `xml:"CORSConfiguration"`
	NS      string     `xml:"xmlns,attr,omitempty"`
	Rules   []corsRule `xml:"CORSRule"`
}

type corsRule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int64   `xml:"MaxAgeSeconds,omitempty"`
}

// validHeaderName reports an HTTP token (RFC 9110 tchar), the form S3
// accepts in AllowedHeader (which may also hold '*' wildcards) and
// ExposeHeader.
func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func corsMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
		return true
	}
	return false
}

// parseCORS parses and validates a CORSConfiguration document.
func parseCORS(body []byte) (*corsConfiguration, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errMissingRequestBody
	}
	var c corsConfiguration
	if err := xml.Unmarshal(body, &c); err != nil {
		return nil, errMalformedXML
	}
	if len(c.Rules) == 0 || len(c.Rules) > 100 {
		return nil, errMalformedXML
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if len(r.AllowedOrigins) == 0 {
			return nil, errMalformedXML
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return nil, errInvalidRequest.withMessage(`AllowedOrigin "` + o + `" can not have more than one wildcard.`)
			}
		}
		if len(r.AllowedMethods) == 0 {
			return nil, errMalformedXML
		}
		for _, m := range r.AllowedMethods {
			if !corsMethod(m) {
				return nil, errInvalidRequest.withMessage("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
			}
		}
		for _, l := range [...][]string{r.AllowedHeaders, r.ExposeHeaders} {
			for _, h := range l {
				if !validHeaderName(h) {
					return nil, errInvalidRequest.withMessage(`AllowedHeader "` + h + `" contains invalid character.`)
				}
			}
		}
		if len(r.ID) > 255 {
			return nil, errInvalidArgument.withMessage("The ID of a CORS rule is limited to 255 characters.")
		}
	}
	c.NS = s3NS
	return &c, nil
}

// loadCORS returns the bucket's CORS configuration, nil when none is set.
func (s *Server) loadCORS(bucket string) (*corsConfiguration, error) {
	doc, ok, err := s.getBucketConfig(bucket, cfgCORS)
	if err != nil || !ok {
		return nil, err
	}
	var c corsConfiguration
	if err := xml.Unmarshal(doc, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Server) bucketCORS(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	switch req.r.Method {
	case http.MethodGet:
		c, err := s.loadCORS(req.bucket)
		if err != nil {
			return err
		}
		if c == nil {
			return errNoSuchCORS
		}
		c.NS = s3NS
		return writeXML(req.w, http.StatusOK, c)
	case http.MethodPut:
		body, err := s.readSmallBody(req, maxCORSBody)
		if err != nil {
			return err
		}
		c, err := parseCORS(body)
		if err != nil {
			return err
		}
		doc, err := xml.Marshal(c)
		if err != nil {
			return err
		}
		if err := s.putBucketConfig(req.bucket, cfgCORS, doc); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodDelete:
		if err := s.deleteBucketConfig(req.bucket, cfgCORS); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed
}

// match finds the first rule allowing origin, method and the requested
// headers (lower case); wildcard reports that it allows any origin.
func (c *corsConfiguration) match(origin, method string, headers []string) (rule *corsRule, wildcard bool) {
	for i := range c.Rules {
		r := &c.Rules[i]
		ok := false
		for _, o := range r.AllowedOrigins {
			if globMatch(o, origin, false) {
				ok, wildcard = true, o == "*"
				break
			}
		}
		if !ok {
			continue
		}
		ok = false
		for _, m := range r.AllowedMethods {
			if m == method {
				ok = true
				break
			}
		}
		if !ok {
			continue
		}
		for _, h := range headers {
			ok = false
			for _, ah := range r.AllowedHeaders {
				if globMatch(strings.ToLower(ah), h, false) {
					ok = true
					break
				}
			}
			if !ok {
				break
			}
		}
		if ok {
			return r, wildcard
		}
	}
	return nil, false
}

// setCORSHeaders writes the Access-Control-* headers a matching rule
// grants.
func setCORSHeaders(h http.Header, r *corsRule, origin string, wildcard bool, allowHeaders []string) {
	if wildcard {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "false")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(r.AllowedMethods, ", "))
	if len(allowHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(allowHeaders, ", "))
	}
	// ETag is always exposed: browsers need it to complete multipart
	// uploads.
	expose := r.ExposeHeaders
	etag := false
	for _, e := range expose {
		etag = etag || strings.EqualFold(e, "ETag")
	}
	if !etag {
		expose = append(expose[:len(expose):len(expose)], "ETag")
	}
	h.Set("Access-Control-Expose-Headers", strings.Join(expose, ", "))
	if r.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.FormatInt(*r.MaxAgeSeconds, 10))
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
}

// preflight answers an OPTIONS request (CORS preflight). It needs no
// signature.
func (s *Server) preflight(req *request) error {
	h := req.r.Header
	origin := h.Get("Origin")
	if origin == "" {
		return errMissingCORSOrign
	}
	method := h.Get("Access-Control-Request-Method")
	if !corsMethod(method) {
		return &APIError{Code: "BadRequest", Status: 400, Message: "Invalid Access-Control-Request-Method: " + method}
	}
	var headers []string
	if v := h.Get("Access-Control-Request-Headers"); v != "" {
		for item := range strings.SplitSeq(v, ",") {
			name := strings.TrimSpace(item)
			if !validHeaderName(name) {
				return &APIError{Code: "BadRequest", Status: 400, Message: `Access-Control-Request-Headers "` + item + `" contains invalid character.`}
			}
			headers = append(headers, strings.ToLower(name))
		}
	}
	if req.bucket == "" {
		return errCORSForbidden
	}
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	c, err := s.loadCORS(req.bucket)
	if err != nil {
		return err
	}
	if c == nil {
		return errCORSNotEnabled
	}
	r, wildcard := c.match(origin, method, headers)
	if r == nil {
		return errCORSForbidden
	}
	setCORSHeaders(req.w.Header(), r, origin, wildcard, headers)
	req.w.Header().Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// corsResponseHeaders adds the CORS headers to an actual (non-preflight)
// request from a browser: the first rule allowing its Origin and method.
func (s *Server) corsResponseHeaders(req *request) {
	origin := req.r.Header.Get("Origin")
	if origin == "" || req.bucket == "" {
		return
	}
	c, err := s.loadCORS(req.bucket)
	if err != nil || c == nil {
		return
	}
	if r, wildcard := c.match(origin, req.r.Method, nil); r != nil {
		setCORSHeaders(req.w.Header(), r, origin, wildcard, nil)
	}
}
