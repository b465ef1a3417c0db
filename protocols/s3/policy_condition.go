package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Policy conditions: {"Operator": {"key": value-or-values}}. Operators
// are S3's (String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress,
// NotIpAddress, Arn*, Null), with the IfExists suffix (not for Null) and
// the ForAnyValue:/ForAllValues: set qualifiers.
//
// Keys evaluated (conditionContext): aws:SourceIp (the TCP peer; proxy
// headers are not trusted), aws:CurrentTime, aws:EpochTime,
// aws:SecureTransport, aws:UserAgent, aws:Referer, s3:prefix,
// s3:delimiter, s3:max-keys, s3:x-amz-acl, s3:x-amz-content-sha256. Other
// keys S3 defines are accepted in a policy but are absent from every
// request here, so they match as absent keys do on S3 (only negated
// operators, IfExists and Null "true" hold).

// policyCondition is one operator applied to one key.
type policyCondition struct {
	op       string // base operator, e.g. "StringLike"
	ifExists bool
	set      string // "", "ForAnyValue" or "ForAllValues"
	key      string
	values   []string
}

var conditionOps = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true,
	"StringNotEqualsIgnoreCase": true, "StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true,
	"NumericLessThanEquals": true, "NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true, "Bool": true, "BinaryEquals": true,
	"IpAddress": true, "NotIpAddress": true, "ArnEquals": true, "ArnLike": true,
	"ArnNotEquals": true, "ArnNotLike": true, "Null": true,
}

func (c *policyCondition) negated() bool {
	switch c.op {
	case "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
		"DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike":
		return true
	}
	return false
}

// parseConditionOp splits an operator name; ok is false for names S3
// does not know (operator names are case sensitive).
func parseConditionOp(name string) (op, set string, ifExists, ok bool) {
	op = name
	if q, rest, found := strings.Cut(name, ":"); found {
		if q != "ForAnyValue" && q != "ForAllValues" {
			return "", "", false, false
		}
		set, op = q, rest
	}
	if base, found := strings.CutSuffix(op, "IfExists"); found {
		if base == "Null" {
			return "", "", false, false
		}
		op, ifExists = base, true
	}
	return op, set, ifExists, conditionOps[op]
}

// conditionKeyRule says to which actions a key applies (nil: all).
type conditionKeyRule struct {
	actions []string
}

var (
	listActions      = []string{"s3:ListBucket", "s3:ListBucketVersions"}
	aclPutActions    = []string{"s3:PutObject", "s3:PutBucketAcl", "s3:PutObjectAcl"}
	versionedActions = []string{"s3:GetObjectVersion", "s3:DeleteObjectVersion", "s3:GetObjectVersionAttributes",
		"s3:GetObjectVersionTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectVersionTagging",
		"s3:GetObjectVersionAcl", "s3:PutObjectVersionAcl"}
)

// conditionKeys are the condition keys a bucket policy may use, by lower
// case name; prefixed keys ("s3:ExistingObjectTag/<tag>") are matched on
// the part before the '/'.
var conditionKeys = map[string]conditionKeyRule{
	"aws:sourceip": {}, "aws:currenttime": {}, "aws:epochtime": {}, "aws:securetransport": {},
	"aws:useragent": {}, "aws:referer": {}, "aws:principalarn": {}, "aws:principalaccount": {},
	"aws:principalorgid": {}, "aws:principaltype": {}, "aws:username": {}, "aws:userid": {},
	"aws:multifactorauthage": {}, "aws:multifactorauthpresent": {}, "aws:sourcevpc": {},
	"aws:sourcevpce": {}, "aws:sourcearn": {}, "aws:sourceaccount": {}, "aws:requestedregion": {},
	"aws:tokenissuetime": {}, "aws:viaawsservice": {}, "aws:principaltag": {}, "aws:requesttag": {},
	"aws:tagkeys": {},
	"s3:prefix":   {listActions}, "s3:delimiter": {listActions}, "s3:max-keys": {listActions},
	"s3:x-amz-acl": {aclPutActions}, "s3:versionid": {versionedActions},
	"s3:authtype": {}, "s3:signatureversion": {}, "s3:signatureage": {}, "s3:tlsversion": {},
	"s3:x-amz-content-sha256": {}, "s3:existingobjecttag": {}, "s3:requestobjecttag": {},
	"s3:requestobjecttagkeys": {}, "s3:x-amz-server-side-encryption": {},
	"s3:x-amz-server-side-encryption-aws-kms-key-id": {}, "s3:x-amz-storage-class": {},
	"s3:x-amz-metadata-directive": {}, "s3:x-amz-copy-source": {}, "s3:x-amz-grant-full-control": {},
	"s3:x-amz-grant-read": {}, "s3:x-amz-grant-read-acp": {}, "s3:x-amz-grant-write": {},
	"s3:x-amz-grant-write-acp": {}, "s3:object-lock-mode": {}, "s3:object-lock-retain-until-date": {},
	"s3:object-lock-remaining-retention-days": {}, "s3:object-lock-legal-hold": {},
	"s3:locationconstraint": {}, "s3:resourceaccount": {}, "s3:accesspointnetworkorigin": {},
	"s3:dataaccesspointarn": {}, "s3:dataaccesspointaccount": {}, "s3:if-match": {}, "s3:if-none-match": {},
}

func lookupConditionKey(key string) (conditionKeyRule, bool) {
	k := strings.ToLower(key)
	if r, ok := conditionKeys[k]; ok {
		return r, true
	}
	if base, _, found := strings.Cut(k, "/"); found {
		r, ok := conditionKeys[base]
		return r, ok
	}
	return conditionKeyRule{}, false
}

// parseConditionValues decodes a condition value: a string, number or
// boolean, or an array of them.
func parseConditionValues(raw json.RawMessage) ([]string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var many []json.RawMessage
		if json.Unmarshal(raw, &many) != nil {
			return nil, false
		}
		out := make([]string, 0, len(many))
		for _, m := range many {
			v, ok := scalarConditionValue(m)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	v, ok := scalarConditionValue(raw)
	return []string{v}, ok
}

func scalarConditionValue(raw json.RawMessage) (string, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return string(bytes.TrimSpace(raw)), true
	}
	return "", false
}

// parseConditions parses and validates a Condition block against the
// statement's actions.
func parseConditions(raw json.RawMessage, actions []string, notAction bool) ([]policyCondition, error) {
	var block map[string]json.RawMessage
	if err := json.Unmarshal(raw, &block); err != nil {
		return nil, malformedPolicy(polErrJSON)
	}
	var out []policyCondition
	// Unknown operators are reported before anything else.
	for name := range block {
		if _, _, _, ok := parseConditionOp(name); !ok {
			return nil, malformedPolicy("Invalid Condition type : " + name)
		}
	}
	for name, kvRaw := range block {
		op, set, ifExists, _ := parseConditionOp(name)
		var kvs map[string]json.RawMessage
		if err := json.Unmarshal(kvRaw, &kvs); err != nil {
			return nil, malformedPolicy(polErrJSON)
		}
		for key, vRaw := range kvs {
			rule, ok := lookupConditionKey(key)
			if !ok {
				return nil, malformedPolicy(polErrConditionKey)
			}
			if rule.actions != nil && !notAction {
				for _, a := range actions {
					if strings.ContainsAny(a, "*?") {
						continue
					}
					if !containsFold(rule.actions, a) {
						return nil, malformedPolicy(polErrConditionAction)
					}
				}
			}
			values, ok := parseConditionValues(vRaw)
			if !ok {
				return nil, malformedPolicy(polErrJSON)
			}
			if strings.EqualFold(key, "aws:SourceIp") {
				for _, v := range values {
					if _, ok := parseIPOrPrefix(v); !ok {
						return nil, malformedPolicy(polErrConditionIP)
					}
				}
			}
			out = append(out, policyCondition{op: op, set: set, ifExists: ifExists, key: key, values: values})
		}
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// parseIPOrPrefix parses an address or CIDR block.
func parseIPOrPrefix(v string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// wideCIDR reports an address block S3 treats as public (IPv4 shorter
// than /8, IPv6 shorter than /32).
func wideCIDR(v string) bool {
	p, ok := parseIPOrPrefix(v)
	if !ok {
		return false
	}
	if p.Addr().Is4() {
		return p.Bits() < 8
	}
	return p.Bits() < 32
}

// conditionContext holds the request's values of the condition keys, by
// lower-case key.
type conditionContext map[string][]string

func (c conditionContext) get(key string) ([]string, bool) {
	v, ok := c[strings.ToLower(key)]
	return v, ok
}

// evalConditions reports whether every condition holds.
func evalConditions(conds []policyCondition, ctx conditionContext) bool {
	for i := range conds {
		if !conds[i].eval(ctx) {
			return false
		}
	}
	return true
}

func (c *policyCondition) eval(ctx conditionContext) bool {
	got, present := ctx.get(c.key)
	if c.op == "Null" {
		want := len(c.values) > 0 && strings.EqualFold(c.values[0], "true")
		return want != present
	}
	if !present {
		if c.ifExists || c.negated() {
			return true
		}
		return c.set == "ForAllValues"
	}
	switch c.set {
	case "ForAllValues":
		for _, g := range got {
			if !c.matchOne(g) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, g := range got {
			if c.matchOne(g) {
				return true
			}
		}
		return false
	}
	// A single-valued key: positive operators need some value to match,
	// negated ones need none to.
	for _, g := range got {
		if c.matchOne(g) {
			return true
		}
	}
	return false
}

// matchOne applies the operator to one request value.
func (c *policyCondition) matchOne(got string) bool {
	neg := c.negated()
	hit := false
	for _, want := range c.values {
		if c.positiveMatch(got, want) {
			hit = true
			break
		}
	}
	return hit != neg
}

func (c *policyCondition) positiveMatch(got, want string) bool {
	switch c.op {
	case "StringEquals", "StringNotEquals":
		return got == want
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return strings.EqualFold(got, want)
	case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike":
		return globMatch(want, got, false)
	case "ArnEquals", "ArnNotEquals":
		return got == want
	case "Bool":
		return strings.EqualFold(got, want)
	case "BinaryEquals":
		w, err := base64.StdEncoding.DecodeString(want)
		return err == nil && string(w) == got
	case "IpAddress", "NotIpAddress":
		p, ok1 := parseIPOrPrefix(want)
		a, err := netip.ParseAddr(got)
		return ok1 && err == nil && p.Contains(a.Unmap())
	}
	if strings.HasPrefix(c.op, "Numeric") {
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compareOp(strings.TrimPrefix(c.op, "Numeric"), cmpFloat(g, w))
	}
	if strings.HasPrefix(c.op, "Date") {
		g, ok1 := parsePolicyTime(got)
		w, ok2 := parsePolicyTime(want)
		if !ok1 || !ok2 {
			return false
		}
		return compareOp(strings.TrimPrefix(c.op, "Date"), g.Compare(w))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareOp applies a Numeric/Date comparison suffix to cmp(got, want).
// NotEquals is handled as the negation of Equals by the caller.
func compareOp(suffix string, cmp int) bool {
	switch suffix {
	case "Equals", "NotEquals":
		return cmp == 0
	case "LessThan":
		return cmp < 0
	case "LessThanEquals":
		return cmp <= 0
	case "GreaterThan":
		return cmp > 0
	case "GreaterThanEquals":
		return cmp >= 0
	}
	return false
}

// parsePolicyTime accepts ISO 8601 dates and times and epoch seconds.
func parsePolicyTime(v string) (time.Time, bool) {
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}
