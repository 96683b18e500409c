# shellcheck shell=bash
#
# EVPN helpers for the integration tests, on top of lib.sh (source that
# first): the three-node fabric of test_evpn_frr.sh, the configs of its
# nodes, and readers for FRR's and evpnd's EVPN JSON.
#
# How this works: a "fabric" namespace holds one bridge (the underlay
# switch); every node gets a veth into it with a 10.0.0.0/24 address,
# which is also its VTEP address.  The FRR leaf has a real data plane:
# a VXLAN device in a bridge with a host-facing veth port, so its zebra
# learns local MACs from the bridge FDB and installs remote ones (and
# the flood list) into vx100.  evpnd has no data plane yet, so its node
# only has the underlay link.
#
# Readers print one JSON value (jq -e semantics: false or null fail), so
# they compose with wait_for and check.

# shellcheck disable=SC2034 # used by the tests that source this file
EVPN_RR=10.0.0.1
# shellcheck disable=SC2034
EVPN_L1=10.0.0.11
# shellcheck disable=SC2034
EVPN_L2=10.0.0.12

# ---------------------------------------------------------------- topology

# evpn_fabric_create NODE:ADDR...: namespace "fabric" with bridge br0,
# each NODE a namespace with eth0 (ADDR/24) plugged into br0.
evpn_fabric_create()
{
	local n
	ns_create fabric
	bridge_create fabric br0
	for n in "$@"; do
		ns_create "${n%%:*}"
		bridge_attach "${n%%:*}" eth0 "${n#*:}/24" fabric br0 \
		    "p-${n%%:*}"
	done
}

# evpn_leaf_dataplane NS VTEP-IP: bridge br100 with VXLAN vx100 (VNI
# 100) and a host port host1 (a veth whose other end host1-h stays in
# the namespace, so no dummy module is needed), plus an SVI address so
# zebra can turn neighbor entries into MAC+IP routes.  MACs are fixed
# and IPv6 is off on the host end so the bridge learns nothing by
# itself: every MAC FRR advertises is one the test put there.
evpn_leaf_dataplane()
{
	local ns=$1 vtep=$2
	ns_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ns_exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ns_exec "$ns" ip link add br100 type bridge
	ns_exec "$ns" ip link add vx100 type vxlan id 100 local "$vtep" \
	    dstport 4789 nolearning
	ns_exec "$ns" ip link set vx100 master br100
	ns_exec "$ns" ip link add host1 type veth peer name host1-h
	ns_exec "$ns" ip link set host1 address 02:00:00:00:01:01
	ns_exec "$ns" ip link set host1-h address 02:00:00:00:01:02
	ns_exec "$ns" ip link set host1 master br100
	ns_exec "$ns" ip addr add 10.10.0.12/24 dev br100
	for l in vx100 host1 host1-h br100; do
		ns_exec "$ns" ip link set "$l" up
	done
}

# evpn_host_mac_add NS MAC [IP]: a local MAC on the host port (static,
# as an operator or a hypervisor would add it), with a neighbor entry on
# the SVI when IP is given.
evpn_host_mac_add()
{
	ns_exec "$1" bridge fdb replace "$2" dev host1 master static ||
	    return 1
	[ $# -lt 3 ] ||
	    ns_exec "$1" ip neigh replace "$3" lladdr "$2" dev br100 \
	    nud reachable
}

# evpn_fdb_has NS DEV PATTERN: a line of "bridge fdb show dev DEV"
# matches the extended regular expression PATTERN.
evpn_fdb_has()
{
	ns_exec "$1" bridge fdb show dev "$2" | grep -Eq "$3"
}

evpn_fdb_lacks()
{
	! evpn_fdb_has "$@"
}

# ---------------------------------------------------------------- configs

# evpn_rr_conf ROUTER-ID CLIENT...: FRR route reflector for l2vpn evpn.
evpn_rr_conf()
{
	local id=$1 c
	shift
	printf 'router bgp 65000\n bgp router-id %s\n' "$id"
	printf ' no bgp default ipv4-unicast\n'
	for c in "$@"; do
		printf ' neighbor %s remote-as 65000\n' "$c"
		printf ' neighbor %s timers connect 2\n' "$c"
	done
	printf ' address-family l2vpn evpn\n'
	for c in "$@"; do
		printf '  neighbor %s activate\n' "$c"
		printf '  neighbor %s route-reflector-client\n' "$c"
	done
	printf ' exit-address-family\nexit\n'
}

# evpn_frr_leaf_conf ROUTER-ID RR: FRR leaf advertising all its VNIs.
evpn_frr_leaf_conf()
{
	cat <<EOF
router bgp 65000
 bgp router-id $1
 no bgp default ipv4-unicast
 neighbor $2 remote-as 65000
 neighbor $2 timers connect 2
 address-family l2vpn evpn
  neighbor $2 activate
  advertise-all-vni
 exit-address-family
exit
EOF
}

# evpn_evpnd_leaf_conf ROUTER-ID RR [no-mac5]: the issue's example
# config (L2 VNI 100 with two static MACs, L3 VNI 5000 of vrf tenant-a
# with one type-5 network).  With no-mac5 the static MAC
# 02:00:00:00:00:05 is left out, for the withdraw case.
evpn_evpnd_leaf_conf()
{
	local id=$1 rr=$2 mac5=" static-mac 02:00:00:00:00:05 ip 10.10.0.5"
	[ "${3:-}" = no-mac5 ] && mac5="!"
	cat <<EOF
hostname l1
log stdout debugging
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $id
$mac5
 static-mac 02:00:00:00:00:06 sticky
!
vxlan vx5000
 vni 5000
 bridge br5000
 local-tunnel-ip $id
!
vrf tenant-a
 vni 5000
 table 1000
!
router bgp 65000
 bgp router-id $id
 neighbor $rr remote-as 65000
 neighbor $rr timers connect 2
 address-family l2vpn evpn
  neighbor $rr activate
  advertise-all-vni
  vni 100
   rd $id:100
   route-target import 65000:100
   route-target export 65000:100
  exit-vni
 exit-address-family
exit
!
router bgp 65000 vrf tenant-a
 address-family ipv4 unicast
  network 10.20.0.0/24
 exit-address-family
 address-family l2vpn evpn
  advertise ipv4 unicast
 exit-address-family
exit
EOF
}

# evpn_ipam_leaf_conf ROUTER-ID RR: leaf l1 of the IPAM tests, L2 VNI
# 100 (vx100 in br100) and a session to RR, with the IPAM pool stanza
# read from stdin ("ipam pool NAME", its lines and "!").
evpn_ipam_leaf_conf()
{
	cat <<EOF
hostname l1
log stdout debugging
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $1
!
EOF
	cat
	cat <<EOF
router bgp 65000
 bgp router-id $1
 neighbor $2 remote-as 65000
 neighbor $2 timers connect 2
 address-family l2vpn evpn
  neighbor $2 activate
  advertise-all-vni
 exit-address-family
exit
EOF
}

# ---------------------------------------------------------------- FRR

# jq filter: the paths to $p whose next hop (the VTEP that originated
# them, kept unchanged by iBGP and reflection) is $o.  FRR's EVPN JSON
# is keyed by RD, then by prefix in FRR's bracket form:
#   .[RD][PREFIX].paths[]
# a list of paths, or (route ... json, detail) a list of one-element
# lists; both are flattened, and the RD is added to each path as .rd.
# shellcheck disable=SC2016 # $p, $o, $rd are jq variables
_FRR_EVPN_PATHS='[to_entries[] | select(.value | type == "object") |
    .key as $rd | .value[$p]? // empty |
    .paths[] | (if type == "array" then .[] else . end) |
    select(.nexthops // [] | any(.ip == $o)) | . + {rd: $rd}]'

# frr_evpn_path NAME PREFIX VTEP: that path in FRR's "show bgp l2vpn
# evpn route detail json", which alone has the VNI ("VNI") and the PMSI
# tunnel attribute ("pmsi": {"tunnelType", "label"}).
frr_evpn_path()
{
	frr_vtysh_raw "$1" 'show bgp l2vpn evpn route detail json' |
	    jq -ec --arg p "$2" --arg o "$3" "$_FRR_EVPN_PATHS | first"
}

# frr_evpn_absent NAME PREFIX VTEP: FRR holds no path to PREFIX from
# VTEP (and answered at all).
frr_evpn_absent()
{
	local out
	out=$(frr_vtysh_raw "$1" 'show bgp l2vpn evpn json') || return 1
	jq -e --arg p "$2" --arg o "$3" "$_FRR_EVPN_PATHS | length == 0" \
	    <<<"$out" >/dev/null
}

# frr_macip_prefix ALLOC-JSON [ip|ipv6]: FRR's type-2 MAC+IP prefix
# key of an IPAM allocation's address (field ip unless told), e.g.
# [2]:[0]:[48]:[02:00:0a:00:00:05]:[32]:[10.10.0.5].
frr_macip_prefix()
{
	local mac ip field=${2:-ip}
	mac=$(jq -er '.mac | ascii_downcase' <<<"$1") || return 1
	ip=$(jq -er --arg f "$field" '.[$f]' <<<"$1") || return 1
	if [ "$field" = ipv6 ]; then
		printf '[2]:[0]:[48]:[%s]:[128]:[%s]' "$mac" "$ip"
	else
		printf '[2]:[0]:[48]:[%s]:[32]:[%s]' "$mac" "$ip"
	fi
}

# frr_ecomm_has PATH-JSON TOKEN: FRR's extended community string of the
# path ("RT:65000:100 ET:8 MM:0, sticky MAC") holds TOKEN as a whole
# word, so RT:65000:100 does not match RT:65000:1000.
frr_ecomm_has()
{
	jq -er '.extendedCommunity.string' <<<"$1" |
	    grep -Eq "(^| )$2(\$| |,)"
}

# frr_mobility_seq PATH-JSON: the MAC mobility sequence FRR shows
# ("MM:N"), nothing when the path has none.
frr_mobility_seq()
{
	jq -er '.extendedCommunity.string' <<<"$1" |
	    sed -n 's/.*MM:\([0-9]*\).*/\1/p'
}

# ---------------------------------------------------------------- evpnd

# evpnd_api NAME PATH: GET PATH from evpnd's API, the body on stdout.
evpnd_api()
{
	curl -sf --unix-socket "$(evpnd_sock "$1")" "http://localhost$2"
}

# evpnd_route NAME PREFIX PEER: the route object of "evpnctl show bgp
# l2vpn evpn --json" ({"routes": [...], "total": N}) for PREFIX learned
# from PEER ("local" for its own).
evpnd_route()
{
	evpnctl_in "$1" show bgp l2vpn evpn --json |
	    jq -ec --arg p "$2" --arg s "$3" \
	    '[.routes[] | select(.prefix == $p and .peer == $s)] | first'
}
