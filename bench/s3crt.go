package bench

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// S3 client modes of the s3 workload.
const (
	// S3ModeMinio is minio-go: multipart above the part size with parts
	// uploaded in parallel, one GET per object.
	S3ModeMinio = "minio"
	// S3ModeCRT sends what LMCache's S3 connector (the AWS CRT client)
	// sends: UNSIGNED-PAYLOAD SigV4, multipart above the part size with the
	// parts uploaded in parallel on their own connections, and reads as a
	// first ranged GET of one part (learning the size from Content-Range)
	// followed by parallel ranged GETs of the other parts with If-Match.
	// Like the CRT, which is native code, it costs little CPU per byte:
	// bodies go out by writev from the payload and come back straight into
	// the destination, so the server's share of a shared host shows.
	// Path-style addressing over plain HTTP/1.1 (LMCache uses virtual hosts
	// over TLS; both servers would pay the same TLS cost).
	S3ModeCRT = "crt"
)

// crtClient is one LMCache-style S3 client: a pool of keep-alive
// connections, one per part in flight.
type crtClient struct {
	ep    *S3Endpoint
	cred  sigv4.Credential
	conns []*crtConn
	part  int64
}

type crtConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	hdr  []byte
	iov  net.Buffers
	req  *http.Request
}

func newCRTClient(ep *S3Endpoint, parallel int, partSize int64) *crtClient {
	c := &crtClient{ep: ep, cred: sigv4.Credential{AccessKey: ep.AccessKey, SecretKey: ep.SecretKey}, part: partSize}
	for range parallel {
		c.conns = append(c.conns, &crtConn{addr: ep.Endpoint})
	}
	return c
}

func (c *crtClient) close() {
	for _, cc := range c.conns {
		if cc.c != nil {
			cc.c.Close()
		}
	}
}

// crtResponse is what a request needs from a response.
type crtResponse struct {
	status       int
	etag         string
	contentRange string
	body         []byte // small bodies (XML) only
	n            int64  // body bytes read into dst
}

// do sends one request on cc: method, path (escaped) and query, extra
// headers, and body as slices (writev). A response body goes into dst when
// given and the status is 2xx (which must then fit exactly), else into
// resp.body (bounded).
func (cc *crtConn) do(c *crtClient, method, path, query string, hdr map[string]string, body [][]byte, dst []byte) (crtResponse, error) {
	var res crtResponse
	if cc.c == nil {
		conn, err := net.DialTimeout("tcp", cc.addr, 5*time.Second)
		if err != nil {
			return res, err
		}
		cc.c, cc.br = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	var size int64
	for _, b := range body {
		size += int64(len(b))
	}
	target := path
	if query != "" {
		target += "?" + query
	}
	if cc.req == nil {
		cc.req = &http.Request{Header: make(http.Header, 8)}
	}
	r := cc.req
	clear(r.Header)
	r.Method, r.Host, r.ContentLength = method, cc.addr, size
	raw, err := url.PathUnescape(path)
	if err != nil {
		return res, err
	}
	r.URL = &url.URL{Path: raw, RawPath: path, RawQuery: query}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if size > 0 {
		r.Header.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	sigv4.Sign(r, c.cred, c.ep.Region, time.Now(), sigv4.UnsignedPayload)
	h := append(cc.hdr[:0], method...)
	h = append(h, ' ')
	h = append(h, target...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, cc.addr...)
	h = append(h, "\r\n"...)
	for k, vs := range r.Header {
		for _, v := range vs {
			h = append(h, k...)
			h = append(h, ": "...)
			h = append(h, v...)
			h = append(h, "\r\n"...)
		}
	}
	if size == 0 && (method == http.MethodPut || method == http.MethodPost) {
		h = append(h, "Content-Length: 0\r\n"...)
	}
	h = append(h, "\r\n"...)
	cc.hdr = h
	cc.iov = append(cc.iov[:0], h)
	cc.iov = append(cc.iov, body...)
	iov := cc.iov // WriteTo consumes its receiver
	if _, err := iov.WriteTo(cc.c); err != nil {
		cc.reset()
		return res, err
	}
	resp, err := http.ReadResponse(cc.br, r) // r: a HEAD answer has no body
	if err != nil {
		cc.reset()
		return res, err
	}
	res.status, res.etag, res.contentRange = resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Content-Range")
	if dst != nil && resp.StatusCode/100 == 2 {
		if resp.ContentLength != int64(len(dst)) {
			resp.Body.Close()
			cc.reset()
			return res, fmt.Errorf("%w: %s %s answered %d bytes, want %d", ErrCorrupt, method, path, resp.ContentLength, len(dst))
		}
		n, err := io.ReadFull(resp.Body, dst)
		res.n = int64(n)
		if err != nil {
			cc.reset()
			return res, err
		}
	} else {
		res.body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			cc.reset()
			return res, err
		}
	}
	resp.Body.Close()
	if resp.Close {
		cc.reset()
	}
	return res, nil
}

func (cc *crtConn) reset() {
	if cc.c != nil {
		cc.c.Close()
		cc.c = nil
	}
}

func objectPath(bucket, name string) string {
	return "/" + bucket + "/" + sigv4.EncodePath(name)
}

// slices returns the bytes [off, off+n) of the stamped value as up to
// three slices of the payload and the stamps (no copy).
func (r *valueReader) slices(dst [][]byte, stamps *[16]byte, off, n int64) [][]byte {
	AppendHead(stamps[:0], r.stamp)
	AppendTail(stamps[8:8], r.stamp, r.size)
	size := int64(r.size)
	segs := [3]struct{ lo, hi int64 }{{0, 8}, {8, size - 8}, {size - 8, size}}
	for i, s := range segs {
		lo, hi := max(s.lo, off), min(s.hi, off+n)
		if lo >= hi {
			continue
		}
		switch i {
		case 0:
			dst = append(dst, stamps[lo:hi])
		case 1:
			dst = append(dst, r.p.body[lo:hi])
		default:
			dst = append(dst, stamps[8+lo-(size-8):8+hi-(size-8)])
		}
	}
	return dst
}

type crtInitiate struct {
	UploadID string `xml:"UploadId"`
}

// put stores one value: a single PUT up to the part size, else multipart
// with the parts in parallel, one connection each.
func (c *crtClient) put(bucket, name string, r *valueReader) error {
	path := objectPath(bucket, name)
	var stamps [16]byte
	hdr := map[string]string{"Content-Type": "application/octet-stream"}
	size := int64(r.size)
	if size <= c.part {
		res, err := c.conns[0].do(c, http.MethodPut, path, "", hdr, r.slices(nil, &stamps, 0, size), nil)
		return statusErr("PUT", name, res, err)
	}
	res, err := c.conns[0].do(c, http.MethodPost, path, "uploads=", hdr, nil, nil)
	if err = statusErr("CreateMultipartUpload", name, res, err); err != nil {
		return err
	}
	var init crtInitiate
	if err := xml.Unmarshal(res.body, &init); err != nil || init.UploadID == "" {
		return fmt.Errorf("CreateMultipartUpload %s: no upload id in %q", name, res.body)
	}
	parts := int((size + c.part - 1) / c.part)
	etags := make([]string, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for w := range min(parts, len(c.conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st [16]byte
			var iov [][]byte
			for p := w; p < parts; p += len(c.conns) {
				off := int64(p) * c.part
				n := min(c.part, size-off)
				q := "partNumber=" + strconv.Itoa(p+1) + "&uploadId=" + init.UploadID
				res, err := c.conns[w].do(c, http.MethodPut, path, q, nil, r.slices(iov[:0], &st, off, n), nil)
				if errs[p] = statusErr("UploadPart", name, res, err); errs[p] != nil {
					return
				}
				etags[p] = strings.Trim(res.etag, `"`) // the CRT sends them unquoted
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.conns[0].do(c, http.MethodDelete, path, "uploadId="+init.UploadID, nil, nil, nil)
		return err
	}
	var sb strings.Builder
	sb.WriteString("<CompleteMultipartUpload>\n")
	for i, e := range etags {
		fmt.Fprintf(&sb, "  <Part>\n    <ETag>%s</ETag>\n    <PartNumber>%d</PartNumber>\n  </Part>\n", e, i+1)
	}
	sb.WriteString("</CompleteMultipartUpload>\n")
	res, err = c.conns[0].do(c, http.MethodPost, path, "uploadId="+init.UploadID, nil, [][]byte{[]byte(sb.String())}, nil)
	if err == nil && strings.Contains(string(res.body), "<Error>") {
		return fmt.Errorf("CompleteMultipartUpload %s: %s", name, res.body)
	}
	return statusErr("CompleteMultipartUpload", name, res, err)
}

// get reads a value of want bytes into val as the CRT does: a ranged GET
// of the first part, then the others in parallel with If-Match. A 404 is
// a miss.
func (c *crtClient) get(bucket, name string, val []byte) (bool, error) {
	path := objectPath(bucket, name)
	first := min(c.part, int64(len(val)))
	res, err := c.conns[0].do(c, http.MethodGet, path, "", map[string]string{"Range": "bytes=0-" + strconv.FormatInt(c.part-1, 10)}, nil, val[:first])
	if err != nil {
		return false, err
	}
	if res.status == http.StatusNotFound {
		return false, nil
	}
	if res.status != http.StatusPartialContent {
		return false, fmt.Errorf("GET %s: status %d: %s", name, res.status, res.body)
	}
	_, total, _ := strings.Cut(res.contentRange, "/")
	if total != strconv.Itoa(len(val)) {
		return true, fmt.Errorf("%w: object %s is %s bytes, want %d", ErrCorrupt, name, total, len(val))
	}
	size := int64(len(val))
	parts := int((size + c.part - 1) / c.part)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for w := range min(parts-1, len(c.conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := 1 + w; p < parts; p += len(c.conns) {
				off := int64(p) * c.part
				end := min(off+c.part, size)
				hdr := map[string]string{"Range": "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(end-1, 10), "If-Match": res.etag}
				r, err := c.conns[w].do(c, http.MethodGet, path, "", hdr, nil, val[off:end])
				if err == nil && r.status != http.StatusPartialContent {
					err = fmt.Errorf("GET %s part %d: status %d: %s", name, p+1, r.status, r.body)
				}
				if errs[p] = err; err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return true, errors.Join(errs...)
}

func (c *crtClient) remove(bucket, name string) {
	c.conns[0].do(c, http.MethodDelete, objectPath(bucket, name), "", nil, nil, nil)
}

func (c *crtClient) ensureBucket(bucket string) error {
	res, err := c.conns[0].do(c, http.MethodHead, "/"+bucket, "", nil, nil, nil)
	if err != nil {
		return err
	}
	if res.status == http.StatusOK {
		return nil
	}
	res, err = c.conns[0].do(c, http.MethodPut, "/"+bucket, "", nil, nil, nil)
	return statusErr("CreateBucket", bucket, res, err)
}

func statusErr(op, name string, res crtResponse, err error) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	if res.status/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", op, name, res.status, res.body)
	}
	return nil
}

// runS3CRT is RunS3 with the CRT-style client.
func runS3CRT(ctx context.Context, env *Env, ep *S3Endpoint, cfg LMCacheConfig, size int, partSize int64, label string) ([]*PhaseResult, error) {
	// The CRT uploads and downloads up to this many parts of an object at
	// once, each on its own connection.
	const parallel = 4
	clients := make([]*crtClient, cfg.Concurrency)
	for i := range clients {
		clients[i] = newCRTClient(ep, parallel, partSize)
		defer clients[i].close()
	}
	if err := clients[0].ensureBucket(ep.Bucket); err != nil {
		return nil, fmt.Errorf("cannot create bucket %s: %w", ep.Bucket, err)
	}
	return runS3Phases(ctx, env, cfg, size, label, s3Client{
		put:    func(wi int, name string, r *valueReader) error { return clients[wi].put(ep.Bucket, name, r) },
		get:    func(wi int, name string, val []byte) (bool, error) { return clients[wi].get(ep.Bucket, name, val) },
		remove: func(name string) { clients[0].remove(ep.Bucket, name) },
	})
}
