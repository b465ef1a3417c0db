package s3

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// Anonymous access. A request without any signature is served only when
// the bucket grants it: a bucket policy statement with Principal "*"
// (Allow, and no matching Deny), or, when the bucket's ACLs are enabled,
// an AllUsers grant in the bucket ACL (bucket operations, and writing
// objects) or the object ACL (reading objects). This follows S3's
// evaluation for the anonymous principal. Signed requests of root and
// admin accounts are not evaluated against policies or ACLs; those of
// other accounts are (authorizeAccount, below).
//
// Not evaluated: DeleteObjects (refused to anonymous callers, since the
// keys would each need a decision), and condition keys this server has no
// value for (see policy_condition.go).

var (
	errAnonymous          = &APIError{Code: "AccessDenied", Status: 403, Message: "Anonymous users cannot invoke this API. Please authenticate."}
	errAnonymousMultipart = &APIError{Code: "AccessDenied", Status: 403, Message: "Anonymous users cannot initiate multipart uploads. Please authenticate."}
	errAnonymousCopy      = &APIError{Code: "AccessDenied", Status: 403, Message: "Anonymous users cannot copy objects. Please authenticate."}
	errAnonymousPutOwn    = &APIError{Code: "AccessDenied", Status: 403, Message: "s3:PutBucketOwnershipControls does not support Anonymous requests!"}
	errAnonymousGetOwn    = &APIError{Code: "AccessDenied", Status: 403, Message: "s3:GetBucketOwnershipControls does not support Anonymous requests!"}
	errAnonymousOverride  = &APIError{Code: "InvalidRequest", Status: 400, Message: "Request specific response headers cannot be used for anonymous GET requests."}
	errAnonymousSigned    = &APIError{Code: "InvalidRequest", Status: 400, Message: "Anonymous requests don't support this x-amz-content-sha256 value. Please use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER."}
)

// aclPerm names the ACL permission that grants an action, and whether it
// is checked on the object's ACL rather than the bucket's.
type aclPerm struct {
	perm   string
	object bool
}

// actionACLPerm maps an action to the ACL permission granting it (S3's
// table of ACL permissions and policy actions).
func actionACLPerm(action string) (aclPerm, bool) {
	switch action {
	case "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads":
		return aclPerm{perm: permRead}, true
	case "s3:PutObject", "s3:DeleteObject":
		return aclPerm{perm: permWrite}, true
	case "s3:GetBucketAcl":
		return aclPerm{perm: permReadACP}, true
	case "s3:PutBucketAcl":
		return aclPerm{perm: permWriteACP}, true
	case "s3:PutObjectAcl":
		return aclPerm{perm: permWriteACP, object: true}, true
	case "s3:GetObject", "s3:GetObjectAttributes":
		return aclPerm{perm: permRead, object: true}, true
	case "s3:GetObjectAcl":
		return aclPerm{perm: permReadACP, object: true}, true
	}
	return aclPerm{}, false
}

// requestConditions collects the condition key values of a request.
func (s *Server) requestConditions(req *request) conditionContext {
	r := req.r
	now := s.now().UTC()
	ctx := conditionContext{
		"aws:currenttime":     {now.Format(time.RFC3339)},
		"aws:epochtime":       {strconv.FormatInt(now.Unix(), 10)},
		"aws:securetransport": {strconv.FormatBool(r.TLS != nil)},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ctx["aws:sourceip"] = []string{host}
	}
	for _, kv := range [...][2]string{
		{"aws:useragent", r.Header.Get("User-Agent")},
		{"aws:referer", r.Header.Get("Referer")},
		{"s3:x-amz-acl", r.Header.Get("X-Amz-Acl")},
		{"s3:x-amz-content-sha256", r.Header.Get("X-Amz-Content-Sha256")},
		{"s3:prefix", req.q.Get("prefix")},
		{"s3:delimiter", req.q.Get("delimiter")},
		{"s3:max-keys", req.q.Get("max-keys")},
	} {
		if kv[1] != "" || strings.HasPrefix(kv[0], "s3:") && req.has(strings.TrimPrefix(kv[0], "s3:")) {
			ctx[kv[0]] = []string{kv[1]}
		}
	}
	return ctx
}

// authorizeAnonymous decides an unsigned request and, when it may go on,
// returns the payload handling for its body.
func (s *Server) authorizeAnonymous(req *request) (*sigv4.Result, error) {
	if req.bucket == "" {
		if req.r.Method == http.MethodGet {
			return nil, errAccessDenied
		}
		return nil, errMethodNotAllowed
	}
	spec := &opSpecs[req.op]
	if spec.anon != nil {
		return nil, spec.anon
	}
	if _, err := s.checkBucket(req.bucket); err != nil {
		return nil, err
	}
	if err := s.anonymousMay(req, spec.action); err != nil {
		return nil, err
	}
	switch req.op {
	case opPutBucketPolicy, opGetBucketPolicy, opDeleteBucketPolicy:
		// Only the bucket owner may manage its policy, whatever it says.
		return nil, errMethodNotAllowed
	case opGetObject, opHeadObject:
		for _, o := range responseOverrides {
			if req.has(o[0]) {
				return nil, errAnonymousOverride
			}
		}
	}
	return anonymousPayload(req.r)
}

// anonymousMay returns nil when the bucket's policy, or else its ACL,
// lets an anonymous caller do action on the request's bucket or key (an
// explicit Deny wins), else AccessDenied. The bucket exists.
func (s *Server) anonymousMay(req *request, action string) error {
	resource := req.bucket
	if req.key != "" {
		resource += "/" + req.key
	}
	policy, err := s.loadPolicy(req.bucket)
	if err != nil {
		return err
	}
	if policy != nil {
		switch policy.evaluatePublic(action, resource, s.requestConditions(req)) {
		case decisionDeny:
			return errAccessDenied
		case decisionAllow:
			return nil
		}
	}
	allowed, err := s.aclAllowsAnonymous(req, action)
	if err != nil {
		return err
	}
	if !allowed {
		return errAccessDenied
	}
	return nil
}

// aclAllowsAnonymous checks the AllUsers grants (and, for objects the
// anonymous principal owns, its own) of the ACL that governs action.
func (s *Server) aclAllowsAnonymous(req *request, action string) (bool, error) {
	p, ok := actionACLPerm(action)
	if !ok {
		return false, nil
	}
	own, err := s.objectOwnership(req.bucket)
	if err != nil || own == ownershipEnforced {
		return false, err
	}
	if !p.object {
		d, err := s.bucketACL(req)
		if err != nil {
			return false, err
		}
		return d.allowsPublic(p.perm) || d.allowsUser(anonymousOwner, p.perm), nil
	}
	m, err := s.eng.Stat(s.bucketKS(req.bucket), []byte(req.key))
	if errors.Is(err, engine.ErrNotFound) {
		// As on S3: without read access to the bucket the caller may
		// not learn whether the key exists.
		d, err := s.bucketACL(req)
		if err != nil {
			return false, err
		}
		return d.allowsPublic(permRead), nil
	}
	if err != nil {
		return false, err
	}
	a, err := decodeAttrs(m.Attrs)
	if err != nil {
		return false, err
	}
	d, err := s.objectACL(req, &a)
	if err != nil {
		return false, err
	}
	return d.allowsPublic(p.perm) || d.allowsUser(anonymousOwner, p.perm), nil
}

// anonymousPayload decides how the body of an anonymous request is read:
// unsigned, unsigned with a trailer, or checked against a declared
// SHA-256 (never chunk signatures: there is no key to check them with).
func anonymousPayload(r *http.Request) (*sigv4.Result, error) {
	res := &sigv4.Result{Mode: sigv4.PayloadUnsigned}
	switch v := r.Header.Get("X-Amz-Content-Sha256"); v {
	case "", sigv4.UnsignedPayload:
	case sigv4.StreamingUnsignedTrailer:
		res.Mode = sigv4.PayloadUnsignedTrailer
	case sigv4.StreamingPayload, sigv4.StreamingPayloadTrailer:
		return nil, errAnonymousSigned
	default:
		res.Mode, res.PayloadHash = sigv4.PayloadSHA256, strings.ToLower(v)
	}
	return res, nil
}

// Accounts that are not root or admin (users.go) are held to the bucket's
// owner, policy and ACLs, as S3 holds a principal of another account:
//
//   - CreateBucket needs the userplus role;
//   - an explicit Deny in the bucket policy refuses, an Allow grants;
//   - the bucket's owner may do everything else to its bucket;
//   - other accounts need an ACL grant (to them, AuthenticatedUsers or
//     AllUsers) of the permission S3 maps the action to: the bucket's ACL
//     for bucket operations and writes, the object's for reads;
//   - a copy also needs s3:GetObject on its source, and DeleteObjects
//     s3:DeleteObject on each key (deleteObjects);
//   - overriding GOVERNANCE retention needs s3:BypassGovernanceRetention.

// authorizeAccount decides a request signed by such an account.
func (s *Server) authorizeAccount(req *request) error {
	ak := requester(req)
	if req.bucket == "" {
		return nil // ListBuckets shows the caller's own buckets only
	}
	action := opSpecs[req.op].action
	if req.op == opCreateBucket {
		if s.roleOf(ak) != roleUserPlus {
			return errAccessDenied
		}
		return nil
	}
	if _, err := s.checkBucket(req.bucket); err != nil {
		return err
	}
	if req.op == opDeleteObjects {
		return nil // each key is checked (deleteObjects)
	}
	if err := s.accountMay(req, ak, action, req.bucket, req.key); err != nil {
		return err
	}
	for _, extra := range impliedActions(req) {
		if err := s.accountMay(req, ak, extra, req.bucket, req.key); err != nil {
			return err
		}
	}
	if req.op == opCopyObject || req.op == opUploadPartCopy {
		src := req.r.Header.Get("X-Amz-Copy-Source")
		sb, sk, err := parseCopySource(src)
		if err != nil {
			return err
		}
		if _, err := s.checkBucket(sb); err != nil {
			return err
		}
		return s.accountMay(req, ak, "s3:GetObject", sb, sk)
	}
	return nil
}

// impliedActions are the further permissions a request needs, as on S3:
// an object written with tags, a legal hold or a retention period needs
// the permission to set those too, and overriding GOVERNANCE retention
// needs s3:BypassGovernanceRetention.
func impliedActions(req *request) []string {
	if req.key == "" {
		return nil
	}
	var out []string
	h := req.r.Header
	switch req.op {
	case opPutObject, opCopyObject, opCreateMultipartUpload:
		if h.Get("X-Amz-Tagging") != "" {
			out = append(out, "s3:PutObjectTagging")
		}
		if h.Get("X-Amz-Object-Lock-Legal-Hold") != "" {
			out = append(out, "s3:PutObjectLegalHold")
		}
		if h.Get("X-Amz-Object-Lock-Mode") != "" || h.Get("X-Amz-Object-Lock-Retain-Until-Date") != "" {
			out = append(out, "s3:PutObjectRetention")
		}
	}
	if bypassGovernance(req) {
		out = append(out, "s3:BypassGovernanceRetention")
	}
	return out
}

// keyMay is the per-key check of DeleteObjects: nil when the caller may
// delete key.
func (s *Server) keyMay(req *request, action, key string) error {
	if req.auth == nil || req.auth.AccessKey == "" || s.privileged(req) {
		return nil
	}
	return s.accountMay(req, req.auth.AccessKey, action, req.bucket, key)
}

// accountMay returns nil when the account ak may do action on bucket (and
// key, when not ""), else AccessDenied. The bucket exists.
func (s *Server) accountMay(req *request, ak, action, bucket, key string) error {
	resource := bucket
	if key != "" {
		resource += "/" + key
	}
	policy, err := s.loadPolicy(bucket)
	if err != nil {
		return err
	}
	if policy != nil {
		switch policy.evaluateFor(ak, action, resource, s.requestConditions(req)) {
		case decisionDeny:
			return errAccessDenied.withMessage(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %q with an explicit deny in a resource-based policy",
				ak, action, "arn:aws:s3:::"+resource))
		case decisionAllow:
			return nil
		}
	}
	breq := &request{r: req.r, bucket: bucket, key: key, auth: req.auth}
	bacl, err := s.bucketACL(breq)
	if err != nil {
		return err
	}
	if bacl.Owner == ak {
		return nil
	}
	p, ok := actionACLPerm(action)
	if !ok {
		return errAccessDenied
	}
	own, err := s.objectOwnership(bucket)
	if err != nil {
		return err
	}
	if own == ownershipEnforced {
		return errAccessDenied // ACLs disabled: the owner's bucket alone
	}
	if !p.object {
		if bacl.allowsAccount(ak, p.perm) {
			return nil
		}
		return errAccessDenied
	}
	m, err := s.eng.Stat(s.bucketKS(bucket), []byte(key))
	if errors.Is(err, engine.ErrNotFound) {
		// The handler answers NoSuchKey to a caller that may list the
		// bucket, as S3 does; others may not learn whether it exists.
		if bacl.allowsAccount(ak, permRead) {
			return nil
		}
		return errAccessDenied
	}
	if err != nil {
		return err
	}
	a, err := decodeAttrs(m.Attrs)
	if err != nil {
		return err
	}
	oacl, err := s.objectACL(breq, &a)
	if err != nil {
		return err
	}
	if oacl.allowsAccount(ak, p.perm) {
		return nil
	}
	return errAccessDenied
}
