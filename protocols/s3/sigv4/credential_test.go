package sigv4

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseCredentialOrder(t *testing.T) {
	for _, tc := range []struct{ cred, want string }{
		{"access/32234/us-east-1/s3/extra/things", "the Credential is mal-formed"},
		{"a/b/c", "the Credential is mal-formed"},
		{"access/32234/us-east-1/ec2/aws4_request", `incorrect service "ec2". This endpoint belongs to "s3".`},
		{"access/32234/us-east-1/s3/aws5_request", `incorrect terminal "aws5_request"`},
		{"access/32234/us-east-1/s3/aws4_request", `incorrect date format "32234"`},
		{"access/20240101/us-east-1/s3/aws4_request", ""},
	} {
		c, err := ParseCredential(tc.cred, "s3")
		if tc.want == "" {
			if err != nil || c.AccessKey != "access" || c.Region != "us-east-1" || c.Date != "20240101" {
				t.Errorf("%s: %+v %v", tc.cred, c, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrMalformedCredential) || !strings.Contains(err.Error(), tc.want) ||
			!strings.HasPrefix(err.Error(), MalformedPrefix) {
			t.Errorf("%s: got %v, want %q", tc.cred, err, tc.want)
		}
	}
}

func TestChunkFraming(t *testing.T) {
	res := &Result{Mode: PayloadUnsignedTrailer}
	for _, tc := range []struct {
		body     string
		declared int64
		want     error
	}{
		// A chunk longer than declared: well formed is a length
		// mismatch, cut short is a malformed body.
		{"b\r\nabcdefghijk\r\n0\r\n\r\n", 5, ErrIncompleteBody},
		{"B\r\ndummy data\r\n0\r\n\r\n", 10, ErrChunkFormat},
		// Nothing after the final chunk, or garbage.
		{"A\r\ndummy data\r\n0\r\n", 10, ErrChunkFormat},
		{"A\r\ndummy data\r\n0\r\n\rs", 10, ErrChunkFormat},
		{"A\r\ndummy data\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\rbcd\r\n\r\n", 10, ErrChunkFormat},
		{"A\r\ndummy data\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n", 10, ErrChunkFormat},
		{"A\r\ndummy data\r\n0\r\n\r\n", 10, nil},
		{"A\r\ndummy data\r\n0\r\n\r", 10, nil},
		{"A\r\ndummy data\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", 10, nil},
	} {
		cr := NewChunkedReader(bytes.NewReader([]byte(tc.body)), res, tc.declared)
		_, err := io.Copy(io.Discard, cr)
		cr.Close()
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.body, err, tc.want)
		}
	}
}
