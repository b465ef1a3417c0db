package s3

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

// maxUserMeta bounds user metadata (names and values), as S3 does.
const maxUserMeta = 2 << 10

// newObjectAttrs collects the attributes of a new object from its request
// headers: stored headers, user metadata and tags (PUT, CreateMultipartUpload).
func newObjectAttrs(h http.Header) (objectAttrs, error) {
	a, err := attrsFromHeaders(h)
	if err != nil {
		return a, err
	}
	a.Tags, err = headerTags(h)
	return a, err
}

// attrsFromHeaders collects the stored headers and user metadata of a
// PUT, CreateMultipartUpload or replacing CopyObject.
func attrsFromHeaders(h http.Header) (objectAttrs, error) {
	a := objectAttrs{
		ContentType:        h.Get("Content-Type"),
		ContentEncoding:    storedContentEncoding(h),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}
	if vs, ok := h["X-Amz-Website-Redirect-Location"]; ok {
		v := vs[0]
		if !validRedirect(v) {
			return a, errInvalidRedirect
		}
		a.WebsiteRedirect = v
	}
	total := 0
	var names []string
	for name := range h {
		if len(name) > len("X-Amz-Meta-") && strings.EqualFold(name[:len("X-Amz-Meta-")], "X-Amz-Meta-") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		n := strings.ToLower(name[len("X-Amz-Meta-"):])
		v := strings.Join(h.Values(name), ",")
		total += len(n) + len(v)
		a.Meta = append(a.Meta, n, v)
	}
	if total > maxUserMeta {
		return a, errMetadataTooLarge
	}
	return a, nil
}

// responseOverrides are the response-* query parameters a (presigned)
// GET may use to override stored headers.
var responseOverrides = [...][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// headerSlab hands out the one-value slices of response headers from
// one allocation: a GET sets about ten headers, each of which would
// otherwise allocate a slice of its own.
type headerSlab struct{ free []string }

// set sets header key (canonicalised when it is not already) to value.
func (s *headerSlab) set(h http.Header, key, value string) {
	if len(s.free) == 0 {
		s.free = make([]string, 16)
	}
	s.free[0] = value
	h[http.CanonicalHeaderKey(key)] = s.free[:1:1]
	s.free = s.free[1:]
}

// setObjectHeaders writes the headers GET and HEAD share.
func setObjectHeaders(hs *headerSlab, h http.Header, m *engine.Meta, a *objectAttrs, etag string, q url.Values) {
	hs.set(h, "Etag", `"`+etag+`"`)
	hs.set(h, "Last-Modified", httpTime(m.ModTime))
	hs.set(h, "Accept-Ranges", "bytes")
	hs.set(h, "X-Amz-Storage-Class", "STANDARD")
	ct := a.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	hs.set(h, "Content-Type", ct)
	for _, kv := range [...][2]string{
		{"Content-Encoding", a.ContentEncoding},
		{"Content-Disposition", a.ContentDisposition},
		{"Content-Language", a.ContentLanguage},
		{"Cache-Control", a.CacheControl},
		{"Expires", a.Expires},
	} {
		if kv[1] != "" {
			hs.set(h, kv[0], kv[1])
		}
	}
	for i := 0; i+1 < len(a.Meta); i += 2 {
		h["X-Amz-Meta-"+a.Meta[i]] = []string{a.Meta[i+1]}
	}
	for _, o := range responseOverrides {
		if v := q.Get(o[0]); v != "" {
			hs.set(h, o[1], v)
		}
	}
	if len(a.Tags) > 0 {
		hs.set(h, "X-Amz-Tagging-Count", tagCount(a))
	}
	if a.WebsiteRedirect != "" {
		hs.set(h, "X-Amz-Website-Redirect-Location", a.WebsiteRedirect)
	}
	if n := len(a.PartSizes); n > 0 {
		hs.set(h, "X-Amz-Mp-Parts-Count", strconv.Itoa(n))
	}
	setLockHeaders(h, a)
}

// setChecksumHeaders adds the stored checksum (x-amz-checksum-mode: ENABLED).
func setChecksumHeaders(h http.Header, a *objectAttrs) {
	if a.ChecksumAlg == checksumNone || a.Checksum == "" {
		return
	}
	h.Set(a.ChecksumAlg.key(), a.Checksum)
	if a.ChecksumType == checksumComposite {
		h.Set("X-Amz-Checksum-Type", "COMPOSITE")
	} else {
		h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
}

// maxRedirectLen bounds x-amz-website-redirect-location, as S3 does.
const maxRedirectLen = 2 << 10

// validRedirect reports whether v may be an object's website redirect:
// an absolute http(s) URL or a path in the same bucket.
func validRedirect(v string) bool {
	if len(v) > maxRedirectLen {
		return false
	}
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")
}
