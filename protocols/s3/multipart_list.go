package s3

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

type partInfo struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	checksumFields
}

type listPartsResult struct {
	XMLName              xml.Name   `xml:"ListPartsResult"`
	NS                   string     `xml:"xmlns,attr"`
	Bucket               string     `xml:"Bucket"`
	Key                  string     `xml:"Key"`
	UploadID             string     `xml:"UploadId"`
	Initiator            owner      `xml:"Initiator"`
	Owner                owner      `xml:"Owner"`
	StorageClass         string     `xml:"StorageClass"`
	PartNumberMarker     int        `xml:"PartNumberMarker"`
	NextPartNumberMarker int        `xml:"NextPartNumberMarker"`
	MaxParts             int        `xml:"MaxParts"`
	IsTruncated          bool       `xml:"IsTruncated"`
	ChecksumAlgorithm    string     `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string     `xml:"ChecksumType,omitempty"`
	Parts                []partInfo `xml:"Part"`
}

func intParam(req *request, name string, def, max int) (int, error) {
	v := req.q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument.withMessage("Argument " + v + " must be an integer between 0 and 2147483647")
	}
	if n > max {
		n = max
	}
	return n, nil
}

func (s *Server) listParts(req *request) error {
	_, up, _, err := s.loadUpload(req)
	if err != nil {
		return err
	}
	maxParts, err := intParam(req, "max-parts", 1000, 1000)
	if err != nil {
		return err
	}
	marker, err := partNumberMarker(req)
	if err != nil {
		return err
	}
	id := req.q.Get("uploadId")
	o := s.owner(req)
	res := listPartsResult{NS: s3NS, Bucket: req.bucket, Key: req.key, UploadID: id, Initiator: o, Owner: o,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: maxParts, Parts: []partInfo{}}
	if up.ChecksumAlg != checksumNone {
		res.ChecksumAlgorithm = up.ChecksumAlg.String()
		res.ChecksumType = checksumTypeName(up.ChecksumType)
	} else {
		// NB: S3 names the absence of an upload checksum "null".
		res.ChecksumAlgorithm, res.ChecksumType = "null", "null"
	}
	prefix := partPrefix(id)
	_, err = s.eng.Scan(uploadKS(req.bucket), engine.ScanOptions{Prefix: []byte(prefix), Start: partKey(id, marker+1)},
		func(k []byte, m *engine.Meta) bool {
			n, err := strconv.Atoi(string(k[len(prefix):]))
			if err != nil || n <= marker {
				return true
			}
			if len(res.Parts) == maxParts {
				res.IsTruncated = true
				return false
			}
			pa, _ := decodeAttrs(m.Attrs)
			p := partInfo{PartNumber: n, LastModified: isoTime(m.ModTime), ETag: `"` + pa.ETag + `"`, Size: m.Size}
			p.setChecksum(pa.ChecksumAlg, pa.Checksum)
			res.Parts = append(res.Parts, p)
			return true
		})
	if err != nil {
		return err
	}
	if len(res.Parts) > 0 {
		res.NextPartNumberMarker = res.Parts[len(res.Parts)-1].PartNumber
	}
	return writeXML(req.w, http.StatusOK, res)
}

// partNumberMarker parses ListParts' part-number-marker: any 32-bit
// integer of at least 0 (parts above 10000 cannot exist, so a larger
// marker lists nothing).
func partNumberMarker(req *request) (int, error) {
	v, ok := req.q["part-number-marker"]
	if !ok || v[0] == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 32)
	if err != nil {
		return 0, errInvalidArgument.withMessage("Provided "+v[0]+" not an integer or within integer range").withArg("part-number-marker", v[0])
	}
	if n < 0 {
		return 0, errInvalidArgument.withMessage("Argument "+v[0]+" must be an integer between 0 and 2147483647").withArg("part-number-marker", v[0])
	}
	return int(min(n, maxParts)), nil
}

type uploadInfo struct {
	Key               string `xml:"Key"`
	UploadID          string `xml:"UploadId"`
	Initiator         owner  `xml:"Initiator"`
	Owner             owner  `xml:"Owner"`
	StorageClass      string `xml:"StorageClass"`
	Initiated         string `xml:"Initiated"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name       `xml:"ListMultipartUploadsResult"`
	NS                 string         `xml:"xmlns,attr"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	Prefix             string         `xml:"Prefix"`
	EncodingType       string         `xml:"EncodingType,omitempty"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []uploadInfo   `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

func (s *Server) listMultipartUploads(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	maxUploads, err := intParam(req, "max-uploads", 1000, 1000)
	if err != nil {
		return err
	}
	prefix, delim := req.q.Get("prefix"), req.q.Get("delimiter")
	keyMarker, idMarker := req.q.Get("key-marker"), req.q.Get("upload-id-marker")
	enc := urlEncoder(req)
	o := s.owner(req)
	res := listMultipartUploadsResult{NS: s3NS, Bucket: req.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Delimiter: enc(delim), Prefix: enc(prefix), MaxUploads: maxUploads, Uploads: []uploadInfo{}}
	if req.q.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	uks := uploadKS(req.bucket)
	start, err := s.uploadsStart(uks, prefix, keyMarker, idMarker)
	if err != nil {
		return err
	}
	seenPrefix := ""
	count := 0
	_, err = s.eng.Scan(uks, engine.ScanOptions{Prefix: []byte("u/" + prefix), Start: start},
		func(k []byte, m *engine.Meta) bool {
			key, id, ok := splitUploadRecordKey(k)
			if !ok {
				return true
			}
			if delim != "" {
				if j := strings.Index(key[len(prefix):], delim); j >= 0 {
					cp := key[:len(prefix)+j+len(delim)]
					if cp == seenPrefix {
						return true
					}
					if count == maxUploads {
						res.IsTruncated = true
						return false
					}
					seenPrefix = cp
					res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{enc(cp)})
					// The next page starts after the upload that opened
					// the prefix; its other uploads roll up again there.
					res.NextKeyMarker, res.NextUploadIDMarker = cp, id
					count++
					return true
				}
			}
			if count == maxUploads {
				res.IsTruncated = true
				return false
			}
			a, _ := decodeAttrs(m.Attrs)
			u := uploadInfo{Key: enc(key), UploadID: id, Initiator: o, Owner: o, StorageClass: "STANDARD", Initiated: isoTime(m.ModTime)}
			if a.ChecksumAlg != checksumNone {
				u.ChecksumAlgorithm = a.ChecksumAlg.String()
				u.ChecksumType = checksumTypeName(a.ChecksumType)
			}
			res.Uploads = append(res.Uploads, u)
			res.NextKeyMarker, res.NextUploadIDMarker = key, id
			count++
			return true
		})
	if err != nil {
		return err
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return writeXML(req.w, http.StatusOK, res)
}

// splitUploadRecordKey parses "u/<key>\x00<upload id>".
func splitUploadRecordKey(k []byte) (key, id string, ok bool) {
	rest := k[2:]
	i := bytes.LastIndexByte(rest, 0)
	if i < 0 {
		return "", "", false
	}
	return string(rest[:i]), string(rest[i+1:]), true
}

// uploadsStart is the scan start of ListMultipartUploads. Without
// upload-id-marker the listing starts after every upload of key-marker.
// With it, the marker must name an upload of the first key at or after
// key-marker (the key itself in the usual paging), and the listing starts
// after that upload; upload-id-marker without key-marker is ignored.
func (s *Server) uploadsStart(uks, prefix, keyMarker, idMarker string) ([]byte, error) {
	if keyMarker == "" {
		return []byte("u/" + prefix), nil
	}
	if idMarker == "" {
		return []byte("u/" + keyMarker + "\x01"), nil
	}
	bad := errInvalidArgument.withMessage("Invalid uploadId marker").withArg("upload-id-marker", idMarker)
	if strings.ContainsAny(idMarker, "/\x00") {
		return nil, bad
	}
	first, found := "", false
	_, err := s.eng.Scan(uks, engine.ScanOptions{Prefix: []byte("u/" + prefix), Start: []byte("u/" + keyMarker), Limit: 1},
		func(k []byte, _ *engine.Meta) bool {
			first, _, found = splitUploadRecordKey(k)
			return false
		})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, bad
	}
	rk := uploadRecordKey(first, idMarker)
	if _, err := s.eng.Stat(uks, rk); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return nil, bad
		}
		return nil, err
	}
	return append(rk, 0), nil
}
