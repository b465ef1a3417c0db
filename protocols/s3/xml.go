package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"time"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds request bodies parsed as XML (DeleteObjects with 1000
// keys of 1024 bytes fits).
const maxXMLBody = 2 << 20

// writeXML sends v as an XML document with status.
func writeXML(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	out := s3Entities(buf.Bytes())
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, err := w.Write(out)
	if err != nil {
		// Headers are out; nothing more to tell the client.
		return nil
	}
	return nil
}

var (
	goQuote = []byte("&#34;")
	s3Quote = []byte("&quot;")
)

// s3Entities writes the double quotes of an encoded document as S3 does,
// &quot;, where encoding/xml writes &#34;. The XML is the same, but
// clients that pick ETags out of the text without an XML decoder (the
// AWS CRT's S3 client, for CompleteMultipartUpload, UploadPartCopy,
// ListParts and ListObjects) undo &quot; only, and would otherwise carry
// "&#34;...&#34;" as the ETag.
func s3Entities(doc []byte) []byte {
	if !bytes.Contains(doc, goQuote) {
		return doc
	}
	return bytes.ReplaceAll(doc, goQuote, s3Quote)
}

// readXML reads a small XML request body (through the verifying body
// reader) into v. An empty body yields errMissingRequestBody when
// required, nil otherwise (v untouched).
func readXML(body io.Reader, v any, required bool) error {
	data, err := io.ReadAll(io.LimitReader(body, maxXMLBody+1))
	if err != nil {
		return bodyErr(err)
	}
	if len(data) > maxXMLBody {
		return errEntityTooLarge
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return errMissingRequestBody
		}
		return nil
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return errMalformedXML
	}
	return nil
}

// isoTime formats a listing timestamp (millisecond precision, UTC).
func isoTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z")
}

// httpTime formats Last-Modified.
func httpTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(http.TimeFormat)
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

func (s *Server) owner(req *request) owner {
	id := "gpucache"
	if req.auth != nil {
		id = req.auth.AccessKey
	}
	return owner{ID: id, DisplayName: id}
}
