#!/usr/bin/env bash
#
# Containers made through evpnd-cni reach each other across the fabric
# at once: two evpnd leaves behind an FRR route reflector, each leaf the
# host of its containers, the reference bridge plugin running
# evpnd-cni as its IPAM (the README's conflist, via cni_lib.sh's
# runtime).
#
#         rr (FRR zebra+bgpd, AS 65000, 10.0.0.1)
#                  | fabric: bridge br0, 10.0.0.0/24
#          +-------+--------+
#   l1 (evpnd, VTEP .11)   l2 (evpnd, VTEP .12)
#   br100 + vx100 (VNI 100, made by evpnd), pool train 10.10.0.0/24:
#   l1 hands out .2-.127 (MACs 02:00:c1:..), l2 .128-.254 (02:00:c2:..)
#      |  |  |                 |  |  |
#     c1 c3 c5 ...            c2 c4 c6 ...   (CNI_CONTAINERS, default 20)
#
# Cases: (1) both sessions up; (2) ADD of every container, alternating
# leaves, each answering 0, and its first ping, sent right after ADD,
# to the container just made on the other leaf is answered (evpnd
# advertised the allocation before the container existed, so the other
# leaf already forwards to it); (3) every container's eth0 has its
# allocation's MAC and address; (4) rr holds exactly one type-2 route
# per container, MAC+IP with the allocation's MAC and address from its
# leaf's VTEP, and no other type-2 route (no MAC the veths had before
# evpnd-cni replaced it); (5) CHECK passes for every container; (6)
# DEL of c1 withdraws its route at rr and its MAC from l2's FDB, a
# second DEL succeeds; (7) DEL of all leaves rr without type-2 routes;
# no sanitizer report.  Polls, no fixed sleeps.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
. "$(dirname "$0")/dp_lib.sh"
. "$(dirname "$0")/cni_lib.sh"
require_root_tools
cni_require

N=${CNI_CONTAINERS:-20}

declare -A LEAF=() ALLOC=()

# rr_type2: FRR's type-2 prefixes with the VTEP that sent each, one
# "PREFIX VTEP" a line, sorted.
rr_type2()
{
	frr_vtysh_raw rr 'show bgp l2vpn evpn json' | jq -r '
	    to_entries[] | select(.value | type == "object") | .value |
	    to_entries[] | select(.key | startswith("[2]")) | .key as $p |
	    .value.paths[] | (if type == "array" then .[] else . end) |
	    "\($p) \(.nexthops[0].ip)"' | sort -u
}

# The type-2 routes the allocations should make, in rr_type2's form.
want_type2()
{
	local c
	for c in "${!ALLOC[@]}"; do
		jq -r --arg v "$(cni_vtep "${LEAF[$c]}")" \
		    '"[2]:[0]:[48]:[\(.mac)]:[32]:[\(.ip)] \($v)"' \
		    <<<"${ALLOC[$c]}"
	done | sort
}

rr_type2_as_allocated()
{
	[ "$(rr_type2)" = "$(want_type2)" ]
}

# ---------------------------------------------------------------- 1

cni_fabric_start "$CNI_LAYOUT_24"

# ---------------------------------------------------------------- 2

FIRST_LOST=()
for ((i = 1; i <= N; i++)); do
	c=c$i
	leaf=l$((2 - i % 2))
	cni_on "$leaf"
	container_add "$c" "$LIST"
	check "ADD $c on $leaf: exit 0" test $? = 0
	LEAF[$c]=$leaf
	ALLOC[$c]=$(alloc "$c/eth0")
	[ "$i" -gt 1 ] || continue
	peer=c$((i - 1))
	ns_exec "$c" ping -n -q -c 1 -W 2 "$(jq -r .ip <<<"${ALLOC[$peer]}")" \
	    >/dev/null 2>&1 || FIRST_LOST+=("$c->$peer")
done
check "every first ping across the fabric, right after ADD, is answered \
(lost: ${FIRST_LOST[*]:-none})" test ${#FIRST_LOST[@]} = 0

# ---------------------------------------------------------------- 3

eth0_as_allocated()
{
	local c bad=()
	for c in "${!ALLOC[@]}"; do
		[ "$(eth0_mac "$c")" = "$(jq -r .mac <<<"${ALLOC[$c]}")" ] &&
		    eth0_has "$c" "$(jq -r .ip <<<"${ALLOC[$c]}")/24" ||
		    bad+=("$c")
	done
	[ ${#bad[@]} = 0 ] || { log_info "not as allocated: ${bad[*]}"; return 1; }
}
check "every eth0 has its allocation's MAC and address" eth0_as_allocated
check "$N distinct addresses across both leaves" test "$(for c in \
    "${!ALLOC[@]}"; do jq -r .ip <<<"${ALLOC[$c]}"; done | sort -u |
    wc -l)" = "$N"

# ---------------------------------------------------------------- 4

wait_for 20 rr_type2_as_allocated
check "rr holds one type-2 MAC+IP route per container and no other" \
    rr_type2_as_allocated
rr_type2_as_allocated || log_info "rr: $(rr_type2 | tr '\n' ';')"

# ---------------------------------------------------------------- 5

cni_run_all CHECK
check "CHECK passes for every container (failed: ${CNI_FAILED[*]:-none})" \
    test ${#CNI_FAILED[@]} = 0

# ---------------------------------------------------------------- 6

c1_route="[2]:[0]:[48]:[$(jq -r .mac <<<"${ALLOC[c1]}")]:[32]:[$(jq -r .ip \
    <<<"${ALLOC[c1]}")]"
c1_mac=$(jq -r .mac <<<"${ALLOC[c1]}")
cni_on l1
runtime DEL "$LIST" c1
check "DEL c1: exit 0" test $? = 0
check "rr withdraws c1's route" wait_for 10 frr_evpn_absent rr "$c1_route" \
    $EVPN_L1
check "l2's FDB no longer sends c1's MAC to l1" \
    wait_for 10 dp_fdb_no_dst l2 "$c1_mac" $EVPN_L1
runtime DEL "$LIST" c1
check "a second DEL of c1 succeeds" test $? = 0
unset 'ALLOC[c1]'
check "rr keeps the other containers' routes" rr_type2_as_allocated

# ---------------------------------------------------------------- 7

cni_run_all DEL
check "DEL of every container (failed: ${CNI_FAILED[*]:-none})" \
    test ${#CNI_FAILED[@]} = 0
check "rr holds no type-2 route any more" wait_for 10 \
    eval '[ -z "$(rr_type2)" ]'
check "no sanitizer report from evpnd" sh -c \
    "! grep -q Sanitizer '$(evpnd_log_path l1)' '$(evpnd_log_path l2)'"

summary
