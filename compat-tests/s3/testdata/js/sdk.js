// sdk.js drives gpucache's S3 endpoint with the AWS SDK for JavaScript v3
// as applications use it, defaults and all: CRC32 checksums on every
// upload (a header for buffers, an aws-chunked trailer for streams),
// response checksum validation, x-amz-checksum-crc32 instead of
// Content-MD5 on DeleteObjects, lib-storage's parallel multipart Upload,
// the paginator, presigned URLs and the SDK's error classes. It speaks
// HTTP/1.1 or HTTP/2 over TLS, or plain HTTP/1.1 (S3_PROTO), with
// virtual-host addressing (bucket.S3_DOMAIN, resolved to 127.0.0.1) and
// exits non-zero, naming the step, at the first difference from S3.
//
// Environment: S3_PORT, S3_CA_FILE (not for http), S3_DOMAIN,
// S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET, S3_PROTO (h1, h2 or http).
'use strict';
const {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  CopyObjectCommand, DeleteObjectsCommand, DeleteObjectCommand, DeleteBucketCommand,
  CreateMultipartUploadCommand, UploadPartCommand, AbortMultipartUploadCommand,
  ListMultipartUploadsCommand, ListPartsCommand, paginateListObjectsV2, ListObjectsV2Command,
} = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
const { NodeHttpHandler, NodeHttp2Handler } = require('@smithy/node-http-handler');
const { checksums } = require('aws-crt');
const { Readable } = require('stream');
const fs = require('fs');
const http = require('http');
const https = require('https');
const { env, fail, data, run } = require('./lib');

const port = parseInt(env('S3_PORT'), 10);
const domain = env('S3_DOMAIN');
const bucket = env('S3_BUCKET');
const proto = env('S3_PROTO');
const plain = proto === 'http';
const ca = plain ? undefined : fs.readFileSync(env('S3_CA_FILE'));
const MiB = 1 << 20;

// Every name under S3_DOMAIN is this machine.
const lookup = (hostname, opts, cb) => {
  if (opts && opts.all) return cb(null, [{ address: '127.0.0.1', family: 4 }]);
  return cb(null, '127.0.0.1', 4);
};
const agent = plain ? new http.Agent({ lookup, keepAlive: true, maxSockets: 8 })
  : new https.Agent({ ca, lookup, keepAlive: true, maxSockets: 8 });

function client(secret = env('S3_SECRET_KEY')) {
  const requestHandler = proto === 'h2'
    // NB: Node refuses new streams on a session holding more than
    // maxSessionMemory (default 10 MB) of unsent data, as four parallel
    // 5 MiB parts do.
    ? new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca, lookup, maxSessionMemory: 64 } })
    : new NodeHttpHandler(plain ? { httpAgent: agent } : { httpsAgent: agent });
  return new S3Client({
    endpoint: `${plain ? 'http' : 'https'}://${domain}:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: env('S3_ACCESS_KEY'), secretAccessKey: secret },
    requestHandler,
    maxAttempts: 1,
  });
}

async function expectError(step, promise, name, status) {
  try {
    await promise;
  } catch (e) {
    if (e.name !== name || (e.$metadata && e.$metadata.httpStatusCode !== status)) {
      fail(step, `error ${e.name} (${e.$metadata && e.$metadata.httpStatusCode}), want ${name} (${status})`);
    }
    return;
  }
  fail(step, `succeeded, want ${name}`);
}

const b64crc32 = (b) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(checksums.crc32(b) >>> 0);
  return out.toString('base64');
};

async function bytes(body) {
  return Buffer.from(await body.transformToByteArray());
}

function fetch(url, method, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const r = (plain ? http : https).request({ host: '127.0.0.1', port: u.port, path: u.pathname + u.search, method, servername: u.hostname, ca,
      headers: { host: u.host, ...(body ? { 'content-length': body.length } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

async function main() {
  const s3 = client();
  const steps = [];

  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  steps.push('create-bucket');

  // A buffer: the SDK sends x-amz-checksum-crc32 and the server keeps it.
  const one = data(1 * MiB + 3, 1);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/one', Body: one, ContentType: 'application/octet-stream', Metadata: { layer: '7' } }));
  let head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/one', ChecksumMode: 'ENABLED' }));
  if (head.ChecksumCRC32 !== b64crc32(one)) fail('put buffer', `ChecksumCRC32 ${head.ChecksumCRC32}, want ${b64crc32(one)}`);
  if (head.ContentLength !== one.length || head.Metadata.layer !== '7') fail('put buffer', `HeadObject ${JSON.stringify(head)}`);
  // GetObject validates the CRC32 it gets back.
  let got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/one', ChecksumMode: 'ENABLED' }));
  if (!(await bytes(got.Body)).equals(one)) fail('get buffer', 'bytes differ');
  steps.push('put-get-crc32');

  // A stream: aws-chunked, the CRC32 in a trailer. (The SDK sends it
  // with Transfer-Encoding: chunked, which Node's HTTP/2 client refuses:
  // over HTTP/2 the stream is buffered first.)
  const two = data(3 * MiB + 11, 2);
  const twoBody = proto === 'h2' ? two : Readable.from([two.subarray(0, MiB), two.subarray(MiB)]);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/two', Body: twoBody, ContentLength: two.length }));
  head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/two', ChecksumMode: 'ENABLED' }));
  if (head.ChecksumCRC32 !== b64crc32(two)) fail('put stream', `ChecksumCRC32 ${head.ChecksumCRC32}, want ${b64crc32(two)}`);
  got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/two', Range: 'bytes=100-199' }));
  if (got.ContentRange !== `bytes 100-199/${two.length}` || !(await bytes(got.Body)).equals(two.subarray(100, 200))) fail('ranged get', `Content-Range ${got.ContentRange}`);
  steps.push('put-stream-trailer');

  // Other algorithms the SDK computes itself.
  for (const alg of ['CRC32C', 'SHA1', 'SHA256']) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sum/${alg}`, Body: one, ChecksumAlgorithm: alg }));
    got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `sum/${alg}`, ChecksumMode: 'ENABLED' }));
    if (!got[`Checksum${alg}`]) fail(`checksum ${alg}`, 'not returned');
    if (!(await bytes(got.Body)).equals(one)) fail(`checksum ${alg}`, 'bytes differ');
  }
  steps.push('checksum-algorithms');

  // lib-storage's Upload: 21 MiB in 5 MiB parts, 4 at a time.
  const big = data(21 * MiB, 3);
  const up = new Upload({ client: s3, params: { Bucket: bucket, Key: 'big', Body: Readable.from([big]) }, partSize: 5 * MiB, queueSize: 4 });
  const res = await up.done();
  if (!/-5"$/.test(res.ETag)) fail('upload', `ETag ${res.ETag}, want 5 parts`);
  got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }));
  if (!(await bytes(got.Body)).equals(big)) fail('upload', 'bytes differ');
  got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', PartNumber: 2 }));
  if (got.PartsCount !== 5 || !(await bytes(got.Body)).equals(big.subarray(5 * MiB, 10 * MiB))) fail('get part 2', `PartsCount ${got.PartsCount}`);
  steps.push('multipart-upload');

  // An abandoned multipart upload is listed until aborted.
  const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'abandoned' }));
  await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'abandoned', UploadId: mp.UploadId, PartNumber: 1, Body: one }));
  const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'abandoned', UploadId: mp.UploadId }));
  if (parts.Parts.length !== 1 || parts.Parts[0].Size !== one.length) fail('list parts', JSON.stringify(parts.Parts));
  let ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  if (!(ups.Uploads || []).some((u) => u.UploadId === mp.UploadId)) fail('list uploads', 'upload not listed');
  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'abandoned', UploadId: mp.UploadId }));
  ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  if ((ups.Uploads || []).length !== 0) fail('abort', 'upload still listed');
  await expectError('head aborted', s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'abandoned' })), 'NotFound', 404);
  steps.push('abort-multipart');

  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dir/copy', CopySource: `${bucket}/dir/one`, MetadataDirective: 'REPLACE', Metadata: { copied: 'yes' } }));
  head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/copy' }));
  if (head.Metadata.copied !== 'yes' || head.ContentLength !== one.length) fail('copy', JSON.stringify(head.Metadata));
  steps.push('copy');

  // The paginator, two keys a page; then a delimiter listing.
  const keys = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: bucket })) {
    for (const o of page.Contents || []) keys.push(o.Key);
  }
  const wantKeys = ['big', 'dir/copy', 'dir/one', 'dir/two', 'sum/CRC32C', 'sum/SHA1', 'sum/SHA256'];
  if (JSON.stringify(keys) !== JSON.stringify(wantKeys)) fail('paginate', `keys ${keys}`);
  const top = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
  const prefixes = (top.CommonPrefixes || []).map((p) => p.Prefix);
  if (JSON.stringify(prefixes) !== '["dir/","sum/"]' || top.Contents.length !== 1) fail('delimiter', `prefixes ${prefixes}`);
  steps.push('list');

  // Presigned URLs, used by a plain HTTPS client.
  const putURL = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned' }), { expiresIn: 300 });
  let r = await fetch(putURL, 'PUT', one.subarray(0, 1000));
  if (r.status !== 200) fail('presigned put', `status ${r.status}: ${r.body}`);
  const getURL = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned' }), { expiresIn: 300 });
  r = await fetch(getURL, 'GET');
  if (r.status !== 200 || !r.body.equals(one.subarray(0, 1000))) fail('presigned get', `status ${r.status}`);
  r = await fetch(getURL.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=' + '0'.repeat(64)), 'GET');
  if (r.status !== 403) fail('presigned get, bad signature', `status ${r.status}`);
  steps.push('presigned');

  // The SDK's error classes follow from the codes and statuses.
  await expectError('get missing', s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })), 'NoSuchKey', 404);
  await expectError('head missing', s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })), 'NotFound', 404);
  await expectError('missing bucket', s3.send(new GetObjectCommand({ Bucket: `${bucket}-none`, Key: 'x' })), 'NoSuchBucket', 404);
  await expectError('wrong secret', client('wrong-secret').send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/one' })), 'SignatureDoesNotMatch', 403);
  await expectError('if-match', s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/one', IfMatch: '"0123"' })), 'PreconditionFailed', 412);
  await expectError('bucket not empty', s3.send(new DeleteBucketCommand({ Bucket: bucket })), 'BucketNotEmpty', 409);
  steps.push('errors');

  // DeleteObjects (with x-amz-checksum-crc32, not Content-MD5), then the
  // rest one by one, then the bucket.
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: wantKeys.slice(0, 4).map((Key) => ({ Key })) } }));
  if ((del.Deleted || []).length !== 4 || (del.Errors || []).length !== 0) fail('delete objects', JSON.stringify(del));
  for (const Key of wantKeys.slice(4).concat(['presigned'])) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  if ((left.KeyCount || 0) !== 0) fail('delete objects', `${left.KeyCount} keys left`);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  steps.push('delete');

  s3.destroy();
  agent.destroy();
  return { steps, proto };
}

run('sdk.js', main);
