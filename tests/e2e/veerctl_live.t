#!/bin/bash
# veerctl against a running datapath: real traffic through the VIPs (new
# connections, a keep-alive connection kept open in the background, DNS
# over UDP), then every command in text and JSON, the JSON checked field
# by field against what this test did. Then flush, drain, events (a backend
# killed by PID), config show / check, the errors when veerd is down and
# when nothing was ever pinned, usage errors (exit 2), bash completion.
. "$(dirname "$0")/lib.sh"
need nginx dnsmasq curl dig jq nsenter
[ -x "$VEERCTL" ] || skip_all "build/veerctl not built"

EMPTY=/sys/fs/bpf/veer-e2e-$T_ID-empty	# a bpffs dir nothing was pinned in
live_cleanup() { rmdir "$EMPTY" 2>/dev/null; cleanup; }
trap live_cleanup EXIT

VOUT=$WORK/vout
VERR=$WORK/verr
RC=0
# vc ARGS: veerctl in the node namespace; output in $VOUT / $VERR, status in $RC.
vc() { veerctl "$@" >"$VOUT" 2>"$VERR"; RC=$?; }
vcx() { in_net node "$VEERCTL" "$@" >"$VOUT" 2>"$VERR"; RC=$?; }	# own --state-dir/--socket
show_out() { sed 's/^/#   out: /' "$VOUT" | head -${1:-25}; sed 's/^/#   err: /' "$VERR" | head -5; }
is() {	# got expected description
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; diag "got '$1', expected '$2'"; fi
}
jqv() { jq -r "$@" <"$VOUT" 2>&1; }
jq_is() {	# filter expected description [jq args...]
	local f=$1 e=$2 d=$3; shift 3
	is "$(jqv "$@" "$f")" "$e" "$d"
}
jq_ok() {	# filter description [jq args...]: the filter yields true
	local f=$1 d=$2; shift 2
	if jq -e "$@" "$f" <"$VOUT" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; show_out; fi
}
rc_is() { is "$RC" "$1" "$2"; }
out_has() {	# ERE description
	if grep -Eq -- "$1" "$VOUT"; then ok "$2"; else not_ok "$2"; show_out; fi
}
err_has() {
	if grep -Eq -- "$1" "$VERR"; then ok "$2"; else not_ok "$2"; show_out; fi
}
# The text row whose first cells are the given words (columns split on blanks).
row() { awk -v k="$*" 'BEGIN { n = split(k, w, " ") } { for (i = 1; i <= n; i++) if ($i != w[i]) next; print }' "$VOUT"; }

addr_of() { case $1 in b*) echo "10.200.2.1${1#b}" ;; remote) echo 10.200.3.2 ;; esac; }
cnt() { grep -cx "$1" "$2"; }	# cnt WORD FILE: lines equal to WORD
# N new connections through URL, one answer line each (FAIL when none).
spread() {
	local url=$1 n=$2 out=$3 i
	: >"$out"
	for i in $(seq "$n"); do
		in_ns client curl -s --max-time 2 "$url" >>"$out" || echo FAIL >>"$out"
	done
}

topo_up 4
for i in 1 2 3; do start_nginx "b$i" "b$i" 8080; done
start_nginx remote remote 8080
start_dnsmasq b4 53
for i in 1 2 3; do wait_port "b$i" 127.0.0.1 8080; done
wait_port remote 127.0.0.1 8080

CFG=$WORK/veer.yaml
cat >"$CFG" <<YAML
node:
  interfaces: [n-c, n-b, n-r]
  mode: xdp
  admin_socket: $SOCK
  metrics: off
  conntrack: {close_timeout: 5m}
services:
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: http, port: 8080, path: /, interval: 300ms, timeout: 250ms, rise: 2, fall: 2}
    failover: {min_healthy: 30%}
    backends:
      - {address: 10.200.2.11, port: 8080, weight: 1}
      - {address: 10.200.2.12, port: 8080, weight: 2}
      - {address: 10.200.2.13, port: 8080, weight: 1}
      - {address: 10.200.3.2, port: 8080, tier: 2}
  - name: web6
    vip: "fd00:200:100::10"
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 300ms, timeout: 250ms}
    backends:
      - {address: "fd00:200:2::11", port: 8080}
      - {address: "fd00:200:2::12", port: 8080}
  - name: dns
    vip: 10.200.100.53
    port: 53
    protocol: udp
    probe: {type: dns, query: example.test, interval: 300ms, timeout: 250ms}
    backends:
      - {address: 10.200.2.14, port: 53}
YAML
WEB_ADDRS='["10.200.2.11","10.200.2.12","10.200.2.13","10.200.3.2"]'

check "veerd starts and serves its admin socket" start_veerd "$CFG"
all_healthy() {
	local i
	for i in $(seq 50); do
		vc -j backend list
		[ "$(jqv '[.[] | select(.health.state == "healthy")] | length')" = 7 ] && return 0
		sleep 0.1
	done
	return 1
}
check "all 7 backends healthy within 5 s" all_healthy

# ---- traffic ----
# The keep-alive connection: one curl, many URLs, 4 a second, bounded.
KA_OUT=$WORK/ka
ip netns exec "${P}client" curl -s --max-time 5 --rate 4/s \
	$(printf 'http://10.200.100.10/ka%d ' $(seq 400)) >"$KA_OUT" 2>/dev/null &
KA_PID=$!
PIDS+=("$KA_PID")
for _ in $(seq 30); do [ -s "$KA_OUT" ] && break; sleep 0.1; done
KA_NAME=$(head -1 "$KA_OUT")
KA_BE=$(addr_of "$KA_NAME")
diag "keep-alive connection on $KA_NAME ($KA_BE)"
check "the keep-alive connection answers" test -n "$KA_BE"

spread http://10.200.100.10/ 30 "$WORK/spread"
diag "web spread: $(count_backends "$WORK/spread")"
check "30 new connections to web, none failed" \
	bash -c "! grep -q FAIL '$WORK/spread' && [ \$(wc -l <'$WORK/spread') = 30 ]"
spread 'http://[fd00:200:100::10]/' 6 "$WORK/spread6"
check "6 new connections to web6, none failed" \
	bash -c "! grep -q FAIL '$WORK/spread6' && [ \$(wc -l <'$WORK/spread6') = 6 ]"
for i in 1 2 3; do
	in_ns client dig +short +time=1 +tries=2 @10.200.100.53 example.test >>"$WORK/dns"
done
check "3 DNS queries through the UDP VIP answered" \
	bash -c "[ \$(grep -cx 10.9.9.4 '$WORK/dns') = 3 ]"
# What each backend of web should have counted as new flows.
for b in b1 b2 b3; do
	eval "EXP_$b=$(($(cnt "$b" "$WORK/spread") + $([ "$b" = "$KA_NAME" ] && echo 1 || echo 0)))"
done
WEB_FLOWS=31

# ---- service list / show ----
vc service list
rc_is 0 "service list: exit 0"
is "$(head -1 "$VOUT" | tr -s ' ')" "NAME VIP PORT PROTO TIER PANIC ACTIVE DRAINING DOWN PACKETS BYTES FLOWS" \
	"service list: text header"
is "$(row web | awk '{print $2, $3, $4, $5, $6, $7, $8, $9, $12}')" "10.200.100.10 80 tcp 0 no 4 0 0 $WEB_FLOWS" \
	"service list: web row (vip, port, proto, tier, panic, active/draining/down, flows)"
is "$(row web6 | awk '{print $2, $3, $4, $7, $12}')" "fd00:200:100::10 80 tcp 2 6" "service list: web6 row"
is "$(row dns | awk '{print $2, $3, $4, $7, $12}')" "10.200.100.53 53 udp 1 3" "service list: dns row"

vc -j service list
rc_is 0 "service list -j: exit 0"
jq_is '[.[].name] | join(",")' "dns,web,web6" "service list -j: names, sorted"
jq_is '.[] | select(.name == "web") | [.vip, .port, .protocol, .active_tier, .panic] | map(tostring) | join(" ")' \
	"10.200.100.10 80 tcp 0 false" "service list -j: web vip, port, protocol, tier, panic"
jq_is '.[] | select(.name == "web6") | [.vip, .port, .protocol] | map(tostring) | join(" ")' \
	"fd00:200:100::10 80 tcp" "service list -j: web6 vip, port, protocol"
jq_is '.[] | select(.name == "dns") | [.vip, .port, .protocol] | map(tostring) | join(" ")' \
	"10.200.100.53 53 udp" "service list -j: dns vip, port, protocol"
jq_is '[.[] | "\(.name)=\(.backends.active)/\(.backends.draining)/\(.backends.down)"] | join(" ")' \
	"dns=1/0/0 web=4/0/0 web6=2/0/0" "service list -j: backend counts by state"
jq_is '[.[] | "\(.name)=\(.stats.new_flows)"] | join(" ")' "dns=3 web=$WEB_FLOWS web6=6" \
	"service list -j: new flows per service = connections made"
jq_ok 'all(.[]; .stats.packets >= .stats.new_flows and .stats.bytes > .stats.packets
	and .stats.repicks == 0 and .stats.refused == 0 and .stats.no_backend == 0)' \
	"service list -j: packets and bytes counted, no repick/refused/no_backend"

vc service show web
rc_is 0 "service show web: exit 0"
out_has '^name: +web$' "service show: name line"
out_has '^active_tier: +0$' "service show: active tier"
out_has '^table_size: +16381$' "service show: Maglev table size"
out_has '^tier_since: +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+(ms|s) ago\)$' "service show: tier_since with age"
is "$(awk '/^  active:/ {a = 1; next} a && /^    [0-9]/ {print $1, $2, $3, $4} /^  [a-z]/ {a = 0}' "$VOUT" | tr '\n' ';')" \
	"10.200.2.11:8080 0 1 healthy;10.200.2.12:8080 0 2 healthy;10.200.2.13:8080 0 1 healthy;10.200.3.2:8080 2 1 healthy;" \
	"service show: active backends table (address, tier, weight, health)"
out_has '^  draining: none$' "service show: no draining backends"
out_has '^  down: none$' "service show: no down backends"

vc -j service show web
jq_is '[.name, .vip, .port, .protocol, .active_tier, .panic, .table_size, .refuse, .empty] | map(tostring) | join(" ")' \
	"web 10.200.100.10 80 tcp 0 false 16381 false false" "service show -j: identity and flags"
jq_ok '.tier_since | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' "service show -j: tier_since is RFC 3339"
jq_is '[.backends.active[] | "\(.address):\(.port)/\(.tier)/\(.weight)/\(.health)"] | join(" ")' \
	"10.200.2.11:8080/0/1/healthy 10.200.2.12:8080/0/2/healthy 10.200.2.13:8080/0/1/healthy 10.200.3.2:8080/2/1/healthy" \
	"service show -j: active backends"
jq_is '[(.backends.draining | length), (.backends.down | length)] | map(tostring) | join(" ")' "0 0" \
	"service show -j: draining and down are empty arrays"
jq_is '.stats.new_flows == ([.backends.active[].new_flows] | add)' true \
	"service show -j: service new flows = sum over its backends"
vc service show nosuch
rc_is 1 "service show of an unknown service: exit 1"
err_has "^veerctl: no service nosuch" "service show of an unknown service: message"

# ---- backend list ----
vc backend list
rc_is 0 "backend list: exit 0"
is "$(head -1 "$VOUT" | tr -s ' ')" \
	"SERVICE BACKEND TIER WEIGHT STATE HEALTH CHANGED LATENCY PACKETS BYTES FLOWS REASON" "backend list: text header"
is "$(($(wc -l <"$VOUT") - 1))" 7 "backend list: 7 backends"
is "$(row web 10.200.2.12:8080 | awk '{print $3, $4, $5, $6, $12}')" "0 2 active healthy $EXP_b2" \
	"backend list: web b2 row (tier, weight, state, health, flows)"
is "$(row web 10.200.3.2:8080 | awk '{print $3, $4, $5, $6, $10, $12}')" "2 1 active healthy 0 0" \
	"backend list: the tier-2 backend got nothing"
out_has '^web6 +\[fd00:200:2::11\]:8080 +0 +1 +active +healthy ' "backend list: IPv6 backend as [addr]:port"
out_has '^dns +10\.200\.2\.14:53 .* [0-9.]+(us|ms) ' "backend list: dns backend with a latency"

vc -j backend list web
rc_is 0 "backend list web -j: exit 0"
jq_is '[.[] | "\(.address):\(.port)/\(.tier)/\(.weight)"] | join(" ")' \
	"10.200.2.11:8080/0/1 10.200.2.12:8080/0/2 10.200.2.13:8080/0/1 10.200.3.2:8080/2/1" \
	"backend list -j: addresses, ports, tiers, weights"
jq_ok 'all(.[]; .service == "web" and .state == "active" and .health.state == "healthy")' \
	"backend list -j: all active and healthy"
jq_ok 'all(.[]; .health.latency_us > 0 and (.health.reason | type == "string" and length > 0)
	and (.health.since | test("Z$")) and .health.since_s >= 0 and .health.fail_streak == 0)' \
	"backend list -j: latency > 0, reason text, since"
jq_ok 'all(.[] | select(.tier == 0); .packets > 0 and .bytes > 0 and .reply_packets > 0)' \
	"backend list -j: tier-0 backends counted packets both ways"
jq_is '[.[] | .new_flows] | map(tostring) | join(" ")' "$EXP_b1 $EXP_b2 $EXP_b3 0" \
	"backend list -j: new_flows per backend = connections each answered"
vc -j backend list web6
jq_is '[.[] | "\(.address)/\(.state)/\(.health.state)"] | join(" ")' \
	"fd00:200:2::11/active/healthy fd00:200:2::12/active/healthy" "backend list web6 -j: IPv6 backends"
jq_is '[.[] | .new_flows] | add' 6 "backend list web6 -j: 6 new flows in all"
vc -j backend list dns
jq_ok '.[0].address == "10.200.2.14" and .[0].port == 53 and .[0].packets >= 3 and .[0].new_flows == 3' \
	"backend list dns -j: UDP backend counted 3 flows"
vc -j backend list nosuch
rc_is 1 "backend list of an unknown service: exit 1"
jq_ok '.error | test("no service nosuch")' "backend list of an unknown service: JSON error"

# ---- flow list / count ----
vc flow list
rc_is 0 "flow list: exit 0"
is "$(head -1 "$VOUT" | tr -s ' ')" "PROTO CLIENT VIP BACKEND SERVICE STATE AGE IDLE" "flow list: text header"
out_has "^tcp +10\.200\.1\.2:[0-9]+ +10\.200\.100\.10:80 +$KA_BE:8080 +web +established " \
	"flow list: the keep-alive flow, established"
out_has '^tcp +\[fd00:200:1::2\]:[0-9]+ +\[fd00:200:100::10\]:80 +\[fd00:200:2::1[12]\]:8080 +web6 ' \
	"flow list: an IPv6 flow"
out_has '^udp +10\.200\.1\.2:[0-9]+ +10\.200\.100\.53:53 +10\.200\.2\.14:53 +dns +udp ' "flow list: a UDP flow"

vc -j flow list
ALL_FLOWS=$(jqv length)
jq_is 'length' $((WEB_FLOWS + 6 + 3)) "flow list -j: every flow made (31 web, 6 web6, 3 dns)"
jq_ok 'all(.[]; .client == (if .vip | test(":") then "fd00:200:1::2" else "10.200.1.2" end))' \
	"flow list -j: every client is the client namespace's address"
jq_ok 'all(.[] | select(.service == "web"); .backend as $b | $a | index($b) != null)' \
	"flow list -j: every web flow's backend is one of web's" --argjson a "$WEB_ADDRS"
jq_ok 'all(.[]; .age_ms >= .idle_ms and .client_port > 0 and .vip_port > 0 and .backend_port > 0)' \
	"flow list -j: ages, idle times and ports"
jq_is '[.[] | select(.state == "established")] | length' 1 "flow list -j: one established flow (keep-alive)"
V6_BE=$(jqv 'first(.[] | select(.service == "web6")) | .backend')
V6_N=$(jqv --arg b "$V6_BE" '[.[] | select(.backend == $b)] | length')
KA_PORT=$(jqv '.[] | select(.state == "established") | .client_port')
KA_AGE=$(jqv '.[] | select(.state == "established") | .age_ms')
jq_is '.[] | select(.state == "established") | "\(.service) \(.backend) \(.backend_port) \(.vip):\(.vip_port)"' \
	"web $KA_BE 8080 10.200.100.10:80" "flow list -j: the keep-alive flow's service, backend, VIP"

vc -j flow list --service web
jq_ok "length == $WEB_FLOWS and all(.[]; .service == \"web\" and .protocol == \"tcp\")" \
	"flow list --service web: its $WEB_FLOWS flows only"
vc -j flow list --service dns
jq_ok 'length == 3 and all(.[]; .state == "udp" and .protocol == "udp" and .backend == "10.200.2.14" and .backend_port == 53)' \
	"flow list --service dns: 3 UDP flows to b4"
vc -j flow list --backend 10.200.2.12
jq_ok "length == $EXP_b2 and all(.[]; .backend == \"10.200.2.12\")" "flow list --backend ADDR: b2's $EXP_b2 flows"
vc -j flow list --backend 10.200.2.12:8080 --service web
jq_ok "length == $EXP_b2" "flow list --backend ADDR:PORT --service: the same"
vc -j flow list --backend 10.200.2.12:9999
jq_is length 0 "flow list --backend on another port: none"
vc -j flow list --backend "[$V6_BE]:8080"
jq_ok "length == $V6_N and all(.[]; .backend == \"$V6_BE\" and .service == \"web6\")" \
	"flow list --backend [v6]:port: the $V6_N flows of $V6_BE"
vc -j flow list --limit 3
jq_is length 3 "flow list --limit 3: 3 flows"
vc -j flow list --limit 0
jq_is length 0 "flow list --limit 0: none"
vc flow list --service web --limit 2
is "$(wc -l <"$VOUT")" 3 "flow list --limit, text: header and 2 rows"
vc flow list --service nosuch
rc_is 1 "flow list --service unknown: exit 1"

vc -j flow count
rc_is 0 "flow count -j: exit 0"
jq_is '[.total, .established, .closing, .udp, .syn_sent] | map(tostring) | join(" ")' \
	"$ALL_FLOWS 1 $((ALL_FLOWS - 4)) 3 0" "flow count -j: total and by state"
jq_ok ".conntrack.entries == $ALL_FLOWS and .conntrack.capacity == 1048576 and .half_open.capacity == 65536
	and .half_open.entries == 0 and .conntrack.used_pct > 0" "flow count -j: table entries and capacity"
vc -j flow count --service web --backend "$KA_BE"
jq_ok ".total == $(eval echo \$EXP_$KA_NAME) and .established == 1" "flow count --service --backend: the keep-alive backend's flows"
vc flow count
out_has "^total: +$ALL_FLOWS$" "flow count: text total"
out_has '^conntrack:$' "flow count: text conntrack heading"
out_has '^  capacity: +1048576$' "flow count: text capacity"

# ---- stats ----
REASONS="pass_not_ip pass_not_service fwd fwd_reply drop_truncated drop_bad_ihl drop_bad_len
pass_ip_options drop_fragment pass_ipv6_exthdr drop_udp_zero_len drop_no_backend refused
pass_fib_fail drop_ttl drop_snat_exhausted drop_mtu fwd_icmp repick pass_vlan drop_bad_l4
xdp_defer_csum xdp_pass_stack events_lost decap"
vc -j stats
rc_is 0 "stats -j: exit 0"
jq_is '.reasons | keys_unsorted | join(" ")' "$(echo $REASONS)" "stats -j: every reason, by name, in order"
jq_ok '.reasons.fwd > 0 and .reasons.fwd_reply > 0 and .reasons.drop_no_backend == 0 and .reasons.refused == 0' \
	"stats -j: fwd and fwd_reply > 0, nothing refused"
jq_ok ".services.count == 3 and .backends.count == 7 and .backends.active == 7
	and .services.new_flows == $ALL_FLOWS and .backends.new_flows == $ALL_FLOWS" \
	"stats -j: services, backends and new flows summed"
jq_ok '.backends.reply_packets > 0 and (.backends.packets - .services.packets | . >= 0 and . < 20)' \
	"stats -j: packets agree (backends read last, the keep-alive goes on)"
vc stats
rc_is 0 "stats: exit 0"
out_has '^reasons:$' "stats: reasons heading"
is "$(awk '/^reasons:/ {r = 1; next} r && /^  [a-z_0-9]+:/ {sub(":", "", $1); printf "%s ", $1}' "$VOUT")" \
	"$(echo $REASONS) " "stats: every reason by name in text"
out_has '^  fwd: +[1-9][0-9]*$' "stats: fwd > 0 in text"

# ---- maglev ----
vc -j maglev show web
rc_is 0 "maglev show -j: exit 0"
jq_ok '.service == "web" and .table_size == 16381 and .empty_slots == 0 and .foreign_slots == 0' \
	"maglev show -j: size, no empty or foreign slots"
jq_ok '([.backends[].slots] | add) == .table_size' "maglev show -j: slots add up to the table"
jq_ok '([.backends[].share_pct] | add) | . > 99.9 and . < 100.1' "maglev show -j: shares sum to 100%"
jq_ok 'all(.backends[] | select(.tier == 0); (.share_pct - .weight_share_pct) | fabs < 2)' \
	"maglev show -j: each share within 2 points of its weight's"
jq_ok '(.backends[] | select(.address == "10.200.2.12") | .share_pct) /
	(.backends[] | select(.address == "10.200.2.11") | .share_pct) | . > 1.8 and . < 2.2' \
	"maglev show -j: weight 2 holds about twice the slots of weight 1"
jq_ok '.backends[] | select(.tier == 2) | .slots == 0 and .weight_share_pct == null' \
	"maglev show -j: the tier-2 backend holds no slots"
vc maglev show web
rc_is 0 "maglev show: exit 0"
is "$(row 10.200.2.12:8080 | awk '{print $2, $3, $4, $7}')" "0 2 active 50.00%" "maglev show: text row of b2"
out_has '^table_size: +16381$' "maglev show: text table size"
vc -j maglev show web6
jq_ok '[.backends[].share_pct] | all(. > 48 and . < 52)' "maglev show web6 -j: two equal shares"
vc maglev show nosuch
rc_is 1 "maglev show of an unknown service: exit 1"

# ---- flow flush ----
vc -j flow count --backend "$KA_BE"
BEFORE=$(jqv .total)
vc -j backend list web
KA_NEW_BEFORE=$(jqv ".[] | select(.address == \"$KA_BE\") | .new_flows")
KA_LINES_BEFORE=$(wc -l <"$KA_OUT")
FLOWGEN_BEFORE=$(pinned_u32 veer_flowgen_v1)
vc -j flow flush --backend "$KA_BE"
rc_is 0 "flow flush -j: exit 0"
check "flow flush ends the datapath's cached flows (veer_flowgen_v1 bumped)" \
	test "$(pinned_u32 veer_flowgen_v1)" -gt "$FLOWGEN_BEFORE"
jq_ok ".flows == $BEFORE and .reverse_entries == $BEFORE" "flow flush -j: every flow of the backend and its reverse entry"
vc -j flow count --backend "$KA_BE"
jq_ok ".total < $BEFORE and .total <= 1" "flow count after flush: went down ($BEFORE before)"
sleep 1
vc -j flow list --backend "$KA_BE"
jq_ok "any(.[]; .client_port == $KA_PORT and .state == \"established\" and .age_ms < $KA_AGE)" \
	"the keep-alive connection's next request re-picked: a new entry for the same flow"
vc -j backend list web
jq_is ".[] | select(.address == \"$KA_BE\") | .new_flows" $((KA_NEW_BEFORE + 1)) \
	"the re-picked flow counts as a new flow of the same backend"
check "the keep-alive connection kept being answered by $KA_NAME" \
	bash -c "[ \$(wc -l <'$KA_OUT') -gt $KA_LINES_BEFORE ] && [ \"\$(sort -u '$KA_OUT')\" = '$KA_NAME' ]"
OTHER=b1; [ "$KA_NAME" = b1 ] && OTHER=b3
OTHER_BE=$(addr_of $OTHER)
vc flow flush --service web --backend "$OTHER_BE:8080"
rc_is 0 "flow flush (text): exit 0"
is "$(awk '/^flows:/ {print $2}' "$VOUT")" "$(eval echo \$EXP_$OTHER)" "flow flush (text): flows deleted"
vc -j flow count --backend "$OTHER_BE"
jq_is .total 0 "flow count after the second flush: none left"
vc flow flush
rc_is 2 "flow flush without --backend: exit 2"

# ---- drain / undrain ----
vc backend drain web 10.200.2.11:8080
rc_is 0 "backend drain: exit 0"
out_has '^draining: +yes$' "backend drain: text answer"
vc -j backend list web
jq_is '.[] | select(.address == "10.200.2.11") | "\(.state) \(.health.state) \(.health.reason)"' \
	"draining draining drain requested" "backend list -j: b1 draining, with its reason"
vc service list
is "$(row web | awk '{print $7, $8, $9}')" "3 1 0" "service list: web 3 active, 1 draining"
vc -j maglev show web
jq_is '.backends[] | select(.address == "10.200.2.11") | .slots' 0 "maglev show: the drained backend holds no slots"
spread http://10.200.100.10/ 20 "$WORK/drained"
diag "while b1 drains: $(count_backends "$WORK/drained")"
check "while b1 drains: 20 new connections, none failed, none to b1" \
	bash -c "! grep -q FAIL '$WORK/drained' && ! grep -qx b1 '$WORK/drained'"
vc -j backend undrain web 10.200.2.11
rc_is 0 "backend undrain -j: exit 0"
jq_ok '.service == "web" and .backend == "10.200.2.11" and .backend_id == 0 and .draining == false' \
	"backend undrain -j: answer"
undrained() {
	local i
	for i in $(seq 30); do
		vc -j backend list web
		[ "$(jqv '.[] | select(.address == "10.200.2.11") | .state')" = active ] && return 0
		sleep 0.1
	done
	return 1
}
check "backend list: b1 active again after undrain" undrained
spread http://10.200.100.10/ 30 "$WORK/undrained"
check "after undrain: b1 takes new connections again" grep -qx b1 "$WORK/undrained"
vc -j backend drain web6 '[fd00:200:2::12]:8080'
jq_ok '.backend == "[fd00:200:2::12]:8080" and .draining == true' "backend drain of an IPv6 backend as [addr]:port"
vc -j backend list web6
jq_is '.[] | select(.address == "fd00:200:2::12") | .state' draining "backend list: the IPv6 backend drains"
vc backend undrain web6 '[fd00:200:2::12]:8080'
rc_is 0 "backend undrain of the IPv6 backend: exit 0"
vc backend drain nosuch 10.200.2.11
rc_is 1 "backend drain of an unknown service: exit 1"
err_has '^veerctl: veerd: no such service' "backend drain of an unknown service: veerd's error"
vc -j backend drain web 10.200.2.99:8080
rc_is 1 "backend drain of an unknown backend: exit 1"
jq_ok '.error | test("no such backend")' "backend drain of an unknown backend: JSON error"
vc backend drain web not-an-address
rc_is 2 "backend drain of a malformed address: exit 2"

# ---- events ----
# A victim whose nginx is killed; not the keep-alive backend, whose
# connection would otherwise open a new flow of its own.
# b1 serves web6 too: its nginx gone, both services see a state change.
VICTIM=b3; [ "$KA_NAME" = b3 ] && VICTIM=b1
VICTIM_BE=$(addr_of $VICTIM)
N_STATE=1; [ $VICTIM = b1 ] && N_STATE=2
N_EV=$((1 + N_STATE))
EV_J=$WORK/events.json
EV_T=$WORK/events.txt
wait_exit() {	# PID: up to 5 s; its exit status
	local i
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1" 2>/dev/null
}
# new_conn_until FILE: a new connection at a time until FILE shows a
# new_flow event (the first may come before the listener subscribed).
new_conn_until() {
	local i j
	for i in $(seq 8); do
		in_ns client curl -s --max-time 2 http://10.200.100.10/ >/dev/null
		for j in 1 2 3 4 5; do grep -q new_flow "$1" && return 0; sleep 0.1; done
	done
	return 1
}
# Text first: the connections it takes are done before the JSON listener starts.
nsenter --net=/run/netns/"${P}node" "$VEERCTL" --state-dir "$STATE" --socket "$SOCK" \
	events --count 1 >"$EV_T" 2>&1 &
EV_T_PID=$!
PIDS+=("$EV_T_PID")
new_conn_until "$EV_T"
wait_exit $EV_T_PID
is "$?" 0 "events --count 1 (text): ended by itself, exit 0"
nsenter --net=/run/netns/"${P}node" "$VEERCTL" --state-dir "$STATE" --socket "$SOCK" \
	-j events --count $N_EV >"$EV_J" 2>"$WORK/events.err" &
EV_J_PID=$!
PIDS+=("$EV_J_PID")
sleep 0.5
# One new flow, then no other until the state change.
new_conn_until "$EV_J"
eval "kill \$NGINX_PID_${VICTIM}_8080"
wait_exit $EV_J_PID
is "$?" 0 "events -j --count $N_EV: ended by itself, exit 0"
mv "$EV_J" "$VOUT"
is "$(wc -l <"$VOUT")" $N_EV "events -j: $N_EV JSON lines"
jq_ok "length == $N_EV"' and all(.[]; .ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' \
	"events -j: each line one JSON object with an RFC 3339 ts" -s
jq_ok '.[0] | .type == "new_flow" and .service == "web"
	and (.client | test("^10\\.200\\.1\\.2:[0-9]+$")) and .vip == "10.200.100.10:80"
	and ((.backend | split(":")[0]) as $b | $a | index($b) != null)' \
	"events -j: a new_flow event (service, client, vip, backend)" -s --argjson a "$WEB_ADDRS"
jq_ok ".[1:] | all(.[]; .type == \"state\" and .from == \"healthy\" and .to == \"unhealthy\"
	and (.reason | test(\"probe failures: .*refused\")))
	and any(.[]; .service == \"web\" and .backend == \"$VICTIM_BE:8080\")" \
	"events -j: state events healthy -> unhealthy with the probe's reason" -s
jq -s -c '.[]' "$VOUT" | sed 's/^/# event: /'
is "$(awk '{print $2, $3}' "$EV_T")" "new_flow web" "events (text): type and service columns"
if grep -Eq '^[0-9-]+T[0-9:.]+Z +new_flow +web +10\.200\.2\.1[123]:8080 .*client=10\.200\.1\.2:[0-9]+' "$EV_T"; then
	ok "events (text): time, backend and client=... details"
else not_ok "events (text): time, backend and client=... details"; sed 's/^/#   /' "$EV_T"; fi

vc -j backend list web
jq_is ".[] | select(.address == \"$VICTIM_BE\") | \"\(.state) \(.health.state)\"" "down unhealthy" \
	"backend list -j: the killed backend is down and unhealthy"
jq_ok ".[] | select(.address == \"$VICTIM_BE\") | .health.reason | test(\"probe failures: .*refused\")" \
	"backend list -j: with the failure reason"
vc backend list web
out_has "^web +$VICTIM_BE:8080 +0 +1 +down +unhealthy .*consecutive probe failures" \
	"backend list: text row down / unhealthy / reason"
vc -j service list
jq_is '.[] | select(.name == "web") | "\(.backends.active)/\(.backends.draining)/\(.backends.down)"' "3/0/1" \
	"service list -j: web 3 active, 1 down"
vc -j service show web
jq_is '[.backends.down[] | .address] | join(" ")' "$VICTIM_BE" "service show -j: the down backend"
vc -j maglev show web
jq_ok "(.backends[] | select(.address == \"$VICTIM_BE\") | .slots == 0) and ([.backends[].share_pct] | add | . > 99.9)" \
	"maglev show -j: the down backend holds no slots, shares still 100%"

# ---- config show / check ----
vc config show
rc_is 0 "config show: exit 0"
is "$(head -1 "$VOUT")" "# in force, loaded from $CFG" "config show: where it was loaded from"
tail -n +2 "$VOUT" >"$WORK/shown.yaml"
is "$(grep -E '^  - name:' "$WORK/shown.yaml" | tr -d '"' | awk '{print $3}' | tr '\n' ' ')" "web web6 dns " \
	"config show: the same services"
is "$(grep -Eo '\{address: "[^"]+", port: [0-9]+, weight: [0-9]+, tier: [0-9]+' "$WORK/shown.yaml" | tr -d '{"' | tr '\n' ';')" \
	"address: 10.200.2.11, port: 8080, weight: 1, tier: 0;address: 10.200.2.12, port: 8080, weight: 2, tier: 0;address: 10.200.2.13, port: 8080, weight: 1, tier: 0;address: 10.200.3.2, port: 8080, weight: 1, tier: 2;address: fd00:200:2::11, port: 8080, weight: 1, tier: 0;address: fd00:200:2::12, port: 8080, weight: 1, tier: 0;address: 10.200.2.14, port: 53, weight: 1, tier: 0;" \
	"config show: the same backends, weights and tiers"
out_has '^    close_timeout: 5m$' "config show: the conntrack setting given"
vc -j config check "$WORK/shown.yaml"
jq_ok '.ok == true and .services == 3 and .backends == 7' "config show's YAML loads back (config check)"
vc -j config show
rc_is 0 "config show -j: exit 0"
jq_is .file "$CFG" "config show -j: file"
jq_ok '.yaml | test("name: \"web6\"") and test("vip: \"10.200.100.53\"")' "config show -j: the YAML"
is "$(jqv .yaml)" "$(cat "$WORK/shown.yaml")" "config show -j: the same YAML as text mode"

vc config check "$CFG"
rc_is 0 "config check: exit 0"
is "$(cat "$VOUT")" "$CFG: ok" "config check: FILE: ok"
vc -j config check "$CFG"
jq_is '"\(.file) \(.ok) \(.services) \(.backends)"' "$CFG true 3 7" "config check -j: file, ok, counts"
sed 's/weight: 2}/weight: 0}/' "$CFG" >"$WORK/bad.yaml"
BAD_LINE=$(grep -n 'weight: 0}' "$WORK/bad.yaml" | cut -d: -f1)
vc config check "$WORK/bad.yaml"
rc_is 1 "config check of an invalid file: exit 1"
err_has "^veerctl: $WORK/bad.yaml:$BAD_LINE: .*weight" "config check: FILE:LINE: and the field"
vc -j config check "$WORK/bad.yaml"
rc_is 1 "config check -j of an invalid file: exit 1"
jq_ok '.error | startswith($p)' "config check -j: JSON error with FILE:LINE:" --arg p "$WORK/bad.yaml:$BAD_LINE:"
printf 'node:\n  interfaces: [n-c\nservices: []\n' >"$WORK/broken.yaml"
vc config check "$WORK/broken.yaml"
rc_is 1 "config check of broken YAML: exit 1"
err_has "^veerctl: $WORK/broken.yaml:[0-9]+: " "config check of broken YAML: FILE:LINE:"
vc config check "$WORK/missing.yaml"
rc_is 1 "config check of a missing file: exit 1"

# ---- usage errors, help, prefixes ----
usage_exit() {	# description ARGS...: exit 2 and a message, text and JSON
	local d=$1; shift
	vc "$@"
	if [ "$RC" = 2 ] && grep -q '^veerctl: ' "$VERR" && [ ! -s "$VOUT" ]; then ok "usage: $d: exit 2, message"
	else not_ok "usage: $d: exit 2, message"; diag "rc=$RC"; show_out 5; fi
	vc -j "$@"
	if [ "$RC" = 2 ] && jq -e '.error | length > 0' <"$VOUT" >/dev/null 2>&1; then ok "usage: $d -j: exit 2, JSON error"
	else not_ok "usage: $d -j: exit 2, JSON error"; diag "rc=$RC"; show_out 5; fi
}
usage_exit "no object"
usage_exit "unknown object" frobnicate
usage_exit "ambiguous object" s
usage_exit "unknown command" service frob
usage_exit "unknown option" --frob service list
usage_exit "unknown command option" flow list --frob
usage_exit "bad --limit" flow list --limit many
usage_exit "--limit on count" flow count --limit 3
usage_exit "bad --backend" flow list --backend 10.200.2.300
usage_exit "service show without a name" service show
usage_exit "drain without a backend" backend drain web
usage_exit "extra argument" stats extra
usage_exit "bad --count" events --count x
usage_exit "config check without a file" config check
vc b l web
rc_is 0 "prefixes: 'b l web' runs"
is "$(awk 'NR > 1 {print $1}' "$VOUT" | sort -u)" web "prefixes: 'b l web' is backend list web"
vc -j service
jq_is '[.[].name] | join(",")' "dns,web,web6" "an object alone runs its first command (service list)"
vc -j flow --service dns
jq_ok 'length == 3 and all(.[]; .service == "dns")' "options alone run the first command (flow list --service)"
vc -p service show dns
jq_is '"\(.name) \(.backends.active[0].address)"' "dns 10.200.2.14" "-p: indented JSON that parses"
is "$(sed -n 2p "$VOUT")" '  "name": "dns",' "-p: one member a line, indented"
vc --state-dir="$STATE" --socket="$SOCK" -j stats
rc_is 0 "--state-dir=DIR and --socket=PATH forms"
vc -j help
jq_ok '.help | test("Usage: veerctl")' "help -j: {\"help\": ...}"
vc flow help
rc_is 0 "flow help: exit 0"
out_has '^Usage: veerctl flow list' "flow help: usage text"
vc -V
out_has "veer ABI v1" "-V: the ABI"

# ---- bash completion ----
check "bash completion loads and registers veerctl" \
	bash -c "source '$ROOT/tools/veerctl.bash-completion' && complete -p veerctl | grep -q _veerctl"
COMP_OUT=$(in_net node bash -c 'source "$1/tools/veerctl.bash-completion"
	COMP_WORDS=("$2" --state-dir "$3" service show ""); COMP_CWORD=5; _veerctl; echo "${COMPREPLY[*]}"' \
	_ "$ROOT" "$VEERCTL" "$STATE" 2>&1)
is "$COMP_OUT" "dns web web6" "bash completion: service names from the live maps"

# ---- tier failover: every tier-0 backend down ----
for b in b1 b2 b3; do
	[ "$b" = "$VICTIM" ] || eval "kill \$NGINX_PID_${b}_8080"
done
on_tier2() {
	local i
	for i in $(seq 50); do
		vc -j service list
		[ "$(jqv '.[] | select(.name == "web") | .active_tier')" = 2 ] && return 0
		sleep 0.1
	done
	return 1
}
check "service list -j: web's active tier moves to 2 with tier 0 down" on_tier2
jq_is '.[] | select(.name == "web") | "\(.backends.active)/\(.backends.draining)/\(.backends.down)"' "1/0/3" \
	"service list -j: web 1 active, 3 down"
vc service list
is "$(row web | awk '{print $5, $7, $8, $9}')" "2 1 0 3" "service list: web row shows tier 2, 3 down"
vc -j service show web
jq_ok '.active_tier == 2 and (.backends.down | length) == 3 and .backends.active[0].address == "10.200.3.2"' \
	"service show -j: tier 2, the remote backend the only active one"
vc -j maglev show web
jq_ok '.backends[] | select(.address == "10.200.3.2") | .slots == 16381 and .share_pct == 100' \
	"maglev show -j: the tier-2 backend holds the whole table"
spread http://10.200.100.10/ 5 "$WORK/tier2"
check "new connections go to the remote tier" bash -c "[ \"\$(sort -u '$WORK/tier2')\" = remote ]"

# ---- veerd down ----
# A follower of the event stream sees veerd go.
nsenter --net=/run/netns/"${P}node" "$VEERCTL" --state-dir "$STATE" --socket "$SOCK" \
	events >"$WORK/ev_down.out" 2>"$WORK/ev_down.err" &
EV_D_PID=$!
PIDS+=("$EV_D_PID")
sleep 0.3
kill "$VEERD_PID"
wait "$VEERD_PID" 2>/dev/null
wait_exit $EV_D_PID
is "$?" 1 "events: exit 1 when veerd goes away"
is "$(cat "$WORK/ev_down.err")" "veerctl: veerd closed the event stream" "events: says veerd closed the stream"

vc -j service list
rc_is 0 "veerd down: service list -j still works"
jq_is '[.[].name] | join(",")' "dns,web,web6" "veerd down: service list names"
vc backend list web
rc_is 0 "veerd down: backend list still works"
vc -j flow list --service web
jq_ok 'length > 0' "veerd down: flow list still works"
vc -j flow count --service web
jq_ok '.total > 0 and .established >= 1' "veerd down: flow count still works"
vc stats
rc_is 0 "veerd down: stats still works"
vc -j maglev show web
rc_is 0 "veerd down: maglev show still works"
check "veerd down: traffic still flows through the VIP" \
	bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.10/ | grep -qx remote"
DOWN_MSG="veerctl: cannot reach veerd at $SOCK: is veerd running? (maps are still readable: try 'veerctl service list')"
vc backend drain web 10.200.2.12
rc_is 1 "veerd down: backend drain: exit 1"
is "$(cat "$VERR")" "$DOWN_MSG" "veerd down: backend drain: cannot reach veerd"
vc -j backend undrain web 10.200.2.12
rc_is 1 "veerd down: backend undrain -j: exit 1"
jq_is .error "${DOWN_MSG#veerctl: }" "veerd down: backend undrain -j: JSON error object"
vc config show
rc_is 1 "veerd down: config show: exit 1"
is "$(cat "$VERR")" "$DOWN_MSG" "veerd down: config show: cannot reach veerd"
vc -j config show
rc_is 1 "veerd down: config show -j: exit 1"
jq_is .error "${DOWN_MSG#veerctl: }" "veerd down: config show -j: JSON error object"
vc -j events --count 1
rc_is 1 "veerd down: events -j: exit 1"
jq_ok '.error | startswith("cannot reach veerd")' "veerd down: events -j: JSON error object"

# ---- nothing ever pinned ----
mkdir "$EMPTY"
NOMAPS="no veer maps under $EMPTY: veerd has not run on this node: start it or pass --state-dir"
for cmd in "service list" "backend list" "flow list" "flow count" "stats" "maglev show web"; do
	vcx --state-dir "$EMPTY" --socket "$SOCK" $cmd
	is "$RC $(cat "$VERR")" "1 veerctl: $NOMAPS" "empty state dir: $cmd: exit 1, veerd has not run"
done
vcx -j --state-dir "$EMPTY" flow count
rc_is 1 "empty state dir: flow count -j: exit 1"
jq_is .error "$NOMAPS" "empty state dir: flow count -j: JSON error object"

plan "$_tap_n"
finish
