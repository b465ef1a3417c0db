package s3

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type objectInfo struct {
	Key               string `xml:"Key"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	Size              int64  `xml:"Size"`
	StorageClass      string `xml:"StorageClass"`
	Owner             *owner `xml:"Owner,omitempty"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

// listBucketResult is the answer of ListObjectsV2 and (with the V1
// fields) ListObjects.
type listBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	NS                    string         `xml:"xmlns,attr"`
	Name                  string         `xml:"Name"`
	Prefix                *string        `xml:"Prefix"`
	Marker                *string        `xml:"Marker"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	KeyCount              *int           `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []objectInfo   `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

// listing is one page of keys and common prefixes.
type listing struct {
	objects   []objectInfo
	prefixes  []commonPrefix
	last      string // the last key or common prefix returned
	truncated bool
}

// upperBound is the smallest key greater than every key with prefix p, or
// "" when there is none.
func upperBound(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// list walks the keyspace in byte order from after (exclusive), rolling
// keys that contain delim after prefix into common prefixes, until max
// entries. A common prefix makes the walk jump past all its keys, so a
// page costs O(entries), not O(keys under rolled-up prefixes).
func (s *Server) list(ks, prefix, delim, after string, max int, owner *owner) (*listing, error) {
	l := &listing{}
	if max == 0 {
		return l, nil
	}
	start := prefix
	if after >= prefix {
		start = after + "\x00"
	}
	for start != "" {
		restart := ""
		_, err := s.eng.Scan(ks, engine.ScanOptions{Prefix: []byte(prefix), Start: []byte(start)}, func(k []byte, m *engine.Meta) bool {
			if m.Type != engine.TypeString {
				return true
			}
			key := string(k)
			if key <= after {
				return true
			}
			if delim != "" {
				if i := strings.Index(key[len(prefix):], delim); i >= 0 {
					cp := key[:len(prefix)+i+len(delim)]
					if cp > after {
						if len(l.objects)+len(l.prefixes) == max {
							l.truncated = true
							return false
						}
						l.prefixes = append(l.prefixes, commonPrefix{cp})
						l.last = cp
					}
					restart = upperBound(cp)
					return false
				}
			}
			if len(l.objects)+len(l.prefixes) == max {
				l.truncated = true
				return false
			}
			a, _ := decodeAttrs(m.Attrs)
			oi := objectInfo{Key: key, LastModified: isoTime(m.ModTime), ETag: `"` + etagOf(ks, k, m, &a) + `"`,
				Size: m.Size, StorageClass: "STANDARD", Owner: owner}
			if a.ChecksumAlg != checksumNone {
				oi.ChecksumAlgorithm = a.ChecksumAlg.String()
				oi.ChecksumType = checksumTypeName(a.ChecksumType)
			}
			l.objects = append(l.objects, oi)
			l.last = key
			return true
		})
		if err != nil {
			return nil, err
		}
		if l.truncated || restart == "" || !strings.HasPrefix(restart, prefix) {
			break
		}
		start = restart
	}
	return l, nil
}

// urlEncoder returns the encoder of encoding-type=url (or the identity).
func urlEncoder(req *request) func(string) string {
	if req.q.Get("encoding-type") != "url" {
		return func(s string) string { return s }
	}
	return func(s string) string {
		if s == "" {
			return ""
		}
		return sigv4.EncodePath(s)
	}
}

func (s *Server) listParams(req *request) (ks, prefix, delim string, max int, err error) {
	ks, err = s.checkBucket(req.bucket)
	if err != nil {
		return
	}
	if et := req.q.Get("encoding-type"); et != "" && et != "url" {
		err = errInvalidArgument.withMessage("Invalid Encoding Method specified in Request")
		return
	}
	max, err = intParam(req, "max-keys", 1000, 1000)
	return ks, req.q.Get("prefix"), req.q.Get("delimiter"), max, err
}

func (s *Server) listObjectsV2(req *request) error {
	ks, prefix, delim, max, err := s.listParams(req)
	if err != nil {
		return err
	}
	after := req.q.Get("start-after")
	token := req.q.Get("continuation-token")
	if _, ok := req.q["continuation-token"]; ok {
		if token == "" {
			return errInvalidArgument.withMessage("The continuation token provided is incorrect")
		}
		// The token is the last key (or common prefix) returned, as
		// other S3 implementations do; the listing starts after both it
		// and start-after.
		if token > after {
			after = token
		}
	}
	var o *owner
	if req.q.Get("fetch-owner") == "true" {
		ow := s.owner(req)
		o = &ow
	}
	l, err := s.list(ks, prefix, delim, after, max, o)
	if err == nil {
		l, err = s.mergeListing(req, l, max)
	}
	if err != nil {
		return err
	}
	enc := urlEncoder(req)
	count := len(l.objects) + len(l.prefixes)
	res := listBucketResult{NS: s3NS, Name: req.bucket, Prefix: optParam(req, "prefix", enc), Delimiter: enc(delim),
		MaxKeys: max, KeyCount: &count, IsTruncated: l.truncated, ContinuationToken: token,
		StartAfter: enc(req.q.Get("start-after"))}
	if req.q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	if l.truncated {
		res.NextContinuationToken = l.last
	}
	res.Contents, res.CommonPrefixes = encodeEntries(l, enc)
	return writeXML(req.w, http.StatusOK, res)
}

func encodeEntries(l *listing, enc func(string) string) ([]objectInfo, []commonPrefix) {
	for i := range l.objects {
		l.objects[i].Key = enc(l.objects[i].Key)
	}
	for i := range l.prefixes {
		l.prefixes[i].Prefix = enc(l.prefixes[i].Prefix)
	}
	return l.objects, l.prefixes
}

func (s *Server) listObjectsV1(req *request) error {
	ks, prefix, delim, max, err := s.listParams(req)
	if err != nil {
		return err
	}
	marker := req.q.Get("marker")
	o := s.owner(req)
	l, err := s.list(ks, prefix, delim, marker, max, &o)
	if err == nil {
		l, err = s.mergeListing(req, l, max)
	}
	if err != nil {
		return err
	}
	enc := urlEncoder(req)
	res := listBucketResult{NS: s3NS, Name: req.bucket, Prefix: optParam(req, "prefix", enc), Delimiter: enc(delim),
		MaxKeys: max, IsTruncated: l.truncated, Marker: optParam(req, "marker", enc)}
	if req.q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	if l.truncated {
		res.NextMarker = enc(l.last)
	}
	res.Contents, res.CommonPrefixes = encodeEntries(l, enc)
	return writeXML(req.w, http.StatusOK, res)
}

// optParam returns the encoded query parameter, or nil when it was not
// sent (the element is then omitted).
func optParam(req *request, name string, enc func(string) string) *string {
	if _, ok := req.q[name]; !ok {
		return nil
	}
	v := enc(req.q.Get(name))
	return &v
}
