#!/usr/bin/env bash
#
# FDB ingest benchmark: N remote type-2 routes for one VNI, streamed by
# the route injector (tests/bench/bgp_inject) into a leaf, until all N
# MACs are in the leaf's VXLAN device FDB.  Three rows from the same
# run on the same machine:
#   floor  iproute2 "bridge -batch" adding the same N entries (MAC dev
#          vx100 dst VTEP self master extern_learn, what evpnd installs)
#          to a fresh device: the kernel's own cost, no BGP at all
#   evpnd  evpnd as the leaf; its config makes vx100 and br100
#   frr    FRR 8.4 bgpd + zebra (advertise-all-vni); devices made here
#
# Usage: bench_fdb_ingest.sh [N]      (as root, by hand; N = 100000)
#
# How this works: for each leaf two network namespaces are joined by a
# veth pair, the leaf at 10.0.0.1/24 and the injector at 10.0.0.99/24,
# which is also the remote VTEP every route points at (next hop), with
# RT 65000:100 (FRR's auto-derived RT for VNI 100 in AS 65000).  Time
# runs from the injector's "established" timestamp to the poll that saw
# all N entries with dst 10.0.0.99 in vx100's FDB.  A full dump of
# 100k entries takes longer than the poll interval and costs the CPU
# the leaf needs, so each poll (every BENCH_POLL s) asks for the last
# MAC sent only ("bridge fdb get"); once it is there one dump confirms
# all N are (see measure).  The floor is timed around "bridge -batch"
# itself; the leaves' times carry up to one poll interval more.
#
# Environment:
#   BUILD_DIR     build tree with evpnd, evpnctl, tests/bench/bgp_inject
#                 (default: the repo root); use an optimized build
#                 without sanitizers
#   EVPND, EVPNCTL, BGP_INJECT   override single binaries
#   FRR_DIR       FRR's zebra and bgpd (default /usr/lib/frr)
#   BENCH_TARGETS rows to run, in order (default "floor evpnd frr")
#   BENCH_POLL    poll interval in seconds (default 0.1)
#   BENCH_TIMEOUT give up on a leaf after this many seconds (300)
#   BENCH_OUT     also write the results as JSON to this file
#   KEEP_TMP=1    keep configs and logs

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT}
EVPND=${EVPND:-$BUILD_DIR/evpnd}
EVPNCTL=${EVPNCTL:-$BUILD_DIR/evpnctl}
BGP_INJECT=${BGP_INJECT:-$BUILD_DIR/tests/bench/bgp_inject}
FRR_DIR=${FRR_DIR:-/usr/lib/frr}
BENCH_TARGETS=${BENCH_TARGETS:-floor evpnd frr}
BENCH_POLL=${BENCH_POLL:-0.1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}

N=${1:-100000}
ASN=65000
LEAF_IP=10.0.0.1
VTEP=10.0.0.99		# the injector: peer, next hop and remote VTEP
RD=10.0.0.99:1
MAC_BASE=0x021000000000	# the injector's default --mac-base
RUN=fdbb$$

_NAMESPACES=()
_PIDS=()
. "$BENCH_DIR/bench_lib.sh"
RESULTS=()

preflight()
{
	[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
	[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
	command -v jq >/dev/null || die "jq is required"
	case " $BENCH_TARGETS " in *" evpnd "* | *" frr "*)
		[ -x "$BGP_INJECT" ] ||
		    die "no injector at $BGP_INJECT (set BUILD_DIR)"
	esac
	case " $BENCH_TARGETS " in *" evpnd "*)
		[ -x "$EVPND" ] && [ -x "$EVPNCTL" ] ||
		    die "no evpnd/evpnctl in $BUILD_DIR (set BUILD_DIR)"
		ldd "$EVPND" 2>/dev/null | grep -q libasan &&
		    note "WARNING: $EVPND is a sanitizer build;" \
		    "its numbers mean nothing"
	esac
	case " $BENCH_TARGETS " in *" frr "*)
		[ -x "$FRR_DIR/bgpd" ] && [ -x "$FRR_DIR/zebra" ] ||
		    die "no FRR in $FRR_DIR (set FRR_DIR)"
	esac
}

# ---------------------------------------------------------------- helpers

# topology NAME: NAME-leaf and NAME-inj joined by a veth pair.
topology()
{
	bench_veth_pair "$RUN-$1-leaf" uplink "$LEAF_IP" "$RUN-$1-inj" uplink \
	    "$VTEP"
}

# devices NS: br100 with vx100 (VNI 100, learning off), both up.
devices()
{
	ip -n "$1" link add br100 type bridge &&
	    ip -n "$1" link add vx100 type vxlan id 100 local "$LEAF_IP" \
	    dstport 4789 nolearning &&
	    ip -n "$1" link set vx100 master br100 &&
	    ip netns exec "$1" bridge link set dev vx100 learning off &&
	    ip -n "$1" link set br100 up && ip -n "$1" link set vx100 up ||
	    die "cannot make the devices in $1"
}

# fdb_count NS: entries dst VTEP on vx100.
fdb_count()
{
	ip netns exec "$1" bridge fdb show dev vx100 | grep -c "dst $VTEP "
}

# fdb_has_last NS: the last MAC sent is in vx100's FDB (one lookup).
fdb_has_last()
{
	ip netns exec "$1" bridge fdb get "$LAST_MAC" dev vx100 self \
	    >/dev/null 2>&1
}

fdb_all_in()
{
	[ "$(fdb_count "$1")" -ge "$N" ]
}

# measure NAME PID: the injector against leaf NAME (process PID); sets
# ELAPSED (established -> all N in the kernel) and CPU (the leaf's).
measure()
{
	local name=$1 pid=$2 out=$TMP/$1-inject.jsonl t0 t1 cpu0 deadline
	local ticks
	ticks=$(getconf CLK_TCK)
	cpu0=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
	ip netns exec "$RUN-$name-inj" "$BGP_INJECT" --connect "$LEAF_IP" \
	    --as $ASN --peer-as $ASN --router-id "$VTEP" --nexthop "$VTEP" \
	    --rd "$RD" --vni 100 --rt $ASN:100 --count "$N" --stay 3600 \
	    >"$out" 2>"$out.err" &
	INJ_PID=$!
	_PIDS+=("$INJ_PID")
	wait_until 30 injector_time "$out" established ||
	    die "$name: no session (see $out.err)"
	t0=$(injector_time "$out" established)
	deadline=$(($(date +%s) + BENCH_TIMEOUT))
	# Both leaves program the kernel in arrival order, so the last MAC
	# comes last: its poll is the time, and the full count (a dump of
	# 2N entries, too slow to poll) only confirms it afterwards.  When
	# the count falls short, the time is the poll that completes it.
	until fdb_has_last "$RUN-$name-leaf"; do
		kill -0 "$pid" 2>/dev/null || die "$name: leaf died"
		(($(date +%s) >= deadline)) && die "$name: last MAC not in" \
		    "after ${BENCH_TIMEOUT}s"
		sleep "$BENCH_POLL"
	done
	t1=$(now)
	if ! fdb_all_in "$RUN-$name-leaf"; then
		note "$name: last MAC in before the others, counting"
		until fdb_all_in "$RUN-$name-leaf"; do
			(($(date +%s) >= deadline)) && die "$name: only" \
			    "$(fdb_count "$RUN-$name-leaf") of $N"
			sleep "$BENCH_POLL"
		done
		t1=$(now)
	fi
	ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	CPU=$(awk -v a="$cpu0" -v t="$ticks" '{ sub(/.*\) /, "");
	    printf "%.2f", ($12 + $13 - a) / t }' "/proc/$pid/stat")
}

record()	# NAME EXTRA-JSON
{
	RESULTS+=("$(jq -cn --arg s "$1" --argjson n "$N" \
	    --argjson t "$ELAPSED" --argjson x "$2" \
	    '{ what: $s, n: $n, time_s: $t } + $x')")
	note "$1: $N entries in ${ELAPSED}s"
}

# ---------------------------------------------------------------- floor

bench_floor()
{
	local ns=$RUN-floor t0 t1 got
	bench_ns_new "$ns"
	devices "$ns"
	awk -v n="$N" -v base=$((MAC_BASE)) -v d="$VTEP" 'BEGIN {
	    for (i = 0; i < n; i++) { v = base + i
		printf "fdb add %02x:%02x:%02x:%02x:%02x:%02x dev vx100 " \
		    "dst %s self master extern_learn dynamic\n",
		    int(v / 2^40) % 256, int(v / 2^32) % 256,
		    int(v / 2^24) % 256, int(v / 2^16) % 256,
		    int(v / 2^8) % 256, v % 256, d } }' >"$TMP/floor.batch"
	t0=$(now)
	ip netns exec "$ns" bridge -batch "$TMP/floor.batch" ||
	    die "floor: bridge -batch failed"
	t1=$(now)
	got=$(fdb_count "$ns")
	[ "$got" -eq "$N" ] || die "floor: $got of $N entries"
	ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	record "kernel floor (bridge -batch)" '{}'
}

# ---------------------------------------------------------------- evpnd

evpnd_conf()
{
	cat <<EOF
hostname bench-fdb
log file $TMP/evpnd/evpnd.log notifications
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $LEAF_IP
!
router bgp $ASN
 bgp router-id $LEAF_IP
 neighbor $VTEP remote-as $ASN
 neighbor $VTEP passive
 address-family l2vpn evpn
  neighbor $VTEP activate
  advertise-all-vni
  vni 100
   route-target import $ASN:100
   route-target export $ASN:100
  exit-vni
 exit-address-family
exit
EOF
}

bench_evpnd()
{
	local dir=$TMP/evpnd pid dp
	mkdir -p "$dir"
	topology evpnd
	evpnd_conf >"$dir/evpnd.conf"
	bench_evpnd_start "$RUN-evpnd-leaf" "$dir"
	pid=$EVPND_PID
	measure evpnd "$pid"
	dp=$("$EVPNCTL" -S "$dir/evpnd.sock" show dataplane --json) ||
	    dp='{}'
	note "evpnd dataplane: $(jq -c '{installed, requests, overruns,
	    resyncs}' <<<"$dp")"
	record evpnd "$(jq -c --argjson cpu "$CPU" '{ cpu_s: $cpu,
	    overruns: (.overruns // null), resyncs: (.resyncs // null),
	    failed: (.requests.failed // null) }' <<<"$dp")"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- FRR

bench_frr()
{
	local dir=$TMP/frr zebra zcpu0 ticks
	mkdir -p "$dir"
	topology frr
	devices "$RUN-frr-leaf"
	bench_frr_conf "$LEAF_IP" "$VTEP" >"$dir/bgpd.conf"
	bench_frr_start "$RUN-frr-leaf"
	# zebra programs the kernel: its CPU is the one comparable to
	# evpnd's (bgpd's is in the JSON too).
	zebra=$(cat "$dir/zebra.pid")
	ticks=$(getconf CLK_TCK)
	zcpu0=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' \
	    "/proc/$zebra/stat")
	measure frr "$(cat "$dir/bgpd.pid")"
	record "frr $FRR_VERSION (bgpd+zebra)" "$(jq -cn --argjson b "$CPU" \
	    --argjson z "$(awk -v a="$zcpu0" -v t="$ticks" '{
	    sub(/.*\) /, ""); printf "%.2f", ($12 + $13 - a) / t }' \
	    "/proc/$zebra/stat")" '{ bgpd_cpu_s: $b, zebra_cpu_s: $z }')"
}

# ---------------------------------------------------------------- report

report()
{
	local all
	all=$(printf '%s\n' "${RESULTS[@]}" | jq -cs \
	    --arg m "$(nproc) CPUs, $(uname -r)" '
	    (map(select(.what | startswith("kernel floor"))) | first |
	     .time_s // null) as $f |
	    { n: .[0].n, machine: $m, results: map(. + (if $f and $f > 0
	      then { vs_floor: ((.time_s / $f * 100 | round) / 100) }
	      else {} end)) }')
	echo
	echo "| what | N | seconds | vs floor |"
	echo "|---|---:|---:|---:|"
	jq -r '.results[] | "| \(.what) | \(.n) | \(.time_s) | " +
	    (if .vs_floor then "\(.vs_floor)x" else "-" end) + " |"' \
	    <<<"$all"
	if [ -n "${BENCH_OUT:-}" ]; then
		jq . <<<"$all" >"$BENCH_OUT" || die "cannot write $BENCH_OUT"
	fi
}

preflight
bench_tmp fdbbench
LAST_MAC=$(bench_mac $((N - 1)))
note "N=$N, $(nproc) CPUs; rows: $BENCH_TARGETS"
for target in $BENCH_TARGETS; do
	case $target in
	floor) bench_floor ;;
	evpnd) bench_evpnd ;;
	frr) bench_frr ;;
	*) die "unknown target $target" ;;
	esac
done
report
