// Package s3compat runs real S3 clients against a real gpucache process:
// aws CLI v1 and v2 over http and https, minio-go (streaming signatures,
// trailers, multipart, presigned URLs), the request sequence of LMCache's
// s3:// connector (the AWS CRT client: virtual-host addressing over TLS
// with HTTP/2), bad input (signatures, digests, truncated and slow
// bodies), and tenants: accounts made with the versitygw admin tool, kept
// apart for the aws CLI and across a SIGKILL. TestVersitygwFullFlow runs the versitygw v1.8.0 conformance
// suite (full-flow): every test named in testdata/versitygw-pass.txt must
// pass (a ratchet; -args -update-versitygw rewrites the list), and the
// pass count is logged; its account tests drive the admin API with
// ./versitygw admin. versitygw.sh runs the suite by hand.
//
// The tests build ./cmd/gpucache (or use $GPUCACHE_BIN) through
// compat-tests/internal. GPUCACHE_S3_INPROCESS=1 runs them against an
// in-process protocols/s3 server instead (to debug the handlers; it proves
// nothing about the binary). Without it, a binary that does not listen on
// --s3-port fails the tests.
//
// NB: the machine image sets AWS_CA_BUNDLE globally. TLS tests point the
// aws CLI at the test CA with AWS_CA_BUNDLE, and give minio-go and Go
// clients the CA pool explicitly; the versitygw runs drop it.
package s3compat
