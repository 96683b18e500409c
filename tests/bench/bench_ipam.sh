#!/usr/bin/env bash
#
# IPAM benchmark: allocations per second and latency through evpnd's
# API over its Unix socket, with durable commits, in a pool of about a
# million addresses.  Run by hand as root, never by "make check".
#
# Usage: bench_ipam.sh [N]     (N allocations per run, default 100000)
#
# How this works: evpnd runs alone in a network namespace (it creates
# the pool's VXLAN device there, since the pool's VNI is declared), with
# no BGP peer: every allocation is committed to SQLite (WAL,
# synchronous=FULL, group commit) and originated as a type-2 route into
# the Loc-RIB, but no UPDATE is sent.  A route reflector would add the
# cost of encoding and sending UPDATEs, which evpnd batches; the ingest
# benchmark (bench_evpn_ingest.sh) measures that side.  The state
# directory is in TMPDIR (default /tmp), which must be on a local disk
# for the fsyncs to mean anything: the script prints its file system.
#
# For each concurrency in BENCH_CONC (default "16 32 64 128"),
# tests/bench/ipam_load allocates N fresh resources (ids cC-0 ...) with C
# keep-alive connections, one request in flight each, then releases
# them again (measured too) so that every run starts with an empty pool
# (quarantine 0).  The table shows allocations/s and latency percentiles
# of the allocation phase, the releases/s of the release phase, the
# allocations per group commit (evpnd_ipam_store_batches_total), evpnd's
# CPU time (both threads: event loop and store writer) per allocation,
# and the load average before the run: the numbers only mean something
# on an otherwise idle machine, since the load generator, evpnd's event
# loop and its writer thread already share the two cores.
#
# `wrk` (Debian's wrk 4) would do the same with a Lua script making the
# POST body unique per request (wrk.format in request()), but it only
# speaks TCP: it would need a TCP listener (evpnd's is TLS-only with
# client certificates) or a socat bridge, which adds a hop; hence
# ipam_load.
#
# Environment:
#   BUILD_DIR    build tree with evpnd, evpnctl, tests/bench/ipam_load
#                (default: the repo root).  Use an optimized build
#                without sanitizers (./configure CFLAGS="-O2 -g").
#   EVPND, IPAM_LOAD   override single binaries
#   BENCH_CONC   concurrencies to run (default "16 32 64 128")
#   BENCH_PREFIX the pool's prefix (default 10.64.0.0/12: 1,048,574
#                addresses, one of them the gateway)
#   BENCH_PERF   a file name: record "perf record -g" of evpnd over all
#                allocation phases into it
#   BENCH_OUT    also write all results as JSON to this file
#   KEEP_TMP=1   keep the state directory, config and log

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT}
EVPND=${EVPND:-$BUILD_DIR/evpnd}
IPAM_LOAD=${IPAM_LOAD:-$BUILD_DIR/tests/bench/ipam_load}
BENCH_CONC=${BENCH_CONC:-16 32 64 128}
BENCH_PREFIX=${BENCH_PREFIX:-10.64.0.0/12}

N=${1:-100000}
NS=ipambench$$
POOL=bench
PID=
PERF_PID=
RESULTS=()

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

note()
{
	printf '# %s\n' "$*" >&2
}

cleanup()
{
	[ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null &&
	    wait "$PERF_PID" 2>/dev/null
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		note "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}

preflight()
{
	local f
	[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
	[ "$(id -u)" = 0 ] || die "run as root (network namespace)"
	command -v jq >/dev/null || die "jq is required"
	for f in "$EVPND" "$IPAM_LOAD"; do
		[ -x "$f" ] || die "no $f (set BUILD_DIR)"
	done
	if ldd "$EVPND" 2>/dev/null | grep -q libasan; then
		note "WARNING: $EVPND is a sanitizer build; its numbers mean nothing"
	fi
	if [ -n "${BENCH_PERF:-}" ]; then
		command -v perf >/dev/null || die "BENCH_PERF needs perf"
	fi
}

evpnd_conf()
{
	local gw=${BENCH_PREFIX%/*}
	# the first address after the network address
	gw=${gw%.*}.$((${gw##*.} + 1))
	cat <<EOF
hostname bench-ipam
log file $TMP/evpnd.log notifications
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.1
!
ipam pool $POOL
 vni 100
 prefix $BENCH_PREFIX
 gateway $gw
 quarantine 0
 mac-prefix 02:00:0a
!
router bgp 65000
 bgp router-id 10.0.0.1
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF
}

start_evpnd()
{
	ip netns add "$NS" || die "cannot create namespace $NS"
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add 10.0.0.1/32 dev lo
	evpnd_conf >"$TMP/evpnd.conf"
	ip netns exec "$NS" "$EVPND" -f "$TMP/evpnd.conf" -S "$TMP/evpnd.sock" \
	    -D "$TMP/state" >"$TMP/evpnd.out" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		curl -sf --unix-socket "$TMP/evpnd.sock" \
		    "http://localhost/v1/ipam/pools/$POOL" >/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$TMP/evpnd.out" >&2
	die "evpnd does not serve pool $POOL (see above)"
}

# disk_sync_ms: mean time of a 12 KiB write with O_DSYNC in the state
# directory's file system (about what one group commit's fdatasync of
# the WAL costs), over 200 writes.  Commit latency bounds the API's.
disk_sync_ms()
{
	local t0 t1
	t0=$(date +%s%N)
	dd if=/dev/zero of="$TMP/sync.probe" bs=12k count=200 oflag=dsync \
	    2>/dev/null || return 1
	t1=$(date +%s%N)
	rm -f "$TMP/sync.probe"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 200e6 }'
}

loadavg()
{
	cut -d' ' -f1 /proc/loadavg
}

# store_batches: group commits so far (evpnd's /metrics).
store_batches()
{
	curl -sf --unix-socket "$TMP/evpnd.sock" http://localhost/metrics |
	    awk '$1 == "evpnd_ipam_store_batches_total" { print $2; f = 1 }
	    END { if (!f) print 0 }'
}

cpu_s()
{
	awk -v t="$(getconf CLK_TCK)" '{ sub(/.*\) /, "");
	    printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"
}

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# run_one C: allocate N with C connections, then release them.
run_one()
{
	local c=$1 alloc rel cpu0 cpu1 load0 b0 b1
	load0=$(loadavg)
	b0=$(store_batches)
	cpu0=$(cpu_s "$PID")
	alloc=$("$IPAM_LOAD" -S "$TMP/evpnd.sock" -p "$POOL" -n "$N" -c "$c" \
	    --prefix "c$c-" --json) || note "c=$c: not every allocation succeeded"
	cpu1=$(cpu_s "$PID")
	b1=$(store_batches)
	[ -n "$alloc" ] || die "ipam_load failed at concurrency $c"
	note "c=$c allocate: $(jq -c '{per_s, latency_ms, status}' <<<"$alloc")"
	rel=$("$IPAM_LOAD" -S "$TMP/evpnd.sock" -n "$N" -c "$c" \
	    --prefix "c$c-" --mode release --json) ||
	    note "c=$c: not every release succeeded"
	note "c=$c release: $(jq -c '{per_s, status}' <<<"$rel")"
	RESULTS+=("$(jq -cn --argjson a "$alloc" --argjson r "${rel:-null}" \
	    --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" \
	    'BEGIN { printf "%.2f", b - a }')" --argjson rss "$(rss_kb "$PID")" \
	    --argjson l0 "$load0" --argjson l1 "$(loadavg)" \
	    --argjson b "$((b1 - b0))" \
	    '$a + { release_per_s: ($r.per_s // null), evpnd_cpu_s: $cpu,
	      evpnd_rss_kb: $rss, loadavg_before: $l0, loadavg_after: $l1,
	      store_commits: $b }')")
}

report()
{
	local all
	all=$(printf '%s\n' "${RESULTS[@]}" | jq -cs --argjson n "$N" \
	    --arg m "$(nproc) CPUs, $(uname -r)" --arg fs "$FS" \
	    --arg p "$BENCH_PREFIX" --argjson sync "${SYNC_MS:-null}" '
	    { n: $n, prefix: $p, machine: $m, state_fs: $fs,
	      disk_dsync_write_ms: $sync, runs: . }')
	echo
	echo "| concurrency | allocations/s | p50 ms | p90 ms | p99 ms |" \
	    "max ms | releases/s | allocs/commit | evpnd CPU µs/alloc |" \
	    "load avg |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	jq -r '.runs[] | "| \(.concurrency) | \(.per_s | round) | " +
	    "\(.latency_ms.p50 * 100 | round / 100) | " +
	    "\(.latency_ms.p90 * 100 | round / 100) | " +
	    "\(.latency_ms.p99 * 100 | round / 100) | " +
	    "\(.latency_ms.max * 100 | round / 100) | " +
	    "\(.release_per_s // 0 | round) | " +
	    "\(if .store_commits > 0 then .n / .store_commits * 10 |
	       round / 10 else "?" end) | " +
	    "\(.evpnd_cpu_s * 1e6 / .n | round) | " +
	    "\(.loadavg_before) |"' <<<"$all"
	echo
	echo "Disk: a 12 KiB O_DSYNC write took ${SYNC_MS:-?} ms on average" \
	    "(one group commit's fsync is about that)."
	echo "Command: sudo BUILD_DIR=\$PWD tests/bench/bench_ipam.sh $N" \
	    "(pool $BENCH_PREFIX, state on $FS)"
	if [ -n "${BENCH_OUT:-}" ]; then
		jq . <<<"$all" >"$BENCH_OUT" || die "cannot write $BENCH_OUT"
	fi
}

preflight
TMP=$(mktemp -d "${TMPDIR:-/tmp}/evpnd-ipam-bench.XXXXXX") || exit 1
trap cleanup EXIT
trap 'exit 130' INT TERM
FS=$(df -PT "$TMP" | awk 'NR == 2 { print $2 " " $1 }')
SYNC_MS=$(disk_sync_ms) || SYNC_MS=
note "N=$N, concurrency: $BENCH_CONC, $(nproc) CPUs, state on $FS," \
    "dsync write ${SYNC_MS:-?} ms, load average $(loadavg)"
start_evpnd
note "pool: $(curl -s --unix-socket "$TMP/evpnd.sock" \
    "http://localhost/v1/ipam/pools/$POOL" | jq -c '{size, free, prefixes}')"
if [ -n "${BENCH_PERF:-}" ]; then
	perf record -g -o "$BENCH_PERF" -p "$PID" 2>"$TMP/perf.err" &
	PERF_PID=$!
fi
for c in $BENCH_CONC; do
	run_one "$c"
	kill -0 "$PID" 2>/dev/null || die "evpnd died (see $TMP/evpnd.out)"
done
if [ -n "$PERF_PID" ]; then
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	PERF_PID=
	note "perf data in $BENCH_PERF (perf report -i $BENCH_PERF --no-children)"
fi
report
