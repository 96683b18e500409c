#!/usr/bin/env bash
#
# Type-5 routing in a tenant VRF between two evpnd VTEPs (RFC 9136,
# symmetric IRB): a host behind VTEP a reaches a prefix advertised by
# VTEP b over the L3 VNI, and back.
#
#   ha 10.10.1.10 --- br100 (svi 10.10.1.1) [a] vx5000 ====
#                                               VNI 5000    fabric 10.0.0.0/24
#   hb 10.10.2.10 --- br200 (svi 10.10.2.1) [b] vx5000 ====
#
# Each evpnd creates its devices (vx100/br100 or vx200/br200, and the
# L3 VNI's vx5000/br5000 whose MAC is the router MAC), advertises its
# host subnet as a type-5 route and installs the other's in table 1000
# via the remote VTEP onlink on br5000, with the remote router MAC as
# that VTEP's neighbour and FDB entry.  This kernel has no VRF devices,
# so evpnd uses ip rules (iif br100 / br5000 lookup 1000) instead: the
# test checks whichever mode evpnd reports, and the ping.
#
# a also has an IPAM pool with mac-prefix 02:00:0a, the prefix of the
# router MACs derived from router ids 10.0.0.x: 14 allocations must get
# neither a's router MAC (02:00:0a:00:00:0b, 10.0.0.11) nor b's (named
# by its type-5 routes), a request naming b's is refused, and a warns
# of the pool at start.
. "$(dirname "$0")/lib.sh"

require_root_tools

leaf_conf()	# NAME RID L2VNI SUBNET PEER [IPAM-STANZA]
{
	cat <<EOF
hostname $1
log stdout debugging
vxlan vx$3
 vni $3
 bridge br$3
 local-tunnel-ip $2
 svi-vrf tenant-a
!
vxlan vx5000
 vni 5000
 bridge br5000
 local-tunnel-ip $2
!
vrf tenant-a
 vni 5000
 table 1000
!
${6:-}
router bgp 65000
 bgp router-id $2
 neighbor $5 remote-as 65000
 neighbor $5 update-source $2
 address-family l2vpn evpn
  neighbor $5 activate
  advertise-all-vni
 exit-address-family
exit
!
router bgp 65000 vrf tenant-a
 address-family ipv4 unicast
  network $4
 exit-address-family
 address-family l2vpn evpn
  advertise ipv4 unicast
 exit-address-family
exit
EOF
}

for n in fab a b ha hb; do
	ns_create $n
done
bridge_create fab br0
bridge_attach a eth0 10.0.0.11/24 fab br0 pa
bridge_attach b eth0 10.0.0.12/24 fab br0 pb
for n in a b; do
	ns_exec $n sysctl -qw net.ipv4.ip_forward=1
	ns_exec $n sysctl -qw net.ipv4.conf.all.rp_filter=0
	ns_exec $n sysctl -qw net.ipv4.conf.default.rp_filter=0
done

POOL_A='ipam pool macs
 vni 100
 prefix 10.10.9.0/24
 mac-prefix 02:00:0a
!'
evpnd_start a a "$(leaf_conf a 10.0.0.11 100 10.10.1.0/24 10.0.0.12 \
    "$POOL_A")"
evpnd_start b b "$(leaf_conf b 10.0.0.12 200 10.10.2.0/24 10.0.0.11)"

# The hosts and the SVI addresses, on the bridges evpnd made.
host_attach()	# HOSTNS ADDR GW VTEPNS BRIDGE
{
	wait_for 10 ns_exec "$4" ip link show "$5" >/dev/null ||
	    die "$4: evpnd did not create $5"
	bridge_attach "$1" eth0 "$2" "$4" "$5" "p$1"
	ns_exec "$4" ip addr add "$3/24" dev "$5"
	ns_exec "$1" ip route add default via "$3"
}
host_attach ha 10.10.1.10/24 10.10.1.1 a br100
host_attach hb 10.10.2.10/24 10.10.2.1 b br200

check "a and b Established" wait_for 20 evpnd_peer_established a 10.0.0.12

route_in_table()	# NS PREFIX VTEP
{
	ns_exec "$1" ip -j route show table 1000 "$2" |
	    jq -e --arg v "$3" '.[] | select(.gateway == $v and .dev == "br5000"
	    and (.flags | index("onlink")))' >/dev/null
}
check "a: 10.10.2.0/24 via 10.0.0.12 onlink dev br5000 in table 1000" \
    wait_for 20 route_in_table a 10.10.2.0/24 10.0.0.12
check "b: 10.10.1.0/24 via 10.0.0.11 onlink dev br5000 in table 1000" \
    wait_for 20 route_in_table b 10.10.1.0/24 10.0.0.11

rmac_of()	# NS: the router MAC its br5000 carries
{
	ns_exec "$1" ip -j link show br5000 | jq -r '.[0].address'
}
RMAC_B=$(rmac_of b)
neigh_ok()
{
	ns_exec a ip -j neigh show dev br5000 10.0.0.12 |
	    jq -e --arg m "$RMAC_B" '.[] | select(.lladdr == $m)' >/dev/null
}
fdb_ok()
{
	ns_exec a bridge fdb show dev vx5000 | grep -q "^$RMAC_B dst 10.0.0.12 "
}
check "a: b's router MAC $RMAC_B is 10.0.0.12's neighbour on br5000" \
    wait_for 10 neigh_ok
check "a: b's router MAC is in vx5000's FDB towards 10.0.0.12" \
    wait_for 10 fdb_ok

mode=$(evpnctl_in a show dataplane --json | jq -r .vrf_mode)
log_info "VRF mode on a: $mode"
if [ "$mode" = rule ]; then
	rule_ok()	# NS IIF
	{
		ns_exec "$1" ip -j rule show | jq -e --arg i "$2" \
		    '.[] | select(.iif == $i and .table == "1000")' >/dev/null
	}
	check "a: rule iif br100 lookup 1000" rule_ok a br100
	check "a: rule iif br5000 lookup 1000" rule_ok a br5000
fi

check "ha (VNI 100 on a) pings hb (VNI 200 on b) over the L3 VNI" \
    wait_for 15 ns_exec ha ping -c 1 -W 1 10.10.2.10
check "3 more pings, all answered" ns_exec ha ping -c 3 -i 0.2 -W 1 10.10.2.10

# The IPAM never hands out a router MAC: a's own, nor b's, learned from
# the router MAC community of b's type-5 route (routed above, so in).
RMAC_A=$(rmac_of a)
log_info "router MACs: a $RMAC_A, b $RMAC_B"
MACS=()
for i in $(seq 1 14); do
	r=$(evpnd_http a POST /v1/ipam/pools/macs/allocations \
	    "{\"resource\": \"ep$i\", \"family\": \"ipv4\"}") || r="000 "
	[ "${r%% *}" = 201 ] || log_info "ep$i: $r"
	MACS+=("$(jq -r '.mac // "none"' <<<"${r#* }" | tr 'A-F' 'a-f')")
done
log_info "allocated MACs: ${MACS[*]}"
no_router_mac()
{
	local m
	for m in "${MACS[@]}"; do
		[[ $m == 02:00:0a:* ]] || return 1
		[ "$m" != "$RMAC_A" ] && [ "$m" != "$RMAC_B" ] || return 1
	done
}
check "a: 14 allocations under 02:00:0a, none a's or b's router MAC" \
    no_router_mac
r=$(evpnd_http a POST /v1/ipam/pools/macs/allocations \
    "{\"resource\": \"asks\", \"mac\": \"$RMAC_B\"}")
check "a: asking for b's router MAC: 409 reserved (got $r)" \
    eval '[ "${r%% *}" = 409 ] && [[ $r == *reserved* ]]'
check "a: warns that pool macs can form its router MAC" \
    grep -q "ipam pool macs: its mac-prefix forms $RMAC_A" \
    "$(evpnd_log_path a)"

# Withdraw: b stops advertising its subnet, a's route goes.
evpnd_reload b "$(leaf_conf b 10.0.0.12 200 10.10.3.0/24 10.0.0.11)"
route_gone()
{
	! route_in_table a 10.10.2.0/24 10.0.0.12
}
check "b withdraws 10.10.2.0/24: a's route leaves table 1000" \
    wait_for 15 route_gone
check "and b's new 10.10.3.0/24 arrives" \
    wait_for 15 route_in_table a 10.10.3.0/24 10.0.0.12

sanitizer_clean()	# NAME
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path "$1")"
}
for n in a b; do
	evpnd_stop $n
	rc=$?
	check "SIGTERM: $n exits 0 (exit $rc)" test "$rc" -eq 0
	check "no sanitizer reports in $n's log" sanitizer_clean $n
done
summary
