package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/crc64nvme"
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

// TestMultipartDefaultCRC64: an upload created without a checksum
// algorithm ends with a full-object CRC64NVME of the whole object (a final
// checksum sent with Complete is ignored), and parts show none.
func TestMultipartDefaultCRC64(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MinPartSize = 1000 })
	ts.mustPut("/crc", nil)
	resp, body := ts.do("POST", "/crc/obj?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	var r struct{ UploadId string }
	xml.Unmarshal(body, &r)
	var whole []byte
	var parts strings.Builder
	parts.WriteString("<CompleteMultipartUpload>")
	for n := 1; n <= 3; n++ {
		data := randBytes(uint64(n), 2000+n*333)
		whole = append(whole, data...)
		// Part 2 brings its own CRC32, as SDKs send by default: it is
		// checked and kept, and the object still gets its CRC64NVME.
		// Part 3 brings a CRC64NVME: the one the server keeps.
		var hdr map[string]string
		switch n {
		case 2:
			var c [4]byte
			binary.BigEndian.PutUint32(c[:], crc32.ChecksumIEEE(data))
			hdr = map[string]string{"X-Amz-Checksum-Crc32": base64.StdEncoding.EncodeToString(c[:])}
		case 3:
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], crc64nvme.Checksum(data))
			hdr = map[string]string{"X-Amz-Checksum-Crc64nvme": base64.StdEncoding.EncodeToString(c[:])}
		}
		resp, body := ts.do("PUT", fmt.Sprintf("/crc/obj?partNumber=%d&uploadId=%s", n, r.UploadId), data, hdr)
		ts.expect(resp, body, 200, "")
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") && hdr[k] == "" { // only what the part sent
				t.Fatalf("part %d answered %s", n, k)
			}
		}
		fmt.Fprintf(&parts, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, resp.Header.Get("ETag"))
	}
	parts.WriteString("</CompleteMultipartUpload>")
	resp, body = ts.do("POST", "/crc/obj?uploadId="+r.UploadId, []byte(parts.String()),
		map[string]string{"X-Amz-Checksum-Crc64nvme": "vqf3hRLTlJw="})
	ts.expect(resp, body, 200, "")
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], crc64nvme.Checksum(whole))
	want := base64.StdEncoding.EncodeToString(sum[:])
	if !strings.Contains(string(body), "<ChecksumCRC64NVME>"+want+"</ChecksumCRC64NVME>") {
		t.Fatalf("Complete: want CRC64NVME %s in %s", want, body)
	}
	resp, _ = ts.do("HEAD", "/crc/obj", nil, map[string]string{"X-Amz-Checksum-Mode": "ENABLED"})
	if got := resp.Header.Get("X-Amz-Checksum-Crc64nvme"); got != want {
		t.Fatalf("HEAD: CRC64NVME %q, want %q (%s)", got, want, resp.Status)
	}
	if got := resp.Header.Get("X-Amz-Checksum-Type"); got != "FULL_OBJECT" {
		t.Fatalf("HEAD: checksum type %q, want FULL_OBJECT", got)
	}
}
