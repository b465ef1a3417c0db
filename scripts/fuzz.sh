#!/usr/bin/env bash
# Runs every Fuzz target in the module for a while each.
#
# Usage: scripts/fuzz.sh [fuzztime]   (default 10s; e.g. 10m, 500x)
#
# Environment:
#   FUZZJOBS=N      targets fuzzed at once (default 1); each gets
#                   FUZZPARALLEL workers (default: go test's, GOMAXPROCS)
#   FUZZKEEP=N      after a target's run, copy up to N of the smallest inputs
#                   the run added to its cached corpus into the package's
#                   testdata/fuzz/<Target>/, where every `go test` replays
#                   them (default 0: keep them only in the go cache)
#   FUZZLOG=dir     one log per target (default: a temporary directory)
#   FUZZRUN=regexp  only the targets whose name matches
#
# Prints one line per target: its result, executions and new inputs. Exits
# non-zero if any target found a failure (go test itself writes the failing
# input to the package's testdata/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-10s}
jobs=${FUZZJOBS:-1}
keep=${FUZZKEEP:-0}
logdir=${FUZZLOG:-$(mktemp -d)}
mkdir -p "$logdir"
cache=$(go env GOCACHE)/fuzz
module=$(go list -m)
parallel=()
if [ -n "${FUZZPARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZPARALLEL")
fi

# run_one <package dir> <FuzzName>: fuzz one target, then keep inputs.
run_one() {
	local dir=$1 name=$2 log="$logdir/$2.log" status=0
	local pkg=$module corpus before added execs n=0
	[ "$dir" != . ] && pkg=$module/$dir
	corpus="$cache/$pkg/$name"
	before=$(mktemp)
	ls "$corpus" 2>/dev/null | sort >"$before" || true
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${parallel[@]}" "./$dir" >"$log" 2>&1; then
		status=1
	fi
	added=$(ls "$corpus" 2>/dev/null | sort | comm -13 "$before" - || true)
	rm -f "$before"
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
	if [ -n "$added" ]; then
		n=$(echo "$added" | wc -l)
		if [ "$keep" -gt 0 ]; then
			mkdir -p "$dir/testdata/fuzz/$name"
			# NB: smallest first: small inputs make readable regression seeds.
			(cd "$corpus" && echo "$added" | xargs ls -S -r | head -n "$keep") |
				while read -r f; do cp "$corpus/$f" "$dir/testdata/fuzz/$name/"; done
		fi
	fi
	if [ $status -eq 0 ]; then
		echo "ok   $name ./$dir execs=${execs:-?} new-inputs=$n"
	else
		echo "FAIL $name ./$dir (log: $log)"
		tail -30 "$log"
	fi
	return $status
}

targets=$(git ls-files -co --exclude-standard '*_test.go' |
	xargs grep -H -o -E '^func Fuzz[A-Za-z0-9_]*\(' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#; s#^[^/ ]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#. \1#' |
	sort -u | awk -v re="${FUZZRUN:-.}" '$2 ~ re')
if [ -z "$targets" ]; then
	echo "no fuzz targets"
	exit 0
fi
echo "fuzzing $(echo "$targets" | wc -l) targets for $fuzztime each, $jobs at a time; logs in $logdir"

status=0
pids=()
while read -r dir name; do
	run_one "$dir" "$name" &
	pids+=($!)
	if [ ${#pids[@]} -ge "$jobs" ]; then
		wait "${pids[0]}" || status=1
		pids=("${pids[@]:1}")
	fi
done <<<"$targets"
for p in "${pids[@]}"; do
	wait "$p" || status=1
done
exit $status
