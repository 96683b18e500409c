#!/usr/bin/env bash
#
# Everything CI checks, in one run (as root, on Debian 12):
#   1. scripts/deps.sh                  missing packages
#   2. scripts/build.sh --sanitizers    ASan/UBSan, -Werror
#   3. make check                       unit tests (check)
#   4. tests/fuzz/run.sh 30             fuzz smoke run, when present,
#      and make distcheck beside it     a plain build of the dist tarball
#   5. tests/integration/test_*.sh      namespaces, FRR, evpnd, the .deb
# and a closing line "N passed, N failed": unit test cases (from check's
# "Checks: N, Failures: F, Errors: E" lines) plus integration cases plus
# one case each for the fuzz run and distcheck.  Skipped suites (make
# check's SKIP, an integration script's exit 77) are counted and listed
# before it; with CI=true a skipped suite is a failure, so that a missing
# package cannot pass as "0 failed".  Exits non-zero if anything failed.
#
# Environment: BUILD_DIR (default build/ at the repo root), JOBS
# (default nproc), INTEG_TIMEOUT seconds per integration script
# (default 600), SKIP_DEPS=1 to skip step 1, SKIP_DISTCHECK=1 to leave
# out make distcheck, CI=true as above.

set -uo pipefail

cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
export BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
JOBS=${JOBS:-$(nproc)}
INTEG_TIMEOUT=${INTEG_TIMEOUT:-600}

total_passed=0
total_failed=0
failed_steps=()
skipped=()

step()
{
	printf '\n==== %s\n' "$*"
}

fail_step()
{
	failed_steps+=("$1")
	total_failed=$((total_failed + ${2:-1}))
}

# A suite that did not run: listed; a failure when CI=true.
skip_suite()
{
	skipped+=("$1")
	if [ "${CI:-}" = true ]; then
		echo "(skipped under CI=true: counted as a failure)"
		fail_step "$1 (skipped)"
	fi
}

finish()
{
	printf '\n'
	printf '%d suites skipped%s\n' ${#skipped[@]} \
	    "${skipped[*]:+: ${skipped[*]}}"
	if [ ${#failed_steps[@]} -gt 0 ]; then
		printf 'FAILED: %s\n' "${failed_steps[@]}"
	fi
	printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
	[ "$total_failed" -eq 0 ] && [ ${#failed_steps[@]} -eq 0 ]
	exit $?
}

# ---- 1, 2: dependencies and the sanitizer build
if [ "${SKIP_DEPS:-0}" != 1 ]; then
	step "dependencies"
	scripts/deps.sh || { fail_step "deps"; finish; }
fi

step "build (sanitizers, -Werror) in $BUILD_DIR"
JOBS=$JOBS scripts/build.sh --sanitizers || { fail_step "build"; finish; }

# ---- 3: unit tests
# check prints "NN%: Checks: N, Failures: F, Errors: E" once per suite;
# automake keeps each program's output in its .log.
unit_summaries()
{
	local log name
	for log in "$BUILD_DIR"/tests/unit/*.log; do
		[ -f "$log" ] || continue
		name=$(basename "$log" .log)
		grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | sed "s|^|$name: |"
	done
}

step "unit tests (make check)"
make -C "$BUILD_DIR" -j"$JOBS" check >"$BUILD_DIR/make-check.out" 2>&1
check_rc=$?
grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$BUILD_DIR/make-check.out"
for t in $(sed -n 's/^SKIP: //p' "$BUILD_DIR/make-check.out"); do
	skip_suite "make check: $t"
done
unit_summaries
read -r unit_checks unit_bad < <(unit_summaries | awk '
    { for (i = 1; i <= NF; i++) {
	if ($i == "Checks:") c += $(i + 1)
	if ($i == "Failures:" || $i == "Errors:") f += $(i + 1) } }
    END { printf "%d %d\n", c, f }')
total_passed=$((total_passed + unit_checks - unit_bad))
total_failed=$((total_failed + unit_bad))
if [ "$check_rc" -ne 0 ]; then
	tail -n 30 "$BUILD_DIR/make-check.out"
	[ -f "$BUILD_DIR/test-suite.log" ] && cat "$BUILD_DIR/test-suite.log"
	# a crash or a build failure counts once even without check lines
	if [ "$unit_bad" -eq 0 ]; then
		fail_step "make check"
	else
		failed_steps+=("make check")
	fi
fi
printf 'unit: %d cases, %d failed\n' "$unit_checks" "$unit_bad"

# ---- 4: fuzz smoke run, make distcheck beside it
# libFuzzer keeps one core busy for five minutes; distcheck (dist
# tarball, plain out-of-tree build, make check, install, uninstall)
# takes the other meanwhile instead of adding its own minutes.
distcheck_pid=
if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
	step "make distcheck (in the background, $BUILD_DIR/distcheck.out)"
	distcheck_start=$(date +%s)
	make -C "$BUILD_DIR" distcheck >"$BUILD_DIR/distcheck.out" 2>&1 &
	distcheck_pid=$!
fi

if [ -x tests/fuzz/run.sh ]; then
	# 30 s a target: fifteen targets are under eight minutes beside
	# distcheck.
	step "fuzz smoke run (${FUZZ_SECONDS:-30} s a target)"
	if tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"; then
		total_passed=$((total_passed + 1))
	else
		fail_step "fuzz"
	fi
fi

if [ -n "$distcheck_pid" ]; then
	step "make distcheck"
	if wait "$distcheck_pid"; then
		total_passed=$((total_passed + 1))
		grep -E '^(PASS|FAIL|SKIP|ERROR):' "$BUILD_DIR/distcheck.out" |
		    grep -v '^PASS:'
		tail -n 4 "$BUILD_DIR/distcheck.out"
	else
		tail -n 40 "$BUILD_DIR/distcheck.out"
		fail_step "make distcheck"
	fi
	echo "distcheck: $(($(date +%s) - distcheck_start)) s"
fi

# ---- 5: integration tests
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	step "integration: $t"
	out="$BUILD_DIR/$(basename "$t" .sh).out"
	timeout --kill-after=20 "$INTEG_TIMEOUT" bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 77 ]; then
		echo "(skipped)"
		skip_suite "$t"
		continue
	fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	p=0 f=0
	[ -n "$line" ] && read -r p _ f _ <<<"$line"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && echo "(timed out after $INTEG_TIMEOUT s)"
		if [ "$f" -eq 0 ]; then
			fail_step "$t (exit $rc)"
		else
			failed_steps+=("$t")
		fi
	fi
done

finish
