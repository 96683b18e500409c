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

# ---- set-up shared by the self-contained tests ----
#
# A test sources this file, then:
#   check_build_dir evpnd evpnctl     BUILD_DIR, EVPND, EVPNCTL
#   check_require_root                (if it needs root)
#   check_require_tools curl jq ...   skip (77) when one is missing
#   check_require_build evpnd evpnctl fatal when one was not built
#   check_in_netns "$@"               (re-runs itself in a private netns)
#   check_tmp_dir NAME                T, SOCK, STATE, CONF, LOG, cleanup
# and starts and stops evpnd with check_evpnd_start and check_evpnd_stop
# (DAEMON_PID is set while it runs).

DAEMON_PID=

# shellcheck disable=SC2034	# EVPND, EVPNCTL are the test's
# check_build_dir PROG...: BUILD_DIR defaults to the current directory
# when it holds the programs (as under "make check"), else the repo root.
check_build_dir()
{
	local prog here=1

	REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if [ -z "${BUILD_DIR:-}" ]; then
		for prog in "$@"; do
			[ -x "./$prog" ] || here=0
		done
		if [ "$here" = 1 ]; then
			BUILD_DIR=$(pwd)
		else
			BUILD_DIR=$REPO_ROOT
		fi
	fi
	EVPND=$BUILD_DIR/evpnd
	EVPNCTL=$BUILD_DIR/evpnctl
}

check_require_root()
{
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
}

check_require_tools()
{
	local tool

	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "SKIP: $tool is not installed"
			exit 77
		fi
	done
}

# check_require_build PROG...: each built in BUILD_DIR, or a fatal exit.
check_require_build()
{
	local prog names

	names=$(IFS=/; echo "$*")
	for prog in "$@"; do
		[ -x "$BUILD_DIR/$prog" ] && continue
		echo "FATAL: no $names in $BUILD_DIR (set BUILD_DIR)" >&2
		exit 1
	done
}

# check_in_netns "$@": the test script runs again, with its arguments,
# in a private network namespace (nothing it does touches the host);
# returns there with lo up.
check_in_netns()
{
	local script=${BASH_SOURCE[${#BASH_SOURCE[@]} - 1]}

	if [ -z "${CHECK_IN_NETNS:-}" ]; then
		CHECK_IN_NETNS=1 BUILD_DIR=$BUILD_DIR exec unshare --net -- \
		    "$BASH" "$script" "$@"
	fi
	ip link set lo up
}

# shellcheck disable=SC2034	# SOCK, STATE, CONF, LOG are the test's
# check_tmp_dir NAME: a temp dir T (evpnd-NAME.XXXXXX) with the usual
# SOCK, STATE, CONF and LOG paths in it; on exit the evpnd in DAEMON_PID
# is stopped and T removed (KEEP_TMP=1 keeps it).
check_tmp_dir()
{
	T=$(mktemp -d "${TMPDIR:-/tmp}/evpnd-$1.XXXXXX") || exit 1
	SOCK=$T/run/evpnd.sock
	STATE=$T/state
	CONF=$T/evpnd.conf
	LOG=$T/evpnd.log
	trap check_cleanup EXIT
}

# check_evpnd_start [PATH]: evpnd on CONF, SOCK and STATE, its output
# added to LOG and its pid in DAEMON_PID; succeeds once its socket is
# there and, given PATH, once a GET of PATH answers 2xx.
# shellcheck disable=SC2120	# PATH is optional
check_evpnd_start()
{
	"$EVPND" -f "$CONF" -S "$SOCK" -D "$STATE" >>"$LOG" 2>&1 &
	DAEMON_PID=$!
	wait_until 10 test -S "$SOCK" || return 1
	[ $# -eq 0 ] || wait_until 10 curl -sf -o /dev/null \
	    --unix-socket "$SOCK" "http://evpnd$1"
}

# check_evpnd_stop: SIGTERM to DAEMON_PID; returns evpnd's exit status.
check_evpnd_stop()
{
	local rc

	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	rc=$?
	DAEMON_PID=
	return $rc
}

check_cleanup()
{
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
