#!/usr/bin/python3
"""Measures S3 PUT and GET throughput with LMCache's own S3 client.

LMCache's s3:// connector stores KV chunks through awscrt.s3.S3Client
(aws-c-s3 under the AWS CRT's Python binding). This script drives that
client the way the connector does -- PUT_OBJECT and GET_OBJECT meta
requests, which the client splits into 8 MiB parts and ranged GETs over
several connections -- against gpucache and against MinIO, in alternating
rounds, and prints each one's throughput and the ratio.

As the connector does, bodies go through files in shared memory
(/dev/shm): the client reads a PUT's body from a file (send_filepath) and
writes a GET's into one (recv_filepath), in native code, with no Python
callback per chunk. Each server's CPU time per GB moved (user + system,
from /proc) is printed too: on a host where the client's cost bounds
throughput, it shows what each server spends.

The client version Debian ships (python3-awscrt 0.16.8) connects to port 80
(443 with TLS) whatever port the endpoint names, so each server in turn
listens on 127.0.0.1:80 over plain HTTP, with a fresh data directory under
the system temporary directory: run as root, with nothing else on port 80.

    sudo /usr/bin/python3 bench/awscrt_compare.py \\
        --gpucache-bin ./gpucache --minio-bin ./minio [--size-mib 32] \\
        [--objects 48] [--inflight 4] [--get-passes 4] [--rounds 3]
"""

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from awscrt import auth, http, s3
from awscrt import io as crtio

ACCESS, SECRET = "benchaccesskey", "benchsecretkey0123456789"
PORT = 80
BUCKET = "lmcache-bench"


def wait_listening(proc, name, ready=None):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.5).close()
            if ready is None or ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{name} did not listen on 127.0.0.1:{PORT}")


def minio_live():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/minio/health/live", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def start(target, args, tmp):
    data = tempfile.mkdtemp(prefix=f"awscrt-bench-{target}-", dir=tmp)
    if target == "gpucache":
        cmd = [args.gpucache_bin, "--port", "0", "--bind", "127.0.0.1", "--dir", data,
               "--dram-cache-size", "2gb", "--s3-port", str(PORT), "--s3-access-key", ACCESS,
               "--s3-secret-key", SECRET]
        env = os.environ
        ready = None
    else:
        cmd = [args.minio_bin, "server", "--quiet", "--address", f"127.0.0.1:{PORT}", os.path.join(data, "data")]
        env = dict(os.environ, MINIO_ROOT_USER=ACCESS, MINIO_ROOT_PASSWORD=SECRET,
                   MINIO_BROWSER="off", MINIO_UPDATE="off")
        ready = minio_live
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(proc, target, ready)
    return proc, data


def stop(proc, data):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(data, ignore_errors=True)


def cpu_seconds(pid):
    """The process's user + system CPU time so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def new_client(part):
    elg = crtio.EventLoopGroup(os.cpu_count())
    bootstrap = crtio.ClientBootstrap(elg, crtio.DefaultHostResolver(elg))
    creds = auth.AwsCredentialsProvider.new_static(ACCESS, SECRET)
    return s3.S3Client(bootstrap=bootstrap, region="us-east-1", tls_mode=s3.S3RequestTlsMode.DISABLED,
                       credential_provider=creds, part_size=part)


class Window:
    """Keeps up to n meta requests in flight, each with a slot of its own
    (0..n-1) for its receive file."""

    def __init__(self, n):
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.free = list(range(n))
        self.errors = []
        self.pending = []

    def submit(self, make):
        with self.cond:
            while not self.free:
                self.cond.wait()
            slot = self.free.pop()
        fut = make(slot).finished_future

        def done(f):
            with self.cond:
                if f.exception() is not None:
                    self.errors.append(f.exception())
                self.free.append(slot)
                self.cond.notify()

        fut.add_done_callback(done)
        self.pending.append(fut)

    def drain(self):
        for f in self.pending:
            try:
                f.result()
            except Exception:  # counted in done
                pass
        self.pending = []
        if self.errors:
            sys.exit(f"requests failed: {self.errors[0]}")


def request(method, path, size=None):
    hdrs = http.HttpHeaders([("Host", "127.0.0.1")])
    if size is not None:
        hdrs.add("Content-Length", str(size))
        hdrs.add("Content-Type", "application/octet-stream")
    return http.HttpRequest(method, path, hdrs)


def run_round(target, args, size, shm):
    proc, data = start(target, args, args.tmp)
    try:
        c = new_client(8 << 20)
        c.make_request(type=s3.S3RequestType.DEFAULT, request=request("PUT", f"/{BUCKET}")).finished_future.result(30)
        keys = [f"/{BUCKET}/vllm%40bench%401%400%40{i:04x}" for i in range(args.objects)]
        src = os.path.join(shm, "put")
        w = Window(args.inflight)
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        for k in keys:
            w.submit(lambda _, k=k: c.make_request(type=s3.S3RequestType.PUT_OBJECT, request=request("PUT", k, size),
                                                   send_filepath=src))
        w.drain()
        put = size * len(keys) / (time.perf_counter() - t0) / 1e9
        put_cpu = (cpu_seconds(proc.pid) - cpu0) / (size * len(keys) / 1e9)
        w = Window(args.inflight)
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        for _ in range(args.get_passes):
            for k in random.sample(keys, len(keys)):
                w.submit(lambda slot, k=k: c.make_request(type=s3.S3RequestType.GET_OBJECT, request=request("GET", k),
                                                          recv_filepath=os.path.join(shm, f"get{slot}")))
        w.drain()
        get = size * len(keys) * args.get_passes / (time.perf_counter() - t0) / 1e9
        get_cpu = (cpu_seconds(proc.pid) - cpu0) / (size * len(keys) * args.get_passes / 1e9)
        # Check one object's bytes through a body callback (the binding
        # flushes a receive file only when its request object is freed).
        chunks = []
        c.make_request(type=s3.S3RequestType.GET_OBJECT, request=request("GET", keys[-1]),
                       on_body=lambda chunk, offset, **kw: chunks.append((offset, bytes(chunk)))).finished_future.result(60)
        with open(src, "rb") as f:
            if b"".join(x for _, x in sorted(chunks)) != f.read():
                sys.exit(f"{target}: GET did not return the bytes put")
        return put, get, put_cpu, get_cpu
    finally:
        stop(proc, data)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gpucache-bin", required=True)
    p.add_argument("--minio-bin", required=True)
    p.add_argument("--size-mib", type=int, default=32)
    p.add_argument("--objects", type=int, default=48)
    p.add_argument("--inflight", type=int, default=4, help="meta requests in flight (LMCache's workers)")
    p.add_argument("--get-passes", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tmp", default=tempfile.gettempdir(), help="where the servers' data directories go")
    args = p.parse_args()
    shm = tempfile.mkdtemp(prefix="awscrt-bench-", dir="/dev/shm")
    size = args.size_mib << 20
    with open(os.path.join(shm, "put"), "wb") as f:
        f.write(random.Random(1).randbytes(size))
    res = {"gpucache": [], "minio": []}
    try:
        for r in range(args.rounds):
            for target in ("gpucache", "minio"):
                put, get, put_cpu, get_cpu = run_round(target, args, size, shm)
                res[target].append((put, get, put_cpu, get_cpu))
                print(f"[round {r + 1}/{args.rounds}] {target:8s} PUT {put:6.3f} GB/s ({put_cpu * 1e3:4.0f} ms CPU/GB)"
                      f"  GET {get:6.3f} GB/s ({get_cpu * 1e3:4.0f} ms CPU/GB)", flush=True)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    print(f"\nawscrt.s3.S3Client, {args.size_mib} MiB objects x {args.objects}, {args.inflight} in flight, "
          f"{args.get_passes} GET passes, {args.rounds} rounds, load {os.getloadavg()[0]:.2f} at end")
    for i, op in enumerate(("PUT", "GET")):
        g = statistics.mean(x[i] for x in res["gpucache"])
        m = statistics.mean(x[i] for x in res["minio"])
        gc = statistics.mean(x[i + 2] for x in res["gpucache"])
        mc = statistics.mean(x[i + 2] for x in res["minio"])
        print(f"{op}: gpucache {g:.3f} GB/s, MinIO {m:.3f} GB/s, gpucache/MinIO {g / m:.2f}x; "
              f"server CPU per GB: gpucache {gc * 1e3:.0f} ms, MinIO {mc * 1e3:.0f} ms ({mc / gc:.2f}x less)")


if __name__ == "__main__":
    main()
