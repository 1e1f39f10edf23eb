#!/bin/bash
# Half-open slots with real traffic: the SYN of a plain-DNAT service's new
# connection keeps its state in a slot of veer_synq_v1 (bpf/lib/synq.h),
# not in the LRU pair. The backend's firewall drops the client's SYNs, so
# the flow stays half-open long enough to look at: veerctl shows it in a
# slot, the kernel's retransmission finds the slot (syn_count 2), and once
# the firewall is gone a connection completes and its slot is freed. Then
# a burst of new connections from two threads (the slots' compare-and-swap
# claims race on both CPUs): every request served, every slot freed.
. "$(dirname "$0")/lib.sh"
need nginx curl nsenter nft jq wrk
plan 10

jqc() { jq -e "$1" "$2" >/dev/null; }	# jqc FILTER FILE: the filter holds

topo_up 1
start_nginx b1 b1 8080
wait_port b1 127.0.0.1 8080
cat >"$WORK/veer.yaml" <<YAML
$(node_yaml "n-c, n-b" xdp)
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 200ms, timeout: 100ms}
    backends: [{address: 10.200.2.11, port: 8080}]
YAML
start_veerd "$WORK/veer.yaml" || { not_ok "veerd starts"; finish; }
sleep 0.5

# The client's SYNs only (veerd's probes from the node still pass).
in_ns b1 nft -f - <<'NFT'
table inet veer_test_syn {
	chain input { type filter hook input priority 0; ip saddr 10.200.1.2 tcp dport 8080 tcp flags syn drop; }
}
NFT
in_ns client curl -s --connect-timeout 2 http://10.200.100.10/ >/dev/null 2>&1 &
CURL_PID=$!
PIDS+=($CURL_PID)
sleep 0.5
veerctl -j flow count >"$WORK/count1.json"
diag "flow count: $(jq -c . "$WORK/count1.json")"
check "the unanswered SYN is half-open in a slot, not in the LRU pair" \
	jqc '.syn_sent == 1 and .half_open_slots.entries == 1 and .half_open.entries == 0' \
	"$WORK/count1.json"
veerctl -j flow list >"$WORK/list1.json"
check "flow list: client -> VIP -> backend, syn_sent" \
	jqc '.[0] | .client == "10.200.1.2" and .vip == "10.200.100.10" and .backend == "10.200.2.11"
		and .state == "syn_sent" and .syn_count == 1' "$WORK/list1.json"
sleep 1	# the kernel resends the SYN after 1 s
veerctl -j flow list >"$WORK/list2.json"
diag "after the retransmission: $(jq -c '.[0] | {state, syn_count, age_ms}' "$WORK/list2.json")"
check "the retransmitted SYN found its slot (syn_count 2)" \
	jqc '.[0].syn_count == 2 and .[0].state == "syn_sent"' "$WORK/list2.json"
wait "$CURL_PID"
check "with its SYNs dropped the connection failed" [ $? -ne 0 ]

in_ns b1 nft delete table inet veer_test_syn
out=$(in_ns client curl -s --max-time 3 http://10.200.100.10/)
check "the firewall gone, a new connection completes" [ "$out" = b1 ]
veerctl -j flow count >"$WORK/count2.json"
diag "flow count: $(jq -c . "$WORK/count2.json")"
veerctl -j flow list >"$WORK/list3.json"
port1=$(jq '.[0].client_port' "$WORK/list1.json")
check "its slot was freed when the SYN-ACK promoted it (only the failed flow's is left)" \
	jqc ".half_open_slots.entries == 1 and .half_open.entries == 0 and .established + .closing == 1" \
	"$WORK/count2.json"
check "the slot left is the failed connection's" \
	jqc "[.[] | select(.state == \"syn_sent\") | .client_port] == [$port1]" "$WORK/list3.json"

in_ns client timeout 20 wrk -t2 -c16 -d3s --timeout 2s -H "Connection: close" \
	http://10.200.100.10/ >"$WORK/wrk" 2>&1
diag "$(grep -E 'requests in|Socket errors|Non-2xx' "$WORK/wrk" | tr '\n' ' ')"
reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk")
check "a burst of new connections: over 1000 served, no socket error, no non-2xx" \
	bash -c "[ '${reqs:-0}' -gt 1000 ] && ! grep -qE 'Socket errors|Non-2xx' '$WORK/wrk'"
sleep 0.2
veerctl -j flow count >"$WORK/count3.json"
diag "flow count: $(jq -c '{total, syn_sent, half_open, half_open_slots}' "$WORK/count3.json")"
# (the burst's ~28K ephemeral ports wrap: one may reuse the failed
# connection's tuple, complete, and free its slot too)
check "after the burst no half-open state is left but the failed connection's" \
	jqc '.half_open_slots.entries <= 1 and .half_open.entries == 0 and .syn_sent <= 1' \
	"$WORK/count3.json"
check "veerd logged no error" bash -c "! grep -q 'level=error' '$WORK/veerd.log'"
finish
