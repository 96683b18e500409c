#!/usr/bin/env bash
#
# The first ping of a pre-allocated endpoint: a container that evpnd-cni
# serves from the shadow inventory is reachable across the fabric the
# moment ADD returns, because its MAC+IP route went out (and converged)
# before the container existed.
#
#         rr (FRR zebra+bgpd, AS 65000, 10.0.0.1)
#                  | fabric: bridge br0, 10.0.0.0/24
#          +-------+--------+
#   l1 (evpnd, VTEP .11)   l2 (evpnd, VTEP .12)
#   pool train 10.10.0.0/24 in VNI 100, split between the leaves, with
#   a shadow block: min-warm MIN_WARM pre-allocations kept on each leaf
#      |                     |
#     a1, p1, p3, ...       a2, p2, p4, ...    (anchors a1 and a2 first)
#
# Cases: (1) sessions up, flood lists; (2) each leaf keeps MIN_WARM
# ready pre-allocations and rr holds their routes; (3) the anchors a1
# and a2 reach each other; (4) CNI_CONTAINERS (default 10) containers,
# alternating leaves, each made while its leaf has a ready
# pre-allocation: ADD exits 0, evpnd's audit trail records the
# allocation as a claim of a pre-allocation (what answered the ADD with
# "preallocated": true), its address and MAC are those of a
# pre-allocation listed just before the ADD, eth0 has them, and the
# container's very first ping to the anchor on the other leaf, sent
# right after ADD returns (ping -c 1 -W 1, no retry), is answered: zero
# losses; (5) contrast: with the shadow block reloaded away (its
# pre-allocations released), as many fresh allocations (audit op
# "allocate"), whose first-ping outcome is reported, not asserted;
# (6) DEL of every container withdraws every container route at rr; no
# sanitizer report.  Polls, no fixed sleeps.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
. "$(dirname "$0")/dp_lib.sh"
. "$(dirname "$0")/cni_lib.sh"
require_root_tools
cni_require

N=${CNI_CONTAINERS:-10}
MIN_WARM=${MIN_WARM:-4}

declare -A LEAF=() ALLOC=()

# ---------------------------------------------------------------- readers

# rr_has_warm LEAF: rr holds the route of every pre-allocation of LEAF.
rr_has_warm()
{
	local ip mac json
	json=$(frr_vtysh_raw rr 'show bgp l2vpn evpn route detail json') ||
	    return 1
	while read -r ip mac; do
		[ -n "$ip" ] || return 1
		jq -e --arg p "[2]:[0]:[48]:[$mac]:[32]:[$ip]" \
		    --arg o "$(cni_vtep "$1")" "$_FRR_EVPN_PATHS | length == 1" \
		    <<<"$json" >/dev/null || return 1
	done < <(cni_preallocations "$1")
}

# add_and_ping C LEAF: ADD C on LEAF, then at once one ping to the
# anchor on the other leaf.  Sets ADD_RC and PING_OK (1 answered).
add_and_ping()
{
	cni_on "$2"
	container_add "$1" "$LIST"
	ADD_RC=$?
	PING_OK=0
	ns_exec "$1" ping -n -q -c 1 -W 1 \
	    "$(cni_anchor_ip "$(cni_other "$2")")" >/dev/null 2>&1 && PING_OK=1
	LEAF[$1]=$2
	ALLOC[$1]=$(alloc "$1/eth0")
}

as_allocated()	# C: eth0 has its allocation's MAC and address
{
	[ "$(eth0_mac "$1")" = "$(jq -r .mac <<<"${ALLOC[$1]}")" ] &&
	    eth0_has "$1" "$(jq -r .ip <<<"${ALLOC[$1]}")/24"
}

# ---------------------------------------------------------------- 1

cni_fabric_start "$CNI_LAYOUT_24" "$(cni_shadow_block "$MIN_WARM")"

# ---------------------------------------------------------------- 2

for leaf in l1 l2; do
	check "$leaf keeps $MIN_WARM ready pre-allocations" \
	    wait_for 30 cni_warm_ready_at_least "$leaf" "$MIN_WARM"
	check "rr holds the routes of $leaf's pre-allocations" \
	    wait_for 20 rr_has_warm "$leaf"
done

# ---------------------------------------------------------------- 3

cni_anchors_add

# ---------------------------------------------------------------- 4

ADD_FAILED=() NOT_CLAIMED=() NOT_LISTED=() NOT_ON_ETH0=() LOST=()
for ((i = 1; i <= N; i++)); do
	c=p$i
	leaf=l$((2 - i % 2))
	wait_for 30 cni_warm_ready_at_least "$leaf" 1 ||
	    log_info "$leaf: no ready pre-allocation before $c"
	listed=$(cni_preallocations "$leaf")
	add_and_ping "$c" "$leaf"
	[ "$ADD_RC" = 0 ] || ADD_FAILED+=("$c")
	[ "$PING_OK" = 1 ] || LOST+=("$c")
	[ "$(cni_made_by "$leaf" "$c/eth0")" = claim ] || NOT_CLAIMED+=("$c")
	grep -qxF "$(jq -r '"\(.ip) \(.mac)"' <<<"${ALLOC[$c]}")" \
	    <<<"$listed" || NOT_LISTED+=("$c")
	as_allocated "$c" || NOT_ON_ETH0+=("$c")
done
check "ADD of $N containers: exit 0 (failed: ${ADD_FAILED[*]:-none})" \
    test ${#ADD_FAILED[@]} = 0
check "each was served by a pre-allocation: audit op claim (not: \
${NOT_CLAIMED[*]:-none})" test ${#NOT_CLAIMED[@]} = 0
check "each got the address and MAC of a pre-allocation listed before \
its ADD (not: ${NOT_LISTED[*]:-none})" test ${#NOT_LISTED[@]} = 0
check "each eth0 has its allocation's MAC and address (not: \
${NOT_ON_ETH0[*]:-none})" test ${#NOT_ON_ETH0[@]} = 0
check "zero first-ping losses across the fabric right after ADD: \
$((N - ${#LOST[@]}))/$N answered (lost: ${LOST[*]:-none})" test ${#LOST[@]} = 0

# ---------------------------------------------------------------- 5

# The same pool without its shadow block: evpnd releases what it holds
# unused, and every allocation is fresh.
for leaf in l1 l2; do
	evpnd_reload "$leaf" "$(cni_leaf_conf "$leaf" "$CNI_LAYOUT_24" \
	    "02:00:c${leaf#l}")"
	check "reload without the shadow block: $leaf holds no \
pre-allocation" wait_for 20 cni_no_preallocations "$leaf"
done
FRESH_FAILED=() NOT_FRESH=() FRESH_LOST=()
for ((i = 1; i <= N; i++)); do
	c=f$i
	leaf=l$((2 - i % 2))
	add_and_ping "$c" "$leaf"
	[ "$ADD_RC" = 0 ] || FRESH_FAILED+=("$c")
	[ "$PING_OK" = 1 ] || FRESH_LOST+=("$c")
	[ "$(cni_made_by "$leaf" "$c/eth0")" = allocate ] || NOT_FRESH+=("$c")
done
check "ADD of $N containers without shadow: exit 0 (failed: \
${FRESH_FAILED[*]:-none})" test ${#FRESH_FAILED[@]} = 0
check "each is a fresh allocation: audit op allocate (not: \
${NOT_FRESH[*]:-none})" test ${#NOT_FRESH[@]} = 0
log_info "contrast, fresh allocations: $((N - ${#FRESH_LOST[@]}))/$N \
first pings answered (lost: ${FRESH_LOST[*]:-none})"

# ---------------------------------------------------------------- 6

# rr_no_container_route: no type-2 route of any container is left.
rr_no_container_route()
{
	local c
	for c in "${!ALLOC[@]}"; do
		frr_evpn_absent rr "$(jq -r \
		    '"[2]:[0]:[48]:[\(.mac)]:[32]:[\(.ip)]"' <<<"${ALLOC[$c]}")" \
		    "$(cni_vtep "${LEAF[$c]}")" || return 1
	done
}
cni_run_all DEL
check "DEL of every container (failed: ${CNI_FAILED[*]:-none})" \
    test ${#CNI_FAILED[@]} = 0
check "rr holds no container's route any more" \
    wait_for 20 rr_no_container_route
check "no sanitizer report from evpnd" \
    eval 'evpnd_sanitizer_clean l1 && evpnd_sanitizer_clean l2'

summary
