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
	errAccessDenied            = &APIError{"AccessDenied", 403, "Access Denied."}
	errAuthorizationMalformed  = &APIError{"AuthorizationHeaderMalformed", 400, "The authorization header is malformed."}
	errAuthorizationQuery      = &APIError{"AuthorizationQueryParametersError", 400, "Error parsing the X-Amz-Credential parameter."}
	errBadDigest               = &APIError{"BadDigest", 400, "The Content-MD5 or checksum you specified did not match what we received."}
	errBucketAlreadyOwnedByYou = &APIError{"BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it."}
	errBucketNotEmpty          = &APIError{"BucketNotEmpty", 409, "The bucket you tried to delete is not empty."}
	errContentSHA256Mismatch   = &APIError{"XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed."}
	errEntityTooLarge          = &APIError{"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."}
	errEntityTooSmall          = &APIError{"EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size"}
	errExpiredPresign          = &APIError{"AccessDenied", 403, "Request has expired."}
	errIncompleteBody          = &APIError{"IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header"}
	errMalformedTrailer        = &APIError{"MalformedTrailerError", 400, "The request contained trailing data that was not well-formed or did not conform to our published schema."}
	errInvalidChunkSize        = &APIError{"InvalidChunkSizeError", 400, "Only the last chunk is allowed to have a size less than 8192 bytes"}
	errInternal                = &APIError{"InternalError", 500, "We encountered an internal error. Please try again."}
	errInvalidAccessKeyID      = &APIError{"InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."}
	errInvalidArgument         = &APIError{"InvalidArgument", 400, "Invalid argument."}
	errInvalidBucketName       = &APIError{"InvalidBucketName", 400, "The specified bucket is not valid."}
	errInvalidDigest           = &APIError{"InvalidDigest", 400, "The Content-MD5 or checksum you specified is not valid."}
	errInvalidPart             = &APIError{"InvalidPart", 400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."}
	errInvalidPartOrder        = &APIError{"InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number."}
	errInvalidRange            = &APIError{"InvalidRange", 416, "The requested range is not satisfiable"}
	errInvalidPartNumber       = &APIError{"InvalidPartNumber", 416, "The requested partnumber is not satisfiable."}
	errInvalidRequest          = &APIError{"InvalidRequest", 400, "Invalid Request."}
	errKeyTooLong              = &APIError{"KeyTooLongError", 400, "Your key is too long."}
	errMalformedXML            = &APIError{"MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema."}
	errMetadataTooLarge        = &APIError{"MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size"}
	errMethodNotAllowed        = &APIError{"MethodNotAllowed", 405, "The specified method is not allowed against this resource."}
	errMissingContentLength    = &APIError{"MissingContentLength", 411, "You must provide the Content-Length HTTP header."}
	errMissingSecurityHeader   = &APIError{"MissingSecurityHeader", 400, "Your request is missing a required header: x-amz-content-sha256."}
	errNoSuchBucket            = &APIError{"NoSuchBucket", 404, "The specified bucket does not exist."}
	errNoSuchKey               = &APIError{"NoSuchKey", 404, "The specified key does not exist."}
	errNoSuchUpload            = &APIError{"NoSuchUpload", 404, "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}
	errNotImplemented          = &APIError{"NotImplemented", 501, "A header or query you provided implies functionality that is not implemented."}
	errNotModified             = &APIError{"NotModified", 304, "Not Modified."}
	errPreconditionFailed      = &APIError{"PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold."}
	errRequestTimeTooSkewed    = &APIError{"RequestTimeTooSkewed", 403, "The difference between the request time and the server's time is too large."}
	errRequestTimeout          = &APIError{"RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period."}
	errSignatureDoesNotMatch   = &APIError{"SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errSlowDown                = &APIError{"SlowDown", 503, "Please reduce your request rate."}
	errServiceUnavailable      = &APIError{"ServiceUnavailable", 503, "The server is out of capacity. Please try again later."}
	errInvalidLocation         = &APIError{"InvalidLocationConstraint", 400, "The specified location-constraint is not valid"}
	errMissingRequestBody      = &APIError{"MissingRequestBodyError", 400, "Request Body is empty."}
	errConditionalConflict     = &APIError{"ConditionalRequestConflict", 409, "A conflicting conditional operation is currently in progress against this resource."}
	errUnsupportedSignature    = &APIError{"InvalidArgument", 400, "Unsupported Authorization Type"}
	errSigV2                   = &APIError{"InvalidRequest", 400, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}
)

// toAPIError maps any error to the AWS error sent to the client.
func toAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	if de := (*sigv4.Error)(nil); errors.As(err, &de) {
		return toAPIError(de.Kind).withMessage(de.Message)
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
		return errContentSHA256Mismatch.withMessage("The provided 'x-amz-content-sha256' header is not valid.")
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
	ArgumentName   string `xml:"ArgumentName,omitempty"`
	ArgumentValue  string `xml:"ArgumentValue,omitempty"`
	RequestID      string `xml:"RequestId"`
}

// writeError sends err as an AWS XML error. HEAD responses and 304 carry
// no body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, req *request, err error) {
	ae := toAPIError(err)
	if ae == errInternal {
		s.cfg.Logf("s3: %s %s: %v", r.Method, r.URL.Path, err)
	}
	h := w.Header()
	if ae.Status == http.StatusNotModified || r.Method == http.MethodHead {
		h.Del("Content-Type")
		w.WriteHeader(ae.Status)
		return
	}
	body := errorBody{Code: ae.Code, Message: ae.Message, Resource: r.URL.Path, RequestID: h.Get("x-amz-request-id")}
	if req != nil {
		body.BucketName, body.Key = req.bucket, req.key
	}
	switch {
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
	case ae == errUnsupportedSignature || errors.Is(err, sigv4.ErrUnsupportedAlgorithm) && r.Header.Get("Authorization") != "":
		alg, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		body.ArgumentName, body.ArgumentValue = "Authorization", alg
	}
	out, _ := xml.Marshal(body)
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
