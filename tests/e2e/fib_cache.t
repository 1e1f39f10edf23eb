#!/bin/bash
# The datapath's forwarding cache follows the network: veerd starts a new
# cache generation on rtnetlink route and neighbour changes, so when a
# backend comes back with another MAC (a replaced pod keeps its address)
# the very next connection reaches it, in the tc mode that writes the
# cached MACs itself. Without the invalidation the cached MAC would be
# used for up to a second and these connections (0.5 s each) would fail.
. "$(dirname "$0")/lib.sh"
need nginx curl nsenter bpftool jq
plan 6

topo_up 1
start_nginx b1 b1 8080
wait_port b1 127.0.0.1 8080
cat >"$WORK/veer.yaml" <<YAML
$(node_yaml "n-c, n-b" tc)
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 200ms, timeout: 100ms}
    backends:
      - {address: 10.200.2.11, port: 8080}
YAML

fib_gen() { pinned_u32 veer_fibgen_v1; }

requests() {	# requests N: N new connections of at most 0.5 s each, all answered by b1
	local i
	for i in $(seq "$1"); do
		[ "$(in_ns client curl -s --max-time 0.5 http://10.200.100.10/)" = b1 ] || return 1
	done
}

check "veerd starts (tc mode)" start_veerd "$WORK/veer.yaml"
sleep 0.5
check "connections through the VIP (they fill the cache)" requests 5
g0=$(fib_gen)
in_ns node ip route add 10.250.0.0/24 via 10.200.2.11
sleep 0.2
g1=$(fib_gen)
diag "generation before and after a route change: $g0 $g1"
check "a route change starts a new cache generation" [ "${g1:-0}" -gt "${g0:-0}" ]

# b1 is replaced by a host with another MAC and the same address; the
# node learns it (as from a gratuitous ARP).
in_ns b1 ip link set eth0 address 02:00:00:00:0b:01
in_ns node ip neigh replace 10.200.2.11 lladdr 02:00:00:00:0b:01 dev n-b nud reachable
g2=$(fib_gen)
check "a neighbour change starts a new cache generation" [ "${g2:-0}" -gt "${g1:-0}" ]
check "the next connections reach b1 at its new MAC at once" requests 5
in_ns node ip route del 10.250.0.0/24
check "veerd still running" kill -0 "$VEERD_PID"
finish
