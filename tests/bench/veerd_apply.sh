#!/bin/bash
# veerd at scale: time and memory to apply 1,000 services x 100 backends
# from scratch, then to apply a one-backend change (SIGHUP reload).
# Targets: full apply <= 1 s, one change <= 5 ms, resident memory <= 64 MiB.
# Probes are off (type: none): nothing is sent to the 100,000 addresses.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VEERD=$ROOT/build/veerd
SVCS=${SVCS:-1000}
BES=${BES:-100}
NS=veer-bapply-$$
STATE=/sys/fs/bpf/veer-bapply-$$
WORK=$(mktemp -d /tmp/veer-bapply.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	"$VEERD" --teardown --state-dir "$STATE" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK" "$STATE"
}
trap cleanup EXIT

gen_config() {	# gen_config WEIGHT_OF_FIRST_BACKEND
	python3 - "$SVCS" "$BES" "$1" "$WORK/veerd.sock" <<'PY'
import sys
svcs, bes, w, sock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = ["node:", "  interfaces: [lo]", "  mode: tc", f"  admin_socket: {sock}", "  metrics: off",
       "services:"]
for s in range(svcs):
    out += [f"  - name: s{s}", f"    vip: 10.200.{100 + s // 250}.{s % 250 + 1}", "    port: 80",
            "    protocol: tcp", "    probe: {type: none}", "    backends:"]
    for b in range(bes):
        n = s * bes + b
        weight = w if (s == 0 and b == 0) else "1"
        out.append(f"      - {{address: 10.{201 + n // 65000}.{n // 250 % 260 % 256}.{n % 250 + 1}, port: 8080, weight: {weight}}}")
print("\n".join(out))
PY
}

[ -x "$VEERD" ] || { echo "build/veerd not built" >&2; exit 1; }
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
gen_config 1 >"$WORK/veer.yaml"
start=$(date +%s%N)
nsenter --net=/run/netns/"$NS" ${VEERD_WRAP:-} "$VEERD" --config "$WORK/veer.yaml" --state-dir "$STATE" \
	>"$WORK/veerd.log" 2>&1 &
PID=$!
for _ in $(seq 600); do grep -q "veerd running" "$WORK/veerd.log" && break; sleep 0.05; done
up_ms=$(( ($(date +%s%N) - start) / 1000000 ))
full=$(grep -m1 'msg=reconciled' "$WORK/veerd.log" | sed -E 's/.*duration_ms=([0-9.]+).*/\1/')
rss_full=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)

# One change: one backend's weight, applied through a file change, once
# veerd has made every service's spare table (its steady state).
sleep 3
gen_config 2 >"$WORK/veer.yaml.new" && mv "$WORK/veer.yaml.new" "$WORK/veer.yaml"
for _ in $(seq 200); do [ "$(grep -c 'msg=reconciled' "$WORK/veerd.log")" -ge 2 ] && break; sleep 0.05; done
one=$(grep 'msg=reconciled' "$WORK/veerd.log" | sed -n 2p | sed -E 's/.*duration_ms=([0-9.]+).*/\1/')
rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)

printf '\nveerd apply at %d services x %d backends\n' "$SVCS" "$BES"
printf '%-34s %12s %10s\n' measure value target
printf '%-34s %10s ms %10s\n' "full apply (reconcile)" "${full:-?}" "1000 ms"
printf '%-34s %10s ms %10s\n' "start to running (load+apply+attach)" "$up_ms" "-"
printf '%-34s %10s ms %10s\n' "one-backend change (reconcile)" "${one:-?}" "5 ms"
printf '%-34s %10s MiB %9s\n' "resident memory after full apply" "$((rss_full / 1024))" "64 MiB"
printf '%-34s %10s MiB %9s\n' "peak resident memory" "$((rss / 1024))" "64 MiB"
