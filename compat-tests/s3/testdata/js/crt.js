// crt.js drives gpucache's S3 endpoint with the AWS Common Runtime, the C
// libraries under LMCache's s3:// connector. aws-c-auth signs every
// request (SigV4, UNSIGNED-PAYLOAD) and aws-checksums computes the
// checksums; aws-c-http fetches the object data (the ranged GETs) over
// TLS with the ALPN list given (h2 and/or http/1.1). It runs the sequence
// LMCache sends (compat-tests/s3/crt_test.go replays the same sequence
// byte by byte) and exits non-zero, naming the step, at the first
// difference from S3.
//
// The other requests carry the CRT-signed headers over Node's own client
// of the protocol the ALPN list negotiates: the Node.js binding's request
// body stream holds 16 KiB and drops the rest, and it loses the status of
// a response whose body fits in one read (HEAD, 204, an error, a 1000-byte
// range). NB: the binding (aws-crt 1.33.2, source/http_stream.c) delivers
// the response headers, body reads and completion through three separate
// N-API threadsafe functions; it holds completion back until every body
// read is delivered, but nothing holds it back for the headers. When the
// event loop is busy (a loaded machine), a one-read body can be delivered
// before the headers, completion then runs first, and it aborts the
// pending headers call: the stream ends with status 0 and no 'response'
// event. A multi-read body (the MiB-sized object data the CRT fetches
// here) keeps completion queued behind its reads, and the headers, queued
// before the first read, are delivered first.
//
// Environment: S3_PORT, S3_CA_FILE, S3_DOMAIN, S3_ACCESS_KEY, S3_SECRET_KEY,
// S3_BUCKET, S3_ALPN (";"-separated, in order of preference),
// S3_KEY_PREFIX.
'use strict';
const { io, http, auth, checksums } = require('aws-crt');
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const http2 = require('http2');
const tls = require('tls');
const { env, fail, data, run } = require('./lib');

const port = parseInt(env('S3_PORT'), 10);
const domain = env('S3_DOMAIN');
const bucket = env('S3_BUCKET');
const host = `${bucket}.${domain}`;
const alpn = env('S3_ALPN').split(';');
const prefix = env('S3_KEY_PREFIX');
const caPEM = fs.readFileSync(env('S3_CA_FILE'));
const provider = auth.AwsCredentialsProvider.newStatic(env('S3_ACCESS_KEY'), env('S3_SECRET_KEY'));
const badProvider = auth.AwsCredentialsProvider.newStatic(env('S3_ACCESS_KEY'), 'not-the-secret');
const MiB = 1 << 20;
const partSize = 8 * MiB;

const tlsOptions = new io.TlsContextOptions();
tlsOptions.override_default_trust_store_from_path(undefined, env('S3_CA_FILE'));
tlsOptions.alpn_list = alpn;
const tlsContext = new io.ClientTlsContext(tlsOptions);
const bootstrap = new io.ClientBootstrap();

// connect opens a CRT connection and, beside it, a Node connection of the
// protocol the same ALPN list negotiates (see above). The CRT binding does
// not say which protocol it negotiated; a TLS probe with the same list
// does.
async function connect() {
  const crtConn = new http.HttpClientConnection(bootstrap, '127.0.0.1', port, new io.SocketOptions(),
    new io.TlsConnectionOptions(tlsContext, host, alpn));
  await new Promise((resolve, reject) => {
    crtConn.on('connect', resolve);
    crtConn.on('error', reject);
  });
  const proto = await new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername: host, ca: caPEM, ALPNProtocols: alpn }, () => {
      resolve(sock.alpnProtocol || 'http/1.1');
      sock.end();
    });
    sock.on('error', reject);
  });
  let session = null;
  if (proto === 'h2') {
    session = http2.connect(`https://127.0.0.1:${port}`, { ca: caPEM, servername: host });
    session.on('error', () => {});
  }
  return { crt: crtConn, proto, session };
}

function close(conn) {
  conn.crt.close();
  if (conn.session) conn.session.close();
}

// sendCRT sends a signed request on the CRT connection.
function sendCRT(conn, req) {
  const stream = conn.crt.request(req);
  return new Promise((resolve, reject) => {
    let status = 0;
    const headers = {};
    const chunks = [];
    stream.on('response', (code, hs) => {
      status = code;
      for (const [k, v] of hs) headers[k.toLowerCase()] = v;
    });
    stream.on('data', (d) => chunks.push(Buffer.from(d)));
    stream.on('error', reject);
    stream.on('end', () => {
      if (status === 0) {
        // See the top of the file: a client-side loss, not a server answer.
        reject(new Error(`aws-crt ended ${req.method} ${req.path} without delivering the response headers`));
        return;
      }
      resolve({ status, headers, body: Buffer.concat(chunks) });
    });
    stream.activate();
  });
}

// sendNode sends a signed request by Node's client of the connection's
// protocol.
function sendNode(conn, req, body) {
  const headers = {};
  for (const [k, v] of req.headers) {
    if (k.toLowerCase() !== 'host') headers[k.toLowerCase()] = v;
  }
  return new Promise((resolve, reject) => {
    const collect = (status, hs, stream) => {
      const chunks = [];
      stream.on('data', (d) => chunks.push(d));
      stream.on('end', () => resolve({ status, headers: hs, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
    };
    if (conn.session) {
      const s = conn.session.request({ ...headers, ':method': req.method, ':path': req.path, ':authority': `${host}:${port}` });
      s.on('response', (hs) => collect(hs[':status'], hs, s));
      s.on('error', reject);
      s.end(body);
      return;
    }
    const r = https.request({ host: '127.0.0.1', port, method: req.method, path: req.path, servername: host, ca: caPEM, agent: false,
      headers: { ...headers, host: `${host}:${port}` } }, (res) => collect(res.statusCode, res.headers, res));
    r.on('error', reject);
    r.end(body);
  });
}

// send signs one request with the CRT signer and sends it: by the CRT
// when crt is set (GETs of object data), else by Node. Paths come quoted
// (see keyPath); S3 signs them without double encoding.
async function send(conn, method, path, { headers = [], body = null, creds = provider, crt = false } = {}) {
  const hdrs = [['host', `${host}:${port}`], ['user-agent', 'CRTS3NativeClient/0.1.x aws-crt-nodejs']];
  for (const h of headers) hdrs.push(h);
  if (body !== null) hdrs.push(['content-length', String(body.length)]);
  if (crt && body !== null) throw new Error('request bodies go by Node (see above)');
  const req = new http.HttpRequest(method, path, new http.HttpHeaders(hdrs));
  await auth.aws_sign_request(req, {
    algorithm: auth.AwsSigningAlgorithm.SigV4,
    signature_type: auth.AwsSignatureType.HttpRequestViaHeaders,
    provider: creds,
    region: 'us-east-1',
    service: 's3',
    date: new Date(),
    signed_body_value: auth.AwsSignedBodyValue.UnsignedPayload,
    signed_body_header: auth.AwsSignedBodyHeaderType.XAmzContentSha256,
    use_double_uri_encode: false,
    should_normalize_uri_path: false,
  });
  return crt ? sendCRT(conn, req) : sendNode(conn, req, body);
}

function expect(step, resp, status) {
  if (resp.status !== status) fail(step, `status ${resp.status}, want ${status}: ${resp.body.toString().slice(0, 300)}`);
}

function xmlField(body, name) {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body.toString());
  return m ? m[1] : null;
}

// keyPath quotes a key as LMCache does (urllib.parse.quote with '/'
// replaced by '_' first): '@' arrives as %40.
function keyPath(key) {
  return '/' + encodeURIComponent(key.replace(/\//g, '_')).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

async function main() {
  const conns = await Promise.all([connect(), connect(), connect(), connect()]);
  const c = conns[0];
  const result = { steps: [] };
  const done = (s) => result.steps.push(s);

  let r = await send(c, 'PUT', '/');
  if (r.status !== 200 && !(r.status === 409 && xmlField(r.body, 'Code') === 'BucketAlreadyOwnedByYou')) expect('create bucket', r, 200);
  done('create-bucket');

  // A 32 MiB KV chunk: multipart in 8 MiB parts, unquoted ETags in a
  // pretty-printed CompleteMultipartUpload.
  const bigKey = `${prefix}vllm@/models/llama-3-8b@1@0@9f2c4a7e`;
  const big = data(32 * MiB, 7);
  r = await send(c, 'POST', keyPath(bigKey) + '?uploads', { headers: [['content-type', 'application/octet-stream']] });
  expect('create multipart upload', r, 200);
  const uploadId = xmlField(r.body, 'UploadId');
  if (!uploadId) fail('create multipart upload', 'no UploadId');
  const etags = await Promise.all(conns.map(async (conn, i) => {
    const part = big.subarray(i * partSize, (i + 1) * partSize);
    const pr = await send(conn, 'PUT', `${keyPath(bigKey)}?partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`, { body: part });
    expect(`upload part ${i + 1}`, pr, 200);
    const etag = (pr.headers['etag'] || '').replace(/"/g, '');
    const md5 = crypto.createHash('md5').update(part).digest('hex');
    if (etag !== md5) fail(`upload part ${i + 1}`, `ETag ${etag}, want ${md5}`);
    return etag;
  }));
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n';
  etags.forEach((e, i) => { xml += `    <Part>\n        <ETag>${e}</ETag>\n        <PartNumber>${i + 1}</PartNumber>\n    </Part>\n`; });
  xml += '</CompleteMultipartUpload>\n';
  r = await send(c, 'POST', `${keyPath(bigKey)}?uploadId=${encodeURIComponent(uploadId)}`, { body: Buffer.from(xml) });
  expect('complete multipart upload', r, 200);
  const md5s = Buffer.concat(etags.map((e) => Buffer.from(e, 'hex')));
  const wantETag = `"${crypto.createHash('md5').update(md5s).digest('hex')}-4"`;
  // S3 writes the quotes as &quot;, which is what the CRT undoes.
  if (xmlField(r.body, 'ETag') !== wantETag.replace(/"/g, '&quot;')) {
    fail('complete multipart upload', `ETag ${xmlField(r.body, 'ETag')}, want ${wantETag}`);
  }
  done('multipart-put-32MiB');

  // HEAD for the size, then the first ranged GET learns it from
  // Content-Range, then the rest in parallel with If-Match.
  r = await send(c, 'HEAD', keyPath(bigKey));
  expect('head', r, 200);
  if (r.headers['content-length'] !== String(big.length)) fail('head', `Content-Length ${r.headers['content-length']}`);
  const etag = r.headers['etag'];
  if (etag !== wantETag) fail('head', `ETag ${etag}, want ${wantETag}`);
  r = await send(c, 'GET', keyPath(bigKey), { headers: [['range', `bytes=0-${partSize - 1}`]], crt: true });
  expect('first ranged get', r, 206);
  if (r.headers['content-range'] !== `bytes 0-${partSize - 1}/${big.length}`) fail('first ranged get', `Content-Range ${r.headers['content-range']}`);
  const parts = [r.body];
  const rest = await Promise.all(conns.slice(1).map(async (conn, i) => {
    const from = (i + 1) * partSize;
    const gr = await send(conn, 'GET', keyPath(bigKey), { headers: [['range', `bytes=${from}-${from + partSize - 1}`], ['if-match', etag]], crt: true });
    expect(`ranged get ${i + 2}`, gr, 206);
    return gr.body;
  }));
  if (!Buffer.concat(parts.concat(rest)).equals(big)) fail('ranged gets', 'bytes differ from what was put');
  r = await send(c, 'GET', keyPath(bigKey), { headers: [['range', `bytes=${partSize}-${2 * partSize - 1}`], ['if-match', '"0123456789abcdef0123456789abcdef"']] });
  expect('ranged get with a stale If-Match', r, 412);
  done('ranged-get-32MiB');

  // A partial chunk under 8 MiB: one PUT, and the first ranged GET asks for
  // more than there is and still gets 206.
  const smallKey = `${prefix}vllm@/models/llama-3-8b@1@0@partial`;
  const small = data(1000, 11);
  r = await send(c, 'PUT', keyPath(smallKey), { body: small, headers: [['content-type', 'application/octet-stream']] });
  expect('put 1000 B', r, 200);
  r = await send(c, 'GET', keyPath(smallKey), { headers: [['range', `bytes=0-${partSize - 1}`]] });
  expect('ranged get 1000 B', r, 206);
  if (r.headers['content-range'] !== 'bytes 0-999/1000') fail('ranged get 1000 B', `Content-Range ${r.headers['content-range']}`);
  if (!r.body.equals(small)) fail('ranged get 1000 B', 'bytes differ');
  done('small-object');

  // An empty object is fetched with ?partNumber=1.
  const emptyKey = `${prefix}empty`;
  r = await send(c, 'PUT', keyPath(emptyKey), { body: Buffer.alloc(0) });
  expect('put empty', r, 200);
  r = await send(c, 'GET', keyPath(emptyKey) + '?partNumber=1');
  if (r.status !== 200 && r.status !== 206) expect('get empty part 1', r, 200);
  if (r.body.length !== 0) fail('get empty part 1', `${r.body.length} bytes`);
  done('empty-object');

  // Checksums the CRT computes (aws-checksums), stored and returned.
  const sumKey = `${prefix}checksummed`;
  const sumBody = data(3 * MiB + 5, 13);
  const crc32c = Buffer.alloc(4);
  crc32c.writeUInt32BE(checksums.crc32c(sumBody) >>> 0);
  const crc64 = Buffer.from(checksums.crc64nvme(sumBody).buffer);
  for (const [alg, sum] of [['crc32c', crc32c], ['crc64nvme', crc64]]) {
    r = await send(c, 'PUT', keyPath(sumKey), { body: sumBody, headers: [[`x-amz-checksum-${alg}`, sum.toString('base64')], ['x-amz-sdk-checksum-algorithm', alg.toUpperCase()]] });
    expect(`put with ${alg}`, r, 200);
    r = await send(c, 'HEAD', keyPath(sumKey), { headers: [['x-amz-checksum-mode', 'ENABLED']] });
    expect(`head with ${alg}`, r, 200);
    if (r.headers[`x-amz-checksum-${alg}`] !== sum.toString('base64')) fail(`head with ${alg}`, `checksum ${r.headers[`x-amz-checksum-${alg}`]}, want ${sum.toString('base64')}`);
    const wrong = Buffer.from(sum);
    wrong[0] ^= 1;
    r = await send(c, 'PUT', keyPath(sumKey), { body: sumBody, headers: [[`x-amz-checksum-${alg}`, wrong.toString('base64')]] });
    expect(`put with a wrong ${alg}`, r, 400);
    if (xmlField(r.body, 'Code') !== 'BadDigest') fail(`put with a wrong ${alg}`, `code ${xmlField(r.body, 'Code')}`);
  }
  r = await send(c, 'GET', keyPath(sumKey), { crt: true });
  expect('get after a refused put', r, 200);
  if (!r.body.equals(sumBody)) fail('get after a refused put', 'the refused PUT changed the object');
  done('checksums');

  // A request signed with the wrong secret is refused and changes nothing.
  r = await send(c, 'PUT', keyPath(smallKey), { body: data(1000, 99), creds: badProvider });
  expect('put with a wrong secret', r, 403);
  if (xmlField(r.body, 'Code') !== 'SignatureDoesNotMatch') fail('put with a wrong secret', `code ${xmlField(r.body, 'Code')}`);
  r = await send(c, 'GET', keyPath(smallKey));
  expect('get after a forged put', r, 200);
  if (!r.body.equals(small)) fail('get after a forged put', 'object changed');
  done('bad-signature');

  // Eviction: DELETE, then a clean 404 NoSuchKey for GET and HEAD.
  r = await send(c, 'DELETE', keyPath(smallKey));
  expect('delete', r, 204);
  r = await send(c, 'GET', keyPath(smallKey), { headers: [['range', `bytes=0-${partSize - 1}`]] });
  expect('get after delete', r, 404);
  if (xmlField(r.body, 'Code') !== 'NoSuchKey') fail('get after delete', `code ${xmlField(r.body, 'Code')}`);
  r = await send(c, 'HEAD', keyPath(smallKey));
  expect('head after delete', r, 404);
  done('delete');

  result.bigKey = bigKey.replace(/\//g, '_');
  result.bigSHA256 = crypto.createHash('sha256').update(big).digest('hex');
  conns.forEach(close);
  result.protocol = conns[0].proto;
  return result;
}

run('crt.js', main);
