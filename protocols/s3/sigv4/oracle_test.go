package sigv4

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// FuzzVerifyAgainstMinioSigner signs requests with minio-go's SigV4
// signer, an independent implementation, and checks that they verify:
// paths with characters that need encoding, query parameters, header
// values with runs of spaces, repeated headers.
func FuzzVerifyAgainstMinioSigner(f *testing.F) {
	f.Add("obj", "", "", "v", "")
	f.Add("dir/sub dir/ob+j~!*'()", "partNumber", "1", "  a   b  ", "second")
	f.Add("ключ/%41", "prefix", "a b/c&d=e", "x", "")
	f.Add("a//b", "list-type", "2", "", "  ")
	cred := Credential{AccessKey: "AKIDORACLE", SecretKey: "oracle/secret+key"}
	v := NewVerifier([]Credential{cred})
	f.Fuzz(func(t *testing.T, path, qk, qv, hv, hv2 string) {
		for _, s := range []string{path, qk, qv} {
			if !utf8.ValidString(s) {
				return
			}
		}
		for _, s := range []string{hv, hv2} {
			for i := 0; i < len(s); i++ {
				if s[i] < ' ' || s[i] > '~' {
					return // the signer collapses all white space, SigV4 only spaces
				}
			}
		}
		u := &url.URL{Scheme: "http", Host: "127.0.0.1:9000", Path: "/bkt/" + path}
		if qk != "" {
			u.RawQuery = url.Values{qk: {qv}}.Encode()
		}
		r, err := http.NewRequest(http.MethodGet, u.String(), nil)
		if err != nil {
			return
		}
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		r.Header.Set("X-Amz-Meta-Note", hv)
		if hv2 != "" {
			r.Header.Add("X-Amz-Meta-Note", hv2)
		}
		r = signer.SignV4(*r, cred.AccessKey, cred.SecretKey, "", "us-east-1")
		if _, err := v.Verify(r); err != nil {
			t.Fatalf("%s %q: %v\n%s", r.Method, r.URL, err, strings.Join(r.Header.Values("Authorization"), ""))
		}
	})
}
