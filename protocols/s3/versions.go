package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"
)

// ListObjectVersions over an unversioned bucket: every object is its own
// single version, "null", and the latest one; there are no delete
// markers. Paging follows S3: key-marker alone resumes after that key,
// key-marker with version-id-marker "null" resumes after that key's null
// version (the same place here).

// nullVersion is the version ID of an object in an unversioned bucket.
const nullVersion = "null"

type objectVersion struct {
	Key               string `xml:"Key"`
	VersionID         string `xml:"VersionId"`
	IsLatest          bool   `xml:"IsLatest"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	Size              int64  `xml:"Size"`
	StorageClass      string `xml:"StorageClass"`
	Owner             *owner `xml:"Owner,omitempty"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

type listVersionsResult struct {
	XMLName             xml.Name        `xml:"ListVersionsResult"`
	NS                  string          `xml:"xmlns,attr"`
	Name                string          `xml:"Name"`
	Prefix              string          `xml:"Prefix"`
	KeyMarker           string          `xml:"KeyMarker"`
	VersionIDMarker     string          `xml:"VersionIdMarker"`
	NextKeyMarker       string          `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string          `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int             `xml:"MaxKeys"`
	Delimiter           string          `xml:"Delimiter,omitempty"`
	EncodingType        string          `xml:"EncodingType,omitempty"`
	IsTruncated         bool            `xml:"IsTruncated"`
	Versions            []objectVersion `xml:"Version"`
	CommonPrefixes      []commonPrefix  `xml:"CommonPrefixes"`
}

// versionsMaxKeys parses max-keys of ListObjectVersions: negative values
// are refused, values above 1000 are capped.
func versionsMaxKeys(req *request) (int, error) {
	v := req.q.Get("max-keys")
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, errInvalidArgument.withMessage("Provided "+v+" not an integer or within integer range").withArg("max-keys", v)
	}
	if n < 0 {
		return 0, errInvalidArgument.withMessage("max-keys cannot be negative").withArg("maxKeys", v)
	}
	return int(min(n, 1000)), nil
}

func (s *Server) listObjectVersions(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	if et := req.q.Get("encoding-type"); et != "" && et != "url" {
		return errInvalidArgument.withMessage("Invalid Encoding Method specified in Request").withArg("encoding-type", et)
	}
	max, err := versionsMaxKeys(req)
	if err != nil {
		return err
	}
	prefix, delim := req.q.Get("prefix"), req.q.Get("delimiter")
	keyMarker, vidMarker := req.q.Get("key-marker"), req.q.Get("version-id-marker")
	if vidMarker != "" {
		if keyMarker == "" {
			return errInvalidArgument.withMessage("A version-id marker cannot be specified without a key marker.").withArg("version-id-marker", vidMarker)
		}
		if vidMarker != nullVersion {
			return errInvalidArgument.withMessage("Invalid version id specified").withArg("version-id-marker", vidMarker)
		}
	}
	o := s.owner(req)
	l, err := s.list(ks, prefix, delim, keyMarker, max, &o)
	if err != nil {
		return err
	}
	enc := urlEncoder(req)
	res := listVersionsResult{NS: s3NS, Name: req.bucket, Prefix: enc(prefix), KeyMarker: enc(keyMarker),
		VersionIDMarker: vidMarker, MaxKeys: max, Delimiter: enc(delim), IsTruncated: l.truncated}
	if req.q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	// A page that ends on an object resumes after its null version; one
	// that ends on a common prefix resumes after the prefix.
	endsOnObject := len(l.objects) > 0 && l.objects[len(l.objects)-1].Key == l.last
	objects, prefixes := encodeEntries(l, enc)
	for _, oi := range objects {
		res.Versions = append(res.Versions, objectVersion{Key: oi.Key, VersionID: nullVersion, IsLatest: true,
			LastModified: oi.LastModified, ETag: oi.ETag, Size: oi.Size, StorageClass: oi.StorageClass, Owner: oi.Owner,
			ChecksumAlgorithm: oi.ChecksumAlgorithm, ChecksumType: oi.ChecksumType})
	}
	res.CommonPrefixes = prefixes
	if l.truncated {
		res.NextKeyMarker = enc(l.last)
		if endsOnObject {
			res.NextVersionIDMarker = nullVersion
		}
	}
	return writeXML(req.w, http.StatusOK, res)
}
