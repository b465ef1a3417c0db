package s3

import (
	"net/http"
	"sort"
	"strings"
)

// The S3 operation of a request is decided once, by classify, from its
// method, whether it addresses the service, a bucket or an object, the one
// sub-resource its query names and the copy-source header. Routing (the
// handler run), authorization (the policy action, the ACL permission and
// the anonymous refusals), the request metrics and the log lines all read
// that one decision, so a request is authorized as exactly the operation
// that runs. A request whose query names more than one sub-resource
// (?tagging&retention) forms no single operation and is refused: S3 picks
// one of them by an undocumented precedence, and a server that checked one
// and ran another would be an authorization bypass.

// op identifies an S3 operation (an index into opSpecs).
type op uint8

// opSpec describes one operation.
type opSpec struct {
	name string // S3 API name, as in the metrics
	// action is the bucket policy action the request is authorized as
	// ("" for operations outside bucket policies: ListBuckets, admin).
	action string
	// anon, when set, refuses the operation to anonymous callers, as S3
	// does whatever the bucket grants.
	anon *APIError
	// run answers the request; nil for operations the server does not
	// implement (answered NotImplemented after authorization).
	run func(*Server, *request) error
}

// Operations, by index.
const (
	opUnknown op = iota
	opAdmin
	opPreflight
	opListBuckets
	// Buckets.
	opCreateBucket
	opHeadBucket
	opDeleteBucket
	opListObjects
	opListObjectsV2
	opListObjectVersions
	opListMultipartUploads
	opGetBucketLocation
	opDeleteObjects
	opPostObject
	opGetBucketAcl
	opPutBucketAcl
	opGetBucketPolicy
	opPutBucketPolicy
	opDeleteBucketPolicy
	opGetBucketPolicyStatus
	opGetBucketOwnershipControls
	opPutBucketOwnershipControls
	opDeleteBucketOwnershipControls
	opGetBucketCors
	opPutBucketCors
	opDeleteBucketCors
	opGetBucketWebsite
	opPutBucketWebsite
	opDeleteBucketWebsite
	opGetBucketTagging
	opPutBucketTagging
	opDeleteBucketTagging
	opGetBucketVersioning
	opPutBucketVersioning
	opGetObjectLockConfiguration
	opPutObjectLockConfiguration
	opGetBucketLifecycle
	opPutBucketLifecycle
	opDeleteBucketLifecycle
	opGetBucketEncryption
	opPutBucketEncryption
	opDeleteBucketEncryption
	opGetBucketLogging
	opPutBucketLogging
	opGetBucketNotification
	opPutBucketNotification
	opGetPublicAccessBlock
	opPutPublicAccessBlock
	opDeletePublicAccessBlock
	opGetBucketAccelerate
	opPutBucketAccelerate
	opGetBucketRequestPayment
	opPutBucketRequestPayment
	opGetBucketReplication
	opPutBucketReplication
	opDeleteBucketReplication
	opGetBucketAnalytics
	opPutBucketAnalytics
	opDeleteBucketAnalytics
	opGetBucketMetrics
	opPutBucketMetrics
	opDeleteBucketMetrics
	opGetBucketInventory
	opPutBucketInventory
	opDeleteBucketInventory
	opGetBucketIntelligentTiering
	opPutBucketIntelligentTiering
	opDeleteBucketIntelligentTiering
	// Objects.
	opPutObject
	opCopyObject
	opGetObject
	opHeadObject
	opDeleteObject
	opCreateMultipartUpload
	opUploadPart
	opUploadPartCopy
	opCompleteMultipartUpload
	opAbortMultipartUpload
	opListParts
	opGetObjectTagging
	opPutObjectTagging
	opDeleteObjectTagging
	opGetObjectAcl
	opPutObjectAcl
	opGetObjectAttributes
	opGetObjectRetention
	opPutObjectRetention
	opGetObjectLegalHold
	opPutObjectLegalHold
	opGetObjectTorrent
	opRestoreObject
	opSelectObjectContent
	numOps
)

// opSpecs holds every operation's description (read-only).
var opSpecs = [numOps]opSpec{
	opUnknown:     {name: "Unknown"},
	opAdmin:       {name: "Admin"},
	opPreflight:   {name: "Preflight"},
	opListBuckets: {name: "ListBuckets", run: (*Server).listBuckets},

	opCreateBucket:         {name: "CreateBucket", action: "s3:CreateBucket", anon: errAnonymous, run: (*Server).createBucket},
	opHeadBucket:           {name: "HeadBucket", action: "s3:ListBucket", run: (*Server).headBucket},
	opDeleteBucket:         {name: "DeleteBucket", action: "s3:DeleteBucket", run: (*Server).deleteBucket},
	opListObjects:          {name: "ListObjects", action: "s3:ListBucket", run: (*Server).listObjectsV1},
	opListObjectsV2:        {name: "ListObjectsV2", action: "s3:ListBucket", run: (*Server).listObjectsV2},
	opListObjectVersions:   {name: "ListObjectVersions", action: "s3:ListBucketVersions", run: (*Server).listObjectVersions},
	opListMultipartUploads: {name: "ListMultipartUploads", action: "s3:ListBucketMultipartUploads", run: (*Server).listMultipartUploads},
	opGetBucketLocation:    {name: "GetBucketLocation", action: "s3:GetBucketLocation", run: (*Server).getBucketLocation},
	// DeleteObjects is authorized per key (deleteObjects).
	opDeleteObjects: {name: "DeleteObjects", action: "s3:DeleteObject", anon: errAccessDenied, run: (*Server).deleteObjects},
	// PostObject is authorized by its form and served before the request
	// signature is looked at (serve); a signed POST to a bucket is not an
	// operation this server has.
	opPostObject: {name: "PostObject", action: "s3:PutObject"},

	opGetBucketAcl:                  {name: "GetBucketAcl", action: "s3:GetBucketAcl", run: (*Server).getBucketACL},
	opPutBucketAcl:                  {name: "PutBucketAcl", action: "s3:PutBucketAcl", anon: errAnonymous, run: (*Server).putBucketACL},
	opGetBucketPolicy:               {name: "GetBucketPolicy", action: "s3:GetBucketPolicy", run: (*Server).bucketPolicyHandler},
	opPutBucketPolicy:               {name: "PutBucketPolicy", action: "s3:PutBucketPolicy", run: (*Server).bucketPolicyHandler},
	opDeleteBucketPolicy:            {name: "DeleteBucketPolicy", action: "s3:DeleteBucketPolicy", run: (*Server).bucketPolicyHandler},
	opGetBucketPolicyStatus:         {name: "GetBucketPolicyStatus", action: "s3:GetBucketPolicyStatus", run: (*Server).getBucketPolicyStatus},
	opGetBucketOwnershipControls:    {name: "GetBucketOwnershipControls", action: "s3:GetBucketOwnershipControls", anon: errAnonymousGetOwn, run: (*Server).bucketOwnershipControls},
	opPutBucketOwnershipControls:    {name: "PutBucketOwnershipControls", action: "s3:PutBucketOwnershipControls", anon: errAnonymousPutOwn, run: (*Server).bucketOwnershipControls},
	opDeleteBucketOwnershipControls: {name: "DeleteBucketOwnershipControls", action: "s3:PutBucketOwnershipControls", anon: errAnonymousPutOwn, run: (*Server).bucketOwnershipControls},
	opGetBucketCors:                 {name: "GetBucketCors", action: "s3:GetBucketCORS", run: (*Server).bucketCORS},
	opPutBucketCors:                 {name: "PutBucketCors", action: "s3:PutBucketCORS", run: (*Server).bucketCORS},
	opDeleteBucketCors:              {name: "DeleteBucketCors", action: "s3:PutBucketCORS", run: (*Server).bucketCORS},
	opGetBucketWebsite:              {name: "GetBucketWebsite", action: "s3:GetBucketWebsite", run: (*Server).bucketWebsite},
	opPutBucketWebsite:              {name: "PutBucketWebsite", action: "s3:PutBucketWebsite", run: (*Server).bucketWebsite},
	opDeleteBucketWebsite:           {name: "DeleteBucketWebsite", action: "s3:DeleteBucketWebsite", run: (*Server).bucketWebsite},
	opGetBucketTagging:              {name: "GetBucketTagging", action: "s3:GetBucketTagging", run: (*Server).bucketTagging},
	opPutBucketTagging:              {name: "PutBucketTagging", action: "s3:PutBucketTagging", run: (*Server).bucketTagging},
	opDeleteBucketTagging:           {name: "DeleteBucketTagging", action: "s3:PutBucketTagging", run: (*Server).bucketTagging},
	opGetBucketVersioning:           {name: "GetBucketVersioning", action: "s3:GetBucketVersioning", run: (*Server).getBucketVersioning},
	opPutBucketVersioning:           {name: "PutBucketVersioning", action: "s3:PutBucketVersioning"},
	opGetObjectLockConfiguration:    {name: "GetObjectLockConfiguration", action: "s3:GetBucketObjectLockConfiguration", run: (*Server).objectLockConfig},
	opPutObjectLockConfiguration:    {name: "PutObjectLockConfiguration", action: "s3:PutBucketObjectLockConfiguration", run: (*Server).objectLockConfig},

	// Bucket configuration this server does not implement.
	opGetBucketLifecycle:             {name: "GetBucketLifecycleConfiguration", action: "s3:GetLifecycleConfiguration"},
	opPutBucketLifecycle:             {name: "PutBucketLifecycleConfiguration", action: "s3:PutLifecycleConfiguration"},
	opDeleteBucketLifecycle:          {name: "DeleteBucketLifecycle", action: "s3:PutLifecycleConfiguration"},
	opGetBucketEncryption:            {name: "GetBucketEncryption", action: "s3:GetEncryptionConfiguration"},
	opPutBucketEncryption:            {name: "PutBucketEncryption", action: "s3:PutEncryptionConfiguration"},
	opDeleteBucketEncryption:         {name: "DeleteBucketEncryption", action: "s3:PutEncryptionConfiguration"},
	opGetBucketLogging:               {name: "GetBucketLogging", action: "s3:GetBucketLogging"},
	opPutBucketLogging:               {name: "PutBucketLogging", action: "s3:PutBucketLogging"},
	opGetBucketNotification:          {name: "GetBucketNotificationConfiguration", action: "s3:GetBucketNotification"},
	opPutBucketNotification:          {name: "PutBucketNotificationConfiguration", action: "s3:PutBucketNotification"},
	opGetPublicAccessBlock:           {name: "GetPublicAccessBlock", action: "s3:GetBucketPublicAccessBlock"},
	opPutPublicAccessBlock:           {name: "PutPublicAccessBlock", action: "s3:PutBucketPublicAccessBlock"},
	opDeletePublicAccessBlock:        {name: "DeletePublicAccessBlock", action: "s3:PutBucketPublicAccessBlock"},
	opGetBucketAccelerate:            {name: "GetBucketAccelerateConfiguration", action: "s3:GetAccelerateConfiguration"},
	opPutBucketAccelerate:            {name: "PutBucketAccelerateConfiguration", action: "s3:PutAccelerateConfiguration"},
	opGetBucketRequestPayment:        {name: "GetBucketRequestPayment", action: "s3:GetBucketRequestPayment"},
	opPutBucketRequestPayment:        {name: "PutBucketRequestPayment", action: "s3:PutBucketRequestPayment"},
	opGetBucketReplication:           {name: "GetBucketReplication", action: "s3:GetReplicationConfiguration"},
	opPutBucketReplication:           {name: "PutBucketReplication", action: "s3:PutReplicationConfiguration"},
	opDeleteBucketReplication:        {name: "DeleteBucketReplication", action: "s3:PutReplicationConfiguration"},
	opGetBucketAnalytics:             {name: "GetBucketAnalyticsConfiguration", action: "s3:GetAnalyticsConfiguration"},
	opPutBucketAnalytics:             {name: "PutBucketAnalyticsConfiguration", action: "s3:PutAnalyticsConfiguration"},
	opDeleteBucketAnalytics:          {name: "DeleteBucketAnalyticsConfiguration", action: "s3:PutAnalyticsConfiguration"},
	opGetBucketMetrics:               {name: "GetBucketMetricsConfiguration", action: "s3:GetMetricsConfiguration"},
	opPutBucketMetrics:               {name: "PutBucketMetricsConfiguration", action: "s3:PutMetricsConfiguration"},
	opDeleteBucketMetrics:            {name: "DeleteBucketMetricsConfiguration", action: "s3:PutMetricsConfiguration"},
	opGetBucketInventory:             {name: "GetBucketInventoryConfiguration", action: "s3:GetInventoryConfiguration"},
	opPutBucketInventory:             {name: "PutBucketInventoryConfiguration", action: "s3:PutInventoryConfiguration"},
	opDeleteBucketInventory:          {name: "DeleteBucketInventoryConfiguration", action: "s3:PutInventoryConfiguration"},
	opGetBucketIntelligentTiering:    {name: "GetBucketIntelligentTieringConfiguration", action: "s3:GetIntelligentTieringConfiguration"},
	opPutBucketIntelligentTiering:    {name: "PutBucketIntelligentTieringConfiguration", action: "s3:PutIntelligentTieringConfiguration"},
	opDeleteBucketIntelligentTiering: {name: "DeleteBucketIntelligentTieringConfiguration", action: "s3:PutIntelligentTieringConfiguration"},

	opPutObject:               {name: "PutObject", action: "s3:PutObject", run: (*Server).putObject},
	opCopyObject:              {name: "CopyObject", action: "s3:PutObject", anon: errAnonymousCopy, run: (*Server).copyObject},
	opGetObject:               {name: "GetObject", action: "s3:GetObject", run: (*Server).getObjectBody},
	opHeadObject:              {name: "HeadObject", action: "s3:GetObject", run: (*Server).headObject},
	opDeleteObject:            {name: "DeleteObject", action: "s3:DeleteObject", run: (*Server).deleteObject},
	opCreateMultipartUpload:   {name: "CreateMultipartUpload", action: "s3:PutObject", anon: errAnonymousMultipart, run: (*Server).createMultipart},
	opUploadPart:              {name: "UploadPart", action: "s3:PutObject", run: (*Server).uploadPart},
	opUploadPartCopy:          {name: "UploadPartCopy", action: "s3:PutObject", anon: errAccessDenied, run: (*Server).uploadPartCopy},
	opCompleteMultipartUpload: {name: "CompleteMultipartUpload", action: "s3:PutObject", run: (*Server).completeMultipart},
	opAbortMultipartUpload:    {name: "AbortMultipartUpload", action: "s3:AbortMultipartUpload", run: (*Server).abortMultipart},
	opListParts:               {name: "ListParts", action: "s3:ListMultipartUploadParts", run: (*Server).listParts},
	opGetObjectTagging:        {name: "GetObjectTagging", action: "s3:GetObjectTagging", run: (*Server).getObjectTagging},
	opPutObjectTagging:        {name: "PutObjectTagging", action: "s3:PutObjectTagging", run: (*Server).setObjectTagging},
	opDeleteObjectTagging:     {name: "DeleteObjectTagging", action: "s3:DeleteObjectTagging", run: (*Server).deleteObjectTagging},
	opGetObjectAcl:            {name: "GetObjectAcl", action: "s3:GetObjectAcl", run: (*Server).getObjectACL},
	opPutObjectAcl:            {name: "PutObjectAcl", action: "s3:PutObjectAcl", anon: errAnonymous, run: (*Server).putObjectACL},
	opGetObjectAttributes:     {name: "GetObjectAttributes", action: "s3:GetObjectAttributes", run: (*Server).getObjectAttributes},
	opGetObjectRetention:      {name: "GetObjectRetention", action: "s3:GetObjectRetention", run: (*Server).getObjectRetention},
	opPutObjectRetention:      {name: "PutObjectRetention", action: "s3:PutObjectRetention", run: (*Server).putObjectRetention},
	opGetObjectLegalHold:      {name: "GetObjectLegalHold", action: "s3:GetObjectLegalHold", run: (*Server).getObjectLegalHold},
	opPutObjectLegalHold:      {name: "PutObjectLegalHold", action: "s3:PutObjectLegalHold", run: (*Server).putObjectLegalHold},
	opGetObjectTorrent:        {name: "GetObjectTorrent", action: "s3:GetObject"},
	opRestoreObject:           {name: "RestoreObject", action: "s3:RestoreObject"},
	opSelectObjectContent:     {name: "SelectObjectContent", action: "s3:GetObject", anon: errAnonymous},
}

// String returns the operation's S3 API name.
func (o op) String() string { return opSpecs[o].name }

// Levels of the resource a request addresses.
const (
	levelService = iota
	levelBucket
	levelObject
)

// opKey selects an operation: method, level and sub-resource ("" for
// none).
type opKey struct {
	method string
	level  uint8
	sub    string
}

// opTable maps every method, level and sub-resource that names an S3
// operation to it (read-only). Copies and ListObjectsV2 are told apart
// afterwards (classify).
var opTable = map[opKey]op{
	{http.MethodGet, levelService, ""}: opListBuckets,

	{http.MethodPut, levelBucket, ""}:                     opCreateBucket,
	{http.MethodHead, levelBucket, ""}:                    opHeadBucket,
	{http.MethodDelete, levelBucket, ""}:                  opDeleteBucket,
	{http.MethodGet, levelBucket, ""}:                     opListObjects,
	{http.MethodGet, levelBucket, "versions"}:             opListObjectVersions,
	{http.MethodGet, levelBucket, "uploads"}:              opListMultipartUploads,
	{http.MethodGet, levelBucket, "location"}:             opGetBucketLocation,
	{http.MethodPost, levelBucket, "delete"}:              opDeleteObjects,
	{http.MethodPost, levelBucket, ""}:                    opPostObject,
	{http.MethodGet, levelBucket, "acl"}:                  opGetBucketAcl,
	{http.MethodPut, levelBucket, "acl"}:                  opPutBucketAcl,
	{http.MethodGet, levelBucket, "policy"}:               opGetBucketPolicy,
	{http.MethodPut, levelBucket, "policy"}:               opPutBucketPolicy,
	{http.MethodDelete, levelBucket, "policy"}:            opDeleteBucketPolicy,
	{http.MethodGet, levelBucket, "policyStatus"}:         opGetBucketPolicyStatus,
	{http.MethodGet, levelBucket, "ownershipControls"}:    opGetBucketOwnershipControls,
	{http.MethodPut, levelBucket, "ownershipControls"}:    opPutBucketOwnershipControls,
	{http.MethodDelete, levelBucket, "ownershipControls"}: opDeleteBucketOwnershipControls,
	{http.MethodGet, levelBucket, "cors"}:                 opGetBucketCors,
	{http.MethodPut, levelBucket, "cors"}:                 opPutBucketCors,
	{http.MethodDelete, levelBucket, "cors"}:              opDeleteBucketCors,
	{http.MethodGet, levelBucket, "website"}:              opGetBucketWebsite,
	{http.MethodPut, levelBucket, "website"}:              opPutBucketWebsite,
	{http.MethodDelete, levelBucket, "website"}:           opDeleteBucketWebsite,
	{http.MethodGet, levelBucket, "tagging"}:              opGetBucketTagging,
	{http.MethodPut, levelBucket, "tagging"}:              opPutBucketTagging,
	{http.MethodDelete, levelBucket, "tagging"}:           opDeleteBucketTagging,
	{http.MethodGet, levelBucket, "versioning"}:           opGetBucketVersioning,
	{http.MethodPut, levelBucket, "versioning"}:           opPutBucketVersioning,
	{http.MethodGet, levelBucket, "object-lock"}:          opGetObjectLockConfiguration,
	{http.MethodPut, levelBucket, "object-lock"}:          opPutObjectLockConfiguration,

	{http.MethodGet, levelBucket, "lifecycle"}:              opGetBucketLifecycle,
	{http.MethodPut, levelBucket, "lifecycle"}:              opPutBucketLifecycle,
	{http.MethodDelete, levelBucket, "lifecycle"}:           opDeleteBucketLifecycle,
	{http.MethodGet, levelBucket, "encryption"}:             opGetBucketEncryption,
	{http.MethodPut, levelBucket, "encryption"}:             opPutBucketEncryption,
	{http.MethodDelete, levelBucket, "encryption"}:          opDeleteBucketEncryption,
	{http.MethodGet, levelBucket, "logging"}:                opGetBucketLogging,
	{http.MethodPut, levelBucket, "logging"}:                opPutBucketLogging,
	{http.MethodGet, levelBucket, "notification"}:           opGetBucketNotification,
	{http.MethodPut, levelBucket, "notification"}:           opPutBucketNotification,
	{http.MethodGet, levelBucket, "publicAccessBlock"}:      opGetPublicAccessBlock,
	{http.MethodPut, levelBucket, "publicAccessBlock"}:      opPutPublicAccessBlock,
	{http.MethodDelete, levelBucket, "publicAccessBlock"}:   opDeletePublicAccessBlock,
	{http.MethodGet, levelBucket, "accelerate"}:             opGetBucketAccelerate,
	{http.MethodPut, levelBucket, "accelerate"}:             opPutBucketAccelerate,
	{http.MethodGet, levelBucket, "requestPayment"}:         opGetBucketRequestPayment,
	{http.MethodPut, levelBucket, "requestPayment"}:         opPutBucketRequestPayment,
	{http.MethodGet, levelBucket, "replication"}:            opGetBucketReplication,
	{http.MethodPut, levelBucket, "replication"}:            opPutBucketReplication,
	{http.MethodDelete, levelBucket, "replication"}:         opDeleteBucketReplication,
	{http.MethodGet, levelBucket, "analytics"}:              opGetBucketAnalytics,
	{http.MethodPut, levelBucket, "analytics"}:              opPutBucketAnalytics,
	{http.MethodDelete, levelBucket, "analytics"}:           opDeleteBucketAnalytics,
	{http.MethodGet, levelBucket, "metrics"}:                opGetBucketMetrics,
	{http.MethodPut, levelBucket, "metrics"}:                opPutBucketMetrics,
	{http.MethodDelete, levelBucket, "metrics"}:             opDeleteBucketMetrics,
	{http.MethodGet, levelBucket, "inventory"}:              opGetBucketInventory,
	{http.MethodPut, levelBucket, "inventory"}:              opPutBucketInventory,
	{http.MethodDelete, levelBucket, "inventory"}:           opDeleteBucketInventory,
	{http.MethodGet, levelBucket, "intelligent-tiering"}:    opGetBucketIntelligentTiering,
	{http.MethodPut, levelBucket, "intelligent-tiering"}:    opPutBucketIntelligentTiering,
	{http.MethodDelete, levelBucket, "intelligent-tiering"}: opDeleteBucketIntelligentTiering,

	{http.MethodPut, levelObject, ""}:            opPutObject,
	{http.MethodGet, levelObject, ""}:            opGetObject,
	{http.MethodHead, levelObject, ""}:           opHeadObject,
	{http.MethodDelete, levelObject, ""}:         opDeleteObject,
	{http.MethodPost, levelObject, "uploads"}:    opCreateMultipartUpload,
	{http.MethodPut, levelObject, "uploadId"}:    opUploadPart,
	{http.MethodPost, levelObject, "uploadId"}:   opCompleteMultipartUpload,
	{http.MethodDelete, levelObject, "uploadId"}: opAbortMultipartUpload,
	{http.MethodGet, levelObject, "uploadId"}:    opListParts,
	{http.MethodGet, levelObject, "tagging"}:     opGetObjectTagging,
	{http.MethodPut, levelObject, "tagging"}:     opPutObjectTagging,
	{http.MethodDelete, levelObject, "tagging"}:  opDeleteObjectTagging,
	{http.MethodGet, levelObject, "acl"}:         opGetObjectAcl,
	{http.MethodPut, levelObject, "acl"}:         opPutObjectAcl,
	{http.MethodGet, levelObject, "attributes"}:  opGetObjectAttributes,
	{http.MethodGet, levelObject, "retention"}:   opGetObjectRetention,
	{http.MethodPut, levelObject, "retention"}:   opPutObjectRetention,
	{http.MethodGet, levelObject, "legal-hold"}:  opGetObjectLegalHold,
	{http.MethodPut, levelObject, "legal-hold"}:  opPutObjectLegalHold,
	{http.MethodGet, levelObject, "torrent"}:     opGetObjectTorrent,
	{http.MethodPost, levelObject, "restore"}:    opRestoreObject,
	{http.MethodPost, levelObject, "select"}:     opSelectObjectContent,
}

// subresources are the query parameters that select an operation. Others
// (prefix, versionId, partNumber, X-Amz-Signature, x-id, ...) are
// parameters of the operation they come with.
var subresources = map[string]bool{
	"acl": true, "policy": true, "policyStatus": true, "ownershipControls": true, "cors": true,
	"website": true, "tagging": true, "versioning": true, "versions": true, "object-lock": true,
	"lifecycle": true, "encryption": true, "logging": true, "notification": true,
	"publicAccessBlock": true, "accelerate": true, "requestPayment": true, "replication": true,
	"analytics": true, "metrics": true, "inventory": true, "intelligent-tiering": true,
	"location": true, "uploads": true, "uploadId": true, "delete": true, "retention": true,
	"legal-hold": true, "attributes": true, "torrent": true, "restore": true, "select": true,
}

// errSubresources is the refusal of a query naming more than one
// sub-resource.
func errSubresources(names []string) *APIError {
	sort.Strings(names)
	return errInvalidRequest.withMessage("A request may name one sub-resource; this one names " + strings.Join(names, " and ") + ".")
}

// classify decides the request's operation. An error refuses the request
// (after the checks that precede authentication); the operation is then
// the one it would have been, or opUnknown.
func classify(req *request) (op, error) {
	m := req.r.Method
	if m == http.MethodOptions {
		return opPreflight, nil
	}
	k := opKey{method: m}
	switch {
	case req.bucket == "":
		k.level = levelService
	case req.key == "":
		k.level = levelBucket
	default:
		k.level = levelObject
	}
	var extra []string
	for name := range req.q {
		if !subresources[name] && !unimplementedSubresources[name] {
			continue
		}
		if k.sub == "" {
			k.sub = name
			continue
		}
		if extra == nil {
			extra = []string{k.sub}
		}
		extra = append(extra, name)
	}
	if extra != nil {
		return opUnknown, errSubresources(extra)
	}
	o, ok := opTable[k]
	if !ok && unimplementedSubresources[k.sub] {
		return opUnknown, errSubresourceNotImplemented
	}
	if !ok {
		return opUnknown, methodNotAllowed(m, [...]string{"SERVICE", "BUCKET", "OBJECT"}[k.level])
	}
	copySrc := req.r.Header.Get("X-Amz-Copy-Source") != ""
	switch o {
	case opPutObject:
		if copySrc {
			o = opCopyObject
		}
	case opUploadPart:
		if copySrc {
			o = opUploadPartCopy
		}
	case opListObjects:
		if req.q.Get("list-type") == "2" {
			o = opListObjectsV2
		}
	}
	return o, nil
}
