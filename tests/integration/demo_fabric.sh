#!/usr/bin/env bash
#
# A small EVPN fabric in network namespaces, for a look at evpnd:
#
#                 rr (FRR zebra+bgpd, AS 65000, 10.0.0.1)
#                  | br0: one underlay segment 10.0.0.0/24
#            +-----+-----+
#     l1 (evpnd 10.0.0.11)   l2 (evpnd 10.0.0.12)
#      br100 = vx100           br100 = vx100     (VNI 100, made by evpnd)
#        |                       |
#     h1 10.10.0.1            h2 10.10.0.2       (hosts, own namespaces)
#
# rr's namespace also runs a single-member etcd on 10.0.0.1:2379: both
# leaves allocate endpoints from one fabric IPAM pool.
# The leaves are route-reflector clients of rr over l2vpn evpn; each
# evpnd makes its VXLAN device and bridge from its config, learns its
# host's MAC and installs the other leaf's in the kernel (learning is
# off on the VXLAN devices: only EVPN makes the overlay forward).  Waits
# for the sessions, pings h1 -> h2 over IPv4 and IPv6, prints each
# leaf's sessions, MAC table and kernel FDB, allocates endpoints through
# the IPAM API (demo_ipam_part.sh), starts a container on each leaf
# through the CNI plugin and pings between them (demo_cni_part.sh),
# then tears everything down.
#   demo_fabric.sh [--keep]   --keep: stay up until Ctrl-C, to explore
# BUILD_DIR: where evpnd/evpnctl were built (scripts/demo.sh sets it).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
. "$(dirname "$0")/dp_lib.sh"
. "$(dirname "$0")/demo_ipam_part.sh"
. "$(dirname "$0")/demo_cni_part.sh"
require_root_tools
cni_require

KEEP=0
[ "${1:-}" = --keep ] && KEEP=1

RR=10.0.0.1
LEAVES=(l1:10.0.0.11 l2:10.0.0.12)

rr_conf()
{
	local l addr
	printf 'hostname rr\nrouter bgp 65000\n bgp router-id %s\n' "$RR"
	printf ' no bgp default ipv4-unicast\n'
	for l in "${LEAVES[@]}"; do
		addr=${l#*:}
		printf ' neighbor %s remote-as 65000\n' "$addr"
		printf ' neighbor %s description %s\n' "$addr" "${l%%:*}"
		printf ' neighbor %s timers connect 2\n' "$addr"
	done
	printf ' address-family l2vpn evpn\n'
	for l in "${LEAVES[@]}"; do
		printf '  neighbor %s activate\n' "${l#*:}"
		printf '  neighbor %s route-reflector-client\n' "${l#*:}"
	done
	printf ' exit-address-family\nexit\n'
}

log_info "building the fabric (namespaces $RUN_PREFIX-*)"
ns_create rr
bridge_create rr br0 "$RR/24"
for l in "${LEAVES[@]}"; do
	name=${l%%:*}
	ns_create "$name"
	bridge_attach "$name" eth0 "${l#*:}/24" rr br0 "sw-$name"
done

frr_start rr rr "$(rr_conf)"
demo_etcd_start rr "$RR"
for l in "${LEAVES[@]}"; do
	# Both leaves share a fabric IPAM pool in VNI 100.
	evpnd_start "${l%%:*}" "${l%%:*}" \
	    "$(dp_evpnd_leaf_conf "${l%%:*}" "${l#*:}" "$RR"
	    demo_ipam_pool_conf)"
done
# One host per leaf, plugged into the bridge evpnd made.
n=0
for l in "${LEAVES[@]}"; do
	n=$((n + 1))
	wait_for 10 ns_exec "${l%%:*}" ip link show br100 ||
	    die "${l%%:*}: evpnd made no br100"
	dp_host_add "h$n" "${l%%:*}" "h$n-p" "02:00:00:00:0$n:01" "$n"
done

for l in "${LEAVES[@]}"; do
	check "${l%%:*}: session to rr Established" \
	    wait_for 60 evpnd_peer_established "${l%%:*}" "$RR"
	check "rr: session to ${l%%:*} Established" \
	    wait_for 10 frr_peer_established rr "${l#*:}"
done

check "h1 pings h2 across the overlay (IPv4)" \
    eval "wait_for 20 dp_ping_once h1 $DP_NET4.2 && dp_ping h1 $DP_NET4.2 3"
check "h1 pings h2 across the overlay (IPv6)" \
    eval "wait_for 10 dp_ping_once h1 $DP_NET6:2 && dp_ping h1 $DP_NET6:2 3"

for l in "${LEAVES[@]}"; do
	printf '\n---- %s: evpnctl show bgp summary\n' "${l%%:*}"
	evpnctl_in "${l%%:*}" show bgp summary
	printf '\n---- %s: evpnctl show evpn mac vni 100\n' "${l%%:*}"
	evpnctl_in "${l%%:*}" show evpn mac vni 100
	printf '\n---- %s: bridge fdb show dev vx100\n' "${l%%:*}"
	ns_exec "${l%%:*}" bridge fdb show dev vx100
done
printf '\n---- rr: show bgp l2vpn evpn summary\n'
frr_vtysh rr rr 'show bgp l2vpn evpn summary'
printf '\n'

# Endpoints allocated through the IPAM API appear in the fabric.
demo_ipam_run l1 rr l2
# Containers started through the CNI plugin reach each other.
demo_cni_run l1 l2 rr

if [ "$KEEP" = 1 ]; then
	log_info "fabric is up; Ctrl-C tears it down.  Explore with:"
	log_info "  ip netns exec $(ns_name h1) ping $DP_NET4.2"
	log_info "  ip netns exec $(ns_name l1) bridge fdb show dev vx100"
	log_info "  $EVPNCTL -S $(evpnd_sock l1) show bgp summary"
	log_info "  vtysh --vty_socket $TMP_ROOT/frr-rr"
	while :; do sleep 3600; done
fi

summary
