"""Drives gpucache's S3 endpoint with awscrt.s3.S3Client, the client class
LMCache's s3:// connector uses (aws-c-s3 under the AWS CRT's Python
binding), the way the connector does: PUT_OBJECT meta requests that the
client splits into 8 MiB multipart uploads, GET_OBJECT meta requests that
it splits into a first ranged GET and parallel ranged GETs with If-Match,
HEAD for a size and DELETE for an eviction, many at once. Virtual-host
addressing over TLS: the bucket is in the Host name.

Exits non-zero, naming the step, at the first difference from S3; prints
one JSON line on success.

Environment: S3_HOST (bucket.domain; must resolve to the server), S3_PORT
(this client version connects to 443 whatever the Host header says, so
the server must listen there), S3_CA_FILE, S3_ACCESS_KEY, S3_SECRET_KEY.
"""

import hashlib
import io
import json
import os
import random
import sys
from concurrent.futures import wait

from awscrt import auth, http, s3
from awscrt import io as crtio

HOST = os.environ["S3_HOST"]
PORT = int(os.environ["S3_PORT"])
MIB = 1 << 20
PART = 8 * MIB


def client(secret):
    elg = crtio.EventLoopGroup(2)
    bootstrap = crtio.ClientBootstrap(elg, crtio.DefaultHostResolver(elg))
    opts = crtio.TlsContextOptions()
    opts.override_default_trust_store_from_path(None, os.environ["S3_CA_FILE"])
    creds = auth.AwsCredentialsProvider.new_static(os.environ["S3_ACCESS_KEY"], secret)
    return s3.S3Client(bootstrap=bootstrap, region="us-east-1", tls_mode=s3.S3RequestTlsMode.ENABLED,
                       credential_provider=creds,
                       tls_connection_options=crtio.ClientTlsContext(opts).new_connection_options(),
                       part_size=PART)


class Fail(Exception):
    pass


class Request:
    """One meta request; start() sends it, result() waits for it."""

    def __init__(self, c, method, path, body=None, kind=s3.S3RequestType.DEFAULT, headers=()):
        hdrs = http.HttpHeaders([("Host", HOST)] + list(headers))
        stream = None
        if body is not None:
            hdrs.add("Content-Length", str(len(body)))
            hdrs.add("Content-Type", "application/octet-stream")
            stream = io.BytesIO(body)
        self.method, self.path = method, path
        self.status, self.headers, self.chunks = None, {}, []
        self.req = c.make_request(type=kind, request=http.HttpRequest(method, path, hdrs, stream),
                                  on_headers=self._on_headers, on_body=self._on_body)

    def _on_headers(self, status_code, headers, **kwargs):
        self.status = status_code
        self.headers = {k.lower(): v for k, v in headers}

    def _on_body(self, chunk, offset, **kwargs):
        self.chunks.append((offset, bytes(chunk)))

    def result(self, want=200):
        """Waits; the body on success. A refused request raises unless want
        names its status, then the error body is returned."""
        try:
            self.req.finished_future.result(120)
            err = None
        except Exception as e:  # the CRT raises for any status >= 300
            err = e
        body = b"".join(c for _, c in sorted(self.chunks))
        if err is not None and self.status != want:
            raise Fail(f"{self.method} {self.path}: status {self.status}, want {want}: {err}")
        if err is None and self.status != want and not (want == 200 and self.status in (200, 204, 206)):
            raise Fail(f"{self.method} {self.path}: status {self.status}, want {want}")
        if err is not None:
            body = str(err).encode()
        return body


def payload(n, seed):
    return random.Random(seed).randbytes(n)


def md5_etag(data):
    if len(data) <= PART:
        return '"%s"' % hashlib.md5(data).hexdigest()
    parts = [hashlib.md5(data[i:i + PART]).digest() for i in range(0, len(data), PART)]
    return '"%s-%d"' % (hashlib.md5(b"".join(parts)).hexdigest(), len(parts))


def main():
    c = client(os.environ["S3_SECRET_KEY"])
    steps = []

    try:
        Request(c, "PUT", "/").result()
    except Fail as e:
        if "BucketAlreadyOwnedByYou" not in str(e):
            raise
    steps.append("create-bucket")

    # KV chunks as LMCache names them ('/' -> '_', then URL-quoted: '@'
    # is %40): full 32 MiB chunks (4-part multipart uploads), a partial
    # chunk of 7,340,200 bytes (one PUT), a tiny one and an empty one.
    objs = {f"/vllm%40llama-3-8b%401%400%40{i:04x}": payload(32 * MIB, i) for i in range(6)}
    objs["/vllm%40llama-3-8b%401%400%40partial"] = payload(7340200, 100)
    objs["/vllm%40llama-3-8b%401%400%40tiny"] = payload(1000, 101)
    objs["/vllm%40llama-3-8b%401%400%40empty"] = b""
    puts = {p: Request(c, "PUT", p, d, s3.S3RequestType.PUT_OBJECT) for p, d in objs.items()}
    for p, r in puts.items():
        r.result()
        if r.headers.get("etag") != md5_etag(objs[p]):
            raise Fail(f"PUT {p}: ETag {r.headers.get('etag')!r}, want {md5_etag(objs[p])!r}")
    steps.append("put-objects")

    # NB: this client version opens every GET_OBJECT with a ranged GET,
    # which S3 answers 416 for an empty object (later versions then ask
    # for ?partNumber=1, as compat-tests/s3/crt_test.go replays); the
    # empty object is read with a plain GET.
    empty = "/vllm%40llama-3-8b%401%400%40empty"
    gets = {p: Request(c, "GET", p, kind=s3.S3RequestType.GET_OBJECT) for p in objs if p != empty}
    gets[empty] = Request(c, "GET", empty)
    for p, r in gets.items():
        if r.result() != objs[p]:
            raise Fail(f"GET {p}: bytes differ from what was put")
    body = Request(c, "GET", empty, kind=s3.S3RequestType.GET_OBJECT).result(416)
    if b"InvalidRange" not in body:
        raise Fail(f"ranged GET of an empty object: {body[:300]!r}")
    steps.append("get-objects")

    for p, d in objs.items():
        r = Request(c, "HEAD", p)
        r.result()
        if r.headers.get("content-length") != str(len(d)):
            raise Fail(f"HEAD {p}: Content-Length {r.headers.get('content-length')}, want {len(d)}")
    steps.append("head-sizes")

    # Eviction: DELETE, then the GET LMCache may still send fails cleanly.
    gone = "/vllm%40llama-3-8b%401%400%40tiny"
    Request(c, "DELETE", gone).result(204)
    body = Request(c, "GET", gone, kind=s3.S3RequestType.GET_OBJECT).result(404)
    if b"NoSuchKey" not in body:
        raise Fail(f"GET after DELETE: {body[:300]!r}")
    Request(c, "HEAD", gone).result(404)
    steps.append("evict")

    # A client with the wrong secret is refused and changes nothing.
    bad = client("not-the-secret")
    victim = "/vllm%40llama-3-8b%401%400%40partial"
    body = Request(bad, "PUT", victim, payload(1000, 7), s3.S3RequestType.PUT_OBJECT).result(403)
    if b"SignatureDoesNotMatch" not in body:
        raise Fail(f"PUT with a wrong secret: {body[:300]!r}")
    if Request(c, "GET", victim, kind=s3.S3RequestType.GET_OBJECT).result() != objs[victim]:
        raise Fail("a refused PUT changed the object")
    steps.append("bad-signature")

    full = hashlib.sha256(objs["/vllm%40llama-3-8b%401%400%400000"]).hexdigest()
    print(json.dumps({"steps": steps, "key": "vllm@llama-3-8b@1@0@0000", "sha256": full}))


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print(f"lmcache_crt.py: {e}", file=sys.stderr)
        sys.exit(1)
