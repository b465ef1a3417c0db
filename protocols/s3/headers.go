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

// setObjectHeaders writes the headers GET and HEAD share.
func setObjectHeaders(h http.Header, m *engine.Meta, a *objectAttrs, etag string, q url.Values) {
	h.Set("ETag", `"`+etag+`"`)
	h.Set("Last-Modified", httpTime(m.ModTime))
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-amz-storage-class", "STANDARD")
	ct := a.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	for _, kv := range [...][2]string{
		{"Content-Encoding", a.ContentEncoding},
		{"Content-Disposition", a.ContentDisposition},
		{"Content-Language", a.ContentLanguage},
		{"Cache-Control", a.CacheControl},
		{"Expires", a.Expires},
	} {
		if kv[1] != "" {
			h.Set(kv[0], kv[1])
		}
	}
	for i := 0; i+1 < len(a.Meta); i += 2 {
		h["X-Amz-Meta-"+a.Meta[i]] = []string{a.Meta[i+1]}
	}
	for _, o := range responseOverrides {
		if v := q.Get(o[0]); v != "" {
			h.Set(o[1], v)
		}
	}
	if len(a.Tags) > 0 {
		h.Set("x-amz-tagging-count", tagCount(a))
	}
	if a.WebsiteRedirect != "" {
		h.Set("x-amz-website-redirect-location", a.WebsiteRedirect)
	}
	if n := len(a.PartSizes); n > 0 {
		h.Set("x-amz-mp-parts-count", strconv.Itoa(n))
	}
	setLockHeaders(h, a)
}

// setChecksumHeaders adds the stored checksum (x-amz-checksum-mode: ENABLED).
func setChecksumHeaders(h http.Header, a *objectAttrs) {
	if a.ChecksumAlg == checksumNone || a.Checksum == "" {
		return
	}
	h.Set(a.ChecksumAlg.header(), a.Checksum)
	if a.ChecksumType == checksumComposite {
		h.Set("x-amz-checksum-type", "COMPOSITE")
	} else {
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
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
