package s3

import (
	"encoding/xml"
	"net/http"
	"strings"
)

type objectPartsInfo struct {
	TotalPartsCount int `xml:"TotalPartsCount"`
	Parts           []struct {
		PartNumber int   `xml:"PartNumber"`
		Size       int64 `xml:"Size"`
	} `xml:"Part"`
}

type checksumInfo struct {
	checksumFields
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type getObjectAttributesResponse struct {
	XMLName      xml.Name         `xml:"GetObjectAttributesResponse"`
	NS           string           `xml:"xmlns,attr"`
	ETag         string           `xml:"ETag,omitempty"`
	Checksum     *checksumInfo    `xml:"Checksum,omitempty"`
	ObjectParts  *objectPartsInfo `xml:"ObjectParts,omitempty"`
	StorageClass string           `xml:"StorageClass,omitempty"`
	ObjectSize   *int64           `xml:"ObjectSize,omitempty"`
}

// getObjectAttributes answers GetObjectAttributes from the metadata alone.
func (s *Server) getObjectAttributes(req *request) error {
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, v := range req.r.Header.Values("X-Amz-Object-Attributes") {
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				want[a] = true
			}
		}
	}
	if len(want) == 0 {
		return errInvalidRequest.withMessage("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	for a := range want {
		switch a {
		case "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize":
		default:
			return errInvalidArgument.withMessage("Invalid attribute name specified.")
		}
	}
	ks, m, a, err := s.statObject(req)
	if err != nil {
		return err
	}
	res := getObjectAttributesResponse{NS: s3NS}
	if want["ETag"] {
		res.ETag = etagOf(ks, []byte(req.key), &m, &a)
	}
	if want["StorageClass"] {
		res.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		n := m.Size
		res.ObjectSize = &n
	}
	if want["Checksum"] && a.ChecksumAlg != checksumNone && a.Checksum != "" {
		res.Checksum = &checksumInfo{ChecksumType: checksumTypeName(a.ChecksumType)}
		res.Checksum.setChecksum(a.ChecksumAlg, a.Checksum)
	}
	if want["ObjectParts"] && len(a.PartSizes) > 0 {
		res.ObjectParts = &objectPartsInfo{TotalPartsCount: len(a.PartSizes)}
	}
	req.w.Header().Set("Last-Modified", httpTime(m.ModTime))
	return writeXML(req.w, http.StatusOK, res)
}
