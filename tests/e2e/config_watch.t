#!/bin/bash
# Config reload as Kubernetes does it: the file is a symlink through
# ..data, and an update swaps ..data. Other files changing in the same
# directory (here veerd's own log) do not trigger reloads, and a rejected
# file is reported once.
. "$(dirname "$0")/lib.sh"
need nginx curl nsenter bpftool jq
plan 8

topo_up 1
start_nginx b1 b1 8080
wait_port b1 127.0.0.1 8080
CM=$WORK/cm
svc() {	# svc NAME VIP
	printf '  - {name: %s, vip: %s, port: 80, protocol: tcp, probe: {type: none}, backends: [{address: 10.200.2.11, port: 8080}]}\n' "$1" "$2"
}
publish() {	# publish VERSION: what the kubelet does with a ConfigMap update
	mkdir -p "$CM/..$1"
	cat >"$CM/..$1/veer.yaml"
	ln -sfn "..$1" "$CM/..data_tmp" && mv -T "$CM/..data_tmp" "$CM/..data"
}
mkdir -p "$CM"
{ node_yaml "n-c, n-b"; svc web 10.200.100.10; } | publish v1
ln -s ..data/veer.yaml "$CM/veer.yaml"
# veerd logs into the watched directory: its own writes must not reload.
nsenter --net=/run/netns/"${P}node" "$VEERD" --config "$CM/veer.yaml" --state-dir "$STATE" \
	>>"$CM/veerd.log" 2>&1 &
VEERD_PID=$!
PIDS+=($VEERD_PID)
for _ in $(seq 300); do [ -S "$SOCK" ] && break; sleep 0.05; done
sleep 1
check "veerd does not reload on its own log writes" \
	[ "$(grep -c 'msg=reconciled' "$CM/veerd.log")" = 1 ]

{ node_yaml "n-c, n-b"; svc web 10.200.100.10; svc web2 10.200.100.11; } | publish v2
for _ in $(seq 40); do grep -q 'service added.*web2' "$CM/veerd.log" && break; sleep 0.05; done
check "a ..data symlink swap is picked up" grep -q 'service added.*web2' "$CM/veerd.log"
# "service added" is logged before the service is written: wait for the
# apply to finish, or the first SYN may beat it.
for _ in $(seq 40); do grep -q 'config applied.*services=2' "$CM/veerd.log" && break; sleep 0.05; done
check "the new service serves" \
	bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.11/ | grep -q b1"

# conntrack.flow_cache reaches the datapath: VEER_CFG_F_NO_FLOW_CACHE (2)
# in the last word of veer_cfg_v1, and the caches' generation moves.
cfg_flags() { bpftool -j map lookup pinned "$STATE/veer_cfg_v1" key 0 0 0 0 | jq -r '.value[28]'; }
G0=$(pinned_u32 veer_flowgen_v1)
{ node_yaml "n-c, n-b" | sed 's/^services:$/  conntrack: {flow_cache: false}\nservices:/'
  svc web 10.200.100.10; svc web2 10.200.100.11; } | publish v2b
for _ in $(seq 40); do [ $(( $(cfg_flags) & 2 )) = 2 ] && break; sleep 0.05; done
check "conntrack.flow_cache: false sets the datapath's flag" [ $(( $(cfg_flags) & 2 )) = 2 ]
# veerd bumps right after it writes the flag: give it those microseconds.
for _ in $(seq 20); do [ "$(pinned_u32 veer_flowgen_v1)" -gt "$G0" ] && break; sleep 0.05; done
check "turning the flow cache off ends cached flows (generation bumped)" \
	[ "$(pinned_u32 veer_flowgen_v1)" -gt "$G0" ]
check "services keep serving with the flow cache off" \
	bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.11/ | grep -q b1"

printf 'node: {interfaces: [n-c]}\nservices: [{name: web}]\n' | publish v3
sleep 1.5
check "a rejected config is reported once, not on every write nearby" \
	[ "$(grep -c 'config rejected' "$CM/veerd.log")" = 1 ]
check "the config in force keeps serving" \
	bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.11/ | grep -q b1"
cp "$CM/veerd.log" "$WORK/veerd.log"
finish
