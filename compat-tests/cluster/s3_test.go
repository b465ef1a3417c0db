package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

const (
	s3Key    = "clusterkey"
	s3Secret = "clustersecret"
	// respBucket is s3-resp-bucket: its objects are the RESP strings.
	respBucket = "kvcache"
)

// startS3Cluster is startCluster with the S3 front end on every node,
// the same credentials and s3-resp-bucket everywhere (and extra).
func startS3Cluster(t *testing.T, extra ...string) *testCluster {
	t.Helper()
	c := &testCluster{}
	for range 3 {
		srv := internal.Start(t, internal.Options{S3: true, Args: append([]string{
			"--cluster-enabled", "yes", "--dram-cache-size", "128mb", "--nvme-capacity", "512mb",
			"--s3-access-key", s3Key, "--s3-secret-key", s3Secret, "--s3-resp-bucket", respBucket,
		}, extra...)})
		host, port, _ := strings.Cut(srv.Addr(), ":")
		p, _ := strconv.Atoi(port)
		nd := &node{srv: srv, id: newNodeID(t), host: host, port: p}
		nd.ctl = redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
		t.Cleanup(func() { nd.ctl.Close() })
		c.nodes = append(c.nodes, nd)
	}
	c.version = 1
	c.push(t)
	return c
}

func s3Client(t *testing.T, nd *node) *minio.Client {
	t.Helper()
	mc, err := minio.New(nd.srv.S3Addr(), &minio.Options{Creds: credentials.NewStaticV4(s3Key, s3Secret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// lmcacheKey is a chunk key as LMCache names them.
func lmcacheKey(i int) string {
	h := sha256.Sum256([]byte(strconv.Itoa(i)))
	return fmt.Sprintf("llama-3-8b@%08x@%x", i%4, h[:16])
}

// nonOwner is a node that does not serve key's slot.
func (c *testCluster) nonOwner(key string, skip int) *node {
	own := c.owner(cluster.KeySlot([]byte(key)))
	var others []*node
	for _, nd := range c.nodes {
		if nd != own {
			others = append(others, nd)
		}
	}
	return others[skip%len(others)]
}

func randBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestS3ThroughAnyNode: minio-go writes, reads, stats, lists and deletes
// objects through nodes that do not serve their keys; every byte is
// checked, and an object of the s3-resp-bucket is the RESP string of the
// same key for a go-redis ClusterClient.
func TestS3ThroughAnyNode(t *testing.T) {
	c := startS3Cluster(t)
	ctx := context.Background()
	mcs := make([]*minio.Client, len(c.nodes))
	for i, nd := range c.nodes {
		mcs[i] = s3Client(t, nd)
	}
	client := func(nd *node) *minio.Client { return mcs[slices.Index(c.nodes, nd)] }

	// A bucket made through one node exists on all.
	const bucket = "chunks"
	if err := mcs[1].MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, mc := range mcs {
		if ok, err := mc.BucketExists(ctx, bucket); err != nil || !ok {
			t.Fatalf("node %d: BucketExists %v %v", i, ok, err)
		}
	}
	if err := mcs[2].MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err == nil || minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		t.Fatalf("second MakeBucket: %v", err)
	}

	// Objects of every slot range, written and read through non-owners.
	want := map[string][]byte{}
	owners := map[*node]int{}
	for i := range 30 {
		key := lmcacheKey(i)
		val := randBytes(t, 1+i*7919%(300<<10))
		want[key] = val
		owners[c.owner(cluster.KeySlot([]byte(key)))]++
		if _, err := client(c.nonOwner(key, i)).PutObject(ctx, bucket, key, bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	// Keys under "directories", for listings with a delimiter.
	for i := range 12 {
		key := fmt.Sprintf("rank%d/%s", i%4, lmcacheKey(100+i))
		val := randBytes(t, 100+i)
		want[key] = val
		if _, err := client(c.nonOwner(key, i)).PutObject(ctx, bucket, key, bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	if len(owners) != 3 {
		t.Fatalf("keys fall on %d nodes, want 3", len(owners))
	}
	for key, val := range want {
		for _, nd := range c.nodes {
			o, err := client(nd).GetObject(ctx, bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(o)
			o.Close()
			if err != nil || !bytes.Equal(got, val) {
				t.Fatalf("get %s through %s: %d bytes, want %d (%v)", key, nd.addr(), len(got), len(val), err)
			}
		}
		st, err := client(c.nonOwner(key, 1)).StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		if err != nil || st.Size != int64(len(val)) {
			t.Fatalf("stat %s: %d %v", key, st.Size, err)
		}
		// Ranged GET through a non-owner.
		if len(val) > 100 {
			opts := minio.GetObjectOptions{}
			opts.SetRange(10, 99)
			o, err := client(c.nonOwner(key, 0)).GetObject(ctx, bucket, key, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(o)
			o.Close()
			if err != nil || !bytes.Equal(got, val[10:100]) {
				t.Fatalf("range of %s: %q %v", key, got, err)
			}
		}
	}
	// Nothing was stored on a non-owner: each node's keyspace holds its
	// own slots' objects only (CLUSTER COUNTKEYSINSLOT counts RESP keys;
	// the listing of one node, asked alone, is checked below).

	// Listing through any node sees every key once, in order, also
	// paged (continuation tokens) and with a delimiter.
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, mc := range mcs {
		var got []string
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 7}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			if o.Size != int64(len(want[o.Key])) {
				t.Fatalf("listing: %s has size %d, want %d", o.Key, o.Size, len(want[o.Key]))
			}
			got = append(got, o.Key)
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("node %d lists %d keys %v\nwant %d", i, len(got), got, len(keys))
		}
		var v1 []string
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 11, UseV1: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			v1 = append(v1, o.Key)
		}
		if !slices.Equal(v1, keys) {
			t.Fatalf("node %d lists (V1) %d keys, want %d", i, len(v1), len(keys))
		}
		// "rankN/" holds keys of several nodes: one common prefix each,
		// listed once, after the 30 keys without "/" (paged by 5).
		var top []string
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{MaxKeys: 5}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			top = append(top, o.Key)
		}
		if len(top) != 34 || !slices.Equal(top[30:], []string{"rank0/", "rank1/", "rank2/", "rank3/"}) {
			t.Fatalf("node %d: listing with a delimiter: %d entries, last %v", i, len(top), top[max(0, len(top)-5):])
		}
	}

	// The s3-resp-bucket: an S3 object is the RESP string of its key,
	// wherever it was written.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.seeds()})
	defer cc.Close()
	for i := range 12 {
		key := lmcacheKey(1000 + i)
		val := randBytes(t, 4096+i)
		if i%2 == 0 {
			if err := cc.Set(ctx, key, val, 0).Err(); err != nil {
				t.Fatal(err)
			}
			o, err := client(c.nonOwner(key, i)).GetObject(ctx, respBucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(o)
			o.Close()
			if err != nil || !bytes.Equal(got, val) {
				t.Fatalf("S3 GET of RESP key %s: %d bytes %v", key, len(got), err)
			}
		} else {
			if _, err := client(c.nonOwner(key, i)).PutObject(ctx, respBucket, key, bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := cc.Get(ctx, key).Bytes()
			if err != nil || !bytes.Equal(got, val) {
				t.Fatalf("RESP GET of S3 object %s: %d bytes %v", key, len(got), err)
			}
		}
	}

	// CopyObject: within one slot (hash tags) through a non-owner;
	// across slots it is refused.
	src, dst := "{llama}@00000000@src", "{llama}@00000000@dst"
	sval := randBytes(t, 70000)
	if _, err := client(c.nonOwner(src, 0)).PutObject(ctx, bucket, src, bytes.NewReader(sval), int64(len(sval)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client(c.nonOwner(dst, 1)).CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: dst}, minio.CopySrcOptions{Bucket: bucket, Object: src}); err != nil {
		t.Fatal(err)
	}
	o, err := client(c.nonOwner(dst, 0)).GetObject(ctx, bucket, dst, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, sval) {
		t.Fatalf("copy: %d bytes %v", len(got), err)
	}
	far := keys[0]
	for cluster.KeySlot([]byte(far)) == cluster.KeySlot([]byte(src)) || c.owner(cluster.KeySlot([]byte(far))) == c.owner(cluster.KeySlot([]byte(src))) {
		far = far + "x"
	}
	if _, err := mcs[0].CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: far}, minio.CopySrcOptions{Bucket: bucket, Object: src}); minio.ToErrorResponse(err).Code != "NotImplemented" {
		t.Fatalf("copy across nodes: %v", err)
	}
	for _, k := range []string{src, dst} {
		if err := mcs[0].RemoveObject(ctx, bucket, k, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// DeleteObject through a non-owner; then DeleteObjects (keys of
	// every node) through one node.
	del := keys[0]
	if err := client(c.nonOwner(del, 0)).RemoveObject(ctx, bucket, del, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, mc := range mcs {
		if _, err := mc.StatObject(ctx, bucket, del, minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
			t.Fatalf("stat after delete: %v", err)
		}
	}
	if err := mcs[0].RemoveBucket(ctx, bucket); minio.ToErrorResponse(err).Code != "BucketNotEmpty" {
		t.Fatalf("RemoveBucket of a bucket with objects: %v", err)
	}
	objs := make(chan minio.ObjectInfo)
	go func() {
		for _, k := range keys[1:] {
			objs <- minio.ObjectInfo{Key: k}
		}
		close(objs)
	}()
	for e := range mcs[0].RemoveObjects(ctx, bucket, objs, minio.RemoveObjectsOptions{}) {
		t.Fatalf("RemoveObjects %s: %v", e.ObjectName, e.Err)
	}
	for i, mc := range mcs {
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			t.Fatalf("node %d lists %s after DeleteObjects (%v)", i, o.Key, o.Err)
		}
	}
	if err := mcs[2].RemoveBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	for i, mc := range mcs {
		if ok, err := mc.BucketExists(ctx, bucket); err != nil || ok {
			t.Fatalf("node %d: bucket after RemoveBucket: %v %v", i, ok, err)
		}
	}
}

// rss reads the node's resident set size (INFO memory).
func rss(t *testing.T, nd *node) int64 {
	info, err := nd.ctl.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Error(err)
		return 0
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory_rss:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Error("no used_memory_rss")
	return 0
}

// peakRSS samples nd's RSS until stop is closed and returns the highest.
func peakRSS(t *testing.T, nd *node, stop <-chan struct{}) func() int64 {
	var peak atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			if r := rss(t, nd); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	return func() int64 { wg.Wait(); return peak.Load() }
}

// TestS3LargeObjectThroughNonOwner: a 48 MiB object PUT and GET (whole
// and ranged) through a node that does not serve it; the forwarding
// node's memory stays far below the object's size.
func TestS3LargeObjectThroughNonOwner(t *testing.T) {
	c := startS3Cluster(t)
	ctx := context.Background()
	const bucket, key = "big", "model@00000001@large-object"
	fw := c.nonOwner(key, 0)
	mc := s3Client(t, fw)
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	const size = 48 << 20
	val := randBytes(t, size)
	base := rss(t, fw)
	stop := make(chan struct{})
	peak := peakRSS(t, fw, stop)
	// One PUT (not multipart): the body streams through the forwarder.
	if _, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(val), size, minio.PutObjectOptions{PartSize: 64 << 20, DisableMultipart: true}); err != nil {
		t.Fatal(err)
	}
	o, err := mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, o)
	o.Close()
	if err != nil || n != size || !bytes.Equal(h.Sum(nil), sha256Of(val)) {
		t.Fatalf("GET through the forwarder: %d bytes, %v", n, err)
	}
	opts := minio.GetObjectOptions{}
	opts.SetRange(size-(5<<20)-3, size-4)
	o, err = mc.GetObject(ctx, bucket, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, val[size-(5<<20)-3:size-3]) {
		t.Fatalf("ranged GET: %d bytes %v", len(got), err)
	}
	close(stop)
	grew := peak() - base
	t.Logf("forwarding node: RSS %d MiB before, peak +%d MiB while moving 2x%d MiB", base>>20, grew>>20, size>>20)
	if grew > size/3 {
		t.Fatalf("forwarding node's RSS grew by %d MiB for a %d MiB object", grew>>20, size>>20)
	}
	// The owner holds it; the forwarder does not (its own listing, asked
	// of it alone, is what a node-local request sees: HEAD of the owner).
	if _, err := s3Client(t, c.owner(cluster.KeySlot([]byte(key)))).StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func sha256Of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestS3AWSCLIAcrossNodes: the aws CLI (v1) makes a bucket, copies files
// in (a 20 MiB one as a multipart upload) and out, lists and removes
// them, each command through a different node.
func TestS3AWSCLIAcrossNodes(t *testing.T) {
	aws := internal.RequireTool(t, "aws")
	c := startS3Cluster(t)
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + s3Key, "AWS_SECRET_ACCESS_KEY=" + s3Secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"), "AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true"}
	run := func(nd *node, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, aws, append([]string{"--endpoint-url", "http://" + nd.srv.S3Addr()}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// Each aws command costs seconds of interpreter start-up: few
	// commands, each moving several files.
	run(c.nodes[0], "s3", "mb", "s3://cli")
	in, out := t.TempDir(), t.TempDir()
	files := map[string][]byte{}
	for i := range 12 {
		name := fmt.Sprintf("chunk%02d", i)
		size := 1 << 10 * (i + 1) * 37
		if i == 11 {
			size = 20 << 20 // above the CLI's multipart threshold
		}
		files[name] = randBytes(t, size)
		if err := os.WriteFile(filepath.Join(in, name), files[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every node owns some of the keys, so each command's node forwards
	// most of them.
	run(c.nodes[1], "s3", "cp", "--recursive", in, "s3://cli/")
	run(c.nodes[2], "s3", "cp", "--recursive", "s3://cli/", out)
	for name, val := range files {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("aws s3 cp of %s: %d bytes, want %d", name, len(got), len(val))
		}
	}
	head := run(c.nonOwner("chunk11", 0), "s3api", "head-object", "--bucket", "cli", "--key", "chunk11")
	if !strings.Contains(head, fmt.Sprintf(`"ContentLength": %d`, 20<<20)) {
		t.Fatalf("head-object: %s", head)
	}
	ls := run(c.nodes[0], "s3", "ls", "--recursive", "s3://cli/")
	for name, val := range files {
		if !strings.Contains(ls, fmt.Sprintf("%d %s", len(val), name)) {
			t.Fatalf("aws s3 ls lacks %s:\n%s", name, ls)
		}
	}
	run(c.nodes[1], "s3", "rm", "--recursive", "s3://cli/")
	run(c.nodes[2], "s3", "rb", "s3://cli")
	ctx := context.Background()
	for i, nd := range c.nodes {
		if ok, err := s3Client(t, nd).BucketExists(ctx, "cli"); err != nil || ok {
			t.Fatalf("node %d: bucket after aws s3 rb: %v %v", i, ok, err)
		}
	}
}

// TestS3OverTLSThroughAnyNode: with S3 over TLS (every node serving the
// same certificate, its chain file carrying the CA), a node forwards a
// request to the owner over TLS, verifying the owner's certificate;
// minio-go writes and reads through non-owners, every byte checked, and
// a bucket made through one node exists on all.
func TestS3OverTLSThroughAnyNode(t *testing.T) {
	ca := internal.NewTestCA(t)
	c := startS3Cluster(t, "--s3-tls-cert-file", ca.ChainFile, "--s3-tls-key-file", ca.KeyFile)
	ctx := context.Background()
	mcs := make([]*minio.Client, len(c.nodes))
	for i, nd := range c.nodes {
		tr, err := minio.DefaultTransport(true)
		if err != nil {
			t.Fatal(err)
		}
		tr.TLSClientConfig.RootCAs = ca.Pool
		mcs[i], err = minio.New(nd.srv.S3Addr(), &minio.Options{Creds: credentials.NewStaticV4(s3Key, s3Secret, ""),
			Region: "us-east-1", Secure: true, Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
	}
	const bucket = "tlschunks"
	if err := mcs[0].MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, mc := range mcs {
		if ok, err := mc.BucketExists(ctx, bucket); err != nil || !ok {
			t.Fatalf("node %d: BucketExists %v %v", i, ok, err)
		}
	}
	want := map[string][]byte{}
	forwarded := 0
	for i := range 12 {
		key := lmcacheKey(500 + i)
		val := randBytes(t, 1+i*104729%(3<<20))
		want[key] = val
		put := c.nonOwner(key, i)
		forwarded++
		if _, err := mcs[slices.Index(c.nodes, put)].PutObject(ctx, bucket, key, bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s through a non-owner: %v", key, err)
		}
	}
	for i, key := range slices.Sorted(maps.Keys(want)) {
		get := c.nonOwner(key, i+1)
		obj, err := mcs[slices.Index(c.nodes, get)].GetObject(ctx, bucket, key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, want[key]) {
			t.Fatalf("get %s through a non-owner: %d bytes, %v", key, len(got), err)
		}
	}
	n := 0
	for o := range mcs[2].ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("merged listing over TLS: %d objects, want %d", n, len(want))
	}
	t.Logf("%d objects written and read through non-owners over TLS", forwarded)
}
