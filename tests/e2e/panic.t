#!/bin/bash
# The panic rule, when no backend passes its probe: use_all keeps sending
# traffic to every backend (here the probe, not the service, is broken);
# refuse answers new TCP connections with a RST at once.
. "$(dirname "$0")/lib.sh"
need nginx curl nsenter
plan 4

topo_up 2
for i in 1 2; do start_nginx "b$i" "b$i" 8080; done
for i in 1 2; do wait_port "b$i" 127.0.0.1 8080; done
cat >"$WORK/veer.yaml" <<YAML
$(node_yaml "n-c, n-b" tc)
  - name: all
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: tcp, port: 9999, interval: 100ms, timeout: 50ms, rise: 1, fall: 1}
    failover: {panic: use_all}
    backends: [{address: 10.200.2.11, port: 8080}, {address: 10.200.2.12, port: 8080}]
  - name: refuse
    vip: 10.200.100.11
    port: 80
    protocol: tcp
    probe: {type: tcp, port: 9999, interval: 100ms, timeout: 50ms, rise: 1, fall: 1}
    failover: {panic: refuse}
    backends: [{address: 10.200.2.11, port: 8080}, {address: 10.200.2.12, port: 8080}]
YAML
start_veerd "$WORK/veer.yaml" || { not_ok "veerd starts"; finish; }
sleep 1
check "both services are in panic" \
	[ "$(grep -c 'panic: no usable backend' "$WORK/veerd.log")" = 2 ]
for i in $(seq 20); do ip netns exec "${P}client" curl -s --max-time 2 http://10.200.100.10/ || echo FAIL; done >"$WORK/all.out"
check "use_all: every request served, by both backends" \
	bash -c "! grep -q FAIL '$WORK/all.out' && grep -q b1 '$WORK/all.out' && grep -q b2 '$WORK/all.out'"
start=$(date +%s%N)
ip netns exec "${P}client" curl -s --max-time 3 http://10.200.100.11/ >/dev/null 2>"$WORK/refuse.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
diag "refuse: curl exit $rc after $ms ms"
check "refuse: the connection is refused (curl exit 7)" [ "$rc" = 7 ]
check "refuse: at once, not after a timeout" [ "$ms" -lt 500 ]
finish
