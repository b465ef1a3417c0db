package s3

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// etagOf returns the entity tag (unquoted) of a stored value. Values
// written over RESP carry no S3 attributes; their tag is derived from the
// engine version, which changes on every write.
func etagOf(ks string, key []byte, m *engine.Meta, a *objectAttrs) string {
	if a != nil && a.ETag != "" {
		return a.ETag
	}
	h := md5.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], m.Version)
	binary.BigEndian.PutUint64(b[8:], uint64(m.Size))
	h.Write([]byte(ks))
	h.Write(key)
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}

// etagMatches reports whether a header list of entity tags (If-Match
// style: quoted, comma separated, possibly weak, or *) names etag.
func etagMatches(list, etag string) bool {
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		item = strings.TrimPrefix(item, "W/")
		if item == "*" || strings.Trim(item, `"`) == etag {
			return true
		}
	}
	return false
}

// condHeaders names the four conditional headers of one kind (the plain
// ones for GET/HEAD, x-amz-copy-source-* for a copy source).
type condHeaders struct {
	ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince string
	// notModified is returned for If-None-Match/If-Modified-Since: 304 on
	// GET and HEAD, 412 for copy sources.
	notModified *APIError
}

var (
	readConds = condHeaders{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", errNotModified}
	copyConds = condHeaders{"X-Amz-Copy-Source-If-Match", "X-Amz-Copy-Source-If-None-Match",
		"X-Amz-Copy-Source-If-Modified-Since", "X-Amz-Copy-Source-If-Unmodified-Since", errPreconditionFailed}
)

// check evaluates the conditions in the order S3 does: a matching
// If-Match overrides If-Unmodified-Since, a non-matching If-None-Match
// overrides If-Modified-Since.
func (c condHeaders) check(h http.Header, etag string, modNs int64) error {
	mod := time.Unix(0, modNs).Truncate(time.Second)
	if v := h.Get(c.ifMatch); v != "" {
		if !etagMatches(v, etag) {
			return errPreconditionFailed
		}
	} else if v := h.Get(c.ifUnmodifiedSince); v != "" {
		if t, err := http.ParseTime(v); err == nil && mod.After(t) {
			return errPreconditionFailed
		}
	}
	if v := h.Get(c.ifNoneMatch); v != "" {
		if etagMatches(v, etag) {
			return c.notModified
		}
	} else if v := h.Get(c.ifModifiedSince); v != "" {
		if t, err := http.ParseTime(v); err == nil && !mod.After(t) {
			return c.notModified
		}
	}
	return nil
}

// writeConditions returns the engine Check for a PUT (or Complete, or
// copy destination) with If-Match / If-None-Match, or nil. It runs under
// the key's lock, so the test and the write are atomic.
func writeConditions(h http.Header, ks string, key []byte) func(engine.Meta, bool) error {
	im, inm := h.Get("If-Match"), h.Get("If-None-Match")
	if im == "" && inm == "" {
		return nil
	}
	return func(cur engine.Meta, exists bool) error {
		if exists && cur.Type != engine.TypeString {
			exists = false
		}
		if im != "" {
			if !exists {
				return errNoSuchKey
			}
			a, _ := decodeAttrs(cur.Attrs)
			if !etagMatches(im, etagOf(ks, key, &cur, &a)) {
				return errPreconditionFailed
			}
		}
		if inm != "" && exists {
			a, _ := decodeAttrs(cur.Attrs)
			if etagMatches(inm, etagOf(ks, key, &cur, &a)) {
				return errPreconditionFailed
			}
		}
		return nil
	}
}

// sameSecond reports whether an HTTP date names the second of ns.
func sameSecond(date string, ns int64) bool {
	t, err := http.ParseTime(date)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, date); err != nil {
			return false
		}
	}
	return t.Unix() == time.Unix(0, ns).Unix()
}

// checkWriteConditionHeaders refuses the conditional-write forms S3 does
// not implement: If-None-Match takes only "*" (no object of that name
// may exist), and If-Match and If-None-Match do not combine.
func checkWriteConditionHeaders(h http.Header) error {
	_, im := h["If-Match"]
	inm, hasINM := h["If-None-Match"]
	if hasINM && (im || strings.TrimSpace(inm[0]) != "*") {
		return errNotImplemented
	}
	return nil
}

// future reports whether an HTTP (or RFC 3339) date lies after now.
func future(date string, now time.Time) bool {
	t, err := http.ParseTime(date)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, date); err != nil {
			return false
		}
	}
	return t.After(now)
}
