#!/usr/bin/env bash
#
# The shadow inventory's learned state across a restart, against a
# running evpnd (no FRR; root, in a private network namespace):
#
#  1. Requests labelled job=llama-70b come in runs; the view shows a
#     learned Holt level and the group with its requests.
#  2. evpnd stops (SIGTERM) and starts again on the same state
#     directory: the view says the state was restored, the Holt level is
#     the one before the stop (not a cold 0), the group is back, and
#     "evpnctl show ipam shadow" prints its expectation.
#  3. The saved blob damaged with sqlite3 (evpnd stopped): evpnd starts,
#     logs that it ignores it and the pool starts cold.
#
# Environment: BUILD_DIR (where evpnd and evpnctl were built), KEEP_TMP=1.
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when not root or curl, jq, sqlite3 or unshare is missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
REPO_ROOT=$(cd "$TEST_DIR/../.." && pwd)
if [ -z "${BUILD_DIR:-}" ]; then
	if [ -x ./evpnd ] && [ -x ./evpnctl ]; then
		BUILD_DIR=$(pwd)
	else
		BUILD_DIR=$REPO_ROOT
	fi
fi
EVPND=$BUILD_DIR/evpnd
EVPNCTL=$BUILD_DIR/evpnctl

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root"
	exit 77
fi
for tool in curl jq sqlite3 unshare ip; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed"
		exit 77
	fi
done
if [ ! -x "$EVPND" ] || [ ! -x "$EVPNCTL" ]; then
	echo "FATAL: no evpnd/evpnctl in $BUILD_DIR (set BUILD_DIR)" >&2
	exit 1
fi
if [ -z "${SHADOW_TEST_IN_NETNS:-}" ]; then
	SHADOW_TEST_IN_NETNS=1 BUILD_DIR=$BUILD_DIR exec unshare --net -- \
	    "$BASH" "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up

DAEMON_PID=
T=$(mktemp -d "${TMPDIR:-/tmp}/evpnd-shadow.XXXXXX") || exit 1
SOCK=$T/run/evpnd.sock
STATE=$T/state
CONF=$T/evpnd.conf
LOG=$T/evpnd.log

cleanup()
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
trap cleanup EXIT

cat >"$CONF" <<EOF
log stdout
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
ipam pool train
 vni 100
 prefix 10.10.0.0/24
 mac-prefix 02:00:0a
 shadow
  max-warm 4
 exit-shadow
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF

start_daemon()
{
	"$EVPND" -f "$CONF" -S "$SOCK" -D "$STATE" >>"$LOG" 2>&1 &
	DAEMON_PID=$!
	wait_until 10 test -S "$SOCK" &&
	    wait_until 10 curl -sf -o /dev/null --unix-socket "$SOCK" \
	    http://evpnd/v1/ipam/shadow
}

stop_daemon()
{
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# view JQ: the train pool's shadow view through jq.
view()
{
	curl -s --unix-socket "$SOCK" http://evpnd/v1/ipam/shadow |
	    jq -r ".pools[] | select(.pool == \"train\") | $1"
}

allocate()	# NAME
{
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST -H 'Content-Type: application/json' --data-binary \
	    "{\"resource\": \"$1\", \"labels\": {\"job\": \"llama-70b\"}}" \
	    http://evpnd/v1/ipam/pools/train/allocations
}

mkdir -p "$STATE"
if ! start_daemon; then
	fail "evpnd starts" "$(tail -5 "$LOG")"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

# 1. Four runs of three requests, two seconds apart.
ok=0
for run in 1 2 3 4; do
	for i in 1 2 3; do
		[ "$(allocate "w-$run-$i")" = 201 ] && ok=$((ok + 1))
	done
	sleep 2
done
check_eq "12 labelled requests allocated" 12 "$ok"
check_eq "the view is a cold start" false "$(view .state.restored)"
holt_learned()
{
	[ "$(view '.models.holt.level > 0')" = true ]
}
check "the Holt level is learned" wait_until 5 holt_learned
check_eq "the group's requests" 12 \
    "$(view '.groups[] | select(.label == "job=llama-70b") | .requests')"
LEVEL=$(view .models.holt.level)
stop_daemon
check_eq "the state is in the database" 1 \
    "$(sqlite3 "$STATE/ipam.db" "SELECT count(*) FROM shadow_state \
    WHERE pool = 'train'")"

# 2. Back on the same state directory.
if start_daemon; then
	check_eq "the view says restored" true "$(view .state.restored)"
	after=$(view .models.holt.level)
	check "the Holt level is the one before the stop ($LEVEL, $after)" \
	    jq -ne "($after) > 0 and (($after) - ($LEVEL) | fabs) <= \
	    0.05 * ($LEVEL)"
	check_eq "the group is back with its requests" 12 \
	    "$(view '.groups[] | select(.label == "job=llama-70b") | .requests')"
	check_eq "and what it holds" 12 \
	    "$(view '.groups[] | select(.label == "job=llama-70b") | .active')"
	"$EVPNCTL" -S "$SOCK" show ipam shadow >"$T/show.out" 2>&1
	check "evpnctl prints the group's expectation" \
	    grep -Eq "job llama-70b: [0-9]+% confident [0-9]+ more within 5 min" \
	    "$T/show.out"
	check "the log says so" grep -q "pool train: learned state restored" \
	    "$LOG"
	stop_daemon
else
	fail "evpnd restarts" "$(tail -5 "$LOG")"
fi

# 3. A damaged blob is ignored, not trusted in part.
sqlite3 "$STATE/ipam.db" "UPDATE shadow_state SET state = \
    substr(state, 1, 100) WHERE pool = 'train'"
if start_daemon; then
	check_eq "a damaged state: a cold start" false "$(view .state.restored)"
	check "the log says why" grep -q "pool train: saved state ignored" \
	    "$LOG"
	check_eq "the pool still serves" 201 "$(allocate w-after)"
	stop_daemon
else
	fail "evpnd starts on a damaged state" "$(tail -5 "$LOG")"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
