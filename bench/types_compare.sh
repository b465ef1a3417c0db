#!/usr/bin/env bash
# types_compare.sh: the Redis data types under redis-benchmark, gpucache
# against redis-server in the same run, as ratios of ops/s.
#
#   bench/types_compare.sh [-n requests] [-r rounds] [-b gpucache-binary]
#
# Each round runs every test against gpucache then redis-server (fresh
# data directories, loopback, free ports); the table keeps each test's
# best round per server. Defaults: 200000 requests per test, 2 rounds,
# 50 clients, pipeline 16 (the issue's setting), and gpucache with its
# default durability. Needs redis-server and redis-benchmark.
set -euo pipefail

TESTS=${TESTS:-hset,lpush,lpop,rpush,rpop,sadd,spop,zadd,zpopmin,lrange_100}
N=200000
ROUNDS=2
BIN=""
CLIENTS=${CLIENTS:-50}
PIPE=${PIPE:-16}
while getopts "n:r:b:" o; do
	case $o in
	n) N=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	b) BIN=$OPTARG ;;
	*) sed -n '2,12p' "$0"; exit 1 ;;
	esac
done
for t in redis-server redis-benchmark; do
	command -v $t >/dev/null || { echo "$t is not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
if [ -z "$BIN" ]; then
	BIN=$WORK/gpucache
	go build -o "$BIN" ./cmd/gpucache
fi

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

waitup() {
	for _ in $(seq 1 200); do
		redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "server on port $1 did not start" >&2
	exit 1
}

# run SERVER: starts it, runs redis-benchmark, stops it; prints "test,rps" lines.
run() {
	local which=$1 port dir pid
	port=$(freeport)
	dir=$(mktemp -d -p "$WORK")
	if [ "$which" = gpucache ]; then
		"$BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --s3-port 0 >"$dir/log" 2>&1 &
	else
		redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no >"$dir/log" 2>&1 &
	fi
	pid=$!
	PIDS+=("$pid")
	waitup "$port"
	redis-benchmark -p "$port" -t "$TESTS" -c "$CLIENTS" -P "$PIPE" -n "$N" -r 100000 --csv -q 2>/dev/null |
		tr -d '"' | awk -F, 'NR>1 && $2 != "" {print tolower($1) "," $2}'
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

declare -A best
for r in $(seq 1 "$ROUNDS"); do
	for s in gpucache redis; do
		while IFS=, read -r test rps; do
			k="$s/$test"
			if [ -z "${best[$k]:-}" ] || awk -v a="$rps" -v b="${best[$k]}" 'BEGIN{exit !(a>b)}'; then
				best[$k]=$rps
			fi
			echo "round $r $s $test $rps" >&2
		done < <(run $s)
	done
done

printf '%-34s %14s %14s %8s\n' "test (-c $CLIENTS -P $PIPE)" "gpucache op/s" "redis op/s" "ratio"
for k in "${!best[@]}"; do
	[[ $k == gpucache/* ]] || continue
	t=${k#gpucache/}
	g=${best[$k]}
	rd=${best[redis/$t]:-0}
	printf '%-34s %14.0f %14.0f %8.2f\n' "$t" "$g" "$rd" "$(awk -v a="$g" -v b="$rd" 'BEGIN{print (b>0)?a/b:0}')"
done | sort
