package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentCompletes completes one upload from several clients at
// once, again and again: every Complete answers 200 with the same ETag
// (one does the work, the others find it done), and the object is whole.
func TestConcurrentCompletes(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MinPartSize = 1000 })
	// Widen the window between the completion's two steps, where another
	// Complete must still find the upload or its completion.
	testHookCompleting = func() { time.Sleep(5 * time.Millisecond) }
	defer func() { testHookCompleting = nil }()
	ts.mustPut("/race", nil)
	for iter := range 15 {
		resp, body := ts.do("POST", "/race/obj?uploads", nil, nil)
		ts.expect(resp, body, 200, "")
		var r struct{ UploadId string }
		xml.Unmarshal(body, &r)
		var want []byte
		var parts strings.Builder
		parts.WriteString("<CompleteMultipartUpload>")
		for n := 1; n <= 3; n++ {
			data := randBytes(uint64(iter*10+n), 3000+n)
			want = append(want, data...)
			resp, body := ts.do("PUT", fmt.Sprintf("/race/obj?partNumber=%d&uploadId=%s", n, r.UploadId), data, nil)
			ts.expect(resp, body, 200, "")
			fmt.Fprintf(&parts, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, resp.Header.Get("ETag"))
		}
		parts.WriteString("</CompleteMultipartUpload>")
		var wg sync.WaitGroup
		etags := make([]string, 5)
		for i := range etags {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body := ts.do("POST", "/race/obj?uploadId="+r.UploadId, []byte(parts.String()), nil)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("iteration %d: Complete %d: %s %s", iter, i, resp.Status, body)
					return
				}
				var res struct{ ETag string }
				xml.Unmarshal(body, &res)
				etags[i] = res.ETag
			}()
		}
		wg.Wait()
		for i, e := range etags {
			if e != etags[0] || e == "" {
				t.Fatalf("iteration %d: Complete %d answered ETag %q, another %q", iter, i, e, etags[0])
			}
		}
		resp, body = ts.do("GET", "/race/obj", nil, nil)
		ts.expect(resp, body, 200, "")
		if !bytes.Equal(body, want) {
			t.Fatalf("iteration %d: object of %d bytes is not the %d uploaded", iter, len(body), len(want))
		}
	}
}
