package s3

import (
	"encoding/xml"
	"net/http"
)

type deleteRequest struct {
	Quiet   bool `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedObject struct {
	Key string `xml:"Key"`
}

type deleteError struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name        `xml:"DeleteResult"`
	NS      string          `xml:"xmlns,attr"`
	Deleted []deletedObject `xml:"Deleted"`
	Errors  []deleteError   `xml:"Error"`
}

// maxDeleteObjects is the most keys one DeleteObjects may name.
const maxDeleteObjects = 1000

// deleteObjects deletes up to 1000 keys in one engine call. Content-MD5
// is checked when sent but not required (newer SDKs send a flexible
// checksum instead, or nothing).
func (s *Server) deleteObjects(req *request) error {
	ks, err := s.checkBucket(req.bucket)
	if err != nil {
		return err
	}
	body, err := s.newXMLBodyReader(req, true)
	if err != nil {
		return err
	}
	var dr deleteRequest
	err = readXML(body, &dr, true)
	body.close()
	if err != nil {
		return err
	}
	if len(dr.Objects) > maxDeleteObjects {
		return errMalformedXML
	}
	res := deleteResult{NS: s3NS}
	keys := make([][]byte, 0, len(dr.Objects))
	for _, o := range dr.Objects {
		if o.Key == "" || len(o.Key) > maxKeyLen {
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: errKeyTooLong.Code, Message: errKeyTooLong.Message})
			continue
		}
		if o.VersionID != "" && o.VersionID != "null" {
			// Buckets are unversioned: deleting the current object
			// instead of the version named would not be what was asked.
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: "NoSuchVersion", Message: "The specified version does not exist."})
			continue
		}
		if err := s.keyMay(req, "s3:DeleteObject", o.Key); err != nil {
			ae := toAPIError(err)
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: ae.Code, Message: ae.Message})
			continue
		}
		keys = append(keys, []byte(o.Key))
	}
	keys, res.Errors = s.deleteKeysUnlocked(ks, keys, bypassGovernance(req), res.Errors)
	if len(keys) > 0 {
		if err := s.eng.Sync(); err != nil {
			return err
		}
	}
	if !dr.Quiet {
		for _, k := range keys {
			res.Deleted = append(res.Deleted, deletedObject{Key: string(k)})
		}
	}
	return writeXML(req.w, http.StatusOK, res)
}
