#!/bin/bash
# A real Prometheus scrapes veerd's /metrics. Both run in a network
# namespace of their own (lo and one dummy interface), veerd with a private
# bpffs state dir and admin socket; everything started here is stopped by
# PID, and the namespace and the state dir are removed on exit.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VEERD=${VEERD:-$ROOT/build/veerd}
NS=veer-prom-$$
STATE=/sys/fs/bpf/veer-prom-$$
METRICS=127.0.0.1:9470		# the namespace is ours: fixed ports cannot clash
PROM=127.0.0.1:9090
WORK=
VEERD_PID=
PROM_PID=
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
diag() { sed 's/^/# /'; }

for c in prometheus curl nsenter ip; do
	command -v "$c" >/dev/null 2>&1 || { echo "1..0 # SKIP $c not installed"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
[ -x "$VEERD" ] || { echo "1..0 # SKIP veerd not built"; exit 0; }

stop_pid() {	# SIGTERM, a grace period, then SIGKILL
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	stop_pid "$PROM_PID"
	stop_pid "$VEERD_PID"
	if [ -e "/run/netns/$NS" ]; then
		in_ns "$VEERD" --teardown --state-dir "$STATE" >/dev/null 2>&1
		ip netns del "$NS"
	fi
	rm -rf "$STATE" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Only the network namespace: veerd must still see /sys/fs/bpf.
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
http() { in_ns curl -s --max-time 5 "$@"; }
# Poll until a command succeeds: wait_for SECONDS command...
wait_for() {
	local end=$((SECONDS + $1)); shift
	local rc
	until "$@"; do
		rc=$?
		[ $rc = 1 ] && [ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

WORK=$(mktemp -d /tmp/veer-prom.XXXXXX)
ip netns add "$NS" || { echo "1..0 # SKIP cannot create a network namespace"; exit 0; }
in_ns ip link set lo up
# A veth pair with both ends inside: an interface for veerd to attach to
# (the dummy module may be missing).
in_ns ip link add veerprom0 type veth peer name veerprom1
in_ns ip addr add 10.200.9.1/24 dev veerprom0
in_ns ip link set veerprom1 up
in_ns ip link set veerprom0 up

cat >"$WORK/veer.yaml" <<EOF
node:
  interfaces: [veerprom0]
  mode: tc
  admin_socket: $WORK/veerd.sock
  metrics: "$METRICS"
services:
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 200ms, timeout: 100ms}
    backends:
      - {address: 10.200.9.11, port: 8080}
      - {address: 10.200.9.12, port: 8080, tier: 1}
EOF
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: veer
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ["$METRICS"]
EOF

echo "1..8"
nsenter --net="/run/netns/$NS" "$VEERD" --config "$WORK/veer.yaml" --state-dir "$STATE" >"$WORK/veerd.log" 2>&1 &
VEERD_PID=$!
healthz() {
	kill -0 "$VEERD_PID" 2>/dev/null || return 2	# died: stop waiting
	[ "$(http -o /dev/null -w '%{http_code}' "http://$METRICS/healthz")" = 200 ]
}
if ! wait_for 20 healthz; then
	not_ok "veerd serves /healthz"
	tail -20 "$WORK/veerd.log" | diag
	exit 1
fi
ok "veerd serves /healthz"
check "veerd is ready (/readyz 200)" \
	test "$(http -o /dev/null -w '%{http_code}' "http://$METRICS/readyz")" = 200

http "http://$METRICS/metrics" >"$WORK/page.txt"
if command -v promtool >/dev/null 2>&1; then
	check "/metrics passes promtool check metrics" promtool check metrics <"$WORK/page.txt"
else
	ok "/metrics passes promtool check metrics # SKIP promtool not installed"
fi

nsenter --net="/run/netns/$NS" prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="$PROM" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

# query EXPR: Prometheus' answer (JSON) for an instant query.
query() { http -G "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }
# The value of the first sample of a query, or nothing.
value() { query "$1" | grep -o '"value":\[[0-9.]*,"[^"]*"\]' | head -1 | sed 's/.*,"\(.*\)"\]/\1/'; }
up_is_1() { [ "$(value 'up{job="veer"}')" = 1 ]; }
if wait_for 60 up_is_1; then
	ok "Prometheus scrapes veerd: up == 1"
else
	not_ok "Prometheus scrapes veerd: up == 1"
	{ query 'up'; echo; http "http://$PROM/api/v1/targets"; echo; tail -5 "$WORK/prometheus.log"; } | diag
fi

check "veer_build_info is stored" test "$(value 'veer_build_info')" = 1
check "the service's active tier is stored" \
	test -n "$(value 'veer_service_active_tier{service="web",vip="10.200.100.10"}')"
reasons=$(grep -c '^veer_datapath_packets_total{' "$WORK/page.txt")
check "every datapath reason is stored ($reasons)" \
	test "$(value 'count(veer_datapath_packets_total)')" = "$reasons"
check "one health series per state for each backend" \
	test "$(value 'count(veer_backend_health{service="web"})')" = 10
