#!/usr/bin/env bash
#
# evpnd against FRR 8.4 over l2vpn evpn: origination, import, withdraw
# and MAC mobility through an FRR route reflector to an FRR leaf with a
# real VXLAN data plane.
#
#         rr (FRR zebra+bgpd, AS 65000, 10.0.0.1, reflects to both)
#                  | fabric: bridge br0, 10.0.0.0/24
#          +-------+--------+
#   l1 (evpnd, VTEP 10.0.0.11)   l2 (FRR zebra+bgpd, VTEP 10.0.0.12)
#                                 br100 = vx100 (VNI 100) + host1
#
# l1 runs the issue's example config: L2 VNI 100 with static MAC
# 02:00:00:00:00:05 (IP 10.10.0.5) and sticky 02:00:00:00:00:06, L3 VNI
# 5000 of vrf tenant-a advertising 10.20.0.0/24 as type 5.  l2 has the
# local MAC 02:00:00:00:00:21 (IP 10.10.0.21) on its host port.
#
# Cases: (1) sessions up; (2) FRR rr holds evpnd's type 2/3/5 with RD,
# RT, ET:8, VNI, PMSI, router MAC, sticky flag; (3) FRR l2 imports them
# into VNI 100 and its kernel (flood list and remote MAC in vx100's FDB);
# (4) evpnd imports l2's routes; (5) a SIGHUP dropping a static MAC
# withdraws it everywhere; (6) the same MAC appearing on l2 (RFC 7432
# §15 MAC mobility): l2 advertises it with sequence 1, evpnd answers
# with a higher one and l2 gives way.  Polls, no fixed sleeps; about 15 s
# on an idle machine.
#
# FRR JSON used (FRR 8.4):
#   show bgp l2vpn evpn summary json   .peers[ADDR].state
#   show bgp l2vpn evpn route detail json
#       .[RD][PREFIX].paths[][]  .VNI  .extendedCommunity.string
#       .pmsi.tunnelType  .pmsi.label  .nexthops[].ip
#   show bgp l2vpn evpn json (absence)  .[RD][PREFIX].paths[].nexthops
#   show evpn vni 100 json             .numRemoteVteps[]  (a list of IPs)
#   show evpn mac vni 100 json         .macs[MAC].type .remoteVtep
#       .localSequence .remoteSequence .detectionCount .isDuplicate

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
require_root_tools

RR=$EVPN_RR
L1=$EVPN_L1
L2=$EVPN_L2

MAC5=02:00:00:00:00:05
MAC6=02:00:00:00:00:06
MAC21=02:00:00:00:00:21
P_MACIP5="[2]:[0]:[48]:[$MAC5]:[32]:[10.10.0.5]"
P_MAC5="[2]:[0]:[48]:[$MAC5]"
P_MAC6="[2]:[0]:[48]:[$MAC6]"
P_IMET1="[3]:[0]:[32]:[$L1]"
P_PREFIX="[5]:[0]:[24]:[10.20.0.0]"
P_IMET2="[3]:[0]:[32]:[$L2]"
P_MAC21="[2]:[0]:[48]:[$MAC21]"
P_MACIP21="[2]:[0]:[48]:[$MAC21]:[32]:[10.10.0.21]"

# ---------------------------------------------------------------- setup

evpn_fabric_create rr:$RR l1:$L1 l2:$L2
evpn_leaf_dataplane l2 "$L2"
# Before zebra starts, so FRR's first UPDATE already carries it.
evpn_host_mac_add l2 $MAC21 10.10.0.21

frr_start rr rr "$(evpn_rr_conf $RR $L1 $L2)"
frr_start l2 l2 "$(evpn_frr_leaf_conf $L2 $RR)"
evpnd_start l1 l1 "$(evpn_evpnd_leaf_conf $L1 $RR)"

# ---------------------------------------------------------------- 1

check "evpnd sees rr Established" wait_for 30 evpnd_peer_established l1 $RR
check "rr sees evpnd ($L1) Established" \
    wait_for 10 frr_peer_established rr $L1
check "rr sees FRR leaf ($L2) Established" \
    wait_for 30 frr_peer_established rr $L2
{ evpnd_peer_established l1 $RR && frr_peer_established rr $L1; } ||
    bail_out "no session between evpnd and FRR"

# ---------------------------------------------------------------- 2

# rr_path_ok PREFIX VNI TOKEN...: rr has PREFIX from evpnd with an RD
# 10.0.0.11:N, VNI (or the PMSI label when VNI is "pmsi:N"), next hop
# 10.0.0.11, and every TOKEN in its extended communities.  Prints what
# differs, so a failure says why.
rr_path_ok()
{
	local prefix=$1 vni=$2 path tok ok=0
	shift 2
	path=$(frr_evpn_path rr "$prefix" $L1) || {
		log_info "rr has no path to $prefix from $L1"
		return 1
	}
	jq -e '.rd | test("^10\\.0\\.0\\.11:[0-9]+$")' <<<"$path" \
	    >/dev/null || { log_info "$prefix: RD $(jq -c .rd <<<"$path")"; ok=1; }
	case $vni in
	pmsi:*)
		jq -e --argjson l "${vni#pmsi:}" '.pmsi.tunnelType ==
		    "Ingress Replication" and .pmsi.label == $l' <<<"$path" \
		    >/dev/null || { log_info "$prefix: pmsi" \
		    "$(jq -c .pmsi <<<"$path")"; ok=1; }
		;;
	*)
		jq -e --arg v "$vni" '.VNI == $v' <<<"$path" >/dev/null ||
		    { log_info "$prefix: VNI $(jq -c .VNI <<<"$path")"; ok=1; }
		;;
	esac
	for tok in "$@"; do
		frr_ecomm_has "$path" "$tok" || {
			log_info "$prefix: no '$tok' in" \
			    "$(jq -c .extendedCommunity <<<"$path")"
			ok=1
		}
	done
	return $ok
}

rr_has_all()
{
	frr_evpn_path rr "$P_MACIP5" $L1 && frr_evpn_path rr "$P_MAC6" $L1 &&
	    frr_evpn_path rr "$P_IMET1" $L1 && frr_evpn_path rr "$P_PREFIX" $L1
}
wait_for 20 rr_has_all
rmac=$(evpnd_api l1 /v1/evpn/vnis | jq -er '.vnis["5000"].routerMac')
log_info "evpnd's router MAC for L3 VNI 5000: $rmac"

check "rr: type 2 $P_MACIP5 (RD 10.0.0.11:100, VNI 100, RT, ET:8)" \
    rr_path_ok "$P_MACIP5" 100 RT:65000:100 ET:8
check "rr: type 2 RD is the configured 10.0.0.11:100" \
    test "$(frr_evpn_path rr "$P_MACIP5" $L1 | jq -r .rd)" = 10.0.0.11:100
check "rr: type 2 sticky $P_MAC6 (VNI 100, RT, ET:8, MM:0 sticky)" \
    rr_path_ok "$P_MAC6" 100 RT:65000:100 ET:8 "MM:0, sticky MAC"
check "rr: non-sticky $P_MACIP5 carries no MAC mobility" \
    test -z "$(frr_mobility_seq "$(frr_evpn_path rr "$P_MACIP5" $L1)")"
check "rr: type 3 $P_IMET1 (PMSI ingress replication label 100, RT, ET:8)" \
    rr_path_ok "$P_IMET1" pmsi:100 RT:65000:100 ET:8
check "rr: type 5 $P_PREFIX (VNI 5000, RT 65000:5000, ET:8, Rmac)" \
    rr_path_ok "$P_PREFIX" 5000 RT:65000:5000 ET:8 "Rmac:$rmac"

# ---------------------------------------------------------------- 3

l2_remote_vtep()
{
	frr_vtysh_raw l2 'show evpn vni 100 json' |
	    jq -e --arg v "$1" '.numRemoteVteps | index($v) != null'
}
l2_mac_field()
{
	frr_vtysh_raw l2 'show evpn mac vni 100 json' |
	    jq -er --arg m "$1" ".macs[\$m] | $2"
}
check "l2: show evpn vni 100 lists remote VTEP $L1" \
    wait_for 20 l2_remote_vtep $L1
check "l2: flood list 00:00:00:00:00:00 dst $L1 in vx100's FDB" \
    wait_for 20 evpn_fdb_has l2 vx100 "^00:00:00:00:00:00 .*dst $L1 "
check "l2: remote MAC $MAC5 dst $L1 in vx100's FDB" \
    wait_for 20 evpn_fdb_has l2 vx100 "^$MAC5 .*dst $L1 "
check "l2: sticky MAC $MAC6 dst $L1 installed sticky" \
    wait_for 20 evpn_fdb_has l2 vx100 "^$MAC6 .*dst $L1 .*sticky"
check "l2: zebra has $MAC5 as remote from $L1" \
    test "$(l2_mac_field $MAC5 '.type + " " + .remoteVtep')" = "remote $L1"

# ---------------------------------------------------------------- 4

# evpnd_route_ok PREFIX VNI: evpnd holds PREFIX learned from rr with
# next hop l2's VTEP, VNI, RT 65000:100 and VXLAN encapsulation.
evpnd_route_ok()
{
	evpnd_route l1 "$1" $RR | jq -e --arg nh $L2 --argjson v "$2" \
	    '.nexthop == $nh and .vni == $v and .encap == "vxlan" and
	     .routeTargets == ["65000:100"] and .best' >/dev/null
}
evpnd_vni_has_vtep()
{
	evpnd_api l1 /v1/evpn/vnis |
	    jq -e --arg v "$1" '.vnis["100"].remoteVteps | index($v) != null'
}
evpnd_mac()
{
	evpnd_api l1 /v1/evpn/vnis/100/macs | jq -ec --arg m "$1" '.macs[$m]'
}
evpnd_mac_remote_at()
{
	evpnd_mac "$1" | jq -e --arg v "$2" \
	    '.type == "remote" and .remoteVtep == $v' >/dev/null
}
check "evpnd: type 3 $P_IMET2 from rr (VNI 100, RT, vxlan)" \
    wait_for 20 evpnd_route_ok "$P_IMET2" 100
check "evpnd: type 2 $P_MAC21 from rr" wait_for 10 evpnd_route_ok \
    "$P_MAC21" 100
check "evpnd: type 2 $P_MACIP21 from rr" wait_for 10 evpnd_route_ok \
    "$P_MACIP21" 100
check "evpnd: VNI 100 lists remote VTEP $L2" wait_for 10 evpnd_vni_has_vtep $L2
check "evpnd: VNI 100 MAC table has $MAC21 remote at $L2" \
    wait_for 10 evpnd_mac_remote_at $MAC21 $L2
check "evpnd: MAC $MAC21 carries IP 10.10.0.21" \
    test "$(evpnd_mac $MAC21 | jq -c .ips)" = '["10.10.0.21"]'

# ---------------------------------------------------------------- 5

evpnd_reload l1 "$(evpn_evpnd_leaf_conf $L1 $RR no-mac5)"
check "SIGHUP without $MAC5: rr withdraws $P_MACIP5" \
    wait_for 20 frr_evpn_absent rr "$P_MACIP5" $L1
check "SIGHUP without $MAC5: l2's FDB drops it" \
    wait_for 20 evpn_fdb_lacks l2 vx100 "^$MAC5 "
check "SIGHUP without $MAC5: sticky $P_MAC6 still on rr" \
    frr_evpn_path rr "$P_MAC6" $L1
check "SIGHUP without $MAC5: session not reset" \
    test "$(frr_peer_field rr $L1 connectionsEstablished)" = 1

evpnd_reload l1 "$(evpn_evpnd_leaf_conf $L1 $RR)"
mac5_back()
{
	frr_evpn_path rr "$P_MACIP5" $L1 >/dev/null &&
	    evpn_fdb_has l2 vx100 "^$MAC5 .*dst $L1 "
}
check "SIGHUP with $MAC5 again: back on rr and in l2's FDB" \
    wait_for 20 mac5_back

# ---------------------------------------------------------------- 6

# The MAC evpnd advertises (sequence 0) shows up behind l2's host port.
# RFC 7432 §15.1: l2 must advertise it with sequence 1; evpnd, whose
# static MAC now loses, re-advertises with a higher sequence.
rr_seq()	# PREFIX VTEP: the MM sequence rr shows, 0 when none
{
	local path s
	path=$(frr_evpn_path rr "$1" "$2") || return 1
	s=$(frr_mobility_seq "$path")
	echo "${s:-0}"
}
seq_at_least()	# PREFIX VTEP MIN
{
	local s
	s=$(rr_seq "$1" "$2") && [ "$s" -ge "$3" ]
}
l2_mac_seq_at_least()	# MIN: zebra's localSequence for MAC5
{
	[ "$(l2_mac_field $MAC5 .localSequence)" -ge "$1" ] 2>/dev/null
}
evpnd_over_l2()
{
	local a b
	a=$(rr_seq "$P_MACIP5" $L1) && b=$(l2_mac_field $MAC5 .localSequence) &&
	    [ "$a" -gt "$b" ]
}
# Settled: l2 withdrew its own route and holds the MAC as remote at
# evpnd's VTEP with evpnd's sequence (FRR 8.4 gives way to the higher
# sequence even though the MAC is static in its bridge).
l2_yields()
{
	local seq
	seq=$(rr_seq "$P_MACIP5" $L1) &&
	    frr_evpn_absent rr "$P_MAC5" $L2 &&
	    [ "$(l2_mac_field $MAC5 '.type + " " + .remoteVtep + " " +
	    (.remoteSequence | tostring)')" = "remote $L1 $seq" ]
}
# l2's own route for the MAC may live only a moment before evpnd's higher
# sequence makes it withdraw, too short to catch on rr: read the
# sequence l2 used from its zebra.
l2_local_seq()
{
	frr_vtysh_raw l2 'show evpn mac vni 100 json' |
	    jq -r --arg m "$MAC5" '.macs[$m].localSequence // 0'
}
l2_took_it()
{
	local s
	s=$(l2_local_seq) && [ "${s:-0}" -ge 1 ]
}
evpn_host_mac_add l2 $MAC5
check "mobility: l2 takes $MAC5 as local with sequence >= 1" \
    wait_for 20 l2_took_it
check "mobility: evpnd re-advertises $P_MACIP5 with MM seq >= 1" \
    wait_for 20 seq_at_least "$P_MACIP5" $L1 1
evpnd_over_l2()
{
	local a b
	a=$(rr_seq "$P_MACIP5" $L1) && b=$(l2_local_seq) &&
	    [ "$a" -gt "${b:-0}" ]
}
check "mobility: evpnd's sequence is above l2's" wait_for 10 evpnd_over_l2
check "mobility: l2 yields to evpnd's sequence and withdraws its route" \
    wait_for 10 l2_yields

# What each side concluded, for the report: FRR may flag a duplicate
# after repeated moves (5 in 180 s by default) and stop advertising.
log_info "rr: $P_MACIP5 from $L1 MM seq $(rr_seq "$P_MACIP5" $L1);" \
    "$P_MAC5 from $L2: $(frr_evpn_path rr "$P_MAC5" $L2 |
    jq -c .extendedCommunity)"
log_info "l2 zebra: $(frr_vtysh_raw l2 'show evpn mac vni 100 json' |
    jq -c --arg m $MAC5 '.macs[$m]')"
log_info "l2 kernel: $(ns_exec l2 bridge fdb show | grep "^$MAC5" |
    tr '\n' ';')"
log_info "evpnd: $(evpnd_mac $MAC5)"

# ---------------------------------------------------------------- end

sanitizer_clean()
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path l1)"
}
evpnd_stop l1
stop_rc=$?
check "SIGTERM: evpnd exits 0 (exit $stop_rc)" test "$stop_rc" -eq 0
check "no sanitizer reports in evpnd's log" sanitizer_clean
check "evpnd gone: rr drops its routes" \
    wait_for 15 frr_evpn_absent rr "$P_IMET1" $L1

summary
