#!/usr/bin/env bash
#
# evpnd against FRR 8.4: one peer cannot make evpnd hold more routes
# than its neighbor's maximum-prefix allows.
#
#   fl (FRR zebra+bgpd, VTEP 10.0.0.12)  ---- fabric br0 ----  l1 (evpnd, 10.0.0.11)
#   br100 = vx100 (VNI 100) + host1
#
# l1 has "neighbor 10.0.0.12 maximum-prefix 5" for l2vpn evpn (FRR's
# syntax; threshold 75% by default).  fl advertises its IMET route and
# a type-2 route per static MAC the test puts on its host port.
#
# Cases: (1) session up, 1 route; (2) 4 routes cross the 75% threshold:
# a warning in evpnd's log, the session stays; (3) the sixth route:
# evpnd sends Cease/Maximum Number of Prefixes Reached (RFC 4486 §4)
# with AFI 25, SAFI 70 and the limit 5 as data, seen in FRR's JSON
# (lastErrorCodeSubcode 0601, lastNotificationReason) and log (the 7
# data bytes); evpnd shows FRR's keys (prefixesConfigExceedMax,
# reducePrefixNumAndClearIpBgp, peerState PfxCt) and drops the routes;
# (4) it stays down while FRR keeps reconnecting; (5) with fewer routes
# on fl, "evpnctl clear bgp" brings the session back for good.
#
# FRR JSON used (FRR 8.4):
#   show bgp neighbors ADDR json  .[ADDR].lastErrorCodeSubcode
#       .lastNotificationReason .lastResetDueTo .bgpState

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
require_root_tools

L1=$EVPN_L1
FL=$EVPN_L2

l1_conf()
{
	cat <<EOF
hostname l1
log stdout debugging
router bgp 65000
 bgp router-id $L1
 neighbor $FL remote-as 65000
 neighbor $FL timers connect 2
 address-family l2vpn evpn
  neighbor $FL activate
  neighbor $FL maximum-prefix 5
 exit-address-family
exit
EOF
}

mac_n()
{
	printf '02:00:00:00:01:%02x' "$1"
}

evpn_fabric_create l1:$L1 fl:$FL
evpn_leaf_dataplane fl "$FL"
frr_start fl fl "$(evpn_frr_leaf_conf $FL $L1)"
evpnd_start l1 l1 "$(l1_conf)"

accepted()
{
	evpnd_neighbor_field l1 $FL \
	    '.addressFamilyInfo.l2VpnEvpn.acceptedPrefixCounter'
}

accepted_is()
{
	[ "$(accepted)" = "$1" ]
}

# quietly CMD...: CMD's status, its output discarded.
quietly()
{
	"$@" >/dev/null 2>&1
}

frr_neighbor_field()
{
	frr_vtysh_raw fl "show bgp neighbors $L1 json" |
	    jq -er --arg p "$L1" ".[\$p].$1"
}

# ---------------------------------------------------------------- 1

check "session up" wait_for 30 evpnd_peer_established l1 $FL
evpnd_peer_established l1 $FL || bail_out "no session between evpnd and FRR"
check "FRR's IMET route accepted (1 prefix)" wait_for 15 accepted_is 1
check "the limit in FRR's key" \
    test "$(evpnd_neighbor_field l1 $FL \
    '.addressFamilyInfo.l2VpnEvpn.prefixAllowedMax')" = 5

# ---------------------------------------------------------------- 2

for i in 1 2 3; do
	evpn_host_mac_add fl "$(mac_n $i)"
done
check "4 prefixes accepted" wait_for 15 accepted_is 4
threshold_logged()
{
	grep -q "peer $FL: l2vpn evpn: 4 prefixes received, 75% of the limit \
of 5 reached" "$(evpnd_log_path l1)"
}
check "75% threshold crossed: a warning in the log" threshold_logged
check "below the limit the session stays" evpnd_peer_established l1 $FL

# ---------------------------------------------------------------- 3

est0=$(evpnd_neighbor_field l1 $FL '.connectionsEstablished')
for i in 4 5; do
	evpn_host_mac_add fl "$(mac_n $i)"
done
check "sixth route: evpnd leaves Established" \
    wait_for 15 evpnd_peer_not_established l1 $FL
frr_got_cease()
{
	[ "$(frr_neighbor_field lastErrorCodeSubcode)" = 0601 ]
}
check "FRR received Cease/1 (lastErrorCodeSubcode 0601)" \
    wait_for 10 frr_got_cease
check "FRR: lastNotificationReason names it" eval \
    'frr_neighbor_field lastNotificationReason |
    grep -q "Maximum Number of Prefixes Reached"'
check "FRR: lastResetDueTo Notification received" eval \
    'frr_neighbor_field lastResetDueTo | grep -qi "notification received"'
cease_data_logged()
{
	grep -Eiq 'received from neighbor .*6/1 .* 7 bytes 00 19 46 00 00 00 05' \
	    "$(_frr_dir fl)/bgpd.log"
}
check "FRR's log: 7 bytes of data, AFI 25 SAFI 70 limit 5" \
    wait_for 5 cease_data_logged
check "evpnd: lastNotificationSent Cease/1" test \
    "$(evpnd_neighbor_field l1 $FL \
    '[.lastNotificationSent.code, .lastNotificationSent.subcode] |
    map(tostring) | join("/")')" = 6/1
check "evpnd: prefixesConfigExceedMax" \
    quietly evpnd_neighbor_field l1 $FL '.prefixesConfigExceedMax'
check "evpnd: reducePrefixNumAndClearIpBgp (no restart timer)" \
    quietly evpnd_neighbor_field l1 $FL '.reducePrefixNumAndClearIpBgp'
check "evpnd summary: peerState PfxCt" \
    test "$(evpnd_peer_field l1 $FL peerState)" = PfxCt
check "evpnd dropped the peer's routes" wait_for 10 accepted_is 0
routes_gone()
{
	[ "$(evpnctl_in l1 show bgp l2vpn evpn --json | jq -r '.total')" = 0 ]
}
check "evpnd's RIB holds none of them" wait_for 10 routes_gone

# ---------------------------------------------------------------- 4

# FRR retries every 2 s (timers connect 2); evpnd refuses while held.
sleep 8
check "held down: still not Established after 8 s" \
    evpnd_peer_not_established l1 $FL
check "held down: no new session was established" test \
    "$(evpnd_neighbor_field l1 $FL '.connectionsEstablished')" = "$est0"
check "held down: FRR not Established either" \
    eval '! frr_peer_established fl $L1'

# ---------------------------------------------------------------- 5

for i in 4 5; do
	ns_exec fl bridge fdb del "$(mac_n $i)" dev host1 master static
done
check "evpnctl clear bgp $FL" quietly evpnctl_in l1 clear bgp $FL
check "cleared: session back" wait_for 30 evpnd_peer_established l1 $FL
check "cleared: 4 prefixes accepted" wait_for 15 accepted_is 4
check "cleared: no longer held down" test \
    "$(evpnd_neighbor_field l1 $FL '.prefixesConfigExceedMax // false')" \
    = false
sleep 3
check "cleared: the session stays up" evpnd_peer_established l1 $FL

summary
