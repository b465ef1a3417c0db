package s3

import (
	"net/http"
	"net/textproto"
	"strings"
)

// Requests the server cannot honour are refused before anything runs,
// never half-done: a client that asked for encryption, a storage class,
// an object version, an append or MFA must not get a 200 for a request
// that did something else.
//
//   - Server-side encryption: there is no KMS and no encryption at rest.
//     SSE-S3 and SSE-KMS writes are answered NotImplemented, as MinIO
//     without a KMS answers them. SSE-C needs TLS (InvalidRequest
//     otherwise, as S3 answers); over TLS a write is NotImplemented, and a
//     read or copy source naming a customer key is InvalidRequest: no
//     stored object is encrypted, so the key cannot apply to it.
//   - Storage classes other than STANDARD: InvalidStorageClass.
//   - versionId other than "null" (buckets are unversioned): InvalidArgument.
//   - Appends (x-amz-write-offset-bytes) and MFA delete (x-amz-mfa):
//     NotImplemented.
//   - Sub-resources of operations the server does not have (Object Lambda,
//     rename, sessions, ...) and bucket configuration it does not keep
//     (lifecycle, encryption, replication, ...): NotImplemented (classify
//     and opSpecs).
//
// x-amz-request-payer is accepted: no bucket is requester-pays, and the
// header only acknowledges charges that do not exist.

var (
	errKMSNotConfigured = &APIError{Code: "NotImplemented", Status: 501,
		Message: "Server side encryption specified but KMS is not configured"}
	errSSECNotImplemented = &APIError{Code: "NotImplemented", Status: 501,
		Message: "Server side encryption with customer-provided keys is not implemented: objects are stored unencrypted"}
	errSSECInsecure        = errInvalidRequest.withMessage("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
	errSSENotApplicable    = errInvalidRequest.withMessage("The encryption parameters are not applicable to this object.")
	errSSEOnRead           = errInvalidArgument.withMessage("x-amz-server-side-encryption header is not supported for this operation.")
	errInvalidStorageClass = &APIError{Code: "InvalidStorageClass", Status: 400,
		Message: "The storage class you specified is not valid"}
	errAppendNotImplemented = &APIError{Code: "NotImplemented", Status: 501,
		Message: "Appending to an object (x-amz-write-offset-bytes) is not implemented"}
	errMFANotImplemented = &APIError{Code: "NotImplemented", Status: 501,
		Message: "MFA delete (x-amz-mfa) is not implemented"}
	errSubresourceNotImplemented = &APIError{Code: "NotImplemented", Status: 501,
		Message: "The sub-resource names an operation this server does not implement"}
)

// unimplementedSubresources name S3 operations this server does not have
// at all (classify answers NotImplemented for them).
var unimplementedSubresources = map[string]bool{
	"renameObject": true, "session": true, "metadataTable": true, "metadataConfiguration": true,
	"metadataInventoryTable": true, "metadataJournalTable": true, "objectLambda": true, "abac": true,
}

// writesObject reports operations that create an object from the request
// (its headers say how it is to be stored).
func writesObject(o op) bool {
	switch o {
	case opPutObject, opCopyObject, opCreateMultipartUpload:
		return true
	}
	return false
}

// checkHonourable refuses a classified request that asks for something
// the server does not do. It reads headers and the query only.
func checkHonourable(req *request) error {
	h, o := req.r.Header, req.op
	if err := checkEncryption(o, h, req.r.TLS != nil); err != nil {
		return err
	}
	if writesObject(o) {
		if sc := h.Get("X-Amz-Storage-Class"); sc != "" && sc != "STANDARD" {
			return errInvalidStorageClass.withArg("x-amz-storage-class", sc)
		}
	}
	if _, ok := h["X-Amz-Write-Offset-Bytes"]; ok {
		return errAppendNotImplemented
	}
	if _, ok := h["X-Amz-Mfa"]; ok {
		return errMFANotImplemented
	}
	if req.key != "" && o != opCreateMultipartUpload {
		return checkVersionID(req)
	}
	return nil
}

// checkEncryption applies the rules above to the encryption headers of a
// request for operation o (POST object passes its form fields as h).
func checkEncryption(o op, h http.Header, tls bool) error {
	sse, ssec, srcSSEC := false, false, false
	for name := range h {
		if len(name) < len("X-Amz-Server-Side-Encryption") {
			continue
		}
		switch {
		case strings.HasPrefix(name, "X-Amz-Server-Side-Encryption-Customer-"):
			ssec = true
		case strings.HasPrefix(name, "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"):
			srcSSEC = true
		case strings.HasPrefix(name, "X-Amz-Server-Side-Encryption"):
			sse = true
		}
	}
	if !sse && !ssec && !srcSSEC {
		return nil
	}
	if (ssec || srcSSEC) && !tls {
		return errSSECInsecure
	}
	switch o {
	case opPutObject, opCopyObject, opCreateMultipartUpload, opUploadPart, opUploadPartCopy, opPostObject:
		if srcSSEC {
			return errSSENotApplicable
		}
		if ssec {
			return errSSECNotImplemented
		}
		if o == opUploadPart || o == opUploadPartCopy {
			return errSSEOnRead // parts take the upload's encryption
		}
		return errKMSNotConfigured
	}
	if ssec || srcSSEC {
		return errSSENotApplicable
	}
	return errSSEOnRead
}

// formEncryption is checkEncryption for the fields of a POST object form
// (lower-cased names).
func formEncryption(fields map[string]string, tls bool) error {
	var h http.Header
	for name, v := range fields {
		if strings.HasPrefix(name, "x-amz-server-side-encryption") {
			if h == nil {
				h = make(http.Header)
			}
			h[textproto.CanonicalMIMEHeaderKey(name)] = []string{v}
		}
	}
	if h == nil {
		return nil
	}
	return checkEncryption(opPostObject, h, tls)
}
