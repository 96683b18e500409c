#!/usr/bin/env bash
#
# evpnd-cni as a container runtime drives it: the reference bridge
# plugin (Debian's containernetworking-plugins) finds evpnd-cni through
# CNI_PATH and runs it as its IPAM, against a real evpnd.  No FRR.
#
#         h (the host: evpnd, bridge br100 with VXLAN vx100 (VNI 100),
#            pool train 10.10.0.0/24 + 2001:db8:100::/64 with gateways,
#            pool tiny 10.20.0.0/30 on br200/VNI 200)
#        /  |  \
#      c1  c2  c3 ...  one network namespace per container, eth0 a veth
#                      into br100 made by the bridge plugin
#
# The runtime is cni_lib.sh's, doing what libcni does with the
# README's conflist: bridge with "ipam": evpnd-cni, then evpnd-cni
# chained.
#
# Cases: VERSION; ADD of three containers (dual stack): the result is a
# spec 1.0.0 result (addresses in CIDR form with the pool's prefix
# length, gateways, default routes, the container interface with
# evpnd's MAC); eth0 in each container has exactly the MAC, IPv4 and
# IPv6 that evpnd's allocation list shows, and the default route; the
# containers ping each other; evpnd's MAC table holds exactly the
# allocated MACs (no MAC the veth had before); ADD repeated at the IPAM
# level returns the same allocation; CHECK passes, and fails with code
# 104 once eth0's MAC is changed behind evpnd's back; K8S pod names
# become labels while the container id keeps naming the resource, so a
# pod's old sandbox DELeted after its new one's ADD releases only its
# own allocation (a '/' in the API path); DEL releases
# (allocation, eth0 and the host veth gone), a second DEL succeeds; an
# unknown pool fails ADD with code 100, an exhausted one with 101,
# leaving no allocation and, after the runtime's DEL, no interface;
# with evpnd stopped ADD fails with 11 "try again later", STATUS with
# 50, the runtime's DEL with 11 (bridge has removed the veth by then),
# and once evpnd is back the DEL succeeds and nothing is left; GC and
# STATUS succeed; no sanitizer report.  About a minute.
#
# Environment: BUILD_DIR (evpnd, evpnctl, evpnd-cni), CNI_PLUGIN_DIR
# (where bridge is, default /usr/lib/cni), KEEP_TMP=1, VERBOSE=1.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni_lib.sh"
cni_require

VTEP=10.0.0.11
CNI_HOST=h
CNI_EVPND=l1

leaf_conf()
{
	cat <<EOF
log stdout debugging
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $VTEP
!
vxlan vx200
 vni 200
 bridge br200
 local-tunnel-ip $VTEP
!
ipam pool train
 vni 100
 prefix 10.10.0.0/24
 prefix 2001:db8:100::/64
 gateway 10.10.0.1
 gateway 2001:db8:100::1
 mac-prefix 02:00:c0
!
ipam pool tiny
 vni 200
 prefix 10.20.0.0/30
 mac-prefix 02:00:c1
!
router bgp 65000
 bgp router-id $VTEP
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF
}

# ---------------------------------------------------------------- readers

bridge_ports()
{
	ns_exec h ip -j link show master "$1" | jq length
}

# result_ok RESULT CONTAINER ALLOC: a spec 1.0.0 result of a dual-stack
# ADD in pool train for that container and allocation.
result_ok()
{
	jq -e --arg sb "/var/run/netns/$(ns_name "$2")" --argjson a "$3" '
	    .cniVersion == "1.0.0" and (.ips | length) == 2 and
	    (.ips | map(.address) | sort) ==
	        ([$a.ip + "/24", $a.ipv6 + "/64"] | sort) and
	    (.ips | map(.gateway) | sort) == ["10.10.0.1", "2001:db8:100::1"] and
	    all(.ips[]; has("version") | not) and
	    (.interfaces[.ips[0].interface] | .name == "eth0" and
	        .sandbox == $sb and .mac == $a.mac) and
	    (.routes | map(.dst + " " + .gw) | sort) ==
	        ["0.0.0.0/0 10.10.0.1", "::/0 2001:db8:100::1"] and
	    (.dns | type) == "object"' <<<"$1" >/dev/null
}

# err_is CODE WORD: OUT is a CNI error with that code and WORD in msg
# (bridge passes on its IPAM's code, msg and details, not cniVersion).
err_is()
{
	jq -e --argjson c "$1" --arg w "$2" '.code == $c and
	    (.msg | contains($w))' <<<"$OUT" >/dev/null
}

# ---------------------------------------------------------------- setup

ns_create h
ip -n "$(ns_name h)" addr add "$VTEP/32" dev lo
evpnd_start h l1 "$(leaf_conf)"
LIST=$(conflist train dual br100)

# ---------------------------------------------------------------- version

OUT=$(CNI_COMMAND=VERSION "$EVPND_CNI" </dev/null)
check "VERSION lists 1.0.0 and 0.4.0" eval 'jq -e ".supportedVersions |
    index(\"1.0.0\") and index(\"0.4.0\")" <<<"$OUT" >/dev/null'

# ---------------------------------------------------------------- ADD

declare -A RESULT=() ALLOC=()
for c in c1 c2 c3; do
	container_add "$c" "$LIST"
	check "ADD $c through bridge: exit 0" test $? = 0
	RESULT[$c]=$OUT
	ALLOC[$c]=$(alloc "$c/eth0")
	check "$c: evpnd has allocation $c/eth0 ${ALLOC[$c]}" \
	    test -n "${ALLOC[$c]}"
done
[ -n "${ALLOC[c1]}" ] || bail_out "no allocation through the plugin"

for c in c1 c2 c3; do
	a=${ALLOC[$c]}
	check "$c: the result is a 1.0.0 result with evpnd's addresses" \
	    result_ok "${RESULT[$c]}" "$c" "$a"
	check "$c: eth0 has evpnd's MAC $(jq -r .mac <<<"$a")" \
	    test "$(eth0_mac "$c")" = "$(jq -r .mac <<<"$a")"
	check "$c: eth0 has $(jq -r .ip <<<"$a")/24" \
	    eth0_has "$c" "$(jq -r .ip <<<"$a")/24"
	check "$c: eth0 has $(jq -r .ipv6 <<<"$a")/64" \
	    eth0_has "$c" "$(jq -r .ipv6 <<<"$a")/64"
	check "$c: default route via 10.10.0.1" sh -c \
	    "ip netns exec $(ns_name "$c") ip route show default |
	    grep -q 'via 10.10.0.1 dev eth0'"
done
check "allocations are distinct" test "$(for c in c1 c2 c3; do
    jq -r '.ip, .ipv6, .mac' <<<"${ALLOC[$c]}"; done | sort -u | wc -l)" = 9

pings()	# CONTAINER PING-ARGS...
{
	ns_exec "$1" ping -c 1 -W 2 "${@:2}" >/dev/null
}
check "c1 pings c2 (IPv4)" pings c1 "$(jq -r .ip <<<"${ALLOC[c2]}")"
check "c3 pings c1 (IPv6)" pings c3 -6 "$(jq -r .ipv6 <<<"${ALLOC[c1]}")"

# Every local MAC of VNI 100 is an allocated one: the MAC each veth had
# before evpnd-cni replaced it never reached evpnd.
local_macs_are_allocations()
{
	local have want
	have=$(evpnctl_in l1 show evpn mac vni 100 --json |
	    jq -r '.macs | to_entries[] | select(.value.type == "local") |
	    .key' | sort)
	want=$(evpnctl_in l1 show ipam allocations train --json |
	    jq -r '.allocations[].mac' | sort)
	[ "$have" = "$want" ]
}
sleep 1
check "evpnd's local MACs in VNI 100 are exactly the allocations" \
    local_macs_are_allocations

# ---------------------------------------------------------------- repeat

before=$(alloc_total)
OUT=$(ipam_exec ADD "$LIST" c1)
check "ADD repeated at the IPAM level: exit 0" test $? = 0
check "and the same addresses" test "$(jq -c '[.ips[].address]' \
    <<<"$OUT")" = "$(jq -c '[.ips[].address]' <<<"${RESULT[c1]}")"
check "and no new allocation" test "$(alloc_total)" = "$before"
check "and the same MAC on eth0" \
    test "$(eth0_mac c1)" = "$(jq -r .mac <<<"${ALLOC[c1]}")"

# ---------------------------------------------------------------- CHECK

for c in c1 c2 c3; do
	runtime CHECK "$LIST" "$c"
	check "CHECK $c: exit 0" test $? = 0
done
good_mac=$(eth0_mac c3)
ns_exec c3 ip link set eth0 address 02:00:c0:ff:ff:fe
runtime CHECK "$LIST" c3
check "CHECK with another MAC on eth0 fails" test $? != 0
check "with code 104 from evpnd-cni ($(jq -c . <<<"$OUT"))" \
    err_is 104 "MAC"
ns_exec c3 ip link set eth0 address "$good_mac"
runtime CHECK "$LIST" c3
check "CHECK passes again with evpnd's MAC" test $? = 0

# ---------------------------------------------------------------- K8S

# A pod's names are labels; the resource is the sandbox's container id.
# Two sandboxes of one pod (c4 the old, c10 the new one a recreated pod
# gets) hold two allocations, and the old one's late DEL releases only
# its own.
K8S="IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0"
k8s_labels_ok()	# RESOURCE
{
	alloc "$1" | jq -e '.labels == {"k8s-namespace": "ns1",
	    "k8s-pod": "web-0"}' >/dev/null
}
container_add c4 "$LIST" "$K8S;K8S_POD_INFRA_CONTAINER_ID=c4"
check "ADD with K8S pod names: exit 0" test $? = 0
check "the resource is c4/eth0" test -n "$(alloc c4/eth0)"
check "labelled k8s-namespace=ns1, k8s-pod=web-0" k8s_labels_ok c4/eth0
check "and eth0 has its MAC" test "$(eth0_mac c4)" = \
    "$(alloc c4/eth0 | jq -r .mac)"
container_add c10 "$LIST" "$K8S;K8S_POD_INFRA_CONTAINER_ID=c10"
check "ADD of the pod's new sandbox c10: exit 0" test $? = 0
new_alloc=$(alloc c10/eth0)
check "c10 has an allocation of its own" eval '[ -n "$new_alloc" ] &&
    [ "$(jq -r .ip <<<"$new_alloc")" != "$(alloc c4/eth0 | jq -r .ip)" ]'
check "labelled the same" k8s_labels_ok c10/eth0
check "the label filter finds both sandboxes" test "$(evpnctl_in l1 show \
    ipam allocations train --label k8s-pod=web-0 --json | jq .total)" = 2
runtime DEL "$LIST" c4 "$K8S"
check "DEL of the old sandbox c4: exit 0" test $? = 0
check "releases c4/eth0 (the '/' percent-encoded in the API path)" \
    test -z "$(alloc c4/eth0)"
check "and leaves the new sandbox's allocation" \
    eval '[ -n "$new_alloc" ] && [ "$(alloc c10/eth0)" = "$new_alloc" ]'
# Whatever names it: the address on c10's eth0 is still evpnd's.
c10_ip=$(ns_exec c10 ip -j -4 addr show dev eth0 |
    jq -r '.[0].addr_info[0].local')
check "c10's address $c10_ip is still allocated" eval 'evpnctl_in l1 show \
    ipam allocations train --json | jq -e --arg ip "$c10_ip" \
    "any(.allocations[]; .ip == \$ip)" >/dev/null'
runtime DEL "$LIST" c10 "$K8S"
check "DEL of c10: exit 0" test $? = 0

# ---------------------------------------------------------------- DEL

ports=$(bridge_ports br100)
runtime DEL "$LIST" c2
check "DEL c2: exit 0" test $? = 0
check "c2's allocation is gone" test -z "$(alloc c2/eth0)"
check "c2's eth0 is gone" no_eth0 c2
check "its host veth is gone" test "$(bridge_ports br100)" = $((ports - 1))
runtime DEL "$LIST" c2
check "a second DEL of c2 succeeds" test $? = 0
check "c1 and c3 keep theirs" \
    eval '[ -n "$(alloc c1/eth0)" ] && [ -n "$(alloc c3/eth0)" ]'

# ---------------------------------------------------------------- errors

# add_fails CONTAINER LIST CODE WORD POOL: ADD fails with that error,
# allocates nothing; the runtime's DEL then leaves no interface.
add_fails()
{
	local c=$1 list=$2 ports
	ports=$(bridge_ports "$(jq -r '.plugins[0].bridge' <<<"$list")")
	container_add "$c" "$list"
	check "ADD $c: fails" test $? != 0
	check "with code $3 ($(jq -c . <<<"$OUT"))" err_is "$3" "$4"
	check "and no allocation for $c/eth0" test -z "$(alloc "$c/eth0" "$5")"
	runtime DEL "$list" "$c"
	check "the runtime's DEL of $c: exit 0" test $? = 0
	check "no eth0 left in $c" no_eth0 "$c"
	check "no host veth left" test "$(bridge_ports "$(jq -r \
	    '.plugins[0].bridge' <<<"$list")")" = "$ports"
}

add_fails c5 "$(conflist nope dual br100)" 100 "unknown pool" train
TINY=$(conflist tiny ipv4 br200)
container_add c6 "$TINY" && container_add c7 "$TINY"
check "tiny: two ADDs fill 10.20.0.0/30" test "$(alloc_total tiny)" = 2
add_fails c8 "$TINY" 101 "exhausted" tiny
runtime DEL "$TINY" c6 && runtime DEL "$TINY" c7
check "tiny: DEL frees both" test "$(alloc_total tiny)" = 0

# ---------------------------------------------------------------- STATUS/GC

LIST11=$(conflist train dual br100 1.1.0)
check "STATUS (1.1.0): exit 0" ipam_exec STATUS "$LIST11" c1
check "GC (1.1.0): exit 0" ipam_exec GC "$LIST11" c1
OUT=$(ipam_exec CHECK "$LIST" c1)
check "CHECK without prevResult at the IPAM level: exit 0" test $? = 0

# ---------------------------------------------------------------- evpnd down

evpnd_stop l1
check "evpnd stopped cleanly" test $? = 0
ports=$(bridge_ports br100)
container_add c9 "$LIST"
check "ADD with evpnd stopped: fails" test $? != 0
check "with code 11, try again later ($(jq -c . <<<"$OUT"))" \
    err_is 11 "try again later"
check "naming the socket" eval 'jq -e --arg s "$(evpnd_sock l1)" \
    ".details | contains(\$s)" <<<"$OUT" >/dev/null'
OUT=$(ipam_exec ADD "$LIST" c9)
check "evpnd-cni's own error carries cniVersion 1.0.0" eval \
    'jq -e ".cniVersion == \"1.0.0\" and .code == 11" <<<"$OUT" >/dev/null'
OUT=$(ipam_exec STATUS "$LIST11" c1)
check "STATUS with evpnd stopped: code 50" err_is 50 ""
runtime DEL "$LIST" c9
check "the runtime's DEL with evpnd stopped: code 11" err_is 11 \
    "try again later"
check "bridge removed c9's eth0 all the same" no_eth0 c9
check "and its host veth" test "$(bridge_ports br100)" = "$ports"
evpnd_start h l1 "$(leaf_conf)"
runtime DEL "$LIST" c9
check "DEL of c9 once evpnd is back: exit 0" test $? = 0
check "no allocation for c9/eth0" test -z "$(alloc c9/eth0)"
check "c1's allocation survived the restart" \
    test "$(alloc c1/eth0)" = "${ALLOC[c1]}"

# ---------------------------------------------------------------- cleanup

runtime DEL "$LIST" c1 && runtime DEL "$LIST" c3 && runtime DEL "$LIST" c5
check "DEL of the rest: exit 0" test $? = 0
check "pool train is empty" test "$(alloc_total)" = 0
check "only vx100 is left on br100" test "$(bridge_ports br100)" = 1
check "no sanitizer report from evpnd" sh -c \
    "! grep -q Sanitizer '$(evpnd_log_path l1)'"

summary
