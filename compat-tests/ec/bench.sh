#!/bin/sh
# bench.sh: SET and GET throughput of 32 MiB values with --ec 4+2 over six
# directories, against --ec 1+0 over one directory on the same disk, and
# with two of the six directories gone (deleted under the running server
# before any write, so every value is stored with two shards missing and
# every GET reconstructs). Rounds alternate between the three servers.
#
#   compat-tests/ec/bench.sh [ROOT [ROUNDS]]
set -eu
root=${1:-$(mktemp -d /var/tmp/gpucache-ec-bench.XXXXXX)}
rounds=${2:-2}
cd "$(dirname "$0")/../.."
go build -o "$root/gpucache" ./cmd/gpucache
go build -o "$root/gpucache-bench" ./cmd/gpucache-bench
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null || true; done' EXIT

start() { # name port args...
	name=$1 port=$2
	shift 2
	rm -rf "$root/$name"
	mkdir -p "$root/$name"
	"$root/gpucache" --port "$port" --s3-port 0 --dir "$root/$name" --dram-cache-size 256mb "$@" >"$root/$name.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	for _ in $(seq 100); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "$name did not start" >&2
	exit 1
}

stop() { # pid
	kill "$1"
	wait "$1" 2>/dev/null || true
}

bench() { # name port
	"$root/gpucache-bench" run --addr "127.0.0.1:$2" --name "$1" --workloads lmcache --modes native \
		--sizes 32MiB --concurrency 4 --rounds 1 --working-set 512MiB --get-passes 2 --with-raw=false \
		--no-progress --json "$root/$1.$3.json" >"$root/$1.$3.txt" 2>&1 || { cat "$root/$1.$3.txt"; exit 1; }
	grep -E 'set|get' "$root/$1.$3.txt" | grep -v '^#' | sed "s/^/$1 round $3: /"
}

for r in $(seq "$rounds"); do
	start plain 16401 --ec 1+0 --devices "$root/plain/d0"
	bench plain 16401 "$r"
	stop "$pid"

	d="$root/ec/d"
	start ec 16402 --ec 4+2 --devices "${d}0,${d}1,${d}2,${d}3,${d}4,${d}5"
	bench ec 16402 "$r"
	stop "$pid"

	d="$root/degraded/d"
	start degraded 16403 --ec 4+2 --devices "${d}0,${d}1,${d}2,${d}3,${d}4,${d}5"
	rm -rf "${d}3" "${d}4"
	bench degraded 16403 "$r"
	redis-cli -p 16403 info devices | grep -E 'ec_degraded|ec_reconstructed|ec_unrecoverable'
	stop "$pid"
done
echo "reports in $root"
