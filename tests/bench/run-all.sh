#!/bin/bash
# Runs every benchmark script tests/bench/*.sh, then every C benchmark
# build/bench/*_bench (or those named, e.g. `tests/bench/run-all.sh
# failover_timeline bpf_bench`), each under a time limit,
# its output shown and kept in build/bench/logs/NAME.log. Ends with
#   N ran, N failed
cd "$(dirname "$0")/../.." || exit 2
mkdir -p build/bench/logs
ran=0 failed=0
for t in tests/bench/*.sh; do
	name=$(basename "$t" .sh)
	[ "$name" = run-all ] && continue
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
	echo "== $name"
	timeout "${BENCH_TIMEOUT:-900}" bash "$t" 2>&1 | tee "build/bench/logs/$name.log"
	rc=${PIPESTATUS[0]}
	ran=$((ran + 1))
	[ "$rc" = 0 ] || { failed=$((failed + 1)); echo "== $name: exit $rc"; }
done
# The C benchmarks (build/bench/*_bench, from tests/bench/*_bench.c),
# after the scripts: bpf_bench reads the baseline e2e_vs_nftables wrote.
for b in build/bench/*_bench; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
	echo "== $name"
	timeout "${BENCH_TIMEOUT:-900}" "$b" 2>&1 | tee "build/bench/logs/$name.log"
	rc=${PIPESTATUS[0]}
	ran=$((ran + 1))
	[ "$rc" = 0 ] || { failed=$((failed + 1)); echo "== $name: exit $rc"; }
done
echo "$ran ran, $failed failed"
[ "$failed" = 0 ]
