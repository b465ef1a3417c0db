// Package sigv4 verifies AWS Signature Version 4 on S3 requests, in every
// form S3 clients send it:
//
//   - the Authorization header, with a real payload SHA-256 (checked by the
//     caller as the body streams, see [Result.PayloadHash]) or
//     UNSIGNED-PAYLOAD;
//   - presigned URLs (X-Amz-Signature in the query) with their expiry;
//   - aws-chunked streaming bodies: STREAMING-AWS4-HMAC-SHA256-PAYLOAD with
//     a chained signature per chunk, its -TRAILER variant with a signed
//     trailer, and STREAMING-UNSIGNED-PAYLOAD-TRAILER, all decoded by
//     [ChunkedReader] with bounded memory.
//
// It also signs (for tests and for clients in this module): the same
// canonical request code serves both sides, so they cannot drift apart.
//
// # Basics
//
// A [Verifier] holds the credentials and the clock-skew window. Verify
// checks the request headers and query and returns a [Result] that says how
// the body must be read. Signatures are compared in constant time.
//
// # Cost
//
// Verification runs on every request, so it is kept off the allocator:
// the canonical request and the string to sign are built in pooled
// working memory, hashed and signed with a reused SHA-256 state, and the
// signing key of a verified credential, day and region is cached. A
// header-signed request whose key is cached is verified with no
// allocation (VerifyInto; Verify allocates only its Result), and an
// aws-chunked body costs a handful of allocations in all, not several
// per chunk. minio-go's signer, an independent implementation, is the
// oracle of a fuzz test (FuzzVerifyAgainstMinioSigner).
//
// # Caveats
//
// The canonical URI is rebuilt from the decoded path with the strict S3
// encoding (every byte but A-Z a-z 0-9 - _ . ~ and / escaped), which is what
// every S3 SDK signs, whatever escaping it put on the wire. Errors are the
// sentinels in errors.go; the S3 front end maps them to AWS error codes.
package sigv4
