# shellcheck shell=bash
#
# The container part of the README demo (demo_fabric.sh sources this
# file after lib.sh, evpn_lib.sh, dp_lib.sh and demo_ipam_part.sh).
#
# How this works: one container per leaf, started as a runtime starts
# it, through cni_lib.sh's runtime: the README's conflist, the reference
# bridge plugin with evpnd-cni as its IPAM, in the demo's fabric pool
# (demo_ipam_pool_conf), so each container gets an address of its
# leaf's block and the MAC evpnd advertises for it.  demo_cni_run shows
# the CNI results, the containers' eth0, pings from one to the other
# across the fabric, shows their type-2 routes at the reflector, and
# deletes both containers again (DEL releases the allocations).  Its
# checks are counted like the demo's others.

. "$(dirname "${BASH_SOURCE[0]}")/cni_lib.sh"

# _demo_cni_add CONTAINER LEAF: ADD on LEAF, show the result and eth0;
# sets DEMO_CNI_ALLOC[CONTAINER].
declare -A DEMO_CNI_ALLOC=()
_demo_cni_add()
{
	local rc
	cni_on "$2" "$DEMO_IPAM_POOL"
	printf '\n---- %s: CNI ADD %s (bridge br100, ipam evpnd-cni, pool %s)\n' \
	    "$2" "$1" "$DEMO_IPAM_POOL"
	container_add "$1" "$LIST"
	rc=$?
	printf '%s\n' "$OUT" | jq -c '{ips, interfaces}'
	check "$2: ADD $1 through the bridge plugin and evpnd-cni" \
	    test "$rc" = 0
	DEMO_CNI_ALLOC[$1]=$(alloc "$1/eth0" "$DEMO_IPAM_POOL")
	printf '%s: ' "$1"
	ns_exec "$1" ip -br link show dev eth0
	printf '%s: ' "$1"
	ns_exec "$1" ip -br -4 addr show dev eth0
	check "$1's eth0 has the MAC and address evpnd allocated" \
	    _demo_cni_as_allocated "$1"
}

_demo_cni_as_allocated()	# CONTAINER
{
	local a=${DEMO_CNI_ALLOC[$1]}
	[ -n "$a" ] && [ "$(eth0_mac "$1")" = "$(jq -r .mac <<<"$a")" ] &&
	    eth0_has "$1" "$(jq -r .ip <<<"$a")/25"
}

# _demo_cni_rr_has RR CONTAINER LEAF...: the reflector holds each
# container's MAC+IP route from its LEAF's VTEP.
_demo_cni_rr_has()
{
	local rr=$1
	shift
	while [ $# -ge 2 ]; do
		frr_evpn_path "$rr" "$(_demo_ipam_prefix \
		    "${DEMO_CNI_ALLOC[$1]}" ip)" "$(evpnd_api "$2" \
		    /v1/evpn/vnis | jq -r '.vnis["100"].localVtep')" \
		    >/dev/null || return 1
		shift 2
	done
}

_demo_cni_released()	# CONTAINER
{
	[ -z "$(alloc "$1/eth0" "$DEMO_IPAM_POOL")" ]
}

# demo_cni_run LEAF OTHER-LEAF RR: a container on each leaf, ping,
# routes, DEL.
demo_cni_run()
{
	local ip_b c leaf out
	_demo_cni_add ctr-a "$1"
	_demo_cni_add ctr-b "$2"
	ip_b=$(jq -r .ip <<<"${DEMO_CNI_ALLOC[ctr-b]}")
	printf '\n---- ctr-a (on %s) pings ctr-b (on %s) across the fabric\n' \
	    "$1" "$2"
	wait_for 10 dp_ping_once ctr-a "$ip_b"
	out=$(ns_exec ctr-a ping -n -c 3 -i 0.2 -W 2 "$ip_b")
	printf '%s\n' "$out" | sed -n '2,4p'
	check "ctr-a pings ctr-b across the fabric" \
	    grep -q ' 3 received' <<<"$out"
	check "$3: ctr-a's and ctr-b's MAC+IP routes, each from its leaf" \
	    wait_for 20 _demo_cni_rr_has "$3" ctr-a "$1" ctr-b "$2"
	printf '\n---- %s: the containers'"'"' type-2 routes\n' "$3"
	frr_vtysh_raw "$3" 'show bgp l2vpn evpn route type macip' |
	    grep -F -e "$(jq -r .mac <<<"${DEMO_CNI_ALLOC[ctr-a]}")" \
	    -e "$(jq -r .mac <<<"${DEMO_CNI_ALLOC[ctr-b]}")"
	printf '\n---- CNI DEL ctr-a and ctr-b\n'
	for c in ctr-a:"$1" ctr-b:"$2"; do
		leaf=${c#*:}
		cni_on "$leaf" "$DEMO_IPAM_POOL"
		runtime DEL "$LIST" "${c%%:*}"
		check "$leaf: DEL ${c%%:*} releases its allocation" \
		    _demo_cni_released "${c%%:*}"
	done
}
