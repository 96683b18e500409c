#!/usr/bin/env bash
#
# EVPN ingest benchmark: how long evpnd and FRR's bgpd take to put N
# type-2 routes from one iBGP peer into their Loc-RIB, and how much
# resident memory each route costs them.  Both run in the same run, on
# the same machine, one after the other, fed by the same injector
# (tests/bench/bgp_inject).
#
# Usage: bench_evpn_ingest.sh [N]        (as root; N defaults to 100000)
#
# How this works: for each speaker two network namespaces are joined by
# a veth pair: the speaker at 10.0.0.1/24, the injector at 10.0.0.99/24
# (a real connected next hop, so FRR's zebra resolves it and neither
# side sees its own address as next hop).  The speaker is configured
# with one passive iBGP neighbor activated for l2vpn evpn and VNI 100
# (advertise-all-vni), the injector connects and streams N routes plus
# End-of-RIB, and this script polls the speaker until all N are in:
#   evpnd  "evpnctl show bgp summary --json": .peers[PEER].pfxRcd == N
#          (evpnd runs the decision process and the VNI import inside
#          the same call that counts the path, so the count is the
#          Loc-RIB)
#   FRR    "show bgp l2vpn evpn summary json": .peers[PEER].pfxRcd == N,
#          then the last route sent is valid and best ("show bgp l2vpn
#          evpn route rd RD mac MAC json"): bgpd counts a path when it
#          stores it and chooses best paths later from a work queue
#          that runs in arrival order, so the last route being best
#          means they all are.
# Time is from the injector's "established" timestamp to the poll that
# saw the condition (polls every BENCH_POLL seconds).  RSS is VmRSS of
# the speaker process (bgpd for FRR; zebra is printed on the side)
# just before the session and right after the routes are in.
#
# Environment:
#   BUILD_DIR     build tree with evpnd, evpnctl, tests/bench/bgp_inject
#                 (default: the repo root).  Use a build without
#                 sanitizers: ASan multiplies both time and memory.
#   EVPND, EVPNCTL, BGP_INJECT   override single binaries
#   FRR_DIR       where FRR's zebra and bgpd live (default /usr/lib/frr)
#   BENCH_TARGETS speakers to run, in order (default "evpnd frr")
#   BENCH_WITH_IP MAC+IP routes with IPv4 addresses counting up from
#                 this one (default: MAC-only routes)
#   BENCH_VNI=1   declare VNI 100 on evpnd: it also imports the routes
#                 and programs the kernel FDB (FRR here does neither)
#   BENCH_POLL    poll interval in seconds (default 0.05)
#   BENCH_TIMEOUT give up on a speaker after this many seconds (600)
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
BENCH_TARGETS=${BENCH_TARGETS:-evpnd frr}
BENCH_POLL=${BENCH_POLL:-0.05}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}

N=${1:-100000}
ASN=65000
SPEAKER_IP=10.0.0.1
PEER_IP=10.0.0.99
INJ_RD=10.0.0.99:1
# shellcheck disable=SC2034	# bench_lib.sh's bench_mac reads it
MAC_BASE=0x021000000000		# the injector's default --mac-base
RUN=bench$$

_NAMESPACES=()
_PIDS=()		# processes to stop at exit (also daemonised FRR)
. "$BENCH_DIR/bench_lib.sh"
RESULTS=()		# one JSON object per speaker

preflight()
{
	[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
	[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
	command -v jq >/dev/null || die "jq is required"
	[ -x "$BGP_INJECT" ] || die "no injector at $BGP_INJECT (set BUILD_DIR)"
	case " $BENCH_TARGETS " in *" evpnd "*)
		for f in "$EVPND" "$EVPNCTL"; do
			[ -x "$f" ] || die "no $f (set BUILD_DIR)"
		done
		if ldd "$EVPND" 2>/dev/null | grep -q 'libasan'; then
			note "WARNING: $EVPND is a sanitizer build;" \
			    "its numbers mean nothing"
		fi
	esac
	case " $BENCH_TARGETS " in *" frr "*)
		for f in "$FRR_DIR/bgpd" "$FRR_DIR/zebra"; do
			[ -x "$f" ] || die "no $f (set FRR_DIR)"
		done
		command -v vtysh >/dev/null || die "vtysh is required"
	esac
}

# ---------------------------------------------------------------- helpers

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# utime + stime of a process (all its threads), in seconds.
cpu_s()
{
	local ticks
	ticks=$(getconf CLK_TCK)
	awk -v t="$ticks" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / t }' \
	    "/proc/$1/stat" 2>/dev/null
}

# The IP of the last route with BENCH_WITH_IP (IPv4 only).
last_ip()
{
	local a b c d v
	IFS=. read -r a b c d <<<"$BENCH_WITH_IP"
	v=$(((a << 24 | b << 16 | c << 8 | d) + N - 1))
	printf '%d.%d.%d.%d' $((v >> 24 & 255)) $((v >> 16 & 255)) \
	    $((v >> 8 & 255)) $((v & 255))
}

# topology NAME: namespaces NAME-spk and NAME-inj joined by a veth pair.
topology()
{
	bench_veth_pair "$RUN-$1-spk" bspk "$SPEAKER_IP" "$RUN-$1-inj" binj \
	    "$PEER_IP"
}

# wait_until SECONDS CMD...: run CMD every BENCH_POLL until it succeeds.

# start_injector NAME OUTFILE: stream N routes from NAME-inj.
start_injector()
{
	local args=(--connect "$SPEAKER_IP" --as "$ASN" --peer-as "$ASN"
	    --router-id "$PEER_IP" --nexthop "$PEER_IP" --rd "$INJ_RD"
	    --count "$N")
	[ -n "${BENCH_WITH_IP:-}" ] && args+=(--with-ip "$BENCH_WITH_IP")
	ip netns exec "$RUN-$1-inj" "$BGP_INJECT" "${args[@]}" \
	    >"$2" 2>"$2.err" &
	INJ_PID=$!
	_PIDS+=("$INJ_PID")
}

# measure NAME PID DONE_CMD...: run the injector against the speaker
# PID and poll DONE_CMD; sets ELAPSED, RSS_BEFORE, RSS_AFTER, CPU.
measure()
{
	local name=$1 pid=$2 out=$TMP/$1-inject.jsonl t0 t1 cpu0 deadline
	shift 2
	RSS_BEFORE=$(rss_kb "$pid")
	cpu0=$(cpu_s "$pid")
	start_injector "$name" "$out"
	wait_until 30 injector_time "$out" established ||
	    die "$name: no session (see $out.err)"
	t0=$(injector_time "$out" established)
	deadline=$(($(date +%s) + BENCH_TIMEOUT))
	until "$@"; do
		kill -0 "$pid" 2>/dev/null || die "$name: speaker died"
		(($(date +%s) >= deadline)) &&
		    die "$name: routes not all in after ${BENCH_TIMEOUT}s"
		sleep "$BENCH_POLL"
	done
	t1=$(now)
	RSS_AFTER=$(rss_kb "$pid")
	CPU=$(awk -v a="$cpu0" -v b="$(cpu_s "$pid")" \
	    'BEGIN { printf "%.2f", b - a }')
	ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	kill -TERM "$INJ_PID" 2>/dev/null
	wait "$INJ_PID" 2>/dev/null
}

# record SPEAKER EXTRA_JSON: add a result row from measure's variables.
record()
{
	RESULTS+=("$(jq -cn --arg s "$1" --argjson n "$N" \
	    --argjson t "$ELAPSED" --argjson b "$RSS_BEFORE" \
	    --argjson a "$RSS_AFTER" --argjson cpu "$CPU" --argjson x "$2" '
	    { speaker: $s, n: $n, time_s: $t, cpu_s: $cpu,
	      rss_before_kb: $b, rss_after_kb: $a,
	      rss_growth_mb: ((($a - $b) / 1024 * 10 | round) / 10),
	      bytes_per_route: (($a - $b) * 1024 / $n | round) } + $x')")
	note "$1: $N routes in ${ELAPSED}s, RSS ${RSS_BEFORE} -> ${RSS_AFTER} kB"
}

# ---------------------------------------------------------------- evpnd

# FRR's bgpd here has no VNI from zebra (no VXLAN device), so it imports
# into none and programs nothing; evpnd is compared the same way unless
# BENCH_VNI=1, which declares VNI 100: evpnd then also imports every
# route into it and installs every MAC in the kernel's FDB.
evpnd_vni_conf()
{
	[ "${BENCH_VNI:-0}" = 1 ] || return 0
	printf 'vxlan vx100\n vni 100\n local-tunnel-ip %s\n!\n' "$SPEAKER_IP"
}

evpnd_conf()
{
	cat <<EOF
hostname bench-evpnd
log file $TMP/evpnd/evpnd.log notifications
$(evpnd_vni_conf)
router bgp $ASN
 bgp router-id $SPEAKER_IP
 neighbor $PEER_IP remote-as $ASN
 neighbor $PEER_IP passive
 address-family l2vpn evpn
  neighbor $PEER_IP activate
  advertise-all-vni
 exit-address-family
exit
EOF
}

evpnd_pfx_rcvd()
{
	"$EVPNCTL" -S "$TMP/evpnd/evpnd.sock" show bgp summary --json |
	    jq -e --arg p "$PEER_IP" --argjson n "$N" \
	    '.peers[$p].pfxRcd == $n' >/dev/null
}

bench_evpnd()
{
	local dir=$TMP/evpnd pid
	mkdir -p "$dir"
	topology evpnd
	evpnd_conf >"$dir/evpnd.conf"
	bench_evpnd_start "$RUN-evpnd-spk" "$dir"
	pid=$EVPND_PID
	measure evpnd "$pid" evpnd_pfx_rcvd
	record evpnd '{}'
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- FRR

frr_all_in()
{
	local mac prefix args
	bench_frr_vtysh 'show bgp l2vpn evpn summary json' |
	    jq -e --arg p "$PEER_IP" --argjson n "$N" \
	    '.peers[$p].pfxRcd == $n' >/dev/null || return 1
	mac=$(bench_mac $((N - 1)))
	prefix="[2]:[0]:[48]:[$mac]"
	args="mac $mac"
	if [ -n "${BENCH_WITH_IP:-}" ]; then
		prefix="$prefix:[32]:[$(last_ip)]"
		args="$args ip $(last_ip)"
	fi
	bench_frr_vtysh "show bgp l2vpn evpn route rd $INJ_RD $args json" |
	    jq -e --arg k "$prefix" \
	    '.[$k][0][0] | .valid == true and .bestpath.overall == true' \
	    >/dev/null
}

bench_frr()
{
	local dir=$TMP/frr bgpd zebra zrss0
	mkdir -p "$dir"
	topology frr
	bench_frr_conf "$SPEAKER_IP" "$PEER_IP" >"$dir/bgpd.conf"
	bench_frr_start "$RUN-frr-spk"
	bgpd=$(cat "$dir/bgpd.pid")
	zebra=$(cat "$dir/zebra.pid")
	zrss0=$(rss_kb "$zebra")
	measure frr "$bgpd" frr_all_in
	record "frr bgpd $FRR_VERSION" "$(jq -cn --argjson b "$zrss0" \
	    --argjson a "$(rss_kb "$zebra")" \
	    '{ zebra_rss_before_kb: $b, zebra_rss_after_kb: $a }')"
	kill -TERM "$bgpd" "$zebra" 2>/dev/null
}

# ---------------------------------------------------------------- report

report()
{
	local all
	all=$(printf '%s\n' "${RESULTS[@]}" | jq -cs \
	    --arg m "$(nproc) CPUs, $(uname -r)" '
	    { n: .[0].n, machine: $m, results: . } +
	    (if length == 2 and .[0].time_s > 0 then
	      { speedup: ((.[1].time_s / .[0].time_s * 10 | round) / 10) }
	    else {} end)')
	echo
	echo "| speaker | N | time to Loc-RIB (s) | RSS growth (MB) | bytes/route |"
	echo "|---|---:|---:|---:|---:|"
	jq -r '.results[] | "| \(.speaker) | \(.n) | \(.time_s) | " +
	    "\(.rss_growth_mb) | \(.bytes_per_route) |"' <<<"$all"
	jq -r 'if .speedup then "\nSpeedup (\(.results[1].speaker) time / " +
	    "\(.results[0].speaker) time): \(.speedup)x" else empty end' \
	    <<<"$all"
	if [ -n "${BENCH_OUT:-}" ]; then
		jq . <<<"$all" >"$BENCH_OUT" || die "cannot write $BENCH_OUT"
	fi
}

preflight
bench_tmp bench
note "N=$N, $(nproc) CPUs; targets: $BENCH_TARGETS"
for target in $BENCH_TARGETS; do
	case $target in
	evpnd) bench_evpnd ;;
	frr) bench_frr ;;
	*) die "unknown target $target" ;;
	esac
done
report
