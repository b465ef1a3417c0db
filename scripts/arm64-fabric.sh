#!/usr/bin/env bash
# Cross-builds gpucache with the fabric (cgo, -tags fabric) for
# linux/arm64, and runs the libfabric binding's tests (shm and tcp;ofi_rxm
# on loopback) under qemu-user. Needs Debian multiarch: installs
# gcc-aarch64-linux-gnu and libfabric-dev:arm64 when missing (root).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${TMPDIR:-/tmp}/gpucache-arm64-fabric
mkdir -p "$out"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || [ ! -f /usr/lib/aarch64-linux-gnu/libfabric.so ]; then
	echo "arm64-fabric: installing gcc-aarch64-linux-gnu libfabric-dev:arm64" >&2
	dpkg --add-architecture arm64
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		gcc-aarch64-linux-gnu libc6-dev-arm64-cross libfabric-dev:arm64 >/dev/null
fi
export CGO_ENABLED=1 CC=aarch64-linux-gnu-gcc GOOS=linux GOARCH=arm64
go build -tags fabric -o "$out/gpucache" ./cmd/gpucache
go test -tags fabric -c -o "$out/fabric.test" ./protocols/fastpath/fabric
# NB: -L / lets qemu find the arm64 loader and libraries Debian's
# multiarch packages put under /lib/aarch64-linux-gnu.
(cd protocols/fastpath/fabric && qemu-aarch64-static -L / "$out/fabric.test" -test.v -test.timeout 300s)
