#!/bin/bash
# veer against what users would pick instead: kube-proxy-style nftables
# DNAT (a verdict map from VIP . proto . port to a per-service chain that
# picks an endpoint with `numgen random mod N`, then dnat), in the same
# namespace topology with the same services and nginx backends.
#
#   HTTP (wrk, keep-alive: established flows; Connection: close: a new
#   flow per request): requests/s and p99 latency, veer / nftables.
#   UDP packets (a sender in the client namespace, one socket: an
#   established flow; or one socket per packet: new flows): the time a
#   send takes minus the same send routed without any load balancer,
#   i.e. the per-packet cost the LB adds on the node (veth delivers in the
#   sender's own softirq, so the node's work is inside the send). Each
#   figure is the best of ROUNDS rounds, and its no-LB reference is
#   measured right before the LB is put in and right after it is taken
#   out: the machine drifts by more than an LB costs between phases.
#
# Modes: plain routing (no LB), nftables, veer tc, veer xdp. Namespaces
# only (tests/e2e/lib.sh); bounded loads; cleanup by PID and netns delete.
# Writes build/bench/nft_baseline.txt (nftables' added ns per UDP packet)
# for bpf_bench -b.
#   N_SVC=100 DUR=8 tests/bench/e2e_vs_nftables.sh
. "$(dirname "$0")/../e2e/lib.sh"
N_SVC=${N_SVC:-100}		# services on both sides (1 measured + fillers)
DUR=${DUR:-8}			# seconds per wrk run
N_UDP=${N_UDP:-100000}		# packets per UDP figure
ROUNDS=${ROUNDS:-5}		# ... in this many rounds, the best one kept
VIP=10.200.100.10
UVIP=10.200.100.53
OUT=$ROOT/build/bench/nft_baseline.txt
for c in nginx wrk nft python3 nsenter; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
[ -x "$VEERD" ] || { echo "SKIP: build/veerd not built"; exit 0; }

topo_up 2
for i in 1 2; do
	start_nginx "b$i" "b$i" 8080
	# UDP sink: datagrams to 5353 are dropped on arrival (no ICMP back).
	in_ns "b$i" nft -f - <<'NFT'
table inet sink {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 5353 drop
	}
}
NFT
done
for i in 1 2; do wait_port "b$i" 127.0.0.1 8080 || { echo "nginx did not start"; exit 1; }; done

# Filler service k (1..N_SVC-1): VIP 10.200.101.k.. on port 80.
filler_vip() { echo "10.200.$((101 + $1 / 250)).$(($1 % 250 + 1))"; }

nft_rules() {	# kube-proxy's nftables mode, reduced to what a ClusterIP needs
	local k
	echo "table ip kube-proxy {"
	echo " chain sep-b1 { meta l4proto tcp dnat to 10.200.2.11:8080; meta l4proto udp dnat to 10.200.2.11:5353; }"
	echo " chain sep-b2 { meta l4proto tcp dnat to 10.200.2.12:8080; }"
	echo " chain svc-web { numgen random mod 2 vmap { 0 : goto sep-b1, 1 : goto sep-b2 }; }"
	echo " chain svc-dns { numgen random mod 1 vmap { 0 : goto sep-b1 }; }"
	for k in $(seq 1 $((N_SVC - 1))); do
		echo " chain svc-f$k { numgen random mod 2 vmap { 0 : goto sep-b1, 1 : goto sep-b2 }; }"
	done
	echo " map service-ips { type ipv4_addr . inet_proto . inet_service : verdict;"
	echo "  elements = { $VIP . tcp . 80 : goto svc-web, $UVIP . udp . 53 : goto svc-dns"
	for k in $(seq 1 $((N_SVC - 1))); do echo "   , $(filler_vip "$k") . tcp . 80 : goto svc-f$k"; done
	echo "  } }"
	echo " chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }"
	echo " chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }"
	echo "}"
}

# web_yaml NAME VIP: an unprobed TCP/80 service on both nginx backends.
web_yaml() {
	printf '  - name: %s\n    vip: %s\n    port: 80\n    protocol: tcp\n    probe: {type: none}\n' "$1" "$2"
	printf '    backends:\n      - {address: 10.200.2.11, port: 8080}\n      - {address: 10.200.2.12, port: 8080}\n'
}

veer_config() {	# MODE
	local k
	node_yaml "n-c, n-b" "$1"
	web_yaml web "$VIP"
	cat <<YAML
  - name: dns
    vip: $UVIP
    port: 53
    protocol: udp
    probe: {type: none}
    backends:
      - {address: 10.200.2.11, port: 5353}
YAML
	for k in $(seq 1 $((N_SVC - 1))); do
		web_yaml "f$k" "$(filler_vip "$k")"
	done
}

# wrk_run URL [close]: "req/s p99_ms" (0 0 on failure), bounded by timeout.
wrk_run() {
	local hdr=() out rps p99
	[ "${2:-}" = close ] && hdr=(-H "Connection: close")
	out=$(in_ns client timeout $((DUR + 15)) wrk -t1 -c16 -d"${DUR}s" --latency "${hdr[@]}" "$1" 2>&1)
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
		else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
		print v}' <<<"$out")
	if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
		diag "wrk $1 ${2:-}: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2
	fi
	echo "${rps:-0} ${p99:-0}"
}

# udp_cost DST PORT [new]: ns per send of N_UDP datagrams, the best of
# ROUNDS rounds (bounded).
udp_cost() {
	in_ns client timeout 120 python3 - "$1" "$2" "${3:-est}" "$N_UDP" "$ROUNDS" <<'PY'
import resource, socket, sys, time
dst, port, kind, n, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
data = b"x" * 32
best = float("inf")
# Unconnected sends: an ICMP error coming back is not reported to them.
if kind == "est":   # one socket, one source port: one flow
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    for _ in range(1000):
        s.sendto(data, (dst, port))
    for _ in range(rounds):
        t = time.perf_counter_ns()
        for _ in range(n // rounds):
            s.sendto(data, (dst, port))
        best = min(best, (time.perf_counter_ns() - t) / (n // rounds))
else:   # a new flow per packet: one socket (source port) each, made beforehand
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    n = min(n, 20000, hard - 64) // rounds
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for _ in range(rounds):
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
        for s in socks:
            s.bind(("0.0.0.0", 0))
        t = time.perf_counter_ns()
        for s in socks:
            s.sendto(data, (dst, port))
        best = min(best, (time.perf_counter_ns() - t) / n)
        for s in socks:
            s.close()
print(best)
PY
}

# plain_udp MODE: the no-LB reference sends for MODE, accumulated (the
# mean of the one before and the one after the LB).
plain_udp() {
	local e n
	e=$(udp_cost 10.200.2.11 5353)
	n=$(udp_cost 10.200.2.11 5353 new)
	R[$1.ref.udp]=$(awk -v a="${R[$1.ref.udp]:-}" -v b="$e" 'BEGIN { print a == "" ? b : (a + b) / 2 }')
	R[$1.ref.udpnew]=$(awk -v a="${R[$1.ref.udpnew]:-}" -v b="$n" 'BEGIN { print a == "" ? b : (a + b) / 2 }')
}

declare -A R
measure() {	# MODE HTTP_URL UDP_DST UDP_PORT
	read -r R[$1.ka.rps] R[$1.ka.p99] < <(wrk_run "$2")
	read -r R[$1.cl.rps] R[$1.cl.p99] < <(wrk_run "$2" close)
	R[$1.udp]=$(udp_cost "$3" "$4")
	R[$1.udpnew]=$(udp_cost "$3" "$4" new)
	diag "$1: keep-alive ${R[$1.ka.rps]} req/s p99 ${R[$1.ka.p99]} ms; close ${R[$1.cl.rps]} req/s" \
		"p99 ${R[$1.cl.p99]} ms; UDP ${R[$1.udp]} ns/send, new-flow UDP ${R[$1.udpnew]} ns/send"
}

# 1. plain routing, no LB: the client talks to a backend directly.
measure plain http://10.200.2.11:8080/ 10.200.2.11 5353

# 2. nftables DNAT in the node.
plain_udp nft
nft_rules | in_ns node nft -f - || { echo "nft ruleset failed"; exit 1; }
in_ns client timeout 5 curl -s "http://$VIP/" >/dev/null || diag "nft: first request failed"
measure nft "http://$VIP/" $UVIP 53
in_ns node nft delete table ip kube-proxy
plain_udp nft

# 3./4. veer, tc then XDP.
for mode in tc xdp; do
	plain_udp "veer-$mode"
	veer_config "$mode" >"$WORK/veer-$mode.yaml"
	start_veerd "$WORK/veer-$mode.yaml" || { echo "veerd ($mode) did not start"; tail -5 "$WORK/veerd.log"; exit 1; }
	for _ in $(seq 50); do
		in_ns client timeout 1 curl -s "http://$VIP/" 2>/dev/null | grep -q '^b' && break
		sleep 0.1
	done
	measure "veer-$mode" "http://$VIP/" $UVIP 53
	kill "$VEERD_PID"; wait "$VEERD_PID" 2>/dev/null
	in_net node "$VEERD" --teardown --state-dir "$STATE" >/dev/null 2>&1
	plain_udp "veer-$mode"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a - b }'; }

echo
echo "e2e vs nftables: $N_SVC services, 2 nginx backends, wrk -t1 -c16 ${DUR}s; UDP $N_UDP packets"
printf '%-26s %12s %12s %12s %12s %10s %10s\n' metric plain nftables veer-tc veer-xdp "tc/nft" "xdp/nft"
for m in ka.rps ka.p99 cl.rps cl.p99; do
	case $m in
	ka.rps) name="keep-alive req/s" ;; ka.p99) name="keep-alive p99 ms" ;;
	cl.rps) name="new conn req/s" ;; cl.p99) name="new conn p99 ms" ;;
	esac
	printf '%-26s %12s %12s %12s %12s %10s %10s\n' "$name" "${R[plain.$m]}" "${R[nft.$m]}" \
		"${R[veer-tc.$m]}" "${R[veer-xdp.$m]}" "$(ratio "${R[veer-tc.$m]}" "${R[nft.$m]}")" \
		"$(ratio "${R[veer-xdp.$m]}" "${R[nft.$m]}")"
done
for m in udp udpnew; do
	name="UDP est, added ns/pkt"; [ $m = udpnew ] && name="UDP new flow, added ns/pkt"
	n=$(added "${R[nft.$m]}" "${R[nft.ref.$m]}")
	t=$(added "${R[veer-tc.$m]}" "${R[veer-tc.ref.$m]}")
	x=$(added "${R[veer-xdp.$m]}" "${R[veer-xdp.ref.$m]}")
	printf '%-26s %12s %12s %12s %12s %10s %10s\n' "$name" "0" "$n" "$t" "$x" \
		"$(ratio "$t" "$n")" "$(ratio "$x" "$n")"
	R[$m.nftadded]=$n
done
echo "(req/s: higher is better; p99 and added ns: lower is better. ratio = veer / nftables.)"
echo "(veer-xdp here runs native XDP on veths: the kernel copies a locally sent skb without"
echo " 256 bytes of headroom into an XDP buffer per packet; XDP mode pays off on NICs.)"
mkdir -p "$(dirname "$OUT")"
{
	echo "udp ${R[udp.nftadded]}"
	echo "est ${R[udp.nftadded]}"
	echo "new ${R[udpnew.nftadded]}"
} >"$OUT"
echo "nftables' added per-packet cost written to $OUT (for bpf_bench -b)"
