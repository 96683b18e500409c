# shellcheck shell=bash
#
# The IPAM part of the README demo (demo_fabric.sh sources this file;
# it needs lib.sh, and sources evpn_lib.sh itself for FRR's EVPN JSON).
#
# How this works: one leaf gets an address pool in the overlay's VNI
# (demo_ipam_pool_conf prints its config block, to put in that leaf's
# config next to its vxlan block); once the fabric is up, demo_ipam_run
# allocates three endpoints through the API as an orchestrator would
# (curl over the Unix socket, one of them dual stack), shows them with
# evpnctl, shows them as type-2 MAC+IP routes at the FRR route
# reflector (and in the other leaf's MAC table when one is given), then
# releases one and shows the route withdrawn.  Its checks are counted
# like the demo's others.
#
# Both leaves hold the pool with "scope fabric": a single-member etcd
# (demo_etcd_start, in the reflector's namespace on the underlay) keeps
# which /28 block each leaf owns, so the second leaf's endpoint gets an
# address of its own block and a MAC derived from it, never one the
# first leaf handed out.

if ! declare -F frr_evpn_path >/dev/null; then
	. "$(dirname "${BASH_SOURCE[0]}")/evpn_lib.sh"
fi

DEMO_IPAM_POOL=${DEMO_IPAM_POOL:-tenant-a}

# demo_etcd_start NS ADDR: one etcd member in NS, clients on ADDR:2379.
demo_etcd_start()
{
	local url=http://$2:2379
	ip netns exec "$(ns_name "$1")" etcd --name demo \
	    --data-dir "$TMP_ROOT/etcd" --listen-client-urls "$url" \
	    --advertise-client-urls "$url" \
	    --listen-peer-urls http://127.0.0.1:2380 \
	    --initial-advertise-peer-urls http://127.0.0.1:2380 \
	    --initial-cluster demo=http://127.0.0.1:2380 \
	    >"$TMP_ROOT/etcd.log" 2>&1 &
	DEMO_ETCD_URL=$url
	wait_for 20 ns_exec "$1" etcdctl --endpoints="$url" endpoint health ||
	    die "etcd did not come up"
}

# demo_ipam_pool_conf [VNI]: the datastore and the pool blocks.  Its
# IPv4 range is the upper half of the overlay subnet 10.10.0.0/24, away
# from the demo's hosts, in /28 blocks.
demo_ipam_pool_conf()
{
	cat <<EOF
ipam datastore etcd
 endpoint $DEMO_ETCD_URL
!
ipam pool $DEMO_IPAM_POOL
 vni ${1:-100}
 prefix 10.10.0.128/25
 prefix 2001:db8:100::1:0/112
 quarantine 5
 mac-prefix 02:00:0a
 scope fabric
 block-size 28
!
EOF
}

# _demo_ipam_call LEAF METHOD PATH [BODY]: the answer's body, then a line
# with the HTTP status.
_demo_ipam_call()
{
	curl -s --unix-socket "$(evpnd_sock "$1")" -X "$2" \
	    -H 'Content-Type: application/json' ${4:+--data "$4"} \
	    -w '\n%{http_code}\n' "http://localhost$3"
}

# _demo_ipam_prefix ALLOC-JSON FIELD: FRR's key for the MAC+IP route of
# the allocation's address in FIELD (ip or ipv6).
_demo_ipam_prefix()
{
	local mac ip len=32
	mac=$(jq -er '.mac | ascii_downcase' <<<"$1") || return 1
	ip=$(jq -er --arg f "$2" '.[$f]' <<<"$1") || return 1
	[ "$2" = ipv6 ] && len=128
	printf '[2]:[0]:[48]:[%s]:[%d]:[%s]' "$mac" "$len" "$ip"
}

# demo_ipam_run LEAF RR [OTHER-LEAF]: allocate, show, release.
demo_ipam_run()
{
	local leaf=$1 rr=$2 other=${3:-} vtep out code ep stats
	local -A alloc=()

	vtep=$(evpnd_api "$leaf" /v1/evpn/vnis |
	    jq -r '.vnis["100"].localVtep') || vtep=
	printf '\n---- %s: allocate endpoints through the API\n' "$leaf"
	for ep in web-1:ipv4 web-2:ipv4 db-1:dual; do
		printf '$ curl --unix-socket %s -X POST %s -d %s\n' \
		    "$(evpnd_sock "$leaf")" \
		    "http://localhost/v1/ipam/pools/$DEMO_IPAM_POOL/allocations" \
		    "'{\"resource\": \"${ep%%:*}\", \"family\": \"${ep#*:}\"}'"
		out=$(_demo_ipam_call "$leaf" POST \
		    "/v1/ipam/pools/$DEMO_IPAM_POOL/allocations" \
		    "{\"resource\": \"${ep%%:*}\", \"family\": \"${ep#*:}\"}")
		code=$(tail -n 1 <<<"$out")
		alloc[${ep%%:*}]=$(sed '$d' <<<"$out")
		printf '%s %s\n' "$code" "${alloc[${ep%%:*}]}"
		check "$leaf: allocated ${ep%%:*} (${ep#*:})" test "$code" = 201
	done

	printf '\n---- %s: evpnctl show ipam allocations\n' "$leaf"
	evpnctl_in "$leaf" show ipam allocations ||
	    evpnd_api "$leaf" /v1/ipam/allocations | jq .

	_demo_ipam_rr_has()	# NAME FIELD
	{
		frr_evpn_path "$rr" \
		    "$(_demo_ipam_prefix "${alloc[$1]}" "$2")" "$vtep" >/dev/null
	}
	_demo_ipam_rr_has_all()
	{
		_demo_ipam_rr_has web-1 ip && _demo_ipam_rr_has web-2 ip &&
		    _demo_ipam_rr_has db-1 ip && _demo_ipam_rr_has db-1 ipv6
	}
	check "$rr: the four addresses are type-2 MAC+IP routes from $vtep" \
	    wait_for 20 _demo_ipam_rr_has_all
	printf '\n---- %s: show bgp l2vpn evpn route type macip\n' "$rr"
	frr_vtysh_raw "$rr" 'show bgp l2vpn evpn route type macip'

	if [ -n "$other" ]; then
		_demo_ipam_other_has()
		{
			evpnd_api "$other" /v1/evpn/vnis/100/macs | jq -e \
			    --arg m "$(jq -r '.mac | ascii_downcase' \
			    <<<"${alloc[db-1]}")" '.macs[$m].type == "remote"'
		}
		check "$other: db-1's MAC is a remote MAC of VNI 100" \
		    wait_for 20 _demo_ipam_other_has
		printf '\n---- %s: VNI 100 MAC table\n' "$other"
		evpnd_api "$other" /v1/evpn/vnis/100/macs | jq -c '.macs'
	fi

	if [ -n "$other" ]; then
		printf '\n---- %s: allocate from the same fabric pool\n' "$other"
		out=$(_demo_ipam_call "$other" POST \
		    "/v1/ipam/pools/$DEMO_IPAM_POOL/allocations" \
		    '{"resource": "web-3", "family": "ipv4"}')
		code=$(tail -n 1 <<<"$out")
		alloc[web-3]=$(sed '$d' <<<"$out")
		printf '%s %s\n' "$code" "${alloc[web-3]}"
		check "$other: allocated web-3 in the shared pool" \
		    test "$code" = 201
		check "$other: web-3's address is none of $leaf's" \
		    test "$(for e in web-1 web-2 db-1 web-3; do
		    jq -r .ip <<<"${alloc[$e]}"; done | sort -u | wc -l)" -eq 4
		printf '\n---- %s: evpnctl show ipam blocks\n' "$other"
		evpnctl_in "$other" show ipam blocks
	fi

	printf '\n---- %s: release web-2\n' "$leaf"
	out=$(_demo_ipam_call "$leaf" DELETE /v1/ipam/allocations/web-2)
	printf 'DELETE /v1/ipam/allocations/web-2 -> %s\n' "$(tail -n 1 <<<"$out")"
	_demo_ipam_rr_lacks_web2()
	{
		frr_evpn_absent "$rr" \
		    "$(_demo_ipam_prefix "${alloc[web-2]}" ip)" "$vtep"
	}
	check "$rr: web-2's route is withdrawn" \
	    wait_for 20 _demo_ipam_rr_lacks_web2
	check "$rr: web-1's and db-1's routes stay" _demo_ipam_rr_has web-1 ip
	stats=$(evpnd_api "$leaf" /v1/ipam/pools/"$DEMO_IPAM_POOL" |
	    jq -c '{allocations, used, quarantined, free}')
	printf '%s: pool %s %s\n' "$leaf" "$DEMO_IPAM_POOL" "$stats"
}
