package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// APIError is an S3 error as sent to clients: an AWS code, its HTTP status
// and a message. Handlers return the values below (or wrap them with
// withMessage); every other error is mapped by toAPIError.
type APIError struct {
	Code    string
	Status  int
	Message string
	// ArgName and ArgValue name the offending argument (InvalidArgument).
	ArgName, ArgValue string
	// Fields are further elements of the error document, in order
	// (Content-MD5, ExpectedDigest, ...).
	Fields []errField
}

// errField is one extra element of an error document.
type errField struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

// withFields returns a copy of e with extra elements, given as name,
// value pairs.
func (e *APIError) withFields(kv ...string) *APIError {
	c := *e
	c.Fields = nil
	for i := 0; i+1 < len(kv); i += 2 {
		c.Fields = append(c.Fields, errField{XMLName: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return &c
}

// withArg returns a copy of e naming the offending argument.
func (e *APIError) withArg(name, value string) *APIError {
	c := *e
	c.ArgName, c.ArgValue = name, value
	return &c
}

func (e *APIError) Error() string { return "s3: " + e.Code + ": " + e.Message }

// withMessage returns a copy of e with a specific message.
func (e *APIError) withMessage(msg string) *APIError {
	c := *e
	c.Message = msg
	return &c
}

// The error table: one entry per AWS error code the server sends.
var (
	errAccessDenied            = &APIError{Code: "AccessDenied", Status: 403, Message: "Access Denied."}
	errAuthorizationMalformed  = &APIError{Code: "AuthorizationHeaderMalformed", Status: 400, Message: "The authorization header is malformed."}
	errAuthorizationQuery      = &APIError{Code: "AuthorizationQueryParametersError", Status: 400, Message: "Error parsing the X-Amz-Credential parameter."}
	errBadDigest               = &APIError{Code: "BadDigest", Status: 400, Message: "The Content-MD5 you specified did not match what we received."}
	errBadRequest              = &APIError{Code: "400", Status: 400, Message: "Bad Request"}
	errBucketAlreadyExists     = &APIError{Code: "BucketAlreadyExists", Status: 409, Message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."}
	errBucketAlreadyOwnedByYou = &APIError{Code: "BucketAlreadyOwnedByYou", Status: 409, Message: "Your previous request to create the named bucket succeeded and you already own it."}
	errBucketNotEmpty          = &APIError{Code: "BucketNotEmpty", Status: 409, Message: "The bucket you tried to delete is not empty."}
	errContentSHA256Mismatch   = &APIError{Code: "XAmzContentSHA256Mismatch", Status: 400, Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	errEntityTooLarge          = &APIError{Code: "EntityTooLarge", Status: 400, Message: "Your proposed upload exceeds the maximum allowed object size."}
	errEntityTooSmall          = &APIError{Code: "EntityTooSmall", Status: 400, Message: "Your proposed upload is smaller than the minimum allowed size"}
	errExpiredPresign          = &APIError{Code: "AccessDenied", Status: 403, Message: "Request has expired."}
	errIncompleteBody          = &APIError{Code: "IncompleteBody", Status: 400, Message: "You did not provide the number of bytes specified by the Content-Length HTTP header"}
	errMalformedTrailer        = &APIError{Code: "MalformedTrailerError", Status: 400, Message: "The request contained trailing data that was not well-formed or did not conform to our published schema."}
	errInvalidChunkSize        = &APIError{Code: "InvalidChunkSizeError", Status: 400, Message: "Only the last chunk is allowed to have a size less than 8192 bytes"}
	errInternal                = &APIError{Code: "InternalError", Status: 500, Message: "We encountered an internal error. Please try again."}
	errInvalidAccessKeyID      = &APIError{Code: "InvalidAccessKeyId", Status: 403, Message: "The AWS Access Key Id you provided does not exist in our records."}
	errInvalidArgument         = &APIError{Code: "InvalidArgument", Status: 400, Message: "Invalid argument."}
	errInvalidBucketName       = &APIError{Code: "InvalidBucketName", Status: 400, Message: "The specified bucket is not valid."}
	errInvalidDigest           = &APIError{Code: "InvalidDigest", Status: 400, Message: "The Content-Md5 you specified is not valid."}
	errInvalidPart             = &APIError{Code: "InvalidPart", Status: 400, Message: "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."}
	errInvalidPartOrder        = &APIError{Code: "InvalidPartOrder", Status: 400, Message: "The list of parts was not in ascending order. Parts must be ordered by part number."}
	errInvalidRedirect         = &APIError{Code: "InvalidRedirectLocation", Status: 400, Message: "The website redirect location must have a prefix of 'http://' or 'https://' or '/'."}
	errInvalidRange            = &APIError{Code: "InvalidRange", Status: 416, Message: "The requested range is not satisfiable"}
	errInvalidPartNumber       = &APIError{Code: "InvalidPartNumber", Status: 416, Message: "The requested partnumber is not satisfiable."}
	errInvalidRequest          = &APIError{Code: "InvalidRequest", Status: 400, Message: "Invalid Request."}
	errKeyTooLong              = &APIError{Code: "KeyTooLongError", Status: 400, Message: "Your key is too long."}
	errMalformedXML            = &APIError{Code: "MalformedXML", Status: 400, Message: "The XML you provided was not well-formed or did not validate against our published schema."}
	errMetadataTooLarge        = &APIError{Code: "MetadataTooLarge", Status: 400, Message: "Your metadata headers exceed the maximum allowed metadata size"}
	errMethodNotAllowed        = &APIError{Code: "MethodNotAllowed", Status: 405, Message: "The specified method is not allowed against this resource."}
	errMissingContentLength    = &APIError{Code: "MissingContentLength", Status: 411, Message: "You must provide the Content-Length HTTP header."}
	errMissingSecurityHeader   = &APIError{Code: "MissingSecurityHeader", Status: 400, Message: "Your request is missing a required header: x-amz-content-sha256."}
	errNoSuchBucket            = &APIError{Code: "NoSuchBucket", Status: 404, Message: "The specified bucket does not exist."}
	errNoSuchKey               = &APIError{Code: "NoSuchKey", Status: 404, Message: "The specified key does not exist."}
	errNoSuchUpload            = &APIError{Code: "NoSuchUpload", Status: 404, Message: "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}
	errNotImplemented          = &APIError{Code: "NotImplemented", Status: 501, Message: "A header you provided implies functionality that is not implemented."}
	errNotModified             = &APIError{Code: "NotModified", Status: 304, Message: "Not Modified."}
	errPreconditionFailed      = &APIError{Code: "PreconditionFailed", Status: 412, Message: "At least one of the pre-conditions you specified did not hold."}
	errRequestTimeTooSkewed    = &APIError{Code: "RequestTimeTooSkewed", Status: 403, Message: "The difference between the request time and the server's time is too large."}
	errRequestTimeout          = &APIError{Code: "RequestTimeout", Status: 400, Message: "Your socket connection to the server was not read from or written to within the timeout period."}
	errSignatureDoesNotMatch   = &APIError{Code: "SignatureDoesNotMatch", Status: 403, Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errSlowDown                = &APIError{Code: "SlowDown", Status: 503, Message: "Please reduce your request rate."}
	errServiceUnavailable      = &APIError{Code: "ServiceUnavailable", Status: 503, Message: "The server is out of capacity. Please try again later."}
	errInvalidLocation         = &APIError{Code: "InvalidLocationConstraint", Status: 400, Message: "The specified location-constraint is not valid"}
	errMissingRequestBody      = &APIError{Code: "MissingRequestBodyError", Status: 400, Message: "Request Body is empty"}
	errConditionalConflict     = &APIError{Code: "ConditionalRequestConflict", Status: 409, Message: "A conflicting conditional operation is currently in progress against this resource."}
	errUnsupportedSignature    = &APIError{Code: "InvalidArgument", Status: 400, Message: "Unsupported Authorization Type"}
	errSigV2                   = &APIError{Code: "InvalidRequest", Status: 400, Message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}
	errInvalidToken            = &APIError{Code: "InvalidToken", Status: 400, Message: "The provided token is malformed or otherwise invalid."}
)

// sha256MismatchError is XAmzContentSHA256Mismatch with both digests,
// which S3 reports in the error body.
type sha256MismatchError struct{ client, computed string }

func (e *sha256MismatchError) Error() string { return errContentSHA256Mismatch.Error() }
func (e *sha256MismatchError) Unwrap() error { return errContentSHA256Mismatch }

// toAPIError maps any error to the AWS error sent to the client.
func toAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	if de := (*sigv4.Error)(nil); errors.As(err, &de) {
		return toAPIError(de.Kind).withMessage(de.Message)
	}
	if he := (*sigv4.HeadersNotSignedError)(nil); errors.As(err, &he) {
		return errAccessDenied.withMessage("There were headers present in the request which were not signed").
			withFields("HeadersNotSigned", strings.Join(he.Headers, ", "))
	}
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		return errAccessDenied
	case errors.Is(err, sigv4.ErrSigV2):
		return errSigV2
	case errors.Is(err, sigv4.ErrUnsupportedAlgorithm):
		return errUnsupportedSignature
	case errors.Is(err, sigv4.ErrMalformedAuth), errors.Is(err, sigv4.ErrMalformedCredential),
		errors.Is(err, sigv4.ErrHostNotSigned):
		return errAuthorizationMalformed
	case errors.Is(err, sigv4.ErrMalformedExpires):
		return errAuthorizationQuery.withMessage("X-Amz-Expires must be between 1 and 604800 seconds.")
	case errors.Is(err, sigv4.ErrUnknownAccessKey):
		return errInvalidAccessKeyID
	case errors.Is(err, sigv4.ErrSignatureMismatch), errors.Is(err, sigv4.ErrChunkSignature):
		return errSignatureDoesNotMatch
	case errors.Is(err, sigv4.ErrMissingDate):
		return errAccessDenied.withMessage("AWS authentication requires a valid Date or x-amz-date header.")
	case errors.Is(err, sigv4.ErrMalformedDate):
		return errAccessDenied.withMessage("AWS authentication requires a valid Date or x-amz-date header.")
	case errors.Is(err, sigv4.ErrSkewed):
		return errRequestTimeTooSkewed
	case errors.Is(err, sigv4.ErrExpired):
		return errExpiredPresign
	case errors.Is(err, sigv4.ErrMissingContentSHA256):
		return errMissingSecurityHeader
	case errors.Is(err, sigv4.ErrBadContentSHA256):
		return errInvalidArgument.withMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, " +
			"STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, " +
			"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	case errors.Is(err, sigv4.ErrInvalidToken):
		return errInvalidToken
	case errors.Is(err, sigv4.ErrChunkFormat):
		return errIncompleteBody.withMessage("The request body terminated unexpectedly")
	case errors.Is(err, sigv4.ErrMalformedTrailer):
		return errMalformedTrailer
	case errors.Is(err, sigv4.ErrChunkTooSmall):
		return errInvalidChunkSize
	case errors.Is(err, sigv4.ErrIncompleteBody):
		return errIncompleteBody
	case errors.Is(err, errBodyTimeout):
		return errRequestTimeout
	case errors.Is(err, errBodyTooLarge):
		return errEntityTooLarge
	case errors.Is(err, errUnexpectedEOF):
		return errIncompleteBody
	case errors.Is(err, engine.ErrNotFound):
		return errNoSuchKey
	case errors.Is(err, engine.ErrKeyspaceNotFound):
		return errNoSuchBucket
	case errors.Is(err, engine.ErrKeyspaceNotEmpty):
		return errBucketNotEmpty
	case errors.Is(err, engine.ErrKeyspaceExists):
		return errBucketAlreadyOwnedByYou
	case errors.Is(err, engine.ErrWrongType):
		return errNoSuchKey
	case errors.Is(err, engine.ErrBusy):
		return errSlowDown
	case errors.Is(err, engine.ErrNoSpace):
		return errServiceUnavailable
	case errors.Is(err, engine.ErrTooLarge):
		return errEntityTooLarge
	}
	return errInternal
}

type errorBody struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Resource   string   `xml:"Resource,omitempty"`
	BucketName string   `xml:"BucketName,omitempty"`
	Key        string   `xml:"Key,omitempty"`
	// Set for InvalidAccessKeyId and expired presigned requests.
	AWSAccessKeyID string `xml:"AWSAccessKeyId,omitempty"`
	ServerTime     string `xml:"ServerTime,omitempty"`
	XAmzExpires    string `xml:"X-Amz-Expires,omitempty"`
	Expires        string `xml:"Expires,omitempty"`
	ClientSHA256   string `xml:"ClientComputedContentSHA256,omitempty"`
	ServerSHA256   string `xml:"S3ComputedContentSHA256,omitempty"`
	ArgumentName   string `xml:"ArgumentName,omitempty"`
	ArgumentValue  string `xml:"ArgumentValue,omitempty"`
	Fields         []errField
	RequestID      string `xml:"RequestId"`
}

// writeError sends err as an AWS XML error. HEAD responses and 304 carry
// no body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, req *request, err error) {
	ae := toAPIError(err)
	if ae == errInternal {
		name := opUnknown.String()
		if req != nil {
			name = req.op.String()
		}
		s.cfg.Logf("s3: %s %s %s: %v", name, r.Method, r.URL.Path, err)
	}
	h := w.Header()
	if ae.Status == http.StatusNotModified || r.Method == http.MethodHead {
		h.Del("Content-Type")
		w.WriteHeader(ae.Status)
		return
	}
	body := errorBody{Code: ae.Code, Message: ae.Message, Resource: r.URL.Path, RequestID: h.Get("X-Amz-Request-Id"), Fields: ae.Fields}
	if req != nil {
		body.BucketName, body.Key = req.bucket, req.key
	}
	var shaErr *sha256MismatchError
	switch {
	case errors.As(err, &shaErr):
		body.ClientSHA256, body.ServerSHA256 = shaErr.client, shaErr.computed
	case errors.Is(err, sigv4.ErrUnknownAccessKey):
		body.AWSAccessKeyID = requestAccessKey(r)
	case errors.Is(err, sigv4.ErrExpired):
		q := r.URL.Query()
		body.ServerTime = s.now().UTC().Format("2006-01-02T15:04:05Z")
		body.XAmzExpires = q.Get("X-Amz-Expires")
		if t, err := sigv4.ParseTime(q.Get("X-Amz-Date")); err == nil {
			if n, err := strconv.Atoi(body.XAmzExpires); err == nil {
				body.Expires = t.Add(time.Duration(n) * time.Second).UTC().Format("2006-01-02T15:04:05Z")
			}
		}
	case errors.Is(err, sigv4.ErrBadContentSHA256):
		v := r.Header.Get("X-Amz-Content-Sha256")
		if v == "" {
			v = r.URL.Query().Get("X-Amz-Content-Sha256")
		}
		body.ArgumentName, body.ArgumentValue = "x-amz-content-sha256", v
	case ae.ArgName != "":
		body.ArgumentName, body.ArgumentValue = ae.ArgName, ae.ArgValue
	case ae == errUnsupportedSignature || errors.Is(err, sigv4.ErrUnsupportedAlgorithm) && r.Header.Get("Authorization") != "":
		alg, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		body.ArgumentName, body.ArgumentValue = "Authorization", alg
	}
	out, _ := xml.Marshal(body)
	out = s3Entities(out)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	w.WriteHeader(ae.Status)
	w.Write([]byte(xml.Header))
	w.Write(out)
}

// presignedError maps a verification error of a presigned request: query
// problems are AuthorizationQueryParametersError there.
func presignedError(err error) error {
	switch {
	case errors.Is(err, sigv4.ErrMalformedAuth), errors.Is(err, sigv4.ErrMalformedCredential),
		errors.Is(err, sigv4.ErrHostNotSigned), errors.Is(err, sigv4.ErrUnsupportedAlgorithm),
		errors.Is(err, sigv4.ErrMalformedExpires), errors.Is(err, sigv4.ErrMalformedDate):
		msg := errAuthorizationQuery.Message
		if de := (*sigv4.Error)(nil); errors.As(err, &de) {
			msg = de.Message
		}
		return errAuthorizationQuery.withMessage(msg)
	case errors.Is(err, sigv4.ErrMissingDate):
		return errAuthorizationQuery.withMessage("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	return err
}

// requestAccessKey digs the access key out of a request's credential.
func requestAccessKey(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		_, cred, _ = strings.Cut(a, "Credential=")
		cred, _, _ = strings.Cut(cred, ",")
	}
	ak, _, _ := strings.Cut(cred, "/")
	return ak
}
