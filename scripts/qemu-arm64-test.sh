#!/usr/bin/env bash
# Cross-compiles the nvme, ec, md5x, S3 (and engine, if it builds) test binaries for
# linux/arm64 and runs them under qemu-aarch64-static: the DPU's
# architecture, checked on any amd64 host (DESIGN.md invariant 7).
#
# Usage: scripts/qemu-arm64-test.sh [go test flags passed to the binaries, e.g. -test.short]
#
# qemu-user may not emulate O_DIRECT or fallocate on every host file
# system; the nvme package falls back to buffered I/O and ftruncate, so
# the tests still run.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "qemu-aarch64-static missing; install qemu-user-static (needs root)" >&2
		exit 1
	fi
	echo "installing qemu-user-static" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# nvme, ec, md5x (its NEON kernels) and the S3 front end (which hashes
# ETags on those kernels) must build and pass; engine is included when it builds.
pkgs=(./nvme ./ec ./internal/md5x ./protocols/s3)
optional=()
if [ -d engine ]; then
	optional+=(./engine)
fi

status=0
all=("${pkgs[@]}" "${optional[@]}")
echo "== build ${all[*]} (linux/arm64)"
# One go command builds every test binary (in parallel); a package that
# does not build is then built alone to tell which.
if ! CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go test -c -o "$out/" "${all[@]}"; then
	for p in "${all[@]}"; do
		if ! CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go test -c -o "$out/" "$p"; then
			if [[ " ${optional[*]} " == *" $p "* ]]; then
				echo "   $p does not build for arm64; skipped" >&2
			else
				status=1
			fi
		fi
	done
fi
# The binaries run side by side (each emulated process mostly uses one
# core), each from its package directory so testdata/ is found; their
# output is printed in order once all are done.
pids=()
for p in "${all[@]}"; do
	name=$(basename "$p")
	if [ ! -f "$out/$name.test" ]; then
		pids+=("")
		continue
	fi
	(cd "$p" && qemu-aarch64-static "$out/$name.test" -test.timeout 20m "$@") > "$out/$name.log" 2>&1 &
	pids+=("$!")
done
for i in "${!all[@]}"; do
	p=${all[$i]}
	name=$(basename "$p")
	[ -n "${pids[$i]}" ] || { echo "== $p: no test binary"; continue; }
	if wait "${pids[$i]}"; then
		echo "== run $p under qemu-aarch64-static: ok"
	else
		echo "== run $p under qemu-aarch64-static: FAILED"
		status=1
	fi
	cat "$out/$name.log"
done
exit $status
