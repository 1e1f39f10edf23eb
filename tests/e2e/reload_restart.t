#!/bin/bash
# Hitless operations under load: five config reloads during a wrk run, a
# rejected config that leaves the running one in force, and veerd killed
# with SIGKILL mid-run and started again. The client's wrk is the judge.
. "$(dirname "$0")/lib.sh"
need nginx curl wrk nsenter
plan 12

topo_up 3
for i in 1 2 3; do start_nginx "b$i" "b$i" 8080; done
for i in 1 2 3; do wait_port "b$i" 127.0.0.1 8080; done

cfg() {	# cfg EXTRA_BACKENDS EXTRA_SERVICE WEIGHT
	cat <<YAML
$(node_yaml "n-c, n-b" xdp)
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: http, port: 8080, interval: 200ms, timeout: 100ms}
    backends:
      - {address: 10.200.2.11, port: 8080, weight: ${3:-1}}
      - {address: 10.200.2.12, port: 8080}
$1
$2
YAML
}
B3='      - {address: 10.200.2.13, port: 8080}'
WEB2='  - {name: web2, vip: 10.200.100.11, port: 80, protocol: tcp, backends: [{address: 10.200.2.13, port: 8080}]}'
CFG=$WORK/veer.yaml
cfg "" "" >"$CFG"
check "veerd starts" start_veerd "$CFG"
sleep 0.6

wrk_run() {	# wrk_run SECONDS OUT: 8 keep-alive connections
	in_ns client wrk -t2 -c8 -d"$1"s --timeout 2s http://10.200.100.10/ >"$2" 2>&1
}
wrk_errors() {	# total socket errors + non-2xx in a wrk report
	awk '/Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
	     /Non-2xx/ { e += $NF } END { print e + 0 }' "$1"
}

# --- reload under load ---
wrk_run 10 "$WORK/wrk-reload" &
WRK=$!
sleep 1.5
for step in 1 2 3 4 5; do
	case $step in
	1) cfg "$B3" "" ;;		# backend added
	2) cfg "$B3" "$WEB2" ;;		# service added
	3) cfg "" "$WEB2" ;;		# backend removed
	4) cfg "" "" ;;			# service removed
	5) cfg "" "" 3 ;;		# weight changed
	esac >"$CFG.new"
	mv "$CFG.new" "$CFG"		# an atomic replace, as editors and ConfigMaps do
	sleep 1.5
done
wait "$WRK"
diag "$(grep -E 'Requests/sec|requests in|Socket errors|Non-2xx' "$WORK/wrk-reload" | tr '\n' ' ')"
check "wrk ran through five reloads" grep -q "requests in" "$WORK/wrk-reload"
check "zero failed requests during five reloads" [ "$(wrk_errors "$WORK/wrk-reload")" = 0 ]
check "every reload was applied (file watch)" \
	[ "$(grep -c 'msg="config applied"' "$WORK/veerd.log")" -ge 5 ]
check "web2 came and went" bash -c "grep -q 'service added\" service=web2\|service added.*web2' '$WORK/veerd.log' && grep -q 'service removed.*web2' '$WORK/veerd.log'"

# --- a bad config is rejected; the running one stays in force ---
cp "$CFG" "$WORK/good.yaml"
printf 'node:\n  interfaces: [n-c]\nservices:\n  - name: web\n    vip: 10.200.100.10\n    port: 99999\n    protocol: tcp\n    backends: [{address: 10.200.2.11, port: 8080}]\n' >"$CFG.new"
mv "$CFG.new" "$CFG"
sleep 1
check "the bad config is logged with file, line and field" \
	grep -q "config rejected.*veer.yaml:6: services\[0\].port" "$WORK/veerd.log"
check "traffic still served by the config in force" \
	bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.10/ | grep -q '^b'"
check "veerd --check names file, line and field and exits 1" \
	bash -c "! '$VEERD' --check --config '$CFG' 2>'$WORK/check.err' && grep -q 'veer.yaml:6: services\[0\].port' '$WORK/check.err'"
cp "$WORK/good.yaml" "$CFG"
sleep 0.5

# --- restart under load: SIGKILL, then a new veerd adopts the datapath ---
wrk_run 10 "$WORK/wrk-restart" &
WRK=$!
sleep 3
kill -9 "$VEERD_PID"
wait "$VEERD_PID" 2>/dev/null
sleep 2
start_veerd "$CFG"
sleep 0.5
check "a new veerd adopted the pinned state" grep -q "adopted pinned state" "$WORK/veerd.log"
wait "$WRK"
diag "$(grep -E 'Requests/sec|requests in|Socket errors|Non-2xx' "$WORK/wrk-restart" | tr '\n' ' ')"
check "wrk ran through the restart" grep -q "requests in" "$WORK/wrk-restart"
check "zero failed requests and no reset connections across kill -9 and restart" \
	[ "$(wrk_errors "$WORK/wrk-restart")" = 0 ]
check "new connections after the restart are served" \
	bash -c "ip netns exec ${P}client curl -s --max-time 2 http://10.200.100.10/ | grep -q '^b'"
finish
