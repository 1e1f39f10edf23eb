#!/bin/bash
# Runs every suite (unit, bpf, e2e or those named) and ends with one line:
#   N passed, N failed[, N skipped]
# Each unit binary is cmocka; the fixture runner and e2e tests speak TAP.
cd "$(dirname "$0")/.." || exit 2
suites=${*:-unit bpf e2e}
pass=0 fail=0 skip=0
log_dir=build/test-logs
mkdir -p "$log_dir"

count_tap() {	# file: sets tp tf ts and adds them to the totals
	tp=$(grep -cE '^ok [0-9]+' "$1")
	ts=$(grep -cE '^ok [0-9]+.*# *[Ss][Kk][Ii][Pp]' "$1")
	tf=$(grep -cE '^not ok [0-9]+' "$1")
	if grep -qE '^1\.\.0 # *SKIP' "$1"; then ts=$((ts + 1)); tp=$((tp + 1)); fi
	pass=$((pass + tp - ts)); skip=$((skip + ts)); fail=$((fail + tf))
}

run_unit() {
	local t out p f
	for t in build/tests/test_*; do
		[ -x "$t" ] || continue
		out="$log_dir/$(basename "$t").log"
		timeout 600 "$t" >"$out" 2>&1
		rc=$?
		p=$(sed -nE 's/.*\[  PASSED  \] ([0-9]+) test.*/\1/p' "$out" | tail -1)
		f=$(sed -nE 's/.*\[  FAILED  \] ([0-9]+) test.*/\1/p' "$out" | tail -1)
		p=${p:-0}; f=${f:-0}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi	# crashed or hung
		pass=$((pass + p)); fail=$((fail + f))
		printf '%-40s %3s passed, %s failed\n' "unit/$(basename "$t")" "$p" "$f"
		[ "$f" = 0 ] || sed 's/^/    /' "$out" | grep -E 'FAIL|ERROR|error|assert' | head -20
	done
}

run_bpf() {
	local out="$log_dir/bpf_fixtures.log" r
	[ -x build/tests/bpf_fixtures ] || return 0
	timeout 600 build/tests/bpf_fixtures >"$out" 2>&1
	count_tap "$out"
	printf '%-40s %3s passed, %s failed\n' "bpf/fixtures" "$tp" "$tf"
	grep -E '^not ok' "$out" | head -20 | sed 's/^/    /'
	if ! grep -qE '^ok [0-9]+' "$out"; then fail=$((fail + 1)); tail -5 "$out"; fi
}

run_e2e() {
	local t out r
	for t in tests/e2e/*.t; do
		[ -f "$t" ] || continue
		out="$log_dir/$(basename "$t").log"
		timeout 900 bash "$t" >"$out" 2>&1
		rc=$?
		count_tap "$out"
		printf '%-40s %3s passed, %s failed, %s skipped\n' "e2e/$(basename "$t")" \
			"$((tp - ts))" "$tf" "$ts"
		grep -E '^not ok|^# ' "$out" | head -20 | sed 's/^/    /'
		# A script that died before its plan ran out counts as one failure.
		if [ "$rc" != 0 ] && ! grep -qE '^not ok' "$out"; then
			fail=$((fail + 1)); tail -5 "$out" | sed 's/^/    /'
		fi
	done
}

for s in $suites; do
	case "$s" in
	unit) run_unit ;;
	bpf) run_bpf ;;
	e2e) run_e2e ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]
