#!/usr/bin/env bash
#
# IPAM allocations in the fabric: endpoints allocated through evpnd's
# API appear at an FRR 8.4 route reflector as EVPN type-2 MAC+IP routes,
# are withdrawn on release, and come back after evpnd restarts from its
# state directory.
#
#         rr (FRR zebra+bgpd, AS 65000, 10.0.0.1)
#                  | fabric: bridge br0, 10.0.0.0/24
#         l1 (evpnd, VTEP 10.0.0.11)
#             vxlan vx100 (VNI 100, created by evpnd in its namespace)
#             ipam pool tenant-a: VNI 100, 10.10.0.0/24 and
#             2001:db8:100::/64, gateway 10.10.0.1, MACs 02:00:0a:...
#
# Cases: (1) the session is up; (2) three allocations through
# POST /v1/ipam/pools/tenant-a/allocations (ep1, ep2 IPv4, ep3 dual
# stack) answer 201 with addresses of the pool and MACs under its
# prefix, and a repeat answers 200 with the same object; (3) rr holds a
# type-2 MAC+IP route from 10.0.0.11 for each of the four addresses
# with the allocation's MAC, RD 10.0.0.11:N, VNI 100, RT 65000:100 and
# ET:8 (the issue: "allocations appear as type-2 routes at an FRR route
# reflector"); (4) DELETE of ep2 answers 204 and rr withdraws its route
# while the others stay; (5) SIGTERM and a start with the same -D: the
# remaining allocations are listed with the same addresses and MACs,
# ep2 is not, and their routes come back at rr; no sanitizer reports.
# Polls, no fixed sleeps; about 20 s on an idle machine.
#
# FRR JSON used: see evpn_lib.sh (show bgp l2vpn evpn route detail json:
# .[RD][PREFIX].paths[][] .VNI .extendedCommunity.string .nexthops[].ip).
# FRR writes a MAC+IP prefix as [2]:[0]:[48]:[MAC]:[32]:[IPv4] or
# [2]:[0]:[48]:[MAC]:[128]:[IPv6].

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
require_root_tools

RR=$EVPN_RR
L1=$EVPN_L1
POOL=tenant-a

leaf_conf()
{
	evpn_ipam_leaf_conf "$L1" "$RR" <<EOF
ipam pool $POOL
 vni 100
 prefix 10.10.0.0/24
 prefix 2001:db8:100::/64
 gateway 10.10.0.1
 quarantine 2
 mac-prefix 02:00:0a
!
EOF
}

# ---------------------------------------------------------------- API

# api_call METHOD PATH [BODY]: evpnd_http on l1.
api_call()
{
	evpnd_http l1 "$@"
}

# allocate RESOURCE FAMILY: POST; sets CODE and BODY.
allocate()
{
	local r
	r=$(api_call POST "/v1/ipam/pools/$POOL/allocations" \
	    "{\"resource\": \"$1\", \"family\": \"$2\"}") || r="000 "
	CODE=${r%% *}
	BODY=$(jq -c . <<<"${r#* }" 2>/dev/null) || BODY=${r#* }
}

# ---------------------------------------------------------------- setup

evpn_fabric_create rr:$RR l1:$L1
frr_start rr rr "$(evpn_rr_conf $RR $L1)"
evpnd_start l1 l1 "$(leaf_conf)"

# ---------------------------------------------------------------- 1

check "evpnd sees rr Established" wait_for 30 evpnd_peer_established l1 $RR
check "rr sees evpnd ($L1) Established" \
    wait_for 10 frr_peer_established rr $L1
{ evpnd_peer_established l1 $RR && frr_peer_established rr $L1; } ||
    bail_out "no session between evpnd and FRR"

# ---------------------------------------------------------------- 2

declare -A ALLOC=()
for ep in ep1:ipv4 ep2:ipv4 ep3:dual; do
	allocate "${ep%%:*}" "${ep#*:}"
	check "POST ${ep%%:*} (${ep#*:}): 201 (got $CODE $BODY)" \
	    test "$CODE" = 201
	ALLOC[${ep%%:*}]=$BODY
done

alloc_ok()	# NAME WANT-V6: pool, VNI, addresses in the pool, MAC prefix
{
	jq -e --arg r "$1" --argjson v6 "$2" '
	    .resource == $r and .pool == "tenant-a" and .vni == 100 and
	    (.ip | test("^10\\.10\\.0\\.[0-9]+$")) and .ip != "10.10.0.1" and
	    (.mac | ascii_downcase | test("^02:00:0a(:[0-9a-f]{2}){3}$")) and
	    .preallocated == false and
	    (if $v6 then (.ipv6 | test("^2001:db8:100::")) else
	     (has("ipv6") | not) end)' <<<"${ALLOC[$1]}" >/dev/null
}
check "ep1: IPv4 of the pool, MAC under 02:00:0a, VNI 100" alloc_ok ep1 false
check "ep2: IPv4 of the pool, MAC under 02:00:0a, VNI 100" alloc_ok ep2 false
check "ep3: dual stack, IPv4 and IPv6 of the pool" alloc_ok ep3 true
distinct()
{
	local n
	n=$(for e in ep1 ep2 ep3; do jq -r '.ip, .mac' <<<"${ALLOC[$e]}"; done |
	    sort -u | wc -l)
	[ "$n" -eq 6 ]
}
check "three allocations: distinct addresses and MACs" distinct

allocate ep1 ipv4
check "POST ep1 again: 200 with the same object ($CODE)" \
    eval '[ "$CODE" = 200 ] && [ "$(jq -S . <<<"$BODY")" = "$(jq -S . <<<"${ALLOC[ep1]}")" ]'

# ---------------------------------------------------------------- 3

# rr_alloc_ok NAME FIELD: rr has the route for that address from l1 with
# the RD, VNI 100, RT 65000:100 and ET:8; prints what differs.
rr_alloc_ok()
{
	local prefix path tok ok=0
	prefix=$(frr_macip_prefix "${ALLOC[$1]}" "$2") || return 1
	path=$(frr_evpn_path rr "$prefix" $L1) || {
		log_info "rr has no path to $prefix from $L1"
		return 1
	}
	jq -e '.rd | test("^10\\.0\\.0\\.11:[0-9]+$")' <<<"$path" \
	    >/dev/null || { log_info "$prefix: RD $(jq -c .rd <<<"$path")"; ok=1; }
	jq -e '.VNI == "100"' <<<"$path" >/dev/null ||
	    { log_info "$prefix: VNI $(jq -c .VNI <<<"$path")"; ok=1; }
	for tok in RT:65000:100 ET:8; do
		frr_ecomm_has "$path" "$tok" || {
			log_info "$prefix: no '$tok' in" \
			    "$(jq -c .extendedCommunity <<<"$path")"
			ok=1
		}
	done
	return $ok
}
rr_has()	# NAME FIELD: the path exists (for polling)
{
	frr_evpn_path rr "$(frr_macip_prefix "${ALLOC[$1]}" "$2")" $L1 \
	    >/dev/null
}
rr_lacks()
{
	frr_evpn_absent rr "$(frr_macip_prefix "${ALLOC[$1]}" "$2")" $L1
}
rr_has_all()
{
	rr_has ep1 ip && rr_has ep2 ip && rr_has ep3 ip && rr_has ep3 ipv6
}
wait_for 20 rr_has_all
check "rr: ep1 $(frr_macip_prefix "${ALLOC[ep1]}" ip) (VNI 100, RT, ET:8)" \
    rr_alloc_ok ep1 ip
check "rr: ep2 $(frr_macip_prefix "${ALLOC[ep2]}" ip) (VNI 100, RT, ET:8)" \
    rr_alloc_ok ep2 ip
check "rr: ep3 $(frr_macip_prefix "${ALLOC[ep3]}" ip) (VNI 100, RT, ET:8)" \
    rr_alloc_ok ep3 ip
check "rr: ep3 $(frr_macip_prefix "${ALLOC[ep3]}" ipv6) (VNI 100, RT, ET:8)" \
    rr_alloc_ok ep3 ipv6

evpnd_local_type2()	# NAME FIELD: evpnd's own route for the address
{
	evpnd_route l1 "$(frr_macip_prefix "${ALLOC[$1]}" "$2")" local |
	    jq -e '.type == 2 and .vni == 100 and .best' >/dev/null
}
check "evpnd: /v1/evpn/routes has ep3's two local type-2 routes" \
    eval 'evpnd_local_type2 ep3 ip && evpnd_local_type2 ep3 ipv6'

# ---------------------------------------------------------------- 4

r=$(api_call DELETE /v1/ipam/allocations/ep2)
check "DELETE ep2: 204 (got $r)" test "${r%% *}" = 204
check "rr withdraws ep2's route" wait_for 20 rr_lacks ep2 ip
check "rr keeps ep1's and ep3's routes" \
    eval 'rr_has ep1 ip && rr_has ep3 ip && rr_has ep3 ipv6'
r=$(api_call DELETE /v1/ipam/allocations/ep2)
check "DELETE ep2 again: 404 (got ${r%% *})" test "${r%% *}" = 404

# ---------------------------------------------------------------- 5

evpnd_stop l1
stop_rc=$?
check "SIGTERM: evpnd exits 0 (exit $stop_rc)" test "$stop_rc" -eq 0
check "evpnd gone: rr drops ep1's route" wait_for 20 rr_lacks ep1 ip

evpnd_start l1 l1 "$(leaf_conf)"
listed()	# the allocations after the restart, as "resource ip ipv6 mac"
{
	evpnd_api l1 "/v1/ipam/allocations?pool=$POOL" |
	    jq -r '.allocations[] | "\(.resource) \(.ip) \(.ipv6 // "-") " +
	    (.mac | ascii_downcase)' | sort
}
expected()
{
	for e in ep1 ep3; do
		jq -r '"\(.resource) \(.ip) \(.ipv6 // "-") " +
		    (.mac | ascii_downcase)' <<<"${ALLOC[$e]}"
	done | sort
}
log_info "after restart: $(listed | tr '\n' ';')"
check "restart: ep1 and ep3 listed with the same addresses and MACs" \
    test "$(listed)" = "$(expected)"
check "restart: evpnd sees rr Established again" \
    wait_for 30 evpnd_peer_established l1 $RR
rr_has_restored()
{
	rr_has ep1 ip && rr_has ep3 ip && rr_has ep3 ipv6
}
check "restart: ep1's and ep3's routes come back at rr" \
    wait_for 30 rr_has_restored
check "restart: rr's restored ep3 IPv6 route has VNI 100, RT, ET:8" \
    rr_alloc_ok ep3 ipv6
check "restart: ep2 stays withdrawn" rr_lacks ep2 ip

sanitizer_clean()
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path l1)"
}
evpnd_stop l1
stop_rc=$?
check "SIGTERM after restart: evpnd exits 0 (exit $stop_rc)" \
    test "$stop_rc" -eq 0
check "no sanitizer reports in evpnd's log" sanitizer_clean

summary
