package s3

import (
	"net/http"
	"strconv"
	"strings"
)

// Checksum rules of CompleteMultipartUpload, as S3 applies them.

// checkCompleteRequest validates the checksum headers and per-part
// checksums of a Complete request against the upload.
func checkCompleteRequest(req *request, up *objectAttrs, cmu *completeMultipartUpload) error {
	h := req.r.Header
	if v := h.Get("X-Amz-Mp-Object-Size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errInvalidRequest.withMessage("Value for x-amz-mp-object-size header is invalid.")
		}
		if n < 0 {
			return errInvalidRequest.withMessage("Value for x-amz-mp-object-size header is less than zero: '" + v + "'")
		}
	}
	if _, err := parseRequestChecksum(finalChecksumHeaders(h)); err != nil {
		return err
	}
	if t := h.Get("X-Amz-Checksum-Type"); t != "" {
		var ct uint8
		switch strings.ToUpper(t) {
		case "COMPOSITE":
			ct = checksumComposite
		case "FULL_OBJECT":
			ct = checksumFullObject
		default:
			return errInvalidRequest.withMessage("Value for x-amz-checksum-type header is invalid.")
		}
		if up.ChecksumAlg != checksumNone && ct != up.ChecksumType {
			return errInvalidRequest.withMessage("The upload was created using the " + checksumTypeName(up.ChecksumType) +
				" checksum mode. The complete request must use the same checksum mode.")
		}
	}
	for i := range cmu.Parts {
		p := &cmu.Parts[i]
		var present []checksumAlg
		for a := checksumCRC32; a < numChecksumAlgs; a++ {
			if p.get(a) != "" {
				present = append(present, a)
			}
		}
		if len(present) > 1 || len(present) == 1 && !present[0].valid(p.get(present[0])) {
			var arg strings.Builder
			for _, a := range present {
				arg.WriteString(a.String() + ":" + p.get(a) + ";")
			}
			v := arg.String()
			if len(present) == 1 {
				v = p.get(present[0])
			}
			e := errInvalidArgument.withMessage("Invalid Base64 or multiple checksums present in request")
			e.ArgName, e.ArgValue = "Checksum", v
			return e
		}
		if len(present) == 1 && up.ChecksumAlg != checksumNone && present[0] != up.ChecksumAlg {
			return errBadDigest.withMessage("The " + strings.ToLower(present[0].String()) + " you specified for part " +
				strconv.Itoa(p.PartNumber) + " did not match what we received.")
		}
		if up.ChecksumAlg != checksumNone && up.ChecksumType == checksumComposite && p.get(up.ChecksumAlg) == "" {
			return errInvalidRequest.withMessage("The upload was created using a " + strings.ToLower(up.ChecksumAlg.String()) +
				" checksum. The complete request must include the checksum for each part. It was missing for part " +
				strconv.Itoa(p.PartNumber) + " in the request.")
		}
	}
	return nil
}

// checkCompleteResult compares what the request declared (object size,
// final checksum) with what the parts make.
func checkCompleteResult(req *request, a *objectAttrs, total int64) error {
	h := req.r.Header
	if v := h.Get("X-Amz-Mp-Object-Size"); v != "" && v != strconv.FormatInt(total, 10) {
		// NB: S3 puts the computed size first, as the message reads oddly.
		return errInvalidRequest.withMessage("The provided 'x-amz-mp-object-size' header value " +
			strconv.FormatInt(total, 10) + " does not match what was computed: " + v)
	}
	if a.ChecksumAlg == checksumNone || a.Checksum == "" {
		return nil
	}
	want := h.Get(a.ChecksumAlg.key())
	if want == "" {
		return nil
	}
	got, _, _ := strings.Cut(a.Checksum, "-")
	want, _, _ = strings.Cut(want, "-")
	if got != want {
		return errBadDigest.withMessage("The " + a.ChecksumAlg.String() + " you specified did not match the calculated checksum.")
	}
	return nil
}

// finalChecksumHeaders returns h with the "-<parts>" suffix of composite
// x-amz-checksum-* values removed, so that they validate as digests.
func finalChecksumHeaders(h http.Header) http.Header {
	var c http.Header
	for a := checksumCRC32; a < numChecksumAlgs; a++ {
		name := a.key()
		vs, ok := h[name]
		if !ok || len(vs) == 0 {
			continue
		}
		d, n, found := strings.Cut(vs[0], "-")
		if !found {
			continue
		}
		if k, err := strconv.ParseUint(n, 10, 16); err != nil || k == 0 {
			continue // not a part count ("--3", "-0", "-x"): left to fail as a digest
		}
		if c == nil {
			c = h.Clone()
		}
		c[name] = []string{d}
	}
	if c == nil {
		return h
	}
	return c
}
