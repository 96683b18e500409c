# shellcheck shell=bash
#
# Counted assertions for the self-contained integration tests (those
# that do not need lib.sh's namespaces and FRR): each check prints
# "ok - WHAT" or "not ok - WHAT" with the details, and the test ends
# with "$PASSED passed, $FAILED failed".

PASSED=0
FAILED=0

pass()
{
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

fail()
{
	FAILED=$((FAILED + 1))
	echo "not ok - $1"
	[ $# -gt 1 ] && printf '#   %s\n' "${@:2}"
	return 0
}

# check WHAT COMMAND...: passes when the command succeeds.
check()
{
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		pass "$what"
	else
		fail "$what" "command: $*"
	fi
}

# check_eq WHAT EXPECTED ACTUAL
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "actual:   $3"
	fi
}

# wait_until SECONDS COMMAND...: polls every 0.1 s; 1 when it never held.
wait_until()
{
	local tries=$(($1 * 10))
	shift
	while [ $tries -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
