#!/usr/bin/env bash
#
# What the evpnd process keeps once it runs, read from /proc by a real
# observer; root required (evpnd creates a VXLAN device; the test runs
# in a private network namespace).
#
#  1. Started as root: CapEff, CapPrm and CapBnd of every thread hold
#     exactly CAP_NET_ADMIN, CAP_NET_BIND_SERVICE and CAP_NET_RAW (the
#     IPAM store's writer thread included), CapInh and CapAmb nothing,
#     NoNewPrivs 1; with that it still creates its VXLAN device, answers
#     its API and reloads its config (SIGHUP).
#  2. Started as nobody with those capabilities as ambient ones (as a
#     service manager would): it is not dumpable, which /proc shows by
#     handing its files to root (a dumpable process run the same way,
#     the control, keeps them); CapEff again the three.
#
# Environment: BUILD_DIR (evpnd; default: the current directory when it
# holds it, else the repo root), KEEP_TMP=1.
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when not root or curl, setpriv or unshare is missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
check_build_dir evpnd
check_require_root
check_require_tools curl setpriv unshare ip
check_require_build evpnd
check_in_netns "$@"

# CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13).
KEPT=0000000000003400
NOBODY=65534

PIDS=()

T=$(mktemp -d "${TMPDIR:-/tmp}/evpnd-process.XXXXXX") || exit 1
chmod 755 "$T"

cleanup()
{
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT


status_field()	# FILE FIELD
{
	awk -v f="$2:" '$1 == f { print $2 }' "$1"
}

write_conf()	# DIR
{
	cat >"$1/evpnd.conf" <<EOF
log stdout
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 neighbor 127.0.0.2 remote-as 65000
 neighbor 127.0.0.2 password s3cret
 neighbor 127.0.0.2 passive
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF
}

api_up()	# DIR
{
	curl -sf -o /dev/null --unix-socket "$1/evpnd.sock" \
	    http://evpnd/v1/bgp/summary
}

# ---- 1. as root ----

test_root()
{
	local d=$T/root pid task n=0 bad=

	mkdir -p "$d"
	write_conf "$d"
	"$EVPND" -f "$d/evpnd.conf" -S "$d/evpnd.sock" -D "$d/state" \
	    >"$d/log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_until 10 api_up "$d"; then
		fail "evpnd starts as root" "$(tail -5 "$d/log")"
		return
	fi
	pass "evpnd starts as root and answers its API"
	check "its VXLAN device was made after the drop" \
	    ip link show vx100
	for field in CapEff CapPrm CapBnd; do
		check_eq "$field is exactly the three kept" "$KEPT" \
		    "$(status_field "/proc/$pid/status" "$field")"
	done
	check_eq "CapInh is empty" 0000000000000000 \
	    "$(status_field "/proc/$pid/status" CapInh)"
	check_eq "CapAmb is empty" 0000000000000000 \
	    "$(status_field "/proc/$pid/status" CapAmb)"
	check_eq "NoNewPrivs is set" 1 \
	    "$(status_field "/proc/$pid/status" NoNewPrivs)"
	for task in /proc/"$pid"/task/*; do
		n=$((n + 1))
		[ "$(status_field "$task/status" CapEff)" = "$KEPT" ] ||
		    bad="$bad ${task##*/}"
	done
	check "every thread ($n) has only the three" test -z "$bad" -a "$n" -ge 2
	kill -HUP "$pid"
	check "a reload still works without the others" wait_until 5 \
	    grep -q 'configuration reloaded' "$d/log"
	check "and the API still answers" api_up "$d"
}

# ---- 2. as nobody with ambient capabilities ----

# setpriv options: nobody, with the three as ambient capabilities.
AS_NOBODY=(--reuid="$NOBODY" --regid="$NOBODY" --clear-groups
    --inh-caps=+net_admin,+net_bind_service,+net_raw
    --ambient-caps=+net_admin,+net_bind_service,+net_raw)

test_nobody()
{
	local d=$T/nobody pid ctl

	mkdir -p "$d"
	write_conf "$d"
	sed -i 's/vx100/vx101/' "$d/evpnd.conf"
	chown -R "$NOBODY:$NOBODY" "$d"
	setpriv "${AS_NOBODY[@]}" "$EVPND" -f "$d/evpnd.conf" \
	    -S "$d/evpnd.sock" -D "$d/state" >"$d/log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_until 10 api_up "$d"; then
		fail "evpnd starts as nobody" "$(tail -5 "$d/log")"
		return
	fi
	setpriv "${AS_NOBODY[@]}" sleep 30 &
	ctl=$!
	PIDS+=("$ctl")
	sleep 0.2
	check_eq "the control runs as nobody" "$NOBODY" \
	    "$(stat -c %u /proc/$ctl/status)"
	check_eq "evpnd runs as nobody" "$NOBODY" \
	    "$(status_field "/proc/$pid/status" Uid)"
	check_eq "evpnd is not dumpable: /proc hands its files to root" 0 \
	    "$(stat -c %u /proc/$pid/status)"
	check_eq "CapEff is the three kept" "$KEPT" \
	    "$(status_field "/proc/$pid/status" CapEff)"
	check_eq "CapAmb is empty" 0000000000000000 \
	    "$(status_field "/proc/$pid/status" CapAmb)"
}

test_root
test_nobody

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
