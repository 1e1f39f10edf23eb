#!/bin/bash
# Failover timeline: one backend of three fails under a steady stream of
# new connections, and the client's own log (flowlog.sh) says how long
# users see errors. Two faults, two load balancers, in the same run:
#   crash      kill -9 of one nginx (master and worker, by PID)
#   blackhole  nft drop of the backend's port in its namespace
#   veer       veerd as the e2e tests run it: HTTP probes every 200 ms
#              (timeout 100 ms, rise 2, fall 2), passive signals on
#   nftables   what users have without veer, kube-proxy style: DNAT on the
#              node, numgen random mod N over the live backends, and a 1 s
#              probe loop (curl --max-time 0.5 against each backend) that
#              rewrites the rule when the live set changes
# Clients: curl started 100 times a second (open loop: a hung request
# does not hold back the next), one new connection each,
# --connect-timeout 3 --max-time 4. Fault at +2 s of an 8 s stream.
# Prints a table and writes build/bench/failover-timeline.txt,
# build/bench/failover-{crash,blackhole}.png (requests per 50 ms per
# backend, failures in red, the fault at t = 0) and the raw client logs
# under build/bench/failover-data/.
. "$(dirname "$0")/../e2e/lib.sh"
need nginx curl nsenter nft gnuplot
FL=$ROOT/tests/bench/lib/flowlog.sh
OUT=${BENCH_OUT:-$ROOT/build/bench}
SECS=${FAILOVER_SECS:-8}
RATE=${FAILOVER_RATE:-100}
VIP=10.200.100.10
BACKENDS="10.200.2.11 10.200.2.12 10.200.2.13"
mkdir -p "$OUT/failover-data"

now_ms() { local t=${EPOCHREALTIME/./}; echo "${t:0:-3}"; }
log_ms() { date -d "$1" +%s%3N; }	# an ISO-8601 veerd log time in epoch ms

topo_up 3
for i in 1 2 3; do start_nginx "b$i" "b$i" 8080; done
for i in 1 2 3; do wait_port "b$i" 127.0.0.1 8080; done

kill_nginx() {	# kill_nginx NS: master and worker, SIGKILL, by PID
	local var=NGINX_PID_${1}_8080 pid kids
	pid=${!var}
	kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
	kill -9 "$pid" $kids 2>/dev/null
	wait "$pid" 2>/dev/null
}
blackhole() {	# blackhole NS on|off
	if [ "$2" = on ]; then
		in_ns "$1" nft -f - <<-'NFT'
		table inet veer_bench_bh {
			chain input { type filter hook input priority 0; tcp dport 8080 drop; }
		}
		NFT
	else
		in_ns "$1" nft delete table inet veer_bench_bh 2>/dev/null
	fi
}
wait_served() {	# wait_served ANSWER: up to 8 s until 12 new connections in a row include it
	local i j r
	for i in $(seq 16); do
		r=$(for j in $(seq 12); do in_ns client curl -s --max-time 1 "http://$VIP/"; done)
		grep -q "^$1\$" <<<"$r" && return 0
		sleep 0.5
	done
	return 1
}

# run SYSTEM CASE: the stream, the fault at +2 s, then repair. Sets F.
run() {
	local sys=$1 case=$2 name=$1-$2
	ip netns exec "${P}client" bash "$FL" run "$WORK/$name" "$SECS" "$RATE/s" -- \
		curl -s -H 'Connection: close' --connect-timeout 3 --max-time 4 "http://$VIP/" &
	local lp=$!
	PIDS+=($lp)
	sleep 2
	F=$(now_ms)
	echo "$F" >"$WORK/$name.fault"
	case $case in
	crash) kill_nginx b2 ;;
	blackhole) blackhole b3 on ;;
	esac
	wait "$lp"
	case $case in
	crash) start_nginx b2 b2 8080; wait_port b2 127.0.0.1 8080; wait_served b2 ;;
	blackhole) blackhole b3 off; wait_served b3 ;;
	esac
}

# --- veer ---
cat >"$WORK/veer.yaml" <<YAML
$(node_yaml "n-c, n-b" xdp)
  - name: web
    vip: $VIP
    port: 80
    protocol: tcp
    probe: {type: http, port: 8080, path: /, interval: 200ms, timeout: 100ms, rise: 2, fall: 2}
    backends:
      - {address: 10.200.2.11, port: 8080}
      - {address: 10.200.2.12, port: 8080}
      - {address: 10.200.2.13, port: 8080}
YAML
start_veerd "$WORK/veer.yaml" || { echo "veerd did not start"; tail "$WORK/veerd.log"; exit 1; }
for b in b1 b2 b3; do wait_served "$b"; done
sleep 1
run veer crash
run veer blackhole
kill "$VEERD_PID"; wait "$VEERD_PID" 2>/dev/null
in_net node "$VEERD" --teardown --state-dir "$STATE" >/dev/null 2>&1
# When veerd took each backend out (first "down" transition after the fault).
veer_detect() {	# veer_detect CASE ADDR
	local f t
	f=$(cat "$WORK/veer-$1.fault")
	while read -r t; do
		t=$(log_ms "$t")
		[ "$t" -ge "$f" ] && { echo "+$((t - f))"; return; }
	done < <(grep -E "backend state.*backend=$2:8080.*to=(unhealthy|ejected)" "$WORK/veerd.log" |
		sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	echo "-"
}
DET_veer_crash=$(veer_detect crash 10.200.2.12)
DET_veer_blackhole=$(veer_detect blackhole 10.200.2.13)

# --- nftables DNAT + 1 s probe loop ---
cat >"$WORK/nft-probe.sh" <<'PROBE'
# nft-probe.sh VIP SECONDS LOG BACKEND...: every second, probe each backend
# (curl --max-time 0.5) and rewrite the DNAT rule when the live set changes.
vip=$1 secs=$2 log=$3; shift 3
prev=""
for round in $(seq "$secs"); do
	alive=()
	for b in "$@"; do
		curl -s -o /dev/null --max-time 0.5 "http://$b:8080/" && alive+=("$b")
	done
	if [ "${alive[*]}" != "$prev" ] && [ ${#alive[@]} -gt 0 ]; then
		map="" i=0
		for b in "${alive[@]}"; do map+="${map:+, }$i : $b"; i=$((i + 1)); done
		nft -f - <<NFT
flush chain ip veer_bench svc
add rule ip veer_bench svc ip daddr $vip tcp dport 80 dnat to numgen random mod ${#alive[@]} map { $map } : 8080
NFT
		t=${EPOCHREALTIME/./}
		echo "${t:0:-3} ${alive[*]}" >>"$log"
		prev="${alive[*]}"
	fi
	sleep 1
done
PROBE
in_ns node nft -f - <<NFT
table ip veer_bench {
	chain svc { type nat hook prerouting priority dstnat; policy accept; }
}
NFT
rounds=$(( (SECS + 12) * 2 + 20 ))	# both cases with their repairs, bounded
ip netns exec "${P}node" bash "$WORK/nft-probe.sh" "$VIP" "$rounds" "$WORK/nft-probe.log" $BACKENDS &
PROBE_PID=$!
PIDS+=($PROBE_PID)
for b in b1 b2 b3; do wait_served "$b"; done
run nftables crash
run nftables blackhole
kill "$PROBE_PID"; wait "$PROBE_PID" 2>/dev/null
in_ns node nft delete table ip veer_bench
nft_detect() {	# nft_detect CASE ADDR: when the probe loop dropped it
	local f t set
	f=$(cat "$WORK/nftables-$1.fault")
	while read -r t set; do
		[ "$t" -ge "$f" ] && ! grep -qw "$2" <<<"$set" && { echo "+$((t - f))"; return; }
	done <"$WORK/nft-probe.log"
	echo "-"
}
DET_nftables_crash=$(nft_detect crash 10.200.2.12)
DET_nftables_blackhole=$(nft_detect blackhole 10.200.2.13)

# --- table ---
TABLE=$OUT/failover-timeline.txt
{
	echo "failover timeline: 3 backends, curl at $RATE new connections/s (open loop," \
		"--connect-timeout 3 --max-time 4), fault at t=0"
	printf '%-10s %-9s %9s %7s %12s %12s %14s %12s\n' case system requests failed \
		"last err at" "last err end" "failed >500ms" "backend out"
	for c in crash blackhole; do
		for s in veer nftables; do
			f=$(cat "$WORK/$s-$c.fault")
			det=DET_${s}_$c
			awk -v f="$f" -v c="$c" -v s="$s" -v det="${!det}" '
				{ n++ }
				$4 != "ok" { fl++; if (last == "" || $1 > last) { last = $1; lend = $2 }
					     if ($1 > f + 500) late++ }
				END { printf "%-10s %-9s %9d %7d %12s %12s %14d %12s\n", c, s, n, fl,
					last == "" ? "-" : sprintf("%+d ms", last - f),
					last == "" ? "-" : sprintf("%+d ms", lend - f), late, det " ms" }' "$WORK/$s-$c"
			cp "$WORK/$s-$c" "$OUT/failover-data/$s-$c.log"
		done
	done
	echo "last err at / end: start and end of the last failed request, from the fault;"
	echo "failed >500ms: failed requests that started more than 500 ms after the fault;"
	echo "backend out: when the load balancer stopped sending new flows to it."
} | tee "$TABLE"
cp "$WORK/veerd.log" "$OUT/failover-data/veerd.log"
cp "$WORK/nft-probe.log" "$OUT/failover-data/nft-probe.log"

# --- plots: requests per 50 ms per backend, started in that slot ---
for c in crash blackhole; do
	for s in veer nftables; do
		bash "$FL" buckets "$WORK/$s-$c" "$(cat "$WORK/$s-$c.fault")" 50 >"$WORK/$s-$c.dat"
	done
	ncol=$(head -1 "$WORK/veer-$c.dat" | wc -w)
	ncol2=$(head -1 "$WORK/nftables-$c.dat" | wc -w)
	gnuplot <<GP
set terminal pngcairo size 1100,760 font ",10"
set output "$OUT/failover-$c.png"
set multiplot layout 2,1 title "Failover timeline: $c of one backend of three (t = 0: fault)"
set xlabel "seconds from the fault"
set ylabel "requests started per 50 ms"
set xrange [-2:$((SECS - 2))]
set yrange [0:*]
set key outside right top
set grid
set style line 1 lc rgb "#1f77b4" lw 1.5
set style line 2 lc rgb "#2ca02c" lw 1.5
set style line 3 lc rgb "#9467bd" lw 1.5
set style line 4 lc rgb "#d62728" lw 2
set arrow 1 from 0, graph 0 to 0, graph 1 nohead lc rgb "black" dt 2 lw 2
set label 1 "fault" at 0.05, graph 0.95
set title "veer (probes 200 ms x fall 2 + 100 ms timeout, passive signals)"
plot for [i=2:$ncol] "$WORK/veer-$c.dat" using 1:i with steps ls (i == $ncol ? 4 : i - 1) title columnhead(i)
set title "nftables DNAT (numgen random) + 1 s probe loop"
plot for [i=2:$ncol2] "$WORK/nftables-$c.dat" using 1:i with steps ls (i == $ncol2 ? 4 : i - 1) title columnhead(i)
unset multiplot
GP
	echo "plot: $OUT/failover-$c.png"
done
exit 0
