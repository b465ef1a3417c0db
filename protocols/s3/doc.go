// Package s3 is gpucache's S3 front end: the S3 REST API over the storage
// engine, so that aws CLI, minio-go, boto3 and LMCache's s3:// connector
// (the AWS CRT client) work unchanged.
//
// # Basics
//
// NewServer takes an open engine and a Config; Serve accepts connections on
// a listener (TLS with HTTP/2 when a certificate is configured, unless
// Config.TLSHTTP1Only), Handler returns the bare http.Handler. Over plain
// HTTP, GETs of resident values go to the socket by reference when the
// engine sends that way (engine.Options.SendByReference). Requests are addressed path-style
// (/bucket/key) or virtual-host style (bucket.<domain>/key, with
// Config.Domains). A request carries a valid SigV4 signature (see package
// sigv4 for the forms accepted), or is anonymous: an anonymous request is
// served only as far as the bucket's policy or, with ACLs enabled, its
// ACLs grant the AllUsers principal (access.go); CORS preflight OPTIONS
// requests need no signature. PATCH requests are the admin API of
// accounts (admin.go). Server.Stats counts requests by operation and
// outcome, with latency histograms (stats.go).
//
// Implemented: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, GetBucketVersioning (always unversioned), PutObject,
// GetObject and HeadObject (Range, partNumber, conditions, response-*
// overrides, checksum mode), DeleteObject, DeleteObjects, CopyObject,
// multipart uploads (Create, UploadPart, UploadPartCopy, Complete, Abort,
// ListParts, ListMultipartUploads), ListObjects and ListObjectsV2,
// ListObjectVersions (every object is its single "null" version), object
// and bucket tagging, browser-based uploads (POST Object: form fields, a
// POST policy signed with SigV4, the file streamed like a PUT body),
// flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512,
// MD5, XXHASH64, XXHASH3, XXHASH128; full-object CRCs of multipart
// objects are combined from the parts' CRCs), and Object Lock (bucket
// configuration with default retention, per-object retention and legal
// hold, enforced on every overwrite and delete). A PUT without a checksum
// stores a CRC64NVME, as S3 does. Bucket ownership controls, bucket and
// object ACLs (canned, x-amz-grant-* headers, AccessControlPolicy
// bodies), bucket policies (with GetBucketPolicyStatus), CORS (with
// preflight and response headers) and website configuration are
// validated as S3 does and stored as bucket documents (bucket_config.go).
// Other sub-resources (versioning, lifecycle, ...) answer NotImplemented.
// Errors are AWS XML errors from the one table in
// errors.go.
//
// # Buckets, keyspaces and Redis
//
// A bucket is the engine keyspace "s3:<bucket>", registered with
// CreateKeyspace so that ListBuckets and DeleteBucket see it; its region is
// the keyspace's attributes. Pending multipart uploads, their parts, and
// the pieces of a large PUT in flight live in a second, hidden keyspace
// "s3mp:<bucket>". Keyspace names without these prefixes belong to the
// RESP front end: "" is the default namespace's DB 0 and a KVRocks
// namespace is a keyspace of its own name. Config.RESPBucket names one
// bucket that is mapped onto the RESP default keyspace "" instead of
// "s3:<name>": an object PUT there is a string key for Redis (GET returns
// its bytes), and a string SET over Redis is an object there (with an ETag
// derived from the engine's version, since Redis writes carry no MD5).
// Keys of other Redis types are invisible to S3. That bucket cannot be
// created or deleted over S3.
//
// # Cluster mode
//
// With WithCluster (cluster.go), an object's slot is cluster.KeySlot of
// its key, as for a RESP key. A request for a slot another node serves is
// forwarded to that node's S3 port unchanged (httputil.ReverseProxy,
// streaming, at most maxHops forwards); TRYAGAIN becomes 503 SlowDown.
// Bucket-level writes and DeleteObjects are replayed to every master
// (header X-Gpucache-Cluster-Local: answer from this node alone) before
// this node serves them; listings send the same request to every master
// and merge the pages (mergeListing). Without WithCluster none of this
// runs: the request path checks one nil pointer.
//
// # Invariants
//
//   - Bodies stream: a PUT of known size up to Config.PieceSize fills one
//     engine buffer straight from the socket; a larger or unknown-size body
//     is stored as bounded pieces and composed (extents shared, no copy).
//     GETs stream through Value.WriteRange. No request holds a whole large
//     object in memory, and no multi-MB buffer is allocated per request.
//   - Nothing becomes visible unless the whole body arrived and every
//     digest the request declared (payload SHA-256, chunk and trailer
//     signatures, Content-MD5, flexible checksum) matched: verification
//     ends before the engine's Put or Compose.
//   - Every mutating request returns only after engine.Sync.
//   - Completing a multipart upload, CopyObject and UploadPartCopy compose
//     existing extents: they cost metadata, not a rewrite of the object;
//     parts still in the DRAM tier make the object resident too, from the
//     same pages.
//   - The ETag MD5 of a large body is hashed on internal/md5x lanes, in the
//     engine pages the body is read into, while the body is still being
//     read: eight bodies advance per pass of vector code on one goroutine
//     (etag_md5.go). MD5 is otherwise the largest CPU cost of a PUT.
//
// # Caveats
//
// Config.FastETag trades S3-exact MD5 ETags for a hash that runs at memory
// speed; clients that compare ETags with a local MD5 need the default.
//
// There is no versioning. Accounts (users.go): the configured credentials
// are root accounts, and the admin API (admin.go) adds accounts with a
// role at run time. Root and admin accounts may do everything (including
// x-amz-bypass-governance-retention); an account's access key is its
// canonical user ID and the owner of the buckets it creates. Other
// accounts, and anonymous callers, are held to the bucket's owner, policy
// and ACLs (access.go).
// Policy conditions on keys the server has no value for (aws:SourceVpc,
// s3:ExistingObjectTag/..., ...) behave as on S3 for absent keys;
// anonymous DeleteObjects is always refused; an unsigned browser upload
// (POST Object) is anonymous and needs a policy or ACL that lets anyone
// PutObject the key. The website
// configuration is stored but no website endpoint serves it. Without
// versions, an object under Object Lock cannot be overwritten or deleted
// while locked, where S3 would keep the locked version and add a new one
// or a delete marker; under GOVERNANCE retention, what lets a delete
// through (the bypass header, with the permission for it) or a bucket
// policy allowing the requester s3:BypassGovernanceRetention lets an
// overwrite replace it (see object_lock.go). Object Lock binds the S3 API
// only: a RESP FLUSHALL still removes every key. Requests are signed for
// Config.Region or for the region of the bucket they address
// (CreateBucket: any region, where the bucket is then created). A GET
// that fails after its headers were sent aborts the connection, so the
// client sees a truncated response rather than wrong bytes.
package s3
