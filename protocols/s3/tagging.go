package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/gpucache/gpucache/engine"
)

// Tags are stored as key, value pairs in objectAttrs.Tags: an object's in
// its own attributes, a bucket's under bucketTagsKey in its upload keyspace.

const (
	maxObjectTags = 10
	maxBucketTags = 50
)

var bucketTagsKey = []byte("b/tagging")

var (
	errInvalidTagKey     = &APIError{Code: "InvalidTag", Status: 400, Message: "The TagKey you have provided is invalid"}
	errInvalidTagValue   = &APIError{Code: "InvalidTag", Status: 400, Message: "The TagValue you have provided is invalid"}
	errDuplicateTagKey   = &APIError{Code: "InvalidTag", Status: 400, Message: "Cannot provide multiple Tags with the same key"}
	errObjectTagsLimited = &APIError{Code: "BadRequest", Status: 400, Message: "Object tags cannot be greater than 10"}
	errBucketTagsLimited = &APIError{Code: "BadRequest", Status: 400, Message: "Bucket tag count cannot be greater than 50"}
	errNoSuchTagSet      = &APIError{Code: "NoSuchTagSet", Status: 404, Message: "The TagSet does not exist."}
)

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tag    `xml:"TagSet>Tag"`
}

func validTagChars(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || r == '_' || r == '.' ||
			r == ':' || r == '/' || r == '=' || r == '+' || r == '-' || r == '@') {
			return false
		}
	}
	return true
}

// checkTags validates tags and flattens them into pairs.
func checkTags(tags []tag, limit int) ([]string, error) {
	if len(tags) > limit {
		if limit == maxBucketTags {
			return nil, errBucketTagsLimited
		}
		return nil, errObjectTagsLimited
	}
	seen := make(map[string]bool, len(tags))
	out := make([]string, 0, 2*len(tags))
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || !validTagChars(t.Key) {
			return nil, errInvalidTagKey
		}
		if len(t.Value) > 256 || !validTagChars(t.Value) {
			return nil, errInvalidTagValue
		}
		if seen[t.Key] {
			return nil, errDuplicateTagKey
		}
		seen[t.Key] = true
		out = append(out, t.Key, t.Value)
	}
	return out, nil
}

// headerTags parses x-amz-tagging (URL-query encoded, "k1=v1&k2").
func headerTags(h http.Header) ([]string, error) {
	v := h.Get("X-Amz-Tagging")
	if v == "" {
		return nil, nil
	}
	bad := errInvalidArgument.withMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	bad.ArgName = "x-amz-tagging"
	var tags []tag
	seen := map[string]bool{}
	for part := range strings.SplitSeq(v, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil || k == "" || seen[k] {
			return nil, bad
		}
		seen[k] = true
		tags = append(tags, tag{k, val})
	}
	return checkTags(tags, maxObjectTags)
}

func pairsToTags(p []string) []tag {
	out := make([]tag, 0, len(p)/2)
	for i := 0; i+1 < len(p); i += 2 {
		out = append(out, tag{p[i], p[i+1]})
	}
	return out
}

func (s *Server) readTagging(req *request, limit int) ([]string, error) {
	body, err := s.newXMLBodyReader(req, true)
	if err != nil {
		return nil, err
	}
	var t tagging
	err = readXML(body, &t, true)
	body.close()
	if err != nil {
		return nil, err
	}
	return checkTags(t.TagSet, limit)
}

// statObject returns an existing object's metadata and attributes.
func (s *Server) statObject(req *request) (string, engine.Meta, objectAttrs, error) {
	ks := s.bucketKS(req.bucket)
	m, err := s.eng.Stat(ks, []byte(req.key))
	if errors.Is(err, engine.ErrNotFound) || err == nil && m.Type != engine.TypeString {
		return ks, m, objectAttrs{}, s.notFound(req.bucket)
	}
	if err != nil {
		return ks, m, objectAttrs{}, err
	}
	a, err := decodeAttrs(m.Attrs)
	return ks, m, a, err
}

func (s *Server) getObjectTagging(req *request) error {
	_, _, a, err := s.statObject(req)
	if err != nil {
		return err
	}
	return writeXML(req.w, http.StatusOK, tagging{NS: s3NS, TagSet: pairsToTags(a.Tags)})
}

// putObjectTagging rewrites the object's attributes: the object is
// composed from itself (metadata only), keeping its ETag.
func (s *Server) putObjectTagging(req *request, del bool) error {
	ks, m, a, err := s.statObject(req)
	if err != nil {
		return err
	}
	var tags []string
	if !del {
		if tags, err = s.readTagging(req, maxObjectTags); err != nil {
			return err
		}
	}
	a.ETag = etagOf(ks, []byte(req.key), &m, &a)
	a.Tags = tags
	key := []byte(req.key)
	if _, err := s.eng.Compose(ks, key, []engine.Source{{KS: ks, Key: key, Len: -1, Version: m.Version}},
		engine.PutOptions{Attrs: a.encode(nil), Check: unchangedSince(m.Version)}); err != nil {
		return err
	}
	if err := s.eng.Sync(); err != nil {
		return err
	}
	if del {
		req.w.WriteHeader(http.StatusNoContent)
	} else {
		req.w.WriteHeader(http.StatusOK)
	}
	return nil
}

func (s *Server) bucketTagging(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	uks := uploadKS(req.bucket)
	switch req.r.Method {
	case http.MethodGet:
		m, err := s.eng.Stat(uks, bucketTagsKey)
		if errors.Is(err, engine.ErrNotFound) {
			return errNoSuchTagSet
		}
		if err != nil {
			return err
		}
		a, _ := decodeAttrs(m.Attrs)
		return writeXML(req.w, http.StatusOK, tagging{NS: s3NS, TagSet: pairsToTags(a.Tags)})
	case http.MethodPut:
		tags, err := s.readTagging(req, maxBucketTags)
		if err != nil {
			return err
		}
		if err := s.setBucketTags(req.bucket, tags); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodDelete:
		if _, err := s.eng.Delete(uks, [][]byte{bucketTagsKey}); err != nil {
			return err
		}
		if err := s.eng.Sync(); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed
}

func (s *Server) setBucketTags(bucket string, tags []string) error {
	a := objectAttrs{Tags: tags}
	if _, err := s.eng.PutBytes(uploadKS(bucket), bucketTagsKey, []byte{}, engine.PutOptions{Attrs: a.encode(nil)}); err != nil {
		return err
	}
	return s.eng.Sync()
}

func tagCount(a *objectAttrs) string { return strconv.Itoa(len(a.Tags) / 2) }

// setObjectTagging answers PutObjectTagging.
func (s *Server) setObjectTagging(req *request) error { return s.putObjectTagging(req, false) }

// deleteObjectTagging answers DeleteObjectTagging.
func (s *Server) deleteObjectTagging(req *request) error { return s.putObjectTagging(req, true) }
