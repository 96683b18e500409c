#!/usr/bin/env bash
#
# ADD to first cross-fabric ping: how long a container made through
# evpnd-cni waits, from the start of its CNI ADD, until a ping to a
# container on the other leaf is first answered; for endpoints served by
# the shadow inventory's pre-allocations against fresh allocations.
# Run by hand, as root, from the top of a build tree without sanitizers
# (or with BUILD_DIR set):
#
#   BUILD_DIR=$PWD tests/bench/bench_cni_ping.sh [N]
#
# Setup as tests/integration/test_cni_prealloc.sh: an FRR route
# reflector and two evpnd leaves, pool train 10.10.0.0/16 in VNI 100
# split between them (no address is used twice in a run), the README's
# conflist run by cni_lib.sh's runtime (the reference bridge plugin
# with evpnd-cni as IPAM), and an anchor container per leaf.  N
# (default CNI_CONTAINERS, else 100) containers per kind, alternating
# leaves, one at a time, in BLOCKS (default 4) alternating blocks per
# kind:
#   preallocated  the pool has a shadow block (min-warm MIN_WARM,
#                 default 8); before each ADD the leaf holds MIN_WARM
#                 ready pre-allocations (waited for, not timed);
#   fresh         the same pool with the shadow block reloaded away.
# Per container: its namespace is made (not timed), t0, ADD, t1, then
# at once "ping -D -i 0.01 -c 1 -w 10" to the other leaf's anchor: a
# probe every 10 ms until the first reply, whose receive time ping
# prints (-D, microseconds) as t2.  Reported: ADD (t1 - t0) and ADD to
# first reply (t2 - t0), p50 and p99 (nearest rank), how many
# containers' first probe was answered, the round-trip time ping gives
# that first reply (it includes resolving ARP on both ends), and how
# many ADDs the audit trail records as a claim of a pre-allocation.
# Resolution: clocks in microseconds (bash's EPOCHREALTIME, ping -D); a
# path that starts to work between two probes is seen up to 10 ms
# late; starting ping in the container's namespace (nsenter) is part
# of the time to the first reply.  Each container is deleted once
# measured.  BENCH_OUT (a file) keeps the samples (kind container
# add_ms first_reply_ms icmp_seq audit_op rtt_ms).

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/evpn_lib.sh"
. "$(dirname "$0")/../integration/dp_lib.sh"
. "$(dirname "$0")/../integration/cni_lib.sh"
require_root_tools
cni_require

N=${1:-${CNI_CONTAINERS:-100}}
MIN_WARM=${MIN_WARM:-8}
SAMPLES=${BENCH_OUT:-$TMP_ROOT/samples}
# shellcheck disable=SC2034 # filled and read by cni_lib.sh
declare -A LEAF=() ALLOC=()

# us_of EPOCH-SECONDS.FRACTION: microseconds.
us_of()
{
	local s=${1%.*} f=${1#*.}000000
	echo $((s * 1000000 + 10#${f:0:6}))
}

# measure KIND C LEAF: one container, one line in SAMPLES.
measure()
{
	local kind=$1 c=$2 leaf=$3 t0 t1 t2 out seq op rtt
	cni_on "$leaf"
	ns_create "$c"
	t0=$(us_of "$EPOCHREALTIME")
	runtime ADD "$LIST" "$c" || { log_info "ADD $c failed"; return 1; }
	t1=$(us_of "$EPOCHREALTIME")
	out=$(nsenter --net="/var/run/netns/$(ns_name "$c")" ping -n -D \
	    -i 0.01 -c 1 -w 10 "$(cni_anchor_ip "$(cni_other "$leaf")")" \
	    2>&1 | grep -m 1 'bytes from')
	t2=$(sed -n 's/^\[\([0-9.]*\)\].*/\1/p' <<<"$out")
	seq=$(sed -n 's/.*icmp_seq=\([0-9]*\).*/\1/p' <<<"$out")
	rtt=$(sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' <<<"$out")
	op=$(cni_made_by "$leaf" "$c/eth0")
	if [ -z "$t2" ]; then
		log_info "$c: no reply within 10 s"
		t2=$EPOCHREALTIME seq=-1 rtt=-1
	fi
	t2=$(us_of "$t2")
	printf '%s %s %d.%03d %d.%03d %s %s %s\n' "$kind" "$c" \
	    $(((t1 - t0) / 1000)) $(((t1 - t0) % 1000)) \
	    $(((t2 - t0) / 1000)) $(((t2 - t0) % 1000)) "$seq" "$op" "$rtt" \
	    >>"$SAMPLES"
	runtime DEL "$LIST" "$c" || log_info "DEL $c failed"
	ip netns del "$(ns_name "$c")"
}

# pct KIND COLUMN P: the nearest-rank P-quantile of a column of KIND's
# samples.
pct()
{
	awk -v k="$1" -v c="$2" '$1 == k { print $c }' "$SAMPLES" | sort -n |
	    awk -v p="$3" '{ v[NR] = $1 } END { r = int(p * NR + 0.999999)
	    if (r < 1) r = 1; print v[r] }'
}

# row KIND: the table row of that kind's samples.
row()
{
	local n claim first
	n=$(awk -v k="$1" '$1 == k' "$SAMPLES" | wc -l)
	claim=$(awk -v k="$1" '$1 == k && $6 == "claim"' "$SAMPLES" | wc -l)
	first=$(awk -v k="$1" '$1 == k && $5 == 1' "$SAMPLES" | wc -l)
	printf '| %s | %d | %d | %s | %s | %s | %s | %d/%d | %s | %s |\n' \
	    "$1" "$n" "$claim" "$(pct "$1" 3 .5)" "$(pct "$1" 3 .99)" \
	    "$(pct "$1" 4 .5)" "$(pct "$1" 4 .99)" "$first" "$n" \
	    "$(pct "$1" 7 .5)" "$(pct "$1" 7 .99)"
}

# ---------------------------------------------------------------- run

: >"$SAMPLES"
cni_fabric_start "$CNI_LAYOUT_16"
cni_anchors_add

# shadow_set on|off: the pool's shadow block on both leaves, and wait
# until they hold MIN_WARM ready pre-allocations, or none.
shadow_set()
{
	local leaf block=
	[ "$1" = on ] && block=$(cni_shadow_block "$MIN_WARM")
	for leaf in l1 l2; do
		evpnd_reload "$leaf" "$(cni_leaf_conf "$leaf" "$CNI_LAYOUT_16" \
		    "02:00:c${leaf#l}" "$block")"
		if [ "$1" = on ]; then
			wait_for 60 cni_warm_ready_at_least "$leaf" "$MIN_WARM"
		else
			wait_for 20 cni_no_preallocations "$leaf"
		fi || log_info "$leaf: shadow $1: not settled"
	done
}

# The kinds alternate in BLOCKS blocks each, so that a machine whose
# load drifts weighs on both alike.  Before each ADD of a pre-allocated
# endpoint the leaf's inventory is whole again (MIN_WARM ready), so the
# ADD does not race the commit of the pre-allocation that replaces the
# previous one.
BLOCKS=${BLOCKS:-4}
for ((b = 0; b < BLOCKS; b++)); do
	shadow_set on
	for ((i = b * N / BLOCKS + 1; i <= (b + 1) * N / BLOCKS; i++)); do
		leaf=l$((2 - i % 2))
		wait_for 30 cni_warm_ready_at_least "$leaf" "$MIN_WARM" ||
		    log_info "$leaf: inventory not whole before p$i"
		measure preallocated "p$i" "$leaf"
	done
	shadow_set off
	for ((i = b * N / BLOCKS + 1; i <= (b + 1) * N / BLOCKS; i++)); do
		measure fresh "f$i" "l$((2 - i % 2))"
	done
done

printf '\n| kind | N | served by a pre-allocation | ADD p50 ms | ADD p99 ms '
printf '| ADD to first reply p50 ms | p99 ms | first probe answered '
printf '| first reply RTT p50 ms | p99 ms |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
row preallocated
row fresh
summary
