package sigv4

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by verification. The S3 front end maps each to an AWS
// error code at the edge.
var (
	// ErrMissingAuth reports a request with neither an Authorization
	// header nor a presigned query: anonymous access is refused.
	ErrMissingAuth = errors.New("sigv4: request is not signed")
	// ErrUnsupportedAlgorithm reports a signature that is not AWS4-HMAC-SHA256
	// (SigV2, or SigV4A).
	ErrUnsupportedAlgorithm = errors.New("sigv4: unsupported signature algorithm")
	// ErrSigV2 reports a Signature Version 2 request.
	ErrSigV2 = errors.New("sigv4: signature version 2 is not supported")
	// ErrMalformedAuth reports an Authorization header or presigned query
	// that does not parse.
	ErrMalformedAuth = errors.New("sigv4: malformed authorization")
	// ErrMalformedCredential reports a bad credential scope (date, service,
	// terminator).
	ErrMalformedCredential = errors.New("sigv4: malformed credential scope")
	// ErrUnknownAccessKey reports an access key that is not configured.
	ErrUnknownAccessKey = errors.New("sigv4: unknown access key")
	// ErrSignatureMismatch reports a signature that does not match.
	ErrSignatureMismatch = errors.New("sigv4: signature does not match")
	// ErrMissingDate reports a request without X-Amz-Date or Date.
	ErrMissingDate = errors.New("sigv4: missing request date")
	// ErrMalformedDate reports an unparsable request date.
	ErrMalformedDate = errors.New("sigv4: malformed request date")
	// ErrSkewed reports a request date outside the clock-skew window.
	ErrSkewed = errors.New("sigv4: request time too skewed")
	// ErrExpired reports a presigned URL past its expiry.
	ErrExpired = errors.New("sigv4: presigned request expired")
	// ErrMalformedExpires reports an X-Amz-Expires that is not 1..604800.
	ErrMalformedExpires = errors.New("sigv4: malformed X-Amz-Expires")
	// ErrMissingContentSHA256 reports header auth without x-amz-content-sha256.
	ErrMissingContentSHA256 = errors.New("sigv4: missing x-amz-content-sha256")
	// ErrBadContentSHA256 reports an x-amz-content-sha256 that is neither a
	// hex digest nor a known streaming mode.
	ErrBadContentSHA256 = errors.New("sigv4: invalid x-amz-content-sha256")
	// ErrHostNotSigned reports a signature whose SignedHeaders omit host
	// (or, its name over HTTP/2, :authority).
	ErrHostNotSigned = errors.New("sigv4: host header not signed")
	// ErrHeadersNotSigned reports x-amz-* request headers the signature
	// does not cover (see HeadersNotSignedError for which).
	ErrHeadersNotSigned = errors.New("sigv4: headers present in the request are not signed")
	// ErrInvalidToken reports a session token: only permanent credentials
	// are configured, so any token is invalid.
	ErrInvalidToken = errors.New("sigv4: invalid security token")

	// ErrChunkSignature reports an aws-chunked chunk (or trailer) whose
	// signature does not match.
	ErrChunkSignature = errors.New("sigv4: chunk signature does not match")
	// ErrChunkFormat reports a malformed or truncated aws-chunked body.
	ErrChunkFormat = errors.New("sigv4: malformed chunked body")
	// ErrMalformedTrailer reports a trailer section that does not parse.
	ErrMalformedTrailer = errors.New("sigv4: malformed trailer")
	// ErrChunkTooSmall reports a chunk other than the last one under
	// 8 KiB, which S3 refuses.
	ErrChunkTooSmall = errors.New("sigv4: only the last chunk may be smaller than 8192 bytes")
	// ErrIncompleteBody reports a body shorter (or longer) than declared.
	ErrIncompleteBody = errors.New("sigv4: body length does not match declared length")
)

// Error is a verification failure carrying the message S3 sends for it.
// errors.Is matches its Kind (one of the sentinels above).
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func detail(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// HeadersNotSignedError lists the x-amz-* headers a request carried but
// did not sign (lower-case, sorted). errors.Is matches ErrHeadersNotSigned.
type HeadersNotSignedError struct {
	Headers []string
}

func (e *HeadersNotSignedError) Error() string {
	return "sigv4: headers not signed: " + strings.Join(e.Headers, ", ")
}

func (e *HeadersNotSignedError) Unwrap() error { return ErrHeadersNotSigned }

// MalformedPrefix starts the message of header-signature errors; S3 drops
// it where the same checks apply to other forms (POST uploads).
const MalformedPrefix = malformed

const malformed = "The authorization header is malformed; "
