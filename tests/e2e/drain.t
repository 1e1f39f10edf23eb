#!/bin/bash
# Drain: a draining backend gets no new flows, keeps its established ones,
# and after failover.drain_timeout the flows still left are cut.
. "$(dirname "$0")/lib.sh"
need nginx curl jq nsenter
plan 6

topo_up 2
for i in 1 2; do start_nginx "b$i" "b$i" 8080; done
for i in 1 2; do wait_port "b$i" 127.0.0.1 8080; done
cat >"$WORK/veer.yaml" <<YAML
$(node_yaml "n-c, n-b" tc)
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 200ms, timeout: 100ms}
    failover: {drain_timeout: 2s}
    backends:
      - {address: 10.200.2.11, port: 8080}
      - {address: 10.200.2.12, port: 8080}
YAML
start_veerd "$WORK/veer.yaml" || { not_ok "veerd starts"; finish; }
sleep 0.5

# One keep-alive connection, a request every 250 ms for 6 s.
ip netns exec "${P}client" curl -s --rate 4/s --max-time 8 \
	$(printf 'http://10.200.100.10/ %.0s' $(seq 24)) >"$WORK/ka.out" 2>/dev/null &
KA=$!
PIDS+=($KA)
sleep 0.6
held=$(veerctl -j flow list --service web | jq -r '.[0].backend // empty')
check "the keep-alive connection is tracked" [ -n "$held" ]
other=10.200.2.11; [ "$held" = 10.200.2.11 ] && other=10.200.2.12
veerctl backend drain web "$held:8080" >/dev/null
for i in $(seq 20); do ip netns exec "${P}client" curl -s --max-time 2 http://10.200.100.10/; done >"$WORK/new.out"
check "new connections avoid the draining backend" \
	bash -c "[ \$(grep -c . '$WORK/new.out') = 20 ] && ! grep -q b${held##*.1} '$WORK/new.out'"
check "its established flow stays during the drain" \
	[ "$(veerctl -j flow list --backend "$held:8080" | jq length)" -ge 1 ]
sleep 2.5
check "after drain_timeout its remaining flows are cut" \
	[ "$(veerctl -j flow list --backend "$held:8080" | jq length)" = 0 ]
check "veerd says so" grep -q "drain deadline: remaining flows cut.*flows=[1-9]" "$WORK/veerd.log"
wait "$KA" 2>/dev/null
veerctl backend undrain web "$held:8080" >/dev/null
for i in $(seq 30); do ip netns exec "${P}client" curl -s --max-time 2 http://10.200.100.10/; done >"$WORK/after.out"
check "undrained, it takes new flows again" grep -q "b${held##*.1}" "$WORK/after.out"
finish
