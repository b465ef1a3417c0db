package s3

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Bucket policies: the JSON document is validated as S3 does
// (MalformedPolicy with S3's messages) and stored verbatim as the bucket
// sub-resource document "policy"; GetBucketPolicy returns the bytes given.
//
// Principals are access keys (a bare key, or an IAM ARN whose account or
// user name is a configured key) or "*". Only statements whose principal
// is "*" are evaluated, for anonymous requests (see access.go): every
// configured credential already has full access, so statements naming a
// credential are validated and stored but change nothing.

const (
	policyVersion2008 = "2008-10-17"
	policyVersion2012 = "2012-10-17"

	maxPolicyBody = 20 << 10 // S3's limit on a bucket policy
)

// Messages of MalformedPolicy errors, as S3 words them.
const (
	polErrFirstByte       = "Policies must be valid JSON and the first byte must be '{'"
	polErrJSON            = "This policy contains invalid Json"
	polErrNoStatement     = "Missing required field Statement"
	polErrEmptyStatement  = "Could not parse the policy: Statement is empty!"
	polErrVersion         = "The policy must contain a valid version string"
	polErrPrincipal       = "Invalid principal in policy"
	polErrAction          = "Policy has invalid action"
	polErrResource        = "Policy has invalid resource"
	polErrActionResource  = "Action does not apply to any resource(s) in statement"
	polErrConditionKey    = "Policy has an invalid condition key"
	polErrConditionAction = "Conditions do not apply to combination of actions and resources in statement"
	polErrConditionIP     = "Invalid IP address in Conditions"
)

func malformedPolicy(msg string) *APIError {
	return &APIError{Code: "MalformedPolicy", Status: 400, Message: msg}
}

var (
	errNoSuchBucketPolicy = &APIError{Code: "NoSuchBucketPolicy", Status: 404, Message: "The bucket policy does not exist."}
)

// policyStatement is one parsed statement. Resource patterns are kept
// without the "arn:aws:s3:::" prefix ("bucket", "bucket/key*").
type policyStatement struct {
	Allow        bool
	Public       bool     // Principal "*"
	Principals   []string // other principals (access keys or ARNs)
	NotPrincipal bool
	Actions      []string
	NotAction    bool
	Resources    []string
	NotResource  bool
	Conditions   []policyCondition
}

// bucketPolicy is a parsed, validated policy.
type bucketPolicy struct {
	Version    string
	Statements []policyStatement
}

// policyStringList decodes a string or an array of strings; empty is an
// error (msg).
func policyStringList(raw json.RawMessage, msg string) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, malformedPolicy(msg)
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, malformedPolicy(msg)
	}
	if len(many) == 0 {
		return nil, malformedPolicy(msg)
	}
	for _, s := range many {
		if s == "" {
			return nil, malformedPolicy(msg)
		}
	}
	return many, nil
}

// parseBucketPolicy parses and validates a policy for bucket. known
// reports whether an access key is configured.
func parseBucketPolicy(data []byte, bucket string, known func(string) bool) (*bucketPolicy, error) {
	if len(data) == 0 || data[0] != '{' {
		return nil, malformedPolicy(polErrFirstByte)
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil || dec.More() {
		return nil, malformedPolicy(polErrJSON)
	}
	p := &bucketPolicy{Version: policyVersion2008}
	var rawStatements json.RawMessage
	for k, v := range top {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return nil, malformedPolicy(polErrVersion)
			}
		case "Id":
			var id string
			if err := json.Unmarshal(v, &id); err != nil {
				return nil, malformedPolicy(polErrJSON)
			}
		case "Statement":
			rawStatements = v
		default:
			return nil, malformedPolicy("Unknown field " + k)
		}
	}
	if rawStatements == nil {
		return nil, malformedPolicy(polErrNoStatement)
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(rawStatements), []byte("{")) {
		list = []json.RawMessage{rawStatements}
	} else if err := json.Unmarshal(rawStatements, &list); err != nil {
		return nil, malformedPolicy(polErrJSON)
	}
	if len(list) == 0 {
		return nil, malformedPolicy(polErrEmptyStatement)
	}
	if p.Version != policyVersion2008 && p.Version != policyVersion2012 {
		return nil, malformedPolicy(polErrVersion)
	}
	for _, raw := range list {
		st, err := parseStatement(raw, bucket, known)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, bucket string, known func(string) bool) (policyStatement, error) {
	var st policyStatement
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return st, malformedPolicy(polErrJSON)
	}
	for k := range fields {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return st, malformedPolicy("Unknown field " + k)
		}
	}
	if v, ok := fields["Sid"]; ok {
		var sid string
		if err := json.Unmarshal(v, &sid); err != nil {
			return st, malformedPolicy(polErrJSON)
		}
	}
	var effect string
	if v, ok := fields["Effect"]; ok {
		if err := json.Unmarshal(v, &effect); err != nil {
			return st, malformedPolicy(polErrJSON)
		}
	}
	switch effect {
	case "Allow":
		st.Allow = true
	case "Deny":
	default:
		return st, malformedPolicy("Invalid effect: " + effect)
	}

	// Principal.
	prin, hasP := fields["Principal"]
	if np, ok := fields["NotPrincipal"]; ok {
		if hasP {
			return st, malformedPolicy(polErrPrincipal)
		}
		prin, hasP, st.NotPrincipal = np, true, true
	}
	if !hasP {
		return st, malformedPolicy("Missing required field Principal")
	}
	if err := st.parsePrincipal(prin, known); err != nil {
		return st, err
	}

	// Action.
	act, hasA := fields["Action"]
	if na, ok := fields["NotAction"]; ok {
		if hasA {
			return st, malformedPolicy(polErrAction)
		}
		act, hasA, st.NotAction = na, true, true
	}
	if !hasA {
		return st, malformedPolicy("Missing required field Action")
	}
	actions, err := policyStringList(act, polErrAction)
	if err != nil {
		return st, err
	}
	for _, a := range actions {
		if !validPolicyAction(a) {
			return st, malformedPolicy(polErrAction)
		}
	}
	st.Actions = actions

	// Resource.
	res, hasR := fields["Resource"]
	if nr, ok := fields["NotResource"]; ok {
		if hasR {
			return st, malformedPolicy(polErrResource)
		}
		res, hasR, st.NotResource = nr, true, true
	}
	if !hasR {
		return st, malformedPolicy("Missing required field Resource")
	}
	resources, err := policyStringList(res, polErrResource)
	if err != nil {
		return st, err
	}
	for _, r := range resources {
		pat, ok := policyResource(r, bucket)
		if !ok {
			return st, malformedPolicy(polErrResource)
		}
		st.Resources = append(st.Resources, pat)
	}

	// Condition.
	if c, ok := fields["Condition"]; ok {
		if st.Conditions, err = parseConditions(c, st.Actions, st.NotAction); err != nil {
			return st, err
		}
	}

	// Every action must apply to some resource of the statement.
	if !st.NotAction && !st.NotResource {
		objRes, bucketRes := false, false
		for _, r := range st.Resources {
			if r == "*" || strings.ContainsAny(r, "/*") {
				objRes = true
			}
			if !strings.Contains(r, "/") {
				bucketRes = true
			}
		}
		for _, a := range st.Actions {
			kind := policyActionKind(a)
			if kind == actionObject && !objRes || kind == actionBucket && !bucketRes {
				return st, malformedPolicy(polErrActionResource)
			}
		}
	}
	return st, nil
}

// parsePrincipal accepts "*", a principal, a list of principals, or a map
// of principal types ("AWS", "CanonicalUser") to one or more of them.
func (st *policyStatement) parsePrincipal(raw json.RawMessage, known func(string) bool) error {
	var names []string
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err == nil {
		if len(m) == 0 {
			return malformedPolicy(polErrPrincipal)
		}
		for k, v := range m {
			if k != "AWS" && k != "CanonicalUser" {
				return malformedPolicy(polErrPrincipal)
			}
			l, err := policyStringList(v, polErrPrincipal)
			if err != nil {
				return err
			}
			names = append(names, l...)
		}
	} else {
		l, err := policyStringList(raw, polErrPrincipal)
		if err != nil {
			return err
		}
		names = l
	}
	for _, n := range names {
		if n == "*" {
			st.Public = true
			continue
		}
		if !knownPrincipal(n, known) {
			return malformedPolicy(polErrPrincipal)
		}
		st.Principals = append(st.Principals, n)
	}
	if st.Public && len(names) > 1 {
		return malformedPolicy(polErrPrincipal)
	}
	return nil
}

// knownPrincipal resolves a principal to a configured access key: the key
// itself, or an IAM ARN (arn:aws:iam::<account>:root or :user/<name>)
// whose account or user name is one.
func knownPrincipal(p string, known func(string) bool) bool {
	if known(p) {
		return true
	}
	rest, ok := strings.CutPrefix(p, "arn:aws:iam::")
	if !ok {
		return false
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok {
		return false
	}
	if res == "root" {
		return known(account)
	}
	if name, ok := strings.CutPrefix(res, "user/"); ok {
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		return known(name) || known(account)
	}
	return false
}

// policyResource checks a Resource ARN against the bucket the policy is
// for and returns its pattern without the ARN prefix.
func policyResource(r, bucket string) (string, bool) {
	if r == "*" {
		return r, true
	}
	res, ok := strings.CutPrefix(r, "arn:aws:s3:::")
	if !ok || res == "" || res[0] == '/' {
		return "", false
	}
	b, _, hasKey := strings.Cut(res, "/")
	if hasKey {
		return res, globMatch(b, bucket, false)
	}
	// "bucket" or a pattern such as "buck*" that may span into keys.
	if globMatch(res, bucket, false) {
		return res, true
	}
	if i := strings.IndexByte(res, '*'); i >= 0 && strings.HasPrefix(bucket, res[:i]) {
		return res, true
	}
	return "", false
}

// globMatch matches s against a pattern where '*' is any run of
// characters and '?' any one character; fold compares ASCII case
// insensitively. It runs in O(len(p)*len(s)) at worst.
func globMatch(p, s string, fold bool) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	eq := func(a, b byte) bool {
		if fold {
			return lowerASCII(a) == lowerASCII(b)
		}
		return a == b
	}
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] != '*' && eq(p[pi], s[si])):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// The S3 actions a bucket policy may name, and which of them act on
// objects (their resource is "bucket/key").
var (
	bucketPolicyActions = []string{
		"s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions",
		"s3:ListBucketMultipartUploads", "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:PutBucketAcl",
		"s3:GetBucketVersioning", "s3:PutBucketVersioning", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
		"s3:DeleteBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketTagging", "s3:PutBucketTagging",
		"s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration",
		"s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls", "s3:GetBucketCORS", "s3:PutBucketCORS",
		"s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite", "s3:GetBucketLogging",
		"s3:PutBucketLogging", "s3:GetBucketNotification", "s3:PutBucketNotification",
		"s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:GetBucketRequestPayment",
		"s3:PutBucketRequestPayment", "s3:GetAccelerateConfiguration", "s3:PutAccelerateConfiguration",
		"s3:GetAnalyticsConfiguration", "s3:PutAnalyticsConfiguration", "s3:GetEncryptionConfiguration",
		"s3:PutEncryptionConfiguration", "s3:GetIntelligentTieringConfiguration",
		"s3:PutIntelligentTieringConfiguration", "s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration",
		"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:GetMetricsConfiguration",
		"s3:PutMetricsConfiguration", "s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration",
	}
	objectPolicyActions = []string{
		"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion",
		"s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetObjectVersionAcl", "s3:PutObjectVersionAcl",
		"s3:GetObjectAttributes", "s3:GetObjectVersionAttributes", "s3:GetObjectTagging",
		"s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:GetObjectVersionTagging",
		"s3:PutObjectVersionTagging", "s3:DeleteObjectVersionTagging", "s3:AbortMultipartUpload",
		"s3:ListMultipartUploadParts", "s3:RestoreObject", "s3:GetObjectRetention", "s3:PutObjectRetention",
		"s3:GetObjectLegalHold", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention",
	}
)

// validPolicyAction accepts "*", "s3:*", a known action, or a wildcard
// pattern of the s3 service that matches at least one known action.
func validPolicyAction(a string) bool {
	if a == "*" {
		return true
	}
	name, ok := cutPrefixFold(a, "s3:")
	if !ok || name == "" {
		return false
	}
	if name == "*" {
		return true
	}
	for _, l := range [...][]string{bucketPolicyActions, objectPolicyActions} {
		for _, k := range l {
			if globMatch(a, k, true) {
				return true
			}
		}
	}
	return false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

const (
	actionAny = iota
	actionBucket
	actionObject
)

// policyActionKind tells object actions (or patterns matching one) from
// bucket actions; "*" and "s3:*" are both.
func policyActionKind(a string) int {
	if a == "*" || strings.EqualFold(a, "s3:*") {
		return actionAny
	}
	for _, k := range objectPolicyActions {
		if globMatch(a, k, true) {
			return actionObject
		}
	}
	return actionBucket
}

// matchAction reports whether the statement covers action.
func (st *policyStatement) matchAction(action string) bool {
	m := false
	for _, a := range st.Actions {
		if a == "*" || globMatch(a, action, true) {
			m = true
			break
		}
	}
	return m != st.NotAction
}

// matchResource reports whether the statement covers resource
// ("bucket" or "bucket/key").
func (st *policyStatement) matchResource(resource string) bool {
	m := false
	for _, r := range st.Resources {
		if r == "*" || globMatch(r, resource, false) {
			m = true
			break
		}
	}
	return m != st.NotResource
}

// decision is the outcome of evaluating a policy for a request.
type decision int

const (
	decisionNone decision = iota
	decisionAllow
	decisionDeny
)

// evaluatePublic evaluates the statements that apply to anonymous
// callers (Principal "*", or NotPrincipal not naming "*"): an explicit
// Deny wins over any Allow.
func (p *bucketPolicy) evaluatePublic(action, resource string, ctx conditionContext) decision {
	// NB: Principal naming only accounts, or NotPrincipal "*", leaves
	// the anonymous caller out.
	return p.evaluate(func(st *policyStatement) bool { return st.Public }, action, resource, ctx)
}

// evaluate evaluates the statements whose principal names the caller
// (names reports whether the statement's Principal, or NotPrincipal,
// list does): an explicit Deny wins over any Allow.
func (p *bucketPolicy) evaluate(names func(*policyStatement) bool, action, resource string, ctx conditionContext) decision {
	d := decisionNone
	for i := range p.Statements {
		st := &p.Statements[i]
		if names(st) == st.NotPrincipal {
			continue
		}
		if !st.matchAction(action) || !st.matchResource(resource) || !evalConditions(st.Conditions, ctx) {
			continue
		}
		if !st.Allow {
			return decisionDeny
		}
		d = decisionAllow
	}
	return d
}

// evaluateFor evaluates the statements that apply to the account with
// access key ak: those naming it (or "*") as Principal, and those whose
// NotPrincipal does not name it. An explicit Deny wins over any Allow.
func (p *bucketPolicy) evaluateFor(ak, action, resource string, ctx conditionContext) decision {
	return p.evaluate(func(st *policyStatement) bool {
		if st.Public {
			return true
		}
		for _, pr := range st.Principals {
			if principalIs(pr, ak) {
				return true
			}
		}
		return false
	}, action, resource, ctx)
}

// principalIs reports whether a policy principal names the account ak:
// the access key itself, or an IAM ARN whose account (…:root) or user
// name (…:user/<path>/<name>) is ak (see knownPrincipal).
func principalIs(p, ak string) bool {
	if p == ak {
		return true
	}
	return knownPrincipal(p, func(k string) bool { return k == ak })
}

// isPublic applies S3's notion of a public policy: some Allow statement
// grants to everyone without a condition pinning the caller to fixed
// network addresses or accounts.
func (p *bucketPolicy) isPublic() bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.Allow || !(st.Public || st.NotPrincipal) {
			continue
		}
		restricted := false
		for _, c := range st.Conditions {
			if c.negated() || c.op == "Null" {
				continue
			}
			switch strings.ToLower(c.key) {
			case "aws:sourceip":
				restricted = true
				for _, v := range c.values {
					if wideCIDR(v) {
						restricted = false
					}
				}
			case "aws:sourcevpc", "aws:sourcevpce", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner",
				"aws:principalorgid", "aws:principalaccount", "aws:userid", "aws:principalarn", "aws:username":
				restricted = true
				for _, v := range c.values {
					if strings.Contains(v, "*") {
						restricted = false
					}
				}
			}
			if restricted {
				break
			}
		}
		if !restricted {
			return true
		}
	}
	return false
}
