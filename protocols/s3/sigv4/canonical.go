package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

const (
	// Algorithm is the only signature algorithm accepted.
	Algorithm = "AWS4-HMAC-SHA256"
	// TimeFormat is the ISO 8601 basic format of X-Amz-Date.
	TimeFormat = "20060102T150405Z"
	// DateFormat is the date part of a credential scope.
	DateFormat = "20060102"
	// EmptySHA256 is the hex SHA-256 of no bytes.
	EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// Payload modes carried in x-amz-content-sha256.
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
	// authority is the signed name of the host over HTTP/2.
	authority = ":authority"
)

// SigningKey derives the key for one day, region and service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// signHex returns the hex HMAC of stringToSign under key.
func signHex(key []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// stringToSign builds the request string to sign.
func stringToSign(t time.Time, scope, canonicalRequest string) string {
	return Algorithm + "\n" + t.UTC().Format(TimeFormat) + "\n" + scope + "\n" + sha256Hex(canonicalRequest)
}

// Scope is date/region/service/aws4_request.
func Scope(date, region, service string) string {
	return date + "/" + region + "/" + service + "/aws4_request"
}

// canonicalRequest returns the canonical request of r (see
// scratch.appendCanonicalRequest).
func canonicalRequest(r *http.Request, signed []string, payloadHash, skipQuery string) string {
	sc := getScratch()
	defer putScratch(sc)
	return string(sc.appendCanonicalRequest(nil, r, signed, payloadHash, skipQuery))
}

const upperhex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// Encode is the strict SigV4 URI encoding of one component.
func Encode(s string) string { return encode(s, false) }

// EncodePath encodes a decoded path, keeping '/'.
func EncodePath(p string) string {
	if p == "" {
		return "/"
	}
	return encode(p, true)
}

func encode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	return string(appendEncoded(make([]byte, 0, len(s)+2*n), s, keepSlash))
}
