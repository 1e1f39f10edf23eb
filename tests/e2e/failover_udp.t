#!/bin/bash
# A UDP/DNS service keeps answering when one of its two dnsmasq backends
# dies (SIGKILL, by PID) under a steady stream of queries: no query that
# starts later than interval x fall + timeout (500 ms) after the kill
# fails, judged by the client's own log (tests/bench/lib/flowlog.sh). Each
# query is a new flow (dig takes a fresh source port); dig waits 1 s, one
# try. The dead port answers with ICMP port unreachable, a passive signal.
# FAILOVER_NO_PASSIVE=1: no probes and outlier.consecutive 1000, to show
# the test can fail.
. "$(dirname "$0")/lib.sh"
need dnsmasq dig nsenter
FL=$ROOT/tests/bench/lib/flowlog.sh
[ -r "$FL" ] || skip_all "tests/bench/lib/flowlog.sh missing"
plan 6

topo_up 4
start_dnsmasq b3 53
start_dnsmasq b4 53
VIP=10.200.100.53
BOUND=500	# interval x fall + timeout = 200 x 2 + 100 ms
PROBE='{type: dns, query: example.test, interval: 200ms, timeout: 100ms, rise: 2, fall: 2}'
OUTLIER='{consecutive: 3}'
if [ "${FAILOVER_NO_PASSIVE:-0}" = 1 ]; then
	PROBE='{type: none}'
	OUTLIER='{consecutive: 1000}'
	diag "FAILOVER_NO_PASSIVE=1: no probes, outlier.consecutive 1000 (must fail)"
fi
cat >"$WORK/veer.yaml" <<YAML
$(node_yaml "n-c, n-b" xdp)
  - name: dns
    vip: $VIP
    port: 53
    protocol: udp
    probe: $PROBE
    outlier: $OUTLIER
    backends:
      - {address: 10.200.2.13, port: 53}
      - {address: 10.200.2.14, port: 53}
YAML
check "veerd starts" start_veerd "$WORK/veer.yaml"

be_state() { veerctl backend list dns 2>/dev/null | awk -v a="$1" 'index($0, a) { for (i = 1; i <= NF; i++)
	if ($i ~ /^(healthy|unhealthy|unknown|ejected|draining)$/) { print $i; exit } }'; }
for i in $(seq 50); do
	[ "$(be_state 10.200.2.13:)" = healthy ] && [ "$(be_state 10.200.2.14:)" = healthy ] && break
	[ "${FAILOVER_NO_PASSIVE:-0}" = 1 ] && break
	sleep 0.1
done
sleep 0.3

ip netns exec "${P}client" bash "$FL" run "$WORK/dns" 7 2 -- \
	dig +short +time=1 +tries=1 @"$VIP" example.test &
LOAD_PID=$!
PIDS+=($LOAD_PID)
sleep 2
t=${EPOCHREALTIME/./}; F=${t:0:-3}
kill -9 "$DNSMASQ_PID_b3"
wait "$DNSMASQ_PID_b3" 2>/dev/null
wait "$LOAD_PID"

s=$(bash "$FL" summary "$WORK/dns" "$F" "$BOUND")
diag "dns: $s (bound +$BOUND ms)"
LATE=$(sed -n 's/.*failed_after_bound=\([0-9]*\).*/\1/p' <<<"$s")
count() { awk -v a="$1" -v b="$2" -v w="$3" '$1 >= a && $1 < b && ($4 == "ok" ? $5 : "FAIL") == w' "$WORK/dns" | wc -l; }
diag "before the kill: .3=$(count 0 "$F" 10.9.9.3) .4=$(count 0 "$F" 10.9.9.4) fail=$(count 0 "$F" FAIL);" \
	"after +$BOUND ms: .3=$(count $((F + BOUND)) 99999999999999 10.9.9.3)" \
	".4=$(count $((F + BOUND)) 99999999999999 10.9.9.4) fail=$(count $((F + BOUND)) 99999999999999 FAIL)"
check "both dnsmasq backends answered before the kill" \
	[ "$(count 0 "$F" 10.9.9.3)" -gt 0 -a "$(count 0 "$F" 10.9.9.4)" -gt 0 ]
check "no query starting > $BOUND ms after the kill failed" [ "${LATE:-1}" = 0 ]
check "queries kept being answered after the kill (>= 100, by b4)" \
	[ "$(count $((F + BOUND)) 99999999999999 10.9.9.4)" -ge 100 ]
check "no answer from the dead b3 after +$BOUND ms" [ "$(count $((F + BOUND)) 99999999999999 10.9.9.3)" = 0 ]
grep -E 'backend state.*10.200.2.13' "$WORK/veerd.log" | tail -2 | sed 's/^/# veerd: /'
check "veerd logged b3 down" grep -qE 'backend state.*10.200.2.13.*to=(unhealthy|ejected)' "$WORK/veerd.log"
finish
