#!/usr/bin/env bash
# Installs what the tests and tools need beyond Go and gcc, on Debian 12:
#   redis-tools      redis-cli, for compat-tests/resp
#   redis-server     the reference server for bench/ and script checks
#   awscli           aws (v2, /usr/bin/aws), for compat-tests/s3
#   python3-awscrt   the AWS CRT's Python binding (awscrt.s3.S3Client, the
#                    client LMCache's s3:// connector uses), for
#                    compat-tests/s3 (awscli v2 depends on it)
#   s3cmd            s3cmd (2.3.0), for compat-tests/s3
#   python3-redis    redis-py (4.3), for compat-tests/resp (TLS, rediss://)
#                    and compat-tests/cluster (RedisCluster)
#   qemu-user-static qemu-aarch64-static, for `make arm64`
#   fio              the raw O_DIRECT write rate bench/ compares durable
#                    large SETs with
#   versitygw        the S3 conformance suite (v1.8.0, built with go install
#                    into GOPATH/bin), for compat-tests/s3
#   libfabric-dev    libfabric's headers and library, for the fast path
#                    (go build -tags fabric; protocols/fastpath, client,
#                    compat-tests/fastpath)
#   libfabric-bin    fi_info, to see the providers (tcp;ofi_rxm, shm)
#   nodejs, npm      for the JavaScript S3 clients (the AWS SDK for
#                    JavaScript v3 and the AWS Common Runtime), pinned in
#                    compat-tests/s3/testdata/js/package-lock.json and
#                    installed there with npm ci
#   docker-compose   validates docker-compose.yml (compat-tests/deploy); no
#                    Docker engine is needed or started
#   prometheus       runs the Grafana dashboard's queries against a real
#                    server (compat-tests/deploy); its daemon is not left running
#   valkey-glide, ioredis  the JavaScript Redis clients, pinned in
#                    compat-tests/resp/testdata/js/package-lock.json (npm ci)
#   dockerfile-utils the Dockerfile linter, pinned in
#                    compat-tests/deploy/testdata/package-lock.json (npm ci)
# Idempotent: does nothing when all are present; otherwise one
# `apt-get update`, then one `apt-get install` of the missing packages.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have redis-cli || missing+=(redis-tools)
have redis-server || missing+=(redis-server)
# NB: only Debian's aws counts; a pyenv or pip shim elsewhere on PATH
# may be another version or break when its environment changes.
[ -x /usr/bin/aws ] || missing+=(awscli)
/usr/bin/python3 -c 'import awscrt.s3' 2>/dev/null || missing+=(python3-awscrt)
have qemu-aarch64-static || missing+=(qemu-user-static)
have s3cmd || missing+=(s3cmd)
/usr/bin/python3 -c 'import redis' 2>/dev/null || missing+=(python3-redis)
have fio || missing+=(fio)
[ -f /usr/include/rdma/fabric.h ] || missing+=(libfabric-dev)
have fi_info || missing+=(libfabric-bin)
have node || missing+=(nodejs)
have npm || missing+=(npm)
have docker-compose || missing+=(docker-compose)
have prometheus || missing+=(prometheus)

gobin=$(go env GOPATH)/bin
if ! have versitygw && [ ! -x "$gobin/versitygw" ]; then
	echo "deps: building versitygw v1.8.0 into $gobin" >&2
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

# npm ci again whenever a lock file changes; the stamp records the lock
# file it installed.
npm_dir() {
	local dir=$1 lock stamp
	lock=$(sha256sum "$dir/package-lock.json" | cut -d" " -f1)
	stamp=$dir/node_modules/.gpucache-lock-sha256
	if [ "$(cat "$stamp" 2>/dev/null)" = "$lock" ]; then
		return 0
	fi
	echo "deps: npm ci in $dir" >&2
	(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
	echo "$lock" >"$stamp"
}
js_clients() {
	local top
	top=$(cd "$(dirname "$0")/.." && pwd)
	npm_dir "$top/compat-tests/s3/testdata/js"
	npm_dir "$top/compat-tests/resp/testdata/js"
	npm_dir "$top/compat-tests/deploy/testdata"
}

if [ ${#missing[@]} -eq 0 ]; then
	js_clients
	exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! have sudo; then
		echo "deps: need root (or sudo) to install ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# redis-server's package starts a daemon on 6379; the tests start their
# own servers on free ports and need none running.
if [[ " ${missing[*]} " == *" redis-server "* ]] && have systemctl; then
	"${sudo[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
# Likewise prometheus's daemon (on 9090); the tests run their own.
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
	if have systemctl; then
		"${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
	fi
	"${sudo[@]}" service prometheus stop >/dev/null 2>&1 || true
fi
js_clients
