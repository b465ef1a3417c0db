package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A POST policy is the base64 JSON document a browser form carries in its
// "policy" field and signs in x-amz-signature:
//
//	{"expiration": "2030-01-01T00:00:00Z",
//	 "conditions": [{"bucket": "b"}, ["starts-with", "$key", "user/"],
//	                ["content-length-range", 1, 1048576]]}
//
// Every form field but file, policy, x-amz-signature and x-ignore-* must be
// named by a condition, and every condition must hold. Errors are those S3
// sends: InvalidPolicyDocument for a document that does not parse,
// AccessDenied "Invalid according to Policy" for one that does not allow
// the upload.

// maxPolicyConditions bounds the conditions of one policy (the document
// itself is bounded by the form's pre-file size limit).
const maxPolicyConditions = 512

// postPolicy is a parsed POST policy document.
type postPolicy struct {
	expiration time.Time
	conditions []postCondition
}

type postOp uint8

const (
	postEq postOp = iota
	postStartsWith
	postLengthRange
)

// postCondition is one condition: a field match (eq, starts-with) or
// content-length-range.
type postCondition struct {
	op    postOp
	field string // lower-case form field name, without '$'
	value string
	// min and max bound the file size (postLengthRange).
	min, max int64
	// text is the condition as quoted in "Policy Condition failed".
	text string
}

func policyDocErr(format string, args ...any) *APIError {
	return &APIError{Code: "InvalidPolicyDocument", Status: 400, Message: "Invalid Policy: " + fmt.Sprintf(format, args...)}
}

func policyDenied(format string, args ...any) *APIError {
	return &APIError{Code: "AccessDenied", Status: 403, Message: "Invalid according to Policy: " + fmt.Sprintf(format, args...)}
}

var (
	errPolicyInvalidJSON = policyDocErr("Invalid JSON.")
	errPolicyExpired     = policyDenied("Policy expired.")
)

// parsePostPolicy decodes and validates a base64 policy document. now is
// the server clock: an expired policy is refused here.
func parsePostPolicy(encoded string, now time.Time) (*postPolicy, error) {
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return nil, policyDocErr("Expecting '{' but found End-of-Input")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(encoded); err != nil {
			return nil, policyDocErr("invalid Base64 encoding.")
		}
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return nil, errPolicyInvalidJSON
	}
	rawExp, ok := doc["expiration"]
	if !ok {
		return nil, policyDocErr("Policy missing expiration.")
	}
	rawConds, ok := doc["conditions"]
	if !ok {
		return nil, policyDocErr("Policy missing conditions.")
	}
	// Report an unexpected member deterministically (the first by name).
	names := make([]string, 0, len(doc))
	for k := range doc {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k != "expiration" && k != "conditions" {
			return nil, policyDocErr("Unexpected: %q", k)
		}
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(rawConds, &conds); err != nil {
		return nil, policyDocErr("Invalid 'conditions' value: must be a List.")
	}
	var exp string
	if err := json.Unmarshal(rawExp, &exp); err != nil {
		return nil, errPolicyInvalidJSON
	}
	p := &postPolicy{}
	if p.expiration, err = time.Parse(time.RFC3339Nano, exp); err != nil {
		return nil, policyDocErr("Invalid 'expiration' value: '%s'", exp)
	}
	if len(conds) > maxPolicyConditions {
		return nil, policyDocErr("Too many conditions.")
	}
	p.conditions = make([]postCondition, 0, len(conds))
	for _, rc := range conds {
		c, err := parsePostCondition(rc)
		if err != nil {
			return nil, err
		}
		p.conditions = append(p.conditions, c)
	}
	if p.expiration.Before(now) {
		return nil, errPolicyExpired
	}
	return p, nil
}

// parsePostCondition parses the object form {"field": "value"} or the
// array forms ["eq"|"starts-with", "$field", value] and
// ["content-length-range", min, max].
func parsePostCondition(raw json.RawMessage) (postCondition, error) {
	raw = bytes.TrimSpace(raw)
	var c postCondition
	if len(raw) > 0 && raw[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return c, errPolicyInvalidJSON
		}
		if len(obj) != 1 {
			return c, policyDocErr("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for k, v := range obj {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return c, policyDocErr("Invalid Simple-Condition: value must be a string.")
			}
			c = postCondition{op: postEq, field: strings.ToLower(k), value: s}
			c.text = fmt.Sprintf(`["eq", "$%s", "%s"]`, c.field, s)
		}
		return c, nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return c, policyDocErr("Invalid condition test: must be a List or Object.")
	}
	if len(arr) == 0 {
		return c, policyDocErr("Invalid Condition: missing operation identifier.")
	}
	var op string
	if err := json.Unmarshal(arr[0], &op); err != nil {
		return c, errPolicyInvalidJSON
	}
	c.text = string(raw)
	switch strings.ToLower(op) {
	case "eq", "starts-with":
		if len(arr) != 3 {
			return c, policyDocErr("Invalid %s: wrong number of arguments.", op)
		}
		var ref string
		if err := json.Unmarshal(arr[1], &ref); err != nil {
			return c, errPolicyInvalidJSON
		}
		v, ok := policyScalar(arr[2])
		if !ok {
			return c, errPolicyInvalidJSON
		}
		if len(ref) < 2 || ref[0] != '$' {
			return c, policyDenied("Policy Condition failed: %s", c.text)
		}
		c.op, c.field, c.value = postEq, strings.ToLower(ref[1:]), v
		if strings.EqualFold(op, "starts-with") {
			c.op = postStartsWith
		}
		return c, nil
	case "content-length-range":
		if len(arr) != 3 {
			return c, policyDocErr("Invalid %s: wrong number of arguments.", op)
		}
		lo, ok1 := policyInt(arr[1])
		hi, ok2 := policyInt(arr[2])
		if !ok1 || !ok2 {
			return c, errPolicyInvalidJSON
		}
		c.op, c.min, c.max = postLengthRange, lo, hi
		return c, nil
	}
	return c, policyDocErr("Invalid Condition: unknown operation '%s'.", op)
}

// policyScalar returns a JSON string or number as text.
func policyScalar(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&n); err == nil {
		return n.String(), true
	}
	return "", false
}

// policyInt returns a JSON integer, or a string holding one.
func policyInt(raw json.RawMessage) (int64, bool) {
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&n); err == nil {
		v, err := n.Int64()
		return v, err == nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return v, err == nil
	}
	return 0, false
}

// lengthRange returns the content-length-range bounds (the tightest, when
// several are given); ok is false when the policy has none.
func (p *postPolicy) lengthRange() (lo, hi int64, ok bool) {
	for _, c := range p.conditions {
		if c.op != postLengthRange {
			continue
		}
		if !ok || c.min > lo {
			lo = c.min
		}
		if !ok || c.max < hi {
			hi = c.max
		}
		ok = true
	}
	return lo, hi, ok
}

// policyExempt reports the form fields a policy need not name.
func policyExempt(field string) bool {
	return field == "file" || field == "policy" || field == "x-amz-signature" || strings.HasPrefix(field, "x-ignore-")
}

// check evaluates the policy against the form: fields are the lower-cased
// form fields (before the file); bucket and key are the resolved bucket
// and object key. The file size is checked separately (lengthRange), as
// it is known only once the file has been read.
func (p *postPolicy) check(fields map[string]string, bucket, key string) error {
	covered := make(map[string]bool, len(p.conditions))
	for _, c := range p.conditions {
		if c.op != postLengthRange {
			covered[c.field] = true
		}
	}
	var extra []string
	for f := range fields {
		if !policyExempt(f) && !covered[f] {
			extra = append(extra, f)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return policyDenied("Extra input fields: %s", strings.Join(extra, ", "))
	}
	bucketCond := false
	for _, c := range p.conditions {
		if c.op == postLengthRange {
			continue
		}
		var v string
		var ok bool
		switch c.field {
		case "bucket":
			v, ok, bucketCond = bucket, true, true
		case "key":
			v, ok = key, true
		default:
			v, ok = fields[c.field]
		}
		if !ok || !c.match(v) {
			return policyDenied("Policy Condition failed: %s", c.text)
		}
	}
	if !bucketCond {
		return policyDenied("Extra input fields: bucket")
	}
	return nil
}

// match applies an eq or starts-with condition to a field value. As on
// S3, a Content-Type starts-with applies to each comma-separated type.
func (c *postCondition) match(v string) bool {
	if c.op == postEq {
		return v == c.value
	}
	if c.field == "content-type" && strings.Contains(v, ",") {
		for part := range strings.SplitSeq(v, ",") {
			if !strings.HasPrefix(strings.TrimSpace(part), c.value) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(v, c.value)
}
