#!/bin/bash
# veerctl against maps and a fake veerd made here: no datapath and no veerd
# needed. Every command in text and JSON (JSON checked field by field with
# jq), the clear errors, and admin round trips (drain, config, events).
# TAP output. Needs root, bpftool, jq and python3. Runs in a private mount
# namespace on a bpffs of its own, so the node's /sys/fs/bpf stays untouched
# (without unshare: a private directory under /sys/fs/bpf, removed at exit).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VEERCTL=${VEERCTL:-$ROOT/build/veerctl}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root"
for t in bpftool jq python3; do
	command -v "$t" >/dev/null || skip_all "needs $t"
done
[ -x "$VEERCTL" ] || skip_all "no $VEERCTL: run make build/veerctl"

if [ -z "${VEERCTL_T_NS:-}" ] && unshare -m --propagation private true 2>/dev/null; then
	VEERCTL_T_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

TMP=$(mktemp -d /tmp/veerctl-t.XXXXXX)
SERVER_PID=
if [ -n "${VEERCTL_T_NS:-}" ]; then
	mkdir "$TMP/bpffs"
	mount -t bpf bpf "$TMP/bpffs" || skip_all "cannot mount a bpffs"
	BPF=$TMP/bpffs
else
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] || skip_all "no bpffs at /sys/fs/bpf"
	BPF=/sys/fs/bpf/veer-ctl-test-$$
	mkdir "$BPF" || skip_all "cannot create $BPF"
fi
STATE=$BPF/veer
SOCK=$TMP/veerd.sock

cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "${BPF:?}"/* 2>/dev/null
	if [ -n "${VEERCTL_T_NS:-}" ]; then umount "$TMP/bpffs"; else rmdir "$BPF"; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- TAP ----
N=0
FAILED=0
ok() {	# status description
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
		sed 's/^/# out: /' "$TMP/out" 2>/dev/null | head -15
		sed 's/^/# err: /' "$TMP/err" 2>/dev/null | head -5
	fi
}
# vc ARGS: run veerctl on our state dir and socket; sets RC, output in out/err
vc() {
	"$VEERCTL" --state-dir "$STATE" --socket "$SOCK" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}
is() {	# got expected description
	[ "$1" = "$2" ]
	local st=$?
	[ $st = 0 ] || echo "# got '$1', expected '$2'"
	ok $st "$3"
}
jq_is() {	# filter expected description   (on the last output)
	is "$(jq -r "$1" <"$TMP/out" 2>&1)" "$2" "$3"
}
out_has() {	# regex description
	grep -Eq -- "$1" "$TMP/out"
	ok $? "$2"
}
err_is() {	# text description
	is "$(cat "$TMP/err")" "veerctl: $1" "$2"
}

NCPU=$(python3 -c '
import re
s = open("/sys/devices/system/cpu/possible").read().strip()
print(sum(int(b) - int(a) + 1 if b else 1 for a, b in
          (re.match(r"(\d+)(?:-(\d+))?", p).groups() for p in s.split(","))))')

# ---- maps, as veerd's loader would pin them ----
mkmap() {	# name type key value entries
	bpftool map create "$STATE/$1" type "$2" key "$3" value "$4" entries "$5" name "$1"
}
mkdir -p "$STATE"
mkmap veer_cfg_v1 array 4 32 1
mkmap veer_svc_v1 hash 20 16 64
mkmap veer_be_v1 array 4 48 64
mkmap veer_ct_v1 lru_hash 40 32 1024
mkmap veer_ctsyn_v1 lru_hash 40 32 256
mkmap veer_rnat_v1 lru_hash 40 40 1024
mkmap veer_rnsyn_v1 lru_hash 40 40 256
mkmap veer_snat_v1 lru_hash 40 40 256
mkmap veer_svcst_v1 percpu_array 4 48 64
mkmap veer_best_v1 percpu_array 4 48 64
mkmap veer_drop_v1 percpu_array 4 8 25
mkmap veer_svcmeta_v1 array 4 112 64
mkmap veer_health_v1 array 4 96 64
bpftool map create "$BPF/mg_web" type array key 4 value 4 entries 13 name veer_mg_web
bpftool map create "$STATE/veer_maglev_v2" type array_of_maps key 4 value 4 entries 128 \
	name veer_maglev_v2 inner_map pinned "$BPF/mg_web"

# The entries, packed by ctypes with C's alignment (struct layouts of
# include/veer_abi.h) and written with bpftool.
cat >"$TMP/fill.py" <<'EOF'
import ctypes as C, socket, subprocess, sys, time
state, bpf = sys.argv[1], sys.argv[2]
u8, u16, u32, u64 = C.c_uint8, C.c_uint16, C.c_uint32, C.c_uint64

class Addr(C.Structure): _fields_ = [("b", u8 * 16)]
class SvcKey(C.Structure): _fields_ = [("vip", Addr), ("port", u16), ("proto", u8), ("family", u8)]
class Svc(C.Structure): _fields_ = [("id", u32), ("table_size", u32), ("flags", u32), ("udp_timeout_s", u32)]
class Backend(C.Structure): _fields_ = [("addr", Addr), ("snat", Addr), ("port", u16), ("family", u8),
    ("state", u8), ("flags", u8), ("tier", u8), ("weight", u16), ("svc_id", u32), ("pad", u32)]
class Flow(C.Structure): _fields_ = [("src", Addr), ("dst", Addr), ("sport", u16), ("dport", u16),
    ("proto", u8), ("family", u8), ("pad", u16)]
class Ct(C.Structure): _fields_ = [("last_seen_ns", u64), ("created_ns", u64), ("backend_id", u32),
    ("svc_id", u32), ("state", u8), ("syn_count", u8), ("nat_port", u16), ("pad", u32)]
class Rnat(C.Structure): _fields_ = [("vip", Addr), ("client", Addr), ("vport", u16), ("cport", u16),
    ("backend_id", u32)]
class Meta(C.Structure): _fields_ = [("name", C.c_char * 64), ("key", SvcKey), ("active_tier", u32),
    ("panic", u32), ("tier_since_ns", u64), ("in_use", u32), ("pad", u32)]
class Health(C.Structure): _fields_ = [("since_ns", u64), ("state", u32), ("latency_us", u32),
    ("ejections", u32), ("fail_streak", u32), ("reason", C.c_char * 72)]
class Stats(C.Structure): _fields_ = [("c", u64 * 6)]
for cls, size in ((SvcKey, 20), (Svc, 16), (Backend, 48), (Flow, 40), (Ct, 32), (Rnat, 40),
                  (Meta, 112), (Health, 96), (Stats, 48)):
    assert C.sizeof(cls) == size, cls

TCP, UDP, V4, V6 = 6, 17, 4, 6
def addr(s):
    a = Addr()
    raw = socket.inet_pton(socket.AF_INET6 if ":" in s else socket.AF_INET, s)
    C.memmove(a.b, raw, len(raw))
    return a
def fam(s): return V6 if ":" in s else V4
def hexb(x): return ["hex"] + ["%02x" % b for b in bytes(x)]
def u32b(v): return hexb(u32(v))
def update(name, key, value, where=state):
    subprocess.run(["bpftool", "map", "update", "pinned", f"{where}/{name}", "key"] + key +
                   ["value"] + value, check=True)
def svckey(vip, port, proto): return SvcKey(addr(vip), socket.htons(port), proto, fam(vip))
def stats(*c): return Stats((u64 * 6)(*c))

now_real, now_mono = time.time_ns(), time.monotonic_ns()
S = 1000000000
services = [(1, "web", "10.0.0.1", 80, TCP, 13, 0, 0, 0),
            (2, "dns6", "2001:db8::53", 53, UDP, 0, 2, 1, 1),	# flags EMPTY, tier 1, panic
            (3, None, "10.0.0.3", 443, TCP, 0, 0, 0, 0)]	# no meta: unnamed
for sid, name, vip, port, proto, m, flags, tier, panic in services:
    key = svckey(vip, port, proto)
    update("veer_svc_v1", hexb(key), hexb(Svc(sid, m, flags, 0)))
    if name:
        update("veer_svcmeta_v1", u32b(sid),
               hexb(Meta(name.encode(), key, tier, panic, now_real - 300 * S, 1, 0)))
backends = [(1, "10.1.0.1", 8080, 0, 1, 1, 1, 1, 850, "probe ok"),
            (2, "10.1.0.2", 8080, 0, 3, 1, 1, 3, 0, "3 consecutive failures"),
            (3, "10.1.0.3", 8080, 1, 1, 2, 1, 4, 0, "drained by operator"),
            (4, "2001:db8::10", 53, 0, 1, 3, 2, 2, 0, "timeout")]
for bid, a, port, tier, weight, st, sid, hst, lat, why in backends:
    update("veer_be_v1", u32b(bid),
           hexb(Backend(addr(a), Addr(), socket.htons(port), fam(a), st, 0, tier, weight, sid, 0)))
    update("veer_health_v1", u32b(bid), hexb(Health(now_real - 60 * S, hst, lat, 0, 0, why.encode())))
update("veer_svcst_v1", u32b(1), hexb(stats(100, 64000, 10, 1, 0, 2)))
update("veer_best_v1", u32b(1), hexb(stats(60, 38400, 6, 50, 10000, 0)))
update("veer_drop_v1", u32b(0), hexb(u64(5)))
update("veer_drop_v1", u32b(2), hexb(u64(70)))
# Maglev: backend 1 holds 4 slots, backend 2 8, one slot empty.
for slot, bid in enumerate([1] * 4 + [2] * 8 + [0xffffffff]):
    update("mg_web", u32b(slot), u32b(bid), where=bpf)
subprocess.run(["bpftool", "map", "update", "pinned", f"{state}/veer_maglev_v2", "key"] + u32b(2) +  # VEER_MAGLEV_SLOT(1, 0)
               ["value", "pinned", f"{bpf}/mg_web"], check=True)
# Flows: two established (backends 1, 2), one half-open (backend 1).
flows = [("veer_ct_v1", "veer_rnat_v1", "192.168.1.10", 40000, 1, "10.1.0.1", 2),
         ("veer_ct_v1", "veer_rnat_v1", "192.168.1.11", 40001, 2, "10.1.0.2", 2),
         ("veer_ctsyn_v1", "veer_rnsyn_v1", "192.168.1.12", 40002, 1, "10.1.0.1", 1)]
for ct, rn, client, cport, bid, be, st in flows:
    key = Flow(addr(client), addr("10.0.0.1"), socket.htons(cport), socket.htons(80), TCP, V4, 0)
    update(ct, hexb(key), hexb(Ct(now_mono - 1 * S, now_mono - 120 * S, bid, 1, st, 0, 0, 0)))
    rkey = Flow(addr(be), addr(client), socket.htons(8080), socket.htons(cport), TCP, V4, 0)
    update(rn, hexb(rkey), hexb(Rnat(addr("10.0.0.1"), addr(client), socket.htons(80),
                                     socket.htons(cport), bid)))
EOF
python3 "$TMP/fill.py" "$STATE" "$BPF" >/dev/null || { echo "Bail out! cannot fill the maps"; exit 1; }

# ---- a fake veerd: one request per connection, as the admin protocol says ----
cat >"$TMP/fake_veerd.py" <<'EOF'
import json, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
EVENTS = [
    {"ts": "2024-05-01T12:00:00.250Z", "type": "repick", "service": "web", "backend": "10.1.0.2:8080",
     "client": "192.168.1.10:40000", "from": "10.1.0.1:8080", "to": "10.1.0.2:8080"},
    {"ts": "2024-05-01T12:00:01.250Z", "type": "health", "service": "web", "backend": "10.1.0.2:8080",
     "from": "healthy", "to": "ejected", "reason": "3 consecutive failures"},
    {"ts": "2024-05-01T12:00:02.250Z", "type": "tier", "service": "web", "backend": "", "tier": 1},
]
def line(obj): return (json.dumps(obj, separators=(",", ":")) + "\n").encode()
def answer(verb, args):
    if verb in ("drain", "undrain") and len(args) == 2 and args[1].startswith("10.1.0.1"):
        return {"ok": True, "backend_id": 1}
    if verb in ("drain", "undrain"):
        return {"ok": False, "error": "no backend %s in service %s" % (args[1], args[0])}
    if verb == "config":
        return {"ok": True, "file": "/etc/veer/veer.yaml", "yaml": "node:\n  interfaces: [eth0]\n"}
    return {"ok": False, "error": "unknown verb " + verb}
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
while True:
    c, _ = srv.accept()
    req = c.makefile("rb").readline().decode().rstrip("\n")
    with open(log, "a") as f:
        f.write(req + "\n")
    verb, *args = req.split()
    if verb == "events":	# three events, then close after 2 s unless the client leaves
        c.sendall(line({"ok": True}) + b"".join(line(e) for e in EVENTS))
        c.settimeout(2)
        try:
            c.recv(1)
        except OSError:
            pass
    else:
        c.sendall(line(answer(verb, args)))
    c.close()
EOF

# ==== global behaviour ====
vc -V
out_has '^veerctl \(veer ABI v1\)$' "-V names the ABI"
vc help
ok $RC "help exits 0"
out_has '^  service  list \| show NAME' "help lists the objects"
vc s list
is "$RC:$(cat "$TMP/err")" "2:veerctl: ambiguous object 's': service, stats" "ambiguous prefix is a usage error"
vc -j frobnicate
is "$RC" 2 "unknown object exits 2"
jq_is .error "unknown object 'frobnicate' (try 'veerctl help')" "usage errors are JSON with -j"
vc service help
out_has '^Usage: veerctl service list' "service help"
vc service list extra
is "$RC" 2 "stray argument is a usage error"

# ==== clear errors ====
"$VEERCTL" --state-dir "$BPF/nothing" service list >"$TMP/out" 2>"$TMP/err"
RC=$?
is "$RC" 1 "no maps: exit 1"
err_is "no veer maps under $BPF/nothing: veerd has not run on this node: start it or pass --state-dir" \
	"no maps: says what to do"
"$VEERCTL" -j --state-dir "$BPF/nothing" stats >"$TMP/out" 2>"$TMP/err"
jq_is .error "no veer maps under $BPF/nothing: veerd has not run on this node: start it or pass --state-dir" \
	"no maps: JSON error"
mkdir -p "$BPF/old" "$BPF/newer"
bpftool map create "$BPF/old/veer_svc_v1" type hash key 20 value 20 entries 4 name veer_svc_v1
"$VEERCTL" --state-dir "$BPF/old" service list >"$TMP/out" 2>"$TMP/err"
err_is "map veer_svc_v1 layout mismatch (veerctl built for ABI v1): upgrade veerctl or veerd" \
	"wrong value size: layout mismatch"
bpftool map create "$BPF/newer/veer_svc_v2" type hash key 24 value 16 entries 4 name veer_svc_v2
"$VEERCTL" --state-dir "$BPF/newer" service list >"$TMP/out" 2>"$TMP/err"
err_is "map veer_svc_v1 layout mismatch (veerctl built for ABI v1): upgrade veerctl or veerd" \
	"only a newer map version: layout mismatch"
vc config show
is "$RC" 1 "no veerd: exit 1"
err_is "cannot reach veerd at $SOCK: is veerd running? (maps are still readable: try 'veerctl service list')" \
	"no veerd: says the maps still work"
vc -j backend drain web 10.1.0.1
jq_is .error "cannot reach veerd at $SOCK: is veerd running? (maps are still readable: try 'veerctl service list')" \
	"no veerd: JSON error"

# ==== service ====
vc service list
ok $RC "service list"
out_has '^NAME +VIP +PORT +PROTO +TIER +PANIC +ACTIVE +DRAINING +DOWN +PACKETS +BYTES +FLOWS$' \
	"service list: header"
out_has '^web +10\.0\.0\.1 +80 +tcp +0 +no +2 +1 +0 +[0-9.]+K? ' "service list: web row"
out_has '^dns6 +2001:db8::53 +53 +udp +1 +yes +0 +0 +1 ' "service list: IPv6 row"
out_has '^- +10\.0\.0\.3 +443 +tcp +- +- ' "service list: unnamed service last"
vc -j service list
jq_is 'map(.name | tostring) | join(",")' "dns6,web,null" "service list -j: sorted by name"
jq_is '.[1] | [.id, .vip, .port, .protocol, .active_tier, .panic] | map(tostring) | join(" ")' \
	"1 10.0.0.1 80 tcp 0 false" "service list -j: web identity"
jq_is '.[1].backends | "\(.active) \(.draining) \(.down)"' "2 1 0" "service list -j: backends by state"
jq_is '.[1].stats | "\(.packets) \(.bytes) \(.new_flows) \(.repicks) \(.refused) \(.no_backend)"' \
	"$((100 * NCPU)) $((64000 * NCPU)) $((10 * NCPU)) $((1 * NCPU)) 0 $((2 * NCPU))" \
	"service list -j: counters summed over CPUs"
jq_is '.[2] | "\(.name) \(.active_tier) \(.panic)"' "null null null" "service list -j: no meta is null"
"$VEERCTL" --state-dir "$STATE" -p service list >"$TMP/pretty"
is "$(jq -S . "$TMP/pretty")" "$(jq -S . "$TMP/out")" "service list -p: same document as -j"
is "$(sed -n 2p "$TMP/pretty")" "  {" "service list -p: indented"

vc service show web
ok $RC "service show"
out_has '^name: +web$' "service show: name line"
out_has '^table_size: +13$' "service show: table size"
out_has '^tier_since: +[0-9-]+T[0-9:]+Z \(5m[0-9]+s ago\)$' "service show: tier change, how long ago"
out_has '^  active:$' "service show: active backends heading"
out_has '^    10\.1\.0\.1:8080 +0 +1 +healthy ' "service show: backend row"
out_has '^  down: none$' "service show: empty state in one line"
vc -j service show web
jq_is '.backends.active | map(.address) | join(",")' "10.1.0.1,10.1.0.2" "service show -j: active backends"
jq_is '.backends.draining[0] | "\(.address) \(.port) \(.tier) \(.health)"' "10.1.0.3 8080 1 draining" \
	"service show -j: draining backend"
jq_is '.backends.down | length' 0 "service show -j: empty state is an empty list"
jq_is '"\(.table_size) \(.refuse) \(.empty) \(.udp_timeout_s)"' "13 false false 0" "service show -j: datapath fields"
jq_is '.tier_since | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true "service show -j: tier_since is RFC 3339"
vc -j service show dns6
jq_is '"\(.empty) \(.panic) \(.active_tier) \(.backends.down[0].address)"' "true true 1 2001:db8::10" \
	"service show -j: IPv6 service"
vc service sh nosuch
is "$RC:$(cat "$TMP/err")" "1:veerctl: no service nosuch (see 'veerctl service list')" "service show: unknown name"

# ==== backend ====
vc backend list
ok $RC "backend list"
out_has '^SERVICE +BACKEND +TIER +WEIGHT +STATE +HEALTH +CHANGED +LATENCY +PACKETS +BYTES +FLOWS +REASON$' \
	"backend list: header"
out_has '^web +10\.1\.0\.1:8080 +0 +1 +active +healthy +1m[0-9]+s ago +850us +[0-9.]+K? .* probe ok$' \
	"backend list: row with health, latency, reason"
out_has '^dns6 +\[2001:db8::10\]:53 +0 +1 +down +unhealthy ' "backend list: IPv6 row"
vc -j backend list
jq_is 'length' 4 "backend list -j: every backend in use"
jq_is '.[] | select(.address == "10.1.0.1") | "\(.service) \(.port) \(.tier) \(.weight) \(.state)"' \
	"web 8080 0 1 active" "backend list -j: datapath fields"
jq_is '.[] | select(.address == "10.1.0.1") | .health | "\(.state) \(.latency_us) \(.reason) \(.since_s >= 59 and .since_s < 120)"' \
	"healthy 850 probe ok true" "backend list -j: health fields"
jq_is '.[] | select(.address == "10.1.0.2") | .health | "\(.state) \(.latency_us)"' "ejected null" \
	"backend list -j: ejected, no latency"
jq_is '.[] | select(.address == "10.1.0.1") | "\(.packets) \(.bytes) \(.new_flows) \(.reply_packets)"' \
	"$((60 * NCPU)) $((38400 * NCPU)) $((6 * NCPU)) $((50 * NCPU))" "backend list -j: counters"
vc -j b l dns6
jq_is 'map(.address) | join(",")' "2001:db8::10" "backend list SERVICE (prefixes): one service"
vc backend list nosuch
is "$RC" 1 "backend list: unknown service"

# ==== flow ====
vc flow list
ok $RC "flow list"
# Written 120 s old and 1 s idle, seconds of commands ago (more on a slow
# machine): the columns and their format, not the second.
out_has '^tcp +192\.168\.1\.10:40000 +10\.0\.0\.1:80 +10\.1\.0\.1:8080 +web +established +2m[0-9]s +[1-9]s$' \
	"flow list: client -> vip -> backend row"
out_has '^tcp +192\.168\.1\.12:40002 .* syn_sent ' "flow list: half-open flow"
vc -j flow list
jq_is 'length' 3 "flow list -j: all flows"
jq_is '.[] | select(.client_port == 40000) | "\(.protocol) \(.client) \(.vip):\(.vip_port) \(.backend):\(.backend_port) \(.service) \(.state)"' \
	"tcp 192.168.1.10 10.0.0.1:80 10.1.0.1:8080 web established" "flow list -j: tuple fields"
jq_is '.[] | select(.client_port == 40000) | (.age_ms >= 119000 and .age_ms < 130000 and .idle_ms >= 1000 and .idle_ms < 5000)' \
	true "flow list -j: age and idle"
vc -j flow list --backend 10.1.0.1:8080
jq_is 'map(.client_port) | sort | join(",")' "40000,40002" "flow list --backend ADDR:PORT"
vc -j flow list --backend 10.1.0.2 --service web
jq_is 'map(.client_port) | join(",")' "40001" "flow list --backend ADDR --service"
vc -j flow list --limit 1
jq_is 'length' 1 "flow list --limit"
vc flow list --backend 10.1.0.1:99999
is "$RC" 2 "flow list: bad backend is a usage error"
vc flow count
out_has '^total: +3$' "flow count: text"
vc -j flow count
jq_is '"\(.total) \(.established) \(.syn_sent) \(.conntrack.entries) \(.conntrack.capacity) \(.half_open.entries)"' \
	"3 2 1 2 1024 1" "flow count -j"

# ==== stats ====
vc stats
ok $RC "stats"
out_has "^  fwd: +$((70 * NCPU))$" "stats: reasons by name"
out_has '^  drop_no_backend: +0$' "stats: zero reasons listed too"
vc -j stats
jq_is '.reasons | length' 25 "stats -j: every reason"
jq_is '"\(.reasons.pass_not_ip) \(.reasons.fwd) \(.reasons.decap)"' "$((5 * NCPU)) $((70 * NCPU)) 0" \
	"stats -j: reason counts"
jq_is '"\(.services.count) \(.services.packets) \(.services.no_backend)"' "3 $((100 * NCPU)) $((2 * NCPU))" \
	"stats -j: service totals"
jq_is '"\(.backends.count) \(.backends.active) \(.backends.draining) \(.backends.down) \(.backends.reply_bytes)"' \
	"4 2 1 1 $((10000 * NCPU))" "stats -j: backend totals"

# ==== maglev ====
vc maglev show web
ok $RC "maglev show"
out_has '^  10\.1\.0\.1:8080 +0 +1 +active +4 +30\.77% +25\.00%$' "maglev show: share vs weight share"
vc -j maglev show web
jq_is '"\(.table_size) \(.empty_slots) \(.foreign_slots)"' "13 1 0" "maglev show -j: table"
jq_is '.backends[] | select(.address == "10.1.0.2") | "\(.slots) \(.share_pct * 100 | round) \(.weight_share_pct)"' \
	"8 6154 75" "maglev show -j: slots and shares"
jq_is '.backends[] | select(.address == "10.1.0.3") | "\(.slots) \(.weight_share_pct)"' "0 null" \
	"maglev show -j: backend outside the table"
vc maglev show dns6
is "$RC:$(cat "$TMP/err")" "1:veerctl: service dns6 has no Maglev table installed" "maglev show: no table"

# ==== flow flush ====
vc flow flush
is "$RC" 2 "flow flush needs --backend"
vc -j flow flush --backend 10.1.0.1:8080
jq_is '"\(.flows) \(.reverse_entries)"' "2 2" "flow flush -j: flows and their reverse entries"
vc -j flow count
jq_is .total 1 "flow flush: other flows stay"
bpftool map dump pinned "$STATE/veer_rnat_v1" | grep -c '^key' >"$TMP/out"
is "$(cat "$TMP/out")" 1 "flow flush: the other flow's reverse entry stays"
vc flow flush --backend 10.1.0.2
out_has '^flows: +1$' "flow flush: text"

# ==== half-open slots (veer_synq_v1: a SYN of a plain-DNAT service) ====
# Made by hand without BPF_F_MMAPABLE: veerctl reads it by lookups (the
# mapping of veerd's own is read in half_open.t).
bpftool map create "$STATE/veer_synq_v1" type array key 4 value 64 entries 16384 \
	name veer_synq_v1
python3 - "$STATE" <<'EOF2'
import ctypes as C, socket, subprocess, sys, time
u8, u16, u32, u64 = C.c_uint8, C.c_uint16, C.c_uint32, C.c_uint64
class Slot(C.Structure): _fields_ = [("stamp_ns", u64), ("created_ns", u64), ("client", u8 * 16),
    ("vip", u8 * 16), ("cport", u16), ("vport", u16), ("backend_id", u32), ("svc_id", u32),
    ("family", u8), ("syn_count", u8), ("pad", u8 * 2)]
assert C.sizeof(Slot) == 64
now = time.monotonic_ns()
q = Slot(now - 2 * 10**9, now - 3 * 10**9, (u8 * 16)(*socket.inet_aton("192.168.1.13")),
         (u8 * 16)(*socket.inet_aton("10.0.0.1")), socket.htons(40003), socket.htons(80), 1, 1, 4, 2)
hexb = lambda x: ["hex"] + ["%02x" % b for b in bytes(x)]
subprocess.run(["bpftool", "map", "update", "pinned", sys.argv[1] + "/veer_synq_v1", "key"] +
               hexb(u32(7)) + ["value"] + hexb(q), check=True)
EOF2
vc flow list
out_has '^tcp +192\.168\.1\.13:40003 +10\.0\.0\.1:80 +10\.1\.0\.1:8080 +web +syn_sent +3s +2s$' \
	"flow list: a half-open flow in a slot"
vc -j flow list --backend 10.1.0.1
jq_is '.[0] | "\(.client_port) \(.syn_count) \(.backend_id)"' "40003 2 1" "flow list -j: the slot's fields"
vc -j flow count
jq_is '"\(.total) \(.syn_sent) \(.half_open_slots.entries) \(.half_open_slots.capacity)"' \
	"1 1 1 16384" "flow count -j: slots counted"
vc -j flow flush --backend 10.1.0.1:8080
jq_is .flows 1 "flow flush: frees the backend's slot"
vc -j flow count
jq_is '"\(.total) \(.half_open_slots.entries)"' "0 0" "flow flush: no slot left"

# ==== admin round trips ====
python3 "$TMP/fake_veerd.py" "$SOCK" "$TMP/requests" &
SERVER_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
vc backend drain web 10.1.0.1:8080
ok $RC "backend drain"
is "$(tail -1 "$TMP/requests")" "drain web 10.1.0.1:8080" "backend drain: request line"
out_has '^draining: +yes$' "backend drain: text"
vc -j backend undrain web 10.1.0.1
jq_is '"\(.service) \(.backend) \(.backend_id) \(.draining)"' "web 10.1.0.1 1 false" "backend undrain -j"
vc backend drain web 10.9.9.9
is "$RC:$(cat "$TMP/err")" "1:veerctl: veerd: no backend 10.9.9.9 in service web" "backend drain: veerd's error"
vc backend drain web not-an-address
is "$RC" 2 "backend drain: bad address is a usage error"
vc config show
is "$(cat "$TMP/out")" "$(printf '# in force, loaded from /etc/veer/veer.yaml\nnode:\n  interfaces: [eth0]')" \
	"config show: the YAML"
vc -j config show
jq_is '"\(.file)|\(.yaml)"' "$(printf '/etc/veer/veer.yaml|node:\n  interfaces: [eth0]\n')" "config show -j"
vc events --count 2
is "$RC:$(wc -l <"$TMP/out")" "0:2" "events --count 2: two lines"
out_has '^2024-05-01T12:00:00\.250Z +repick +web +10\.1\.0\.2:8080 +client=192\.168\.1\.10:40000 +from=10\.1\.0\.1:8080 +to=10\.1\.0\.2:8080$' \
	"events: human line"
vc -j events --count 3
python3 - "$TMP/fake_veerd.py" >"$TMP/expected" <<'EOF'
import json, sys
src = open(sys.argv[1]).read()
ns = {}
exec(src[src.index("EVENTS = "):src.index("def line")], ns)
for e in ns["EVENTS"]:
    print(json.dumps(e, separators=(",", ":")))
EOF
is "$(cat "$TMP/out")" "$(cat "$TMP/expected")" "events -j: JSON lines passed through"
vc -p events --count 3
is "$(jq -s -r 'map(.type) | join(",")' <"$TMP/out")" "repick,health,tier" "events -p: pretty objects"
vc events
is "$RC:$(cat "$TMP/err")" "1:veerctl: veerd closed the event stream" "events: stream closed by veerd"
"$VEERCTL" --socket "$SOCK" events >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
is "$?:$(wc -l <"$TMP/out")" "0:3" "events: interrupt ends cleanly"
is "$(grep -c '^events$' "$TMP/requests")" 5 "events: one subscription per run"

# ==== config check (local, no veerd) ====
VALID=$ROOT/tests/unit/configs/valid/minimal.yaml
INVALID=$ROOT/tests/unit/configs/invalid/tier_8.yaml
if [ -f "$VALID" ] && [ -f "$INVALID" ]; then
	vc config check "$VALID"
	is "$RC:$(cat "$TMP/out")" "0:$VALID: ok" "config check: valid file"
	vc -j config check "$VALID"
	jq_is '"\(.ok) \(.services) \(.backends)"' "true 1 1" "config check -j"
	vc config check "$INVALID"
	is "$RC" 1 "config check: invalid file exits 1"
	grep -q 'tier' "$TMP/err"
	ok $? "config check: the error names the field"
	vc -j config check "$INVALID"
	jq_is '.error | test("tier")' true "config check -j: error as JSON"
else
	for _ in 1 2 3 4 5; do N=$((N + 1)); echo "ok $N # SKIP no sample configs"; done
fi

echo "1..$N"
[ "$FAILED" = 0 ]
