#!/bin/bash
# Shared by the end-to-end tests: TAP output, a namespace topology, real
# servers, veerd. Every host is a network namespace this test creates; all
# processes are ended by PID and all namespaces deleted on exit.
#
#   client (10.200.1.2, fd00:200:1::2) ── n-c ┐
#                                               node (veerd) ── n-b ── switch ── b1..b4 (10.200.2.11-14, fd00:200:2::11-14)
#   remote gateway (10.200.3.2, fd00:200:3::2) ── n-r ┘
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VEERD=${VEERD:-$ROOT/build/veerd}
VEERCTL=${VEERCTL:-$ROOT/build/veerctl}
T_ID=${T_ID:-$$}
P=vt${T_ID}			# namespace prefix
WORK=$(mktemp -d /tmp/veer-e2e.XXXXXX)
STATE=/sys/fs/bpf/veer-e2e-$T_ID
# veerd pins under /sys/fs/bpf: a machine that booted without a bpffs
# there (as a fresh VM may) gets one, as systemd would have mounted it.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf /sys/fs/bpf || { echo "Bail out! cannot mount a bpffs on /sys/fs/bpf"; exit 1; }
fi
SOCK=$WORK/veerd.sock
PIDS=()
NSES=()
TEARDOWN=()			# "NS STATE_DIR" of extra veerds, torn down on exit
VEERD_PID=
_tap_n=0
_tap_fail=0

plan() { echo "1..$1"; }
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
check() {	# check "description" command...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { echo "# $*"; }

in_ns() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }
# veerd and veerctl must see /sys/fs/bpf: enter only the network namespace.
in_net() { local ns=$1; shift; nsenter --net=/run/netns/"$P$ns" "$@"; }

cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	[ -x "$VEERD" ] && [ -e /run/netns/${P}node ] && \
		in_net node "$VEERD" --teardown --state-dir "$STATE" >/dev/null 2>&1
	rm -rf "$STATE" 2>/dev/null
	local td
	for td in "${TEARDOWN[@]}"; do
		set -- $td
		[ -x "$VEERD" ] && [ -e "/run/netns/$P$1" ] && \
			in_net "$1" "$VEERD" --teardown --state-dir "$2" >/dev/null 2>&1
		rm -rf "$2" 2>/dev/null
	done
	for ns in "${NSES[@]}"; do ip netns del "$P$ns" 2>/dev/null; done
	[ -n "${KEEP_WORK:-}" ] && echo "# work dir kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"; done
	[ "$(id -u)" = 0 ] || skip_all "needs root"
	[ -x "$VEERD" ] || skip_all "build/veerd not built"
}

add_ns() {
	ip netns add "$P$1" || return 1
	NSES+=("$1")
	in_ns "$1" ip link set lo up
	in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# link NS1 IF1 NS2 IF2: a veth pair created directly inside the namespaces.
link() { ip link add "$2" netns "$P$1" type veth peer name "$4" netns "$P$3"; }

addr() {	# addr NS IF ADDR/LEN...
	local ns=$1 dev=$2; shift 2
	local a
	for a in "$@"; do in_ns "$ns" ip addr add "$a" dev "$dev" nodad 2>/dev/null ||
		in_ns "$ns" ip addr add "$a" dev "$dev"; done
	in_ns "$ns" ip link set "$dev" up
}

# The standard topology; backends b1..bN (N <= 4) on the switch.
topo_up() {
	local n=${1:-4} i
	add_ns client; add_ns node; add_ns switch; add_ns remote
	link client eth0 node n-c
	addr client eth0 10.200.1.2/24 fd00:200:1::2/64
	addr node n-c 10.200.1.1/24 fd00:200:1::1/64
	in_ns client ip route add default via 10.200.1.1
	in_ns client ip -6 route add default via fd00:200:1::1
	link node n-b switch up
	addr node n-b 10.200.2.1/24 fd00:200:2::1/64
	in_ns switch ip link add br0 type bridge
	in_ns switch ip link set up dev br0
	in_ns switch ip link set up master br0 dev up
	for i in $(seq 1 "$n"); do
		add_ns "b$i"
		link "b$i" eth0 switch "p$i"
		in_ns switch ip link set up master br0 dev "p$i"
		addr "b$i" eth0 "10.200.2.1$i/24" "fd00:200:2::1$i/64"
		in_ns "b$i" ip route add default via 10.200.2.1
		in_ns "b$i" ip -6 route add default via fd00:200:2::1
	done
	link node n-r remote eth0
	addr node n-r 10.200.3.1/24 fd00:200:3::1/64
	addr remote eth0 10.200.3.2/24 fd00:200:3::2/64
	in_ns remote ip route add default via 10.200.3.1
	in_ns remote ip -6 route add default via fd00:200:3::1
	in_ns node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# Let the bridge learn and neighbours resolve before traffic is judged.
	in_ns node ping -c1 -W1 10.200.2.11 >/dev/null 2>&1
	true
}

# start_nginx NS NAME PORT [CONNS]: answers every request with "NAME\n";
# CONNS: worker connections (default 1024).
start_nginx() {
	local ns=$1 name=$2 port=$3 conns=${4:-1024} dir=$WORK/nginx-$1-$3
	mkdir -p "$dir/logs" "$dir/tmp"
	cat >"$dir/nginx.conf" <<NGX
daemon off;
worker_processes 1;
worker_rlimit_nofile $((conns * 2 + 64));
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections $conns; }
http {
	access_log off;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	keepalive_requests 100000;
	keepalive_timeout 120s;
	server {
		listen $port reuseport;
		listen [::]:$port reuseport;
		location / { default_type text/plain; return 200 "$name\n"; }
	}
}
NGX
	# Started as a plain command, not through a function, so that $! is
	# the server's own PID (ip netns exec and nsenter exec in place).
	ip netns exec "$P$ns" nginx -c "$dir/nginx.conf" -p "$dir" >/dev/null 2>&1 &
	PIDS+=($!)
	eval "NGINX_PID_${ns}_${port}=$!"
}

# start_dnsmasq NS PORT: answers example.test with 10.9.9.N (N from NS).
start_dnsmasq() {
	local ns=$1 port=$2 n=${1#b}
	ip netns exec "$P$ns" dnsmasq --no-daemon --port="$port" --bind-interfaces --listen-address=10.200.2.1"$n" \
		--listen-address=fd00:200:2::1"$n" --no-resolv --no-hosts --address=/example.test/10.9.9."$n" \
		--pid-file="$WORK/dnsmasq-$ns.pid" --user=root >/dev/null 2>&1 &
	PIDS+=($!)
	eval "DNSMASQ_PID_${ns}=$!"
}

wait_port() {	# wait_port NS ADDR PORT: up to 5 s
	local i
	for i in $(seq 50); do
		in_ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_veerd CONFIG [args]: runs in the node namespace; waits for its admin socket.
start_veerd() {
	local cfg=$1 i; shift
	rm -f "$SOCK"	# a killed veerd leaves its socket: wait for the new one
	nsenter --net=/run/netns/"${P}node" "$VEERD" --config "$cfg" --state-dir "$STATE" "$@" \
		>>"$WORK/veerd.log" 2>&1 &
	VEERD_PID=$!
	PIDS+=($VEERD_PID)
	# Loading the datapath (1M-entry maps, the clock's calibration) takes
	# seconds on a busy 2-core machine: up to 15 s.
	for i in $(seq 300); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$VEERD_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

veerctl() { in_net node "$VEERCTL" --state-dir "$STATE" --socket "$SOCK" "$@"; }

# node_yaml INTERFACES [MODE]: the node section every test config starts
# with (admin socket in the test's work dir, metrics off), up to "services:".
node_yaml() {
	printf 'node:\n  interfaces: [%s]\n  mode: %s\n  admin_socket: %s\n  metrics: off\nservices:\n' \
		"$1" "${2:-xdp}" "$SOCK"
}

# std_config MODE: the standard web (tcp/80 -> b1..b3:8080) and dns services.
std_config() {
	local mode=${1:-xdp}
	cat <<YAML
$(node_yaml "n-c, n-b, n-r" $mode)
  - name: web
    vip: 10.200.100.10
    port: 80
    protocol: tcp
    probe: {type: http, port: 8080, path: /, interval: 200ms, timeout: 100ms, rise: 2, fall: 2}
    backends:
      - {address: 10.200.2.11, port: 8080}
      - {address: 10.200.2.12, port: 8080}
      - {address: 10.200.2.13, port: 8080}
      - {address: 10.200.3.2, port: 8080, tier: 2}
  - name: web6
    vip: "fd00:200:100::10"
    port: 80
    protocol: tcp
    probe: {type: tcp, interval: 200ms, timeout: 100ms}
    backends:
      - {address: "fd00:200:2::11", port: 8080}
      - {address: "fd00:200:2::12", port: 8080}
      - {address: "fd00:200:2::13", port: 8080}
  - name: dns
    vip: 10.200.100.53
    port: 53
    protocol: udp
    probe: {type: dns, query: example.test, interval: 200ms, timeout: 100ms}
    backends:
      - {address: 10.200.2.14, port: 53}
  - name: dns6
    vip: "fd00:200:100::53"
    port: 53
    protocol: udp
    probe: {type: dns, query: example.test, interval: 200ms, timeout: 100ms}
    backends:
      - {address: "fd00:200:2::14", port: 53}
YAML
}

# count_backends FILE: "b1=N b2=N ..." from lines of backend names.
count_backends() { sort "$1" | uniq -c | awk '{printf "%s=%s ", $2, $1}'; }

finish() {
	[ "$_tap_fail" = 0 ] || { diag "veerd log tail:"; tail -20 "$WORK/veerd.log" 2>/dev/null | sed 's/^/#   /'; }
	exit $((_tap_fail > 0))
}

pinned_u32() {	# pinned_u32 MAP: entry 0 of a pinned one-__u32 map under $STATE
	local b
	b=($(bpftool -j map lookup pinned "$STATE/$1" key 0 0 0 0 | jq -r '.value[]'))
	echo $((b[0] + 256 * b[1] + 65536 * b[2] + 16777216 * b[3]))
}
