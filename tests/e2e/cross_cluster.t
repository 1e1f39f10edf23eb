#!/bin/bash
# Cross-cluster failover: cluster A's service has its own backends in
# tier 0 and cluster B's gateway (B's node, running veer, serving the same
# VIP) in tier 1, as `nat: full` and, in a second variant, `encap: ipip`.
# Under a loop of new connections A's backends are killed: B serves within
# the failover bound, nothing fails after the switch; A's backends return:
# new connections go back to A, a keep-alive connection to B ends normally.
# Full NAT: 1000 concurrent connections from one client to one gateway
# port get 1000 distinct ports (veer_snat_v1). IPv4 and IPv6.
#
#   client 10.200.11.2 ── n-c  nodeA (veerd)  n-s ── sa (bridge) ── a1, a2 10.200.12.11-12
#                              n-x 10.200.13.1
#                               │
#                              n-x 10.200.13.2
#                              nodeB (veerd)  n-s ── b1 10.200.14.11
#
# B serves the VIP (decapsulated IPIP) and its gateway address
# 10.200.13.2:80 (full NAT target, and what A's probes connect to), both
# from b1. B routes the client's network back through A (IPIP replies go
# from b1 straight to the client: DSR).
. "$(dirname "$0")/lib.sh"
need nginx curl nsenter python3 bpftool
plan 56

STA=/sys/fs/bpf/veer-xc-$T_ID-a
STB=/sys/fs/bpf/veer-xc-$T_ID-b
VIP4=10.200.100.10
VIP6=fd00:200:100::10
BULK4=10.200.100.20
INTERVAL_MS=200; FALL=2; TIMEOUT_MS=100
BOUND_MS=$((INTERVAL_MS * FALL + TIMEOUT_MS))

topo() {
	add_ns client; add_ns nodea; add_ns nodeb; add_ns sa; add_ns a1; add_ns a2; add_ns b1
	link client eth0 nodea n-c
	addr client eth0 10.200.11.2/24 fd00:200:11::2/64
	addr nodea n-c 10.200.11.1/24 fd00:200:11::1/64
	in_ns client ip route add default via 10.200.11.1
	in_ns client ip -6 route add default via fd00:200:11::1
	link nodea n-s sa up
	addr nodea n-s 10.200.12.1/24 fd00:200:12::1/64
	in_ns sa ip link add br0 type bridge
	in_ns sa ip link set up dev br0
	in_ns sa ip link set up master br0 dev up
	for i in 1 2; do
		link "a$i" eth0 sa "p$i"
		in_ns sa ip link set up master br0 dev "p$i"
		addr "a$i" eth0 "10.200.12.1$i/24" "fd00:200:12::1$i/64"
		in_ns "a$i" ip route add default via 10.200.12.1
		in_ns "a$i" ip -6 route add default via fd00:200:12::1
	done
	link nodea n-x nodeb n-x
	addr nodea n-x 10.200.13.1/24 fd00:200:13::1/64
	addr nodeb n-x 10.200.13.2/24 fd00:200:13::2/64
	link nodeb n-s b1 eth0
	addr nodeb n-s 10.200.14.1/24 fd00:200:14::1/64
	addr b1 eth0 10.200.14.11/24 fd00:200:14::11/64
	in_ns b1 ip route add default via 10.200.14.1
	in_ns b1 ip -6 route add default via fd00:200:14::1
	# B reaches the client's network back through A.
	in_ns nodeb ip route add 10.200.11.0/24 via 10.200.13.1
	in_ns nodeb ip -6 route add fd00:200:11::/64 via fd00:200:13::1
	for n in nodea nodeb; do
		in_ns $n sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	# Full NAT / IPIP packets XDP hands to the stack carry the node's own
	# address as source (see docs/datapath.md).
	in_ns nodea sysctl -qw net.ipv4.conf.all.accept_local=1
	in_ns nodea ping -c1 -W1 10.200.12.11 >/dev/null 2>&1
	in_ns nodea ping -c1 -W1 10.200.12.12 >/dev/null 2>&1
	in_ns nodea ping -c1 -W1 10.200.13.2 >/dev/null 2>&1
	in_ns nodeb ping -c1 -W1 10.200.14.11 >/dev/null 2>&1
	true
}

config_a() {	# config_a MODE REMOTE_OPTS
	cat <<YAML
node:
  interfaces: [n-c, n-s, n-x]
  mode: $1
  admin_socket: $WORK/a.sock
  metrics: off
  snat: {ports: 20000-29999}
services:
  - name: web
    vip: $VIP4
    port: 80
    protocol: tcp
    probe: {type: http, path: /, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: 2, fall: $FALL, jitter: 0}
    failover: {failback_delay: 1s}
    backends:
      - {address: 10.200.12.11, port: 8080}
      - {address: 10.200.12.12, port: 8080}
      - {address: 10.200.13.2, port: 80, tier: 1, $2}
  - name: web6
    vip: "$VIP6"
    port: 80
    protocol: tcp
    probe: {type: http, path: /, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: 2, fall: $FALL, jitter: 0}
    failover: {failback_delay: 1s}
    backends:
      - {address: "fd00:200:12::11", port: 8080}
      - {address: "fd00:200:12::12", port: 8080}
      - {address: "fd00:200:13::2", port: 80, tier: 1, $2}
  - name: bulk
    vip: $BULK4
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms}
    backends:
      - {address: 10.200.13.2, port: 80, nat: full}
YAML
}

config_b() {
	cat <<YAML
node:
  interfaces: [n-x, n-s]
  mode: $1
  admin_socket: $WORK/b.sock
  metrics: off
services:
YAML
	local name vip
	for name in web:$VIP4 web6:$VIP6 gw:10.200.13.2 gw6:fd00:200:13::2; do
		vip=${name#*:}
		case $vip in *:*) be=fd00:200:14::11 ;; *) be=10.200.14.11 ;; esac
		cat <<YAML
  - name: ${name%%:*}
    vip: "$vip"
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 200ms, timeout: 100ms}
    backends:
      - {address: "$be", port: 8080}
YAML
	done
}

start_node_veerd() {	# start_node_veerd NS CONFIG STATE SOCK: waits for the socket
	local i
	nsenter --net=/run/netns/"$P$1" "$VEERD" --config "$2" --state-dir "$3" >>"$WORK/veerd-$1.log" 2>&1 &
	PIDS+=($!)
	eval "VEERD_PID_$1=$!"
	TEARDOWN+=("$1 $3")
	for i in $(seq 300); do
		[ -S "$4" ] && return 0
		sleep 0.05
	done
	return 1
}

stop_node_veerd() {	# stop_node_veerd NS STATE
	local pid
	eval "pid=\${VEERD_PID_$1:-}"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	in_net "$1" "$VEERD" --teardown --state-dir "$2" >/dev/null 2>&1
	rm -f "$WORK/a.sock" "$WORK/b.sock" 2>/dev/null
	true
}

url_of() { case $1 in *:*) echo "http://[$1]/" ;; *) echo "http://$1/" ;; esac; }

wait_answer() {	# wait_answer VIP PATTERN: up to 5 s until an answer matches
	local i u; u=$(url_of "$1")
	for i in $(seq 50); do
		in_ns client curl -s --max-time 1 "$u" 2>/dev/null | grep -q "$2" && return 0
		sleep 0.1
	done
	return 1
}

now_ms() { date +%s%3N; }

# failover VARIANT VIP: kill A's backends under load, bring them back.
failover() {
	local var=$1 vip=$2 u out ka t0 t_first t_back t_sw n_fail_after lat last_fail
	u=$(url_of "$vip")
	out=$WORK/loop-$var-$vip
	ka=$WORK/ka-$var-$vip
	check "$var $vip: tier 0 (A) serves while healthy" wait_answer "$vip" '^a[12]$'
	# The loop: new connection per request, bounded (350 requests).
	ip netns exec "${P}client" bash -c "for i in \$(seq 350); do t=\$(date +%s%3N);
		r=\$(curl -s --max-time 1 '$u' 2>/dev/null); echo \"\$t \${r:-FAIL}\"; sleep 0.02; done" \
		>"$out" 2>/dev/null &
	local loop=$!
	PIDS+=($loop)
	sleep 1.5
	t0=$(now_ms)
	kill "$(eval echo \$NGINX_PID_a1_8080)" "$(eval echo \$NGINX_PID_a2_8080)" 2>/dev/null
	sleep 2
	# A keep-alive connection to B spanning the failback: 16 requests at 4/s.
	ip netns exec "${P}client" curl -s --max-time 10 --rate 4/s \
		$(for i in $(seq 16); do printf '%s ' "$u"; done) >"$ka" 2>/dev/null &
	local kap=$!
	PIDS+=($kap)
	sleep 0.5
	t_back=$(now_ms)
	start_nginx a1 a1 8080
	start_nginx a2 a2 8080
	wait "$loop"
	wait "$kap"
	t_first=$(awk -v t0="$t0" '$1 >= t0 && $2 == "b1" { print $1; exit }' "$out")
	lat=$(( ${t_first:-99999999999999} - t0 ))
	# The switch is complete when every A backend must have been found
	# down (the bound), or at B's first answer if that is later: A
	# backends fail one by one, so requests to the one not yet detected
	# fail meanwhile (the tier policy may spill to B before all are down).
	t_sw=$(( t0 + BOUND_MS ))
	[ -n "$t_first" ] && [ "$t_first" -gt "$t_sw" ] && t_sw=$t_first
	last_fail=$(awk -v t0="$t0" '$1 >= t0 && $2 == "FAIL" { l = $1 - t0 } END { print l + 0 }' "$out")
	n_fail_after=$(awk -v t="$t_sw" '$1 >= t && $2 == "FAIL"' "$out" | wc -l)
	diag "$var $vip: $(wc -l <"$out") requests, $(grep -c ' a[12]$' "$out") from A, $(grep -c ' b1$' "$out") from B, $(grep -c FAIL "$out") failed; B first answered ${lat} ms after the kill (bound ${BOUND_MS} ms + 300 ms slack), last failure ${last_fail} ms after the kill, failures after the switch: $n_fail_after"
	[ "$n_fail_after" = 0 ] || diag "failed after the switch at (ms after the kill): $(awk -v t="$t_sw" -v t0="$t0" '$1 >= t && $2 == "FAIL" { printf "%d ", $1 - t0 }' "$out"); A back at $((t_back - t0)) ms"
	check "$var $vip: B serves within the failover bound (${lat} ms)" \
		test -n "$t_first" -a "$lat" -le $((BOUND_MS + 300))
	check "$var $vip: no failed request after the switch to B" test "$n_fail_after" = 0
	check "$var $vip: new connections go back to A after it returns" \
		bash -c "awk -v t=$t_back '\$1 > t' '$out' | tail -20 | awk '{print \$2}' | grep -qv '^a[12]\$' && exit 1 || exit 0"
	diag "$var $vip keep-alive to B across the failback: $(tr '\n' ' ' <"$ka")"
	check "$var $vip: the keep-alive connection to B ended normally (16 answers, all B)" \
		bash -c "[ \$(grep -c '^b1\$' '$ka') = 16 ]"
}

bulk_1000() {
	local py=$WORK/bulk.py res
	cat >"$py" <<'PY'
import os, resource, selectors, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
n, vip, ready, done = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket(); s.setblocking(False)
    try: s.connect((vip, 80))
    except BlockingIOError: pass
    socks.append(s)
sel = selectors.DefaultSelector()
for s in socks: sel.register(s, selectors.EVENT_WRITE)
sent, got, buf = set(), set(), {}
deadline = time.time() + 20
while len(got) < n and time.time() < deadline:
    for key, ev in sel.select(0.5):
        s = key.fileobj
        if ev & selectors.EVENT_WRITE and s not in sent:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                sel.unregister(s); continue
            s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); sent.add(s)
            sel.modify(s, selectors.EVENT_READ)
        elif ev & selectors.EVENT_READ:
            try: d = s.recv(4096)
            except OSError: d = b""
            buf[s] = buf.get(s, b"") + d
            if b"\r\n\r\nb1" in buf[s] or not d:
                sel.unregister(s)
                if b"\r\n\r\nb1" in buf[s]: got.add(s)
print(len(got), flush=True)
open(ready, "w").close()
for _ in range(200):
    if os.path.exists(done): break
    time.sleep(0.1)
for s in socks: s.close()
PY
	rm -f "$WORK/bulk.ready" "$WORK/bulk.done"
	ip netns exec "${P}client" python3 "$py" 1000 "$BULK4" "$WORK/bulk.ready" "$WORK/bulk.done" \
		>"$WORK/bulk.out" 2>&1 &
	local pp=$!
	PIDS+=($pp)
	for _ in $(seq 300); do [ -e "$WORK/bulk.ready" ] && break; sleep 0.1; done
	# Claims towards the gateway 10.200.13.2:80 while all are open.
	bpftool -j map dump pinned "$STA/veer_snat_v1" 2>/dev/null | python3 -c '
import json, sys
es = json.load(sys.stdin)
ports = set()
for e in es:
    k = [int(x, 16) for x in e["key"]]
    if k[0:4] == [10, 200, 13, 2] and k[32:34] == [0, 80]:
        ports.add(k[34] << 8 | k[35])
print(len(ports), min(ports) if ports else 0, max(ports) if ports else 0)' >"$WORK/bulk.ports"
	touch "$WORK/bulk.done"
	wait "$pp"
	res=$(head -1 "$WORK/bulk.out")
	diag "1000 concurrent connections through full NAT: $res answered; veer_snat_v1 ports (count min max): $(cat "$WORK/bulk.ports")"
	check "full NAT: 1000 concurrent connections from one client all answered" test "$res" = 1000
	check "full NAT: veer_snat_v1 held 1000 distinct ports to the one gateway port, within 20000-29999" \
		bash -c "read c lo hi <'$WORK/bulk.ports'; [ \"\$c\" = 1000 ] && [ \$lo -ge 20000 ] && [ \$hi -le 29999 ]"
}

topo
start_nginx a1 a1 8080
start_nginx a2 a2 8080
start_nginx b1 b1 8080 4096
wait_port a1 127.0.0.1 8080; wait_port a2 127.0.0.1 8080; wait_port b1 127.0.0.1 8080

run_variant() {	# run_variant NAME MODE REMOTE_OPTS
	local var=$1 mode=$2 opts=$3
	config_a "$mode" "$opts" >"$WORK/a-$var.yaml"
	config_b "$mode" >"$WORK/b-$var.yaml"
	check "$var: veerd starts on B" start_node_veerd nodeb "$WORK/b-$var.yaml" "$STB" "$WORK/b.sock"
	check "$var: veerd starts on A" start_node_veerd nodea "$WORK/a-$var.yaml" "$STA" "$WORK/a.sock"
	sleep 1
	failover "$var" "$VIP4"
	failover "$var" "$VIP6"
	if [ "$var" = fullnat ] || [ "$var" = fullnat-tc ]; then
		bulk_1000
	fi
	diag "$var: A's drop counters: $(in_net nodea "$VEERCTL" --state-dir "$STA" --socket "$WORK/a.sock" stats 2>/dev/null | grep -Ei 'snat|mtu|decap' | tr '\n' ' ')"
	grep -E 'exhausted|no source address' "$WORK/veerd-nodea.log" | head -3 | sed 's/^/# /'
	local dec
	dec=$(in_net nodeb "$VEERCTL" --state-dir "$STB" --socket "$WORK/b.sock" stats 2>/dev/null |
		awk '$1 == "decap:" { print $2 }')
	diag "$var: B decapsulated ${dec:-?} packets"
	case $var in
	ipip*) check "$var: B decapsulated the tunnelled traffic (${dec:-?} packets)" test "${dec:-0}" -gt 0 ;;
	*) check "$var: B decapsulated nothing in full NAT mode" test "${dec:-x}" = 0 ;;
	esac
	stop_node_veerd nodea "$STA"
	stop_node_veerd nodeb "$STB"
}

run_variant fullnat xdp "nat: full"
run_variant ipip xdp "encap: ipip"
run_variant fullnat-tc tc "nat: full"
run_variant ipip-tc tc "encap: ipip"
[ "$_tap_fail" = 0 ] || { diag "veerd A log tail:"; tail -15 "$WORK/veerd-nodea.log" | sed 's/^/#   /'; diag "veerd B log tail:"; tail -15 "$WORK/veerd-nodeb.log" | sed 's/^/#   /'; }
finish
