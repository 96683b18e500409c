#!/usr/bin/env bash
#
# A small EVPN fabric in network namespaces, for a look at evpnd:
#
#                 rr (FRR zebra+bgpd, AS 65000, 10.0.0.1)
#                  | br0: one underlay segment 10.0.0.0/24
#            +-----+-----+
#     l1 (evpnd 10.0.0.11)   l2 (evpnd 10.0.0.12)
#
# The leaves are route-reflector clients of rr over l2vpn evpn.  Waits
# for the sessions, prints each leaf's "evpnctl show bgp summary" and
# FRR's "show bgp l2vpn evpn summary", then tears everything down.
#   demo_fabric.sh [--keep]   --keep: stay up until Ctrl-C, to explore
# BUILD_DIR: where evpnd/evpnctl were built (scripts/demo.sh sets it).

. "$(dirname "$0")/lib.sh"
require_root_tools

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

leaf_conf()
{
	cat <<EOF
hostname $1
log stdout informational
router bgp 65000
 bgp router-id $2
 neighbor $RR remote-as 65000
 neighbor $RR description rr
 neighbor $RR timers connect 2
 address-family l2vpn evpn
  neighbor $RR activate
 exit-address-family
exit
EOF
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
for l in "${LEAVES[@]}"; do
	evpnd_start "${l%%:*}" "${l%%:*}" "$(leaf_conf "${l%%:*}" "${l#*:}")"
done

for l in "${LEAVES[@]}"; do
	check "${l%%:*}: session to rr Established" \
	    wait_for 60 evpnd_peer_established "${l%%:*}" "$RR"
	check "rr: session to ${l%%:*} Established" \
	    wait_for 10 frr_peer_established rr "${l#*:}"
done

for l in "${LEAVES[@]}"; do
	printf '\n---- %s: evpnctl show bgp summary\n' "${l%%:*}"
	evpnctl_in "${l%%:*}" show bgp summary
done
printf '\n---- rr: show bgp l2vpn evpn summary\n'
frr_vtysh rr rr 'show bgp l2vpn evpn summary'
printf '\n'

if [ "$KEEP" = 1 ]; then
	log_info "fabric is up; Ctrl-C tears it down.  Explore with:"
	log_info "  ip netns exec $(ns_name l1) ip addr"
	log_info "  $EVPNCTL -S $(evpnd_sock l1) show bgp summary"
	log_info "  vtysh --vty_socket $TMP_ROOT/frr-rr"
	while :; do sleep 3600; done
fi

summary
