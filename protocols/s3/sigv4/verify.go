package sigv4

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credential is one access key and its secret.
type Credential struct {
	AccessKey string
	SecretKey string
}

// Verifier checks SigV4 signatures. It is safe for concurrent use; its
// fields must not change after the first Verify.
type Verifier struct {
	// Credentials maps access keys to secrets.
	Credentials map[string]string
	// Lookup, when set, is asked for the secrets of access keys that
	// Credentials does not hold (accounts added at run time). It must be
	// safe for concurrent use.
	Lookup func(accessKey string) (secret string, ok bool)
	// Service is the credential scope's service; default "s3".
	Service string
	// MaxSkew is the accepted difference between the request date and the
	// server clock for header-signed requests; default 15 minutes.
	MaxSkew time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time

	// Signing keys of verified requests (see signingKey).
	keyMu sync.Mutex
	keys  map[keyScope][]byte
}

// keyScope is what a signing key derives from.
type keyScope struct{ secret, date, region, service string }

// maxCachedKeys bounds the signing-key cache; a full cache starts over.
const maxCachedKeys = 256

// signingKey returns the signing key of the scope, derived once per day,
// region and credential (four HMACs) and then cached: only keys of
// requests whose signature matched are kept (remember).
func (v *Verifier) signingKey(s keyScope) (key []byte, cached bool) {
	v.keyMu.Lock()
	key, cached = v.keys[s]
	v.keyMu.Unlock()
	if cached {
		return key, true
	}
	return SigningKey(s.secret, s.date, s.region, s.service), false
}

// checkSignature computes the signature of r under the scope's key and
// compares it, in constant time, with the one f carries; on a match it
// sets res's key and seed. skipQuery is the query parameter the signature
// does not cover.
func (v *Verifier) checkSignature(sc *scratch, res *Result, r *http.Request, f *authFields, secret, payloadHash, skipQuery string) error {
	s := keyScope{secret, f.date, f.region, f.service}
	key, cached := v.signingKey(s)
	want := sc.signature(r, f.signed, payloadHash, skipQuery, res.date, res.scope, key)
	if !equalHex(want, f.signature) {
		return ErrSignatureMismatch
	}
	if !cached {
		v.remember(s, key)
	}
	res.key, res.Seed = key, f.signature
	return nil
}

// remember caches the key of a verified request.
func (v *Verifier) remember(s keyScope, key []byte) {
	// The scope's strings point into the request; keep copies.
	s = keyScope{strings.Clone(s.secret), strings.Clone(s.date), strings.Clone(s.region), strings.Clone(s.service)}
	v.keyMu.Lock()
	if v.keys == nil || len(v.keys) >= maxCachedKeys {
		v.keys = make(map[keyScope][]byte)
	}
	v.keys[s] = key
	v.keyMu.Unlock()
}

// secret returns the secret of an access key.
func (v *Verifier) secret(accessKey string) (string, bool) {
	if s, ok := v.Credentials[accessKey]; ok {
		return s, true
	}
	if v.Lookup != nil {
		return v.Lookup(accessKey)
	}
	return "", false
}

// NewVerifier returns a verifier over creds.
func NewVerifier(creds []Credential) *Verifier {
	m := make(map[string]string, len(creds))
	for _, c := range creds {
		m[c.AccessKey] = c.SecretKey
	}
	return &Verifier{Credentials: m}
}

// PayloadMode says how the body of a verified request must be read.
type PayloadMode uint8

const (
	// PayloadUnsigned: the body is not covered by the signature.
	PayloadUnsigned PayloadMode = iota
	// PayloadSHA256: the body's SHA-256 must equal Result.PayloadHash.
	PayloadSHA256
	// PayloadStreaming: aws-chunked with a signature per chunk.
	PayloadStreaming
	// PayloadStreamingTrailer: aws-chunked, signed chunks, signed trailer.
	PayloadStreamingTrailer
	// PayloadUnsignedTrailer: aws-chunked without signatures, with a trailer.
	PayloadUnsignedTrailer
)

// Chunked reports whether the body is aws-chunked encoded.
func (m PayloadMode) Chunked() bool { return m >= PayloadStreaming }

// Result is what a successful verification learned.
type Result struct {
	AccessKey string
	Region    string
	Mode      PayloadMode
	// PayloadHash is the lower-case hex SHA-256 for PayloadSHA256.
	PayloadHash string
	// Seed is the request signature, from which chunk signatures chain.
	Seed string
	// Presigned is true for query-string authentication.
	Presigned bool

	key   []byte
	date  time.Time
	scope string
}

// ChunkSigner returns the chain state for the aws-chunked reader.
func (r *Result) chainStart() chain {
	return newChain(r.key, r.date.UTC().Format(TimeFormat), r.scope, r.Seed)
}

// authFields are the parsed parts of a signature.
type authFields struct {
	accessKey, date, region, service string
	scope                            string // date/region/service/aws4_request
	signed                           []string
	signature                        string
}

// Verify checks r's signature (header or presigned query).
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	res := new(Result)
	if err := v.VerifyInto(r, res); err != nil {
		return nil, err
	}
	return res, nil
}

// VerifyInto is Verify filling in the caller's res. Verifying a
// header-signed request whose signing key is cached allocates nothing.
func (v *Verifier) VerifyInto(r *http.Request, res *Result) error {
	*res = Result{}
	sc := getScratch()
	defer putScratch(sc)
	if auth := r.Header.Get("Authorization"); auth != "" {
		return v.verifyHeader(sc, r, auth, res)
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Signature") != "" || q.Get("X-Amz-Algorithm") != "" || q.Get("X-Amz-Credential") != "" {
		return v.verifyPresigned(sc, r, q, res)
	}
	if q.Get("Signature") != "" && q.Get("AWSAccessKeyId") != "" {
		return ErrSigV2
	}
	return ErrMissingAuth
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) service() string {
	if v.Service != "" {
		return v.Service
	}
	return "s3"
}

func (v *Verifier) skew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return 15 * time.Minute
}

// ParseAuthorization parses an AWS4-HMAC-SHA256 Authorization header.
func ParseAuthorization(auth string) (accessKey, scopeDate, region, service string, signed []string, signature string, err error) {
	f, err := parseAuthorization(auth, "s3", nil)
	if err != nil {
		return "", "", "", "", nil, "", err
	}
	return f.accessKey, f.date, f.region, f.service, f.signed, f.signature, nil
}

// parseAuthorization parses an Authorization header; the signed header
// names are appended to signed.
func parseAuthorization(auth, service string, signed []string) (authFields, error) {
	var f authFields
	alg, rest, ok := strings.Cut(strings.TrimSpace(auth), " ")
	switch {
	case alg == "AWS":
		return f, ErrSigV2
	case !ok:
		return f, detail(ErrUnsupportedAlgorithm, "Authorization header is invalid -- one and only one ' ' (space) required.")
	case alg != Algorithm:
		return f, ErrUnsupportedAlgorithm
	}
	var cred, signedList string
	var haveCred, haveSigned, haveSig bool
	if strings.Count(rest, ",") != 2 {
		return f, detail(ErrMalformedAuth, malformed+"the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}
	for range 3 {
		part, more, _ := strings.Cut(rest, ",")
		rest = more
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return f, detail(ErrMalformedAuth, malformed+"the authorization component %q is malformed.", part)
		}
		switch k {
		case "Credential":
			cred, haveCred = val, true
		case "SignedHeaders":
			signedList, haveSigned = val, true
		case "Signature":
			f.signature, haveSig = val, true
		}
	}
	switch {
	case !haveCred:
		return f, detail(ErrMalformedAuth, malformed+"missing Credential.")
	case !haveSigned:
		return f, detail(ErrMalformedAuth, malformed+"missing SignedHeaders.")
	case !haveSig:
		return f, detail(ErrMalformedAuth, malformed+"missing Signature.")
	}
	if err := f.parseCredential(cred, service); err != nil {
		return f, err
	}
	if err := f.parseSigned(signedList, signed); err != nil {
		return f, err
	}
	return f, nil
}

// CredentialScope is a parsed credential: access key and scope.
type CredentialScope struct {
	AccessKey, Date, Region, Service string
}

// ParseCredential parses "<access key>/<yyyymmdd>/<region>/<service>/aws4_request"
// as S3 does, in S3's order of checks: five components, the service, the
// terminator, the date. Errors are *Error of kind ErrMalformedCredential
// whose message starts with MalformedPrefix.
func ParseCredential(cred, service string) (CredentialScope, error) {
	c, _, err := parseCredential(cred, service)
	return c, err
}

// parseCredential is ParseCredential also returning the scope part of cred
// (all but the access key).
func parseCredential(cred, service string) (c CredentialScope, scope string, err error) {
	if strings.Count(cred, "/") != 4 {
		return c, "", detail(ErrMalformedCredential, malformed+`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	ak, scope, _ := strings.Cut(cred, "/")
	date, rest, _ := strings.Cut(scope, "/")
	region, rest, _ := strings.Cut(rest, "/")
	svc, term, _ := strings.Cut(rest, "/")
	if ak == "" || region == "" {
		return c, "", detail(ErrMalformedCredential, malformed+`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	c = CredentialScope{AccessKey: ak, Date: date, Region: region, Service: svc}
	if c.Service != service {
		return c, scope, detail(ErrMalformedCredential, malformed+"incorrect service %q. This endpoint belongs to %q.", c.Service, service)
	}
	if term != "aws4_request" {
		return c, scope, detail(ErrMalformedCredential, malformed+`incorrect terminal %q. This endpoint uses "aws4_request".`, term)
	}
	if _, err := time.Parse(DateFormat, c.Date); err != nil || len(c.Date) != 8 {
		return c, scope, detail(ErrMalformedCredential, malformed+`incorrect date format %q. This date in the credential must be in the format "yyyyMMdd".`, c.Date)
	}
	return c, scope, nil
}

func (f *authFields) parseCredential(cred, service string) error {
	c, scope, err := parseCredential(cred, service)
	f.accessKey, f.date, f.region, f.service, f.scope = c.AccessKey, c.Date, c.Region, c.Service, scope
	return err
}

// parseSigned parses the signed header list s, appending the names to
// signed (working memory) to make f.signed.
func (f *authFields) parseSigned(s string, signed []string) error {
	if s == "" {
		return ErrMalformedAuth
	}
	for name := range strings.SplitSeq(s, ";") {
		signed = append(signed, name)
	}
	f.signed = signed
	host := false
	for i, h := range f.signed {
		if h == "" || h != strings.ToLower(h) || i > 0 && f.signed[i-1] >= h {
			return ErrMalformedAuth
		}
		// Over HTTP/2 the host is the :authority pseudo-header, and
		// SigV4 signs it under that name (the AWS SDK for JavaScript
		// does, with its HTTP/2 handler).
		host = host || h == "host" || h == authority
	}
	if !host {
		return ErrHostNotSigned
	}
	return nil
}

// ParseTime parses X-Amz-Date (ISO 8601 basic) or an HTTP date.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(TimeFormat, s); err == nil {
		return t, nil
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, nil
	}
	return time.Time{}, ErrMalformedDate
}

func (v *Verifier) verifyHeader(sc *scratch, r *http.Request, auth string, res *Result) error {
	f, err := parseAuthorization(auth, v.service(), sc.signed[:0])
	if err != nil {
		return err
	}
	secret, ok := v.secret(f.accessKey)
	if !ok {
		return ErrUnknownAccessKey
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return ErrInvalidToken
	}
	ds := r.Header.Get("X-Amz-Date")
	if ds == "" {
		ds = r.Header.Get("Date")
	}
	if ds == "" {
		return ErrMissingDate
	}
	t, err := ParseTime(ds)
	if err != nil {
		return err
	}
	if d := v.now().Sub(t); d > v.skew() || d < -v.skew() {
		return ErrSkewed
	}
	var day [8]byte
	if string(t.UTC().AppendFormat(day[:0], DateFormat)) != f.date {
		// S3's wording for a scope date other than the request's day.
		return detail(ErrMalformedCredential, malformed+"Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	ph := r.Header.Get("X-Amz-Content-Sha256")
	if ph == "" {
		return ErrMissingContentSHA256
	}
	*res = Result{AccessKey: f.accessKey, Region: f.region, date: t, scope: f.scope}
	if err := res.setMode(ph, false); err != nil {
		return err
	}
	if err := checkSignedHeaders(r, f.signed); err != nil {
		return err
	}
	return v.checkSignature(sc, res, r, &f, secret, ph, "")
}

func (res *Result) setMode(ph string, presigned bool) error {
	switch ph {
	case UnsignedPayload:
		res.Mode = PayloadUnsigned
	case StreamingPayload:
		res.Mode = PayloadStreaming
	case StreamingPayloadTrailer:
		res.Mode = PayloadStreamingTrailer
	case StreamingUnsignedTrailer:
		res.Mode = PayloadUnsignedTrailer
	default:
		if len(ph) != 64 || !isLowerHex(ph) {
			return ErrBadContentSHA256
		}
		res.Mode, res.PayloadHash = PayloadSHA256, ph
	}
	if presigned && res.Mode.Chunked() {
		return ErrBadContentSHA256
	}
	return nil
}

func isLowerHex[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (v *Verifier) verifyPresigned(sc *scratch, r *http.Request, q map[string][]string, res *Result) error {
	get := func(k string) string {
		if vs := q[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if get(k) == "" {
			return detail(ErrMalformedAuth, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	switch alg := get("X-Amz-Algorithm"); alg {
	case Algorithm:
	case "AWS4-ECDSA-P256-SHA256":
		return detail(ErrUnsupportedAlgorithm, `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`)
	default:
		return detail(ErrUnsupportedAlgorithm, `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`)
	}
	var f authFields
	if err := f.parseCredential(get("X-Amz-Credential"), v.service()); err != nil {
		return queryDetail(err)
	}
	if err := f.parseSigned(get("X-Amz-SignedHeaders"), sc.signed[:0]); err != nil {
		return err
	}
	f.signature = get("X-Amz-Signature")
	secret, ok := v.secret(f.accessKey)
	if !ok {
		return ErrUnknownAccessKey
	}
	if get("X-Amz-Security-Token") != "" || r.Header.Get("X-Amz-Security-Token") != "" {
		return ErrInvalidToken
	}
	ds := get("X-Amz-Date")
	t, err := time.Parse(TimeFormat, ds)
	if err != nil {
		return detail(ErrMalformedDate, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	if t.UTC().Format(DateFormat) != f.date {
		return detail(ErrMalformedCredential, "Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", f.date, t.UTC().Format(DateFormat))
	}
	exp, err := strconv.Atoi(get("X-Amz-Expires"))
	switch {
	case err != nil:
		return detail(ErrMalformedExpires, "X-Amz-Expires should be a number")
	case exp < 0:
		return detail(ErrMalformedExpires, "X-Amz-Expires must be non-negative")
	case exp > 604800:
		return detail(ErrMalformedExpires, "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	now := v.now()
	if t.Sub(now) > v.skew() {
		return ErrSkewed
	}
	if now.After(t.Add(time.Duration(exp) * time.Second)) {
		return ErrExpired
	}
	ph := get("X-Amz-Content-Sha256")
	if ph == "" {
		ph = UnsignedPayload
	}
	*res = Result{AccessKey: f.accessKey, Region: f.region, Presigned: true, date: t, scope: f.scope}
	if err := res.setMode(ph, true); err != nil {
		return err
	}
	if err := checkSignedHeaders(r, f.signed); err != nil {
		return err
	}
	return v.checkSignature(sc, res, r, &f, secret, ph, "X-Amz-Signature")
}

// queryDetail rewrites a credential error for the presigned form.
func queryDetail(err error) error {
	var de *Error
	if errors.As(err, &de) {
		return detail(de.Kind, "%s", strings.Replace(de.Message, malformed, "Error parsing the X-Amz-Credential parameter; ", 1))
	}
	return err
}

// checkSignedHeaders refuses a request carrying x-amz-* headers that the
// signature does not cover, as S3 does: they would change the request's
// meaning without the signer's consent. The error lists them.
func checkSignedHeaders(r *http.Request, signed []string) error {
	var missing []string
	for name := range r.Header {
		if len(name) < len("x-amz-") || !strings.EqualFold(name[:len("x-amz-")], "x-amz-") {
			continue
		}
		if !slices.ContainsFunc(signed, func(s string) bool { return strings.EqualFold(s, name) }) {
			missing = append(missing, strings.ToLower(name))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return &HeadersNotSignedError{Headers: missing}
}
