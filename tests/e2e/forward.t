#!/bin/bash
# Traffic through the VIP reaches every backend (TCP and UDP, IPv4 and
# IPv6), keep-alive connections stay on their backend, in XDP mode and in
# the all-tc mode.
. "$(dirname "$0")/lib.sh"
need nginx dnsmasq curl dig nsenter ethtool
plan 20

topo_up 4
for i in 1 2 3; do start_nginx "b$i" "b$i" 8080; done
start_nginx remote remote 8080
start_dnsmasq b4 53
for i in 1 2 3; do wait_port "b$i" 127.0.0.1 8080; done

http_spread() {	# http_spread URL N OUTFILE: N new connections, one line per answer
	local url=$1 n=$2 out=$3 i
	: >"$out"
	for i in $(seq "$n"); do
		in_ns client curl -s --max-time 2 "$url" >>"$out" || echo FAIL >>"$out"
	done
}

run_mode() {
	local mode=$1
	local out=$WORK/out-$mode
	std_config "$mode" >"$WORK/veer-$mode.yaml"
	check "$mode: veerd starts and serves its admin socket" start_veerd "$WORK/veer-$mode.yaml"
	sleep 0.5

	http_spread http://10.200.100.10/ 60 "$out.v4"
	diag "$mode v4 spread: $(count_backends "$out.v4")"
	check "$mode: 60 IPv4 connections through the VIP, none failed" \
		bash -c "! grep -q FAIL '$out.v4' && [ \$(wc -l <'$out.v4') = 60 ]"
	check "$mode: every local backend answered over IPv4" \
		bash -c "grep -q b1 '$out.v4' && grep -q b2 '$out.v4' && grep -q b3 '$out.v4'"
	check "$mode: the remote tier got nothing while tier 0 is healthy" \
		bash -c "! grep -q remote '$out.v4'"

	in_ns client curl -s --max-time 5 $(printf 'http://10.200.100.10/ %.0s' $(seq 20)) >"$out.ka"
	diag "$mode keep-alive: $(count_backends "$out.ka")"
	check "$mode: a keep-alive connection stays on one backend (20 requests)" \
		bash -c "[ \$(wc -l <'$out.ka') = 20 ] && [ \$(sort -u '$out.ka' | wc -l) = 1 ]"

	http_spread 'http://[fd00:200:100::10]/' 45 "$out.v6"
	diag "$mode v6 spread: $(count_backends "$out.v6")"
	check "$mode: 45 IPv6 connections, none failed, all three backends" \
		bash -c "! grep -q FAIL '$out.v6' && grep -q b1 '$out.v6' && grep -q b2 '$out.v6' && grep -q b3 '$out.v6'"

	check "$mode: DNS over UDP/IPv4 through the VIP" \
		bash -c "[ \"\$(ip netns exec ${P}client dig +short +time=1 +tries=2 @10.200.100.53 example.test)\" = 10.9.9.4 ]"
	check "$mode: DNS over UDP/IPv6 through the VIP" \
		bash -c "[ \"\$(ip netns exec ${P}client dig +short +time=1 +tries=2 @fd00:200:100::53 example.test)\" = 10.9.9.4 ]"

	# A client without checksum offload sends full checksums: XDP itself
	# rewrites those (the partial ones are left to tc, which the
	# default-offload runs above went through).
	in_ns client ethtool -K eth0 tx off >/dev/null 2>&1
	http_spread http://10.200.100.10/ 10 "$out.full"
	in_ns client ethtool -K eth0 tx on >/dev/null 2>&1
	check "$mode: full-checksum client traffic forwarded" \
		bash -c "! grep -q FAIL '$out.full'"
	kill "$VEERD_PID"; wait "$VEERD_PID" 2>/dev/null
	check "$mode: traffic still flows with veerd stopped" \
		bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.10/ | grep -q '^b'"
	in_net node "$VEERD" --teardown --state-dir "$STATE" >/dev/null 2>&1
}

run_mode xdp
run_mode tc
finish
