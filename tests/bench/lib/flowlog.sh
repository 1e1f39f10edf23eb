#!/bin/bash
# The client's own log of a stream of requests: one line per request,
#   START_MS END_MS WORKER STATUS ANSWER
# START/END are wall-clock ms ($EPOCHREALTIME: the clock every namespace
# shares, so a fault stamped by the test is on the same scale), STATUS is
# "ok" or "fail<rc>", ANSWER the first word of the answer ("-" if none).
# Used by tests/e2e/failover*.t and tests/bench/failover_timeline.sh.
#
#   flowlog.sh run OUT SECONDS LOAD -- CMD...
#	Runs CMD (one request, a new connection) until SECONDS have passed;
#	run it inside the client's namespace. A request is ok when CMD exits 0
#	and prints something. LOAD is either
#	  R/s  open loop: a request starts every 1/R s whatever the others do
#	       (at most R x SECONDS; in flight at most R x CMD's own timeout),
#	       so a hung request never hides the ones that follow; or
#	  N    closed loop: N loops, each starting its next request when the
#	       last one ended (at most 20000 each).
#   flowlog.sh summary OUT FAULT_MS [BOUND_MS]
#	"total=N failed=N last_fail=+Xms failed_after_bound=N span=S":
#	last_fail is the start of the last failed request relative to the
#	fault ("none" if none failed), failed_after_bound the failed requests
#	that started later than FAULT_MS + BOUND_MS.
#   flowlog.sh buckets OUT T0_MS STEP_MS
#	requests per STEP_MS by answer: "T_s answer1 answer2 ... FAIL" rows with
#	a header, for gnuplot.
set -u

now_ms() { local t=${EPOCHREALTIME/./}; echo "${t:0:-3}"; }

# One request: its line, appended in one write.
one() {
	local w=$1 s e r rc
	shift
	s=${EPOCHREALTIME/./}; s=${s:0:-3}
	r=$("$@" 2>/dev/null); rc=$?
	e=${EPOCHREALTIME/./}; e=${e:0:-3}
	r=${r%%$'\n'*}; r=${r%% *}
	if [ "$rc" = 0 ] && [ -n "$r" ]; then
		echo "$s $e $w ok $r"
	else
		echo "$s $e $w fail$rc ${r:--}"
	fi
}

open_loop() {	# open_loop OUT SECS RATE CMD...
	local out=$1 secs=$2 rate=$3 i n t0 t due now sfd pids=()
	shift 3
	n=$((secs * rate))
	exec {sfd}<> <(:)	# read -t on it: a sleep without a fork
	exec >>"$out"
	t0=${EPOCHREALTIME/./}
	trap 'kill "${pids[@]}" 2>/dev/null; exit 143' TERM INT
	for ((i = 0; i < n; i++)); do
		due=$((t0 + i * 1000000 / rate))
		now=${EPOCHREALTIME/./}
		if [ "$due" -gt "$now" ]; then
			printf -v t '%d.%06d' $(((due - now) / 1000000)) $(((due - now) % 1000000))
			read -t "$t" -u "$sfd" _
		fi
		one "o" "$@" &
		pids+=($!)
	done
	wait
}

run() {
	local out=$1 secs=$2 workers=$3 w pids=()
	shift 4	# OUT SECONDS LOAD --
	: >"$out"
	case $workers in
	*/s) open_loop "$out" "$secs" "${workers%/s}" "$@"; return ;;
	esac
	local end=$(( $(now_ms) + secs * 1000 ))
	worker() {
		local w=$1 n=0 s
		shift
		exec >>"$out"	# O_APPEND: a short line is one atomic write
		while [ "$n" -lt 20000 ]; do
			s=${EPOCHREALTIME/./}; s=${s:0:-3}
			[ "$s" -lt "$end" ] || break
			one "$w" "$@"
			n=$((n + 1))
		done
	}
	for w in $(seq "$workers"); do
		worker "$w" "$@" &
		pids+=($!)
	done
	trap 'kill "${pids[@]}" 2>/dev/null; exit 143' TERM INT
	wait "${pids[@]}"
}

summary() {
	local out=$1 fault=$2 bound=${3:-0}
	awk -v f="$fault" -v b="$bound" '
		{ n++; if (min == "" || $1 < min) min = $1; if ($1 > max) max = $1 }
		$4 != "ok" { fl++; if (last == "" || $1 > last) last = $1
			     if ($1 > f + b) late++ }
		END { printf "total=%d failed=%d last_fail=%s failed_after_bound=%d span=%.1fs\n",
			n, fl, last == "" ? "none" : sprintf("%+dms", last - f), late,
			(max - min) / 1000 }' "$out"
}

buckets() {
	local out=$1 t0=$2 step=$3
	awk -v t0="$t0" -v step="$step" '
		{ d = $1 - t0; k = d >= 0 ? int(d / step) : -int((-d + step - 1) / step)
		  a = ($4 == "ok") ? $5 : "FAIL"
		  c[k, a]++; if (!(a in seen)) { seen[a] = 1; names[++na] = a }
		  if (kmin == "" || k < kmin) kmin = k; if (kmax == "" || k > kmax) kmax = k }
		END {
			# fixed column order: answers sorted, FAIL last
			for (i = 1; i <= na; i++) for (j = i + 1; j <= na; j++)
				if ((names[j] < names[i] && names[j] != "FAIL") || names[i] == "FAIL") {
					x = names[i]; names[i] = names[j]; names[j] = x }
			if (!("FAIL" in seen)) names[++na] = "FAIL"
			printf "t_s"; for (i = 1; i <= na; i++) printf " %s", names[i]; printf "\n"
			for (k = kmin; k <= kmax; k++) {
				printf "%.3f", k * step / 1000
				for (i = 1; i <= na; i++) printf " %d", c[k, names[i]]
				printf "\n"
			}
		}' "$out"
}

case ${1:-} in
run) shift; run "$@" ;;
summary) shift; summary "$@" ;;
buckets) shift; buckets "$@" ;;
now) now_ms ;;
*) echo "usage: $0 run|summary|buckets|now ..." >&2; exit 2 ;;
esac
