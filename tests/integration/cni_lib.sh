# shellcheck shell=bash
#
# CNI helpers for the integration tests, on top of lib.sh (source that
# first): a container runtime in shell, the conflist the README gives,
# and readers of containers and allocations.
#
# How this works: the runtime does what libcni does with a conflist.
# ADD runs the plugins in order, each given the previous result as
# prevResult, and caches the last result; CHECK and DEL hand every
# plugin that cached result, DEL in reverse order.  Plugins run in the
# namespace CNI_HOST (where the bridge and evpnd live) with CNI_PATH a
# directory holding the reference bridge plugin and evpnd-cni; a
# container is a namespace of its own with eth0 as CNI_IFNAME.
# CNI_EVPND names the evpnd instance whose socket the conflist uses.
#
# The two-leaf fabric (cni_fabric_start; needs evpn_lib.sh and dp_lib.sh
# sourced too) is test_cni_frr.sh's: an FRR route reflector and two
# evpnd leaves, each the host of its containers, sharing pool "train"
# in VNI 100, l1 handing out the lower half and l2 the upper half.  With
# a shadow block (cni_shadow_block) the leaves keep pre-allocations;
# readers of the shadow inventory and the audit trail tell which
# allocation was served by one, and two anchor containers (one per
# leaf) are the targets of first pings.
#
# Environment: EVPND_CNI (default BUILD_DIR/evpnd-cni), CNI_PLUGIN_DIR
# (where bridge is, default /usr/lib/cni).

EVPND_CNI=${EVPND_CNI:-$BUILD_DIR/evpnd-cni}
CNI_PLUGIN_DIR=${CNI_PLUGIN_DIR:-/usr/lib/cni}
CNI_HOST=${CNI_HOST:-h}
CNI_EVPND=${CNI_EVPND:-l1}
PLUGINS=$TMP_ROOT/cni-bin	# CNI_PATH: bridge and evpnd-cni
CACHE=$TMP_ROOT/cni-cache	# the runtime's cached results

# cni_require: skip (77) without root or the reference plugins, then
# make CNI_PATH.
cni_require()
{
	local t
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (network namespaces)"
		exit 77
	fi
	for t in ip jq curl ping; do
		command -v "$t" >/dev/null 2>&1 ||
		    { echo "SKIP: missing $t"; exit 77; }
	done
	[ -x "$CNI_PLUGIN_DIR/bridge" ] ||
	    { echo "SKIP: no bridge plugin in $CNI_PLUGIN_DIR"; exit 77; }
	[ -x "$EVPND_CNI" ] || die "no evpnd-cni at $EVPND_CNI (set BUILD_DIR)"
	mkdir -p "$PLUGINS" "$CACHE"
	ln -sf "$CNI_PLUGIN_DIR/bridge" "$PLUGINS/bridge"
	ln -sf "$EVPND_CNI" "$PLUGINS/evpnd-cni"
}

# conflist POOL FAMILY BRIDGE [VERSION]: the README's network config.
conflist()
{
	cat <<EOF
{"cniVersion": "${4:-1.0.0}", "name": "tenant-a", "plugins": [
  {"type": "bridge", "bridge": "$3",
   "ipam": {"type": "evpnd-cni", "socket": "$(evpnd_sock "$CNI_EVPND")",
            "pool": "$1", "family": "$2"}},
  {"type": "evpnd-cni"}]}
EOF
}

# ---------------------------------------------------------------- runtime

# plugin_exec CMD CONF CONTAINER [CNI_ARGS [PLUGIN]]: one plugin run as
# libcni runs it (PLUGIN, default CONF's type), in CNI_HOST; prints its
# stdout, returns its status.
plugin_exec()
{
	local type
	type=${5:-$(jq -r .type <<<"$2")}
	ip netns exec "$(ns_name "$CNI_HOST")" env -i PATH="$PATH" \
	    CNI_COMMAND="$1" CNI_CONTAINERID="$3" \
	    CNI_NETNS="/var/run/netns/$(ns_name "$3")" \
	    CNI_IFNAME=eth0 CNI_PATH="$PLUGINS" CNI_ARGS="${4:-}" \
	    "$PLUGINS/$type" <<<"$2"
}

# ipam_exec CMD LIST CONTAINER: evpnd-cni run as the bridge plugin runs
# its IPAM (the same stdin and environment).
ipam_exec()
{
	plugin_exec "$1" "$(ipam_stdin "$2")" "$3" "" evpnd-cni
}

# runtime CMD LIST CONTAINER [CNI_ARGS]: the conflist LIST as libcni
# runs it.  OUT gets the last plugin output (the result, or the error
# of the plugin that failed); returns that plugin's status.
runtime()
{
	local cmd=$1 list=$2 c=$3 n i idx conf prev=""
	n=$(jq '.plugins | length' <<<"$list")
	[ "$cmd" != ADD ] && [ -f "$CACHE/$c" ] && prev=$(cat "$CACHE/$c")
	for ((i = 0; i < n; i++)); do
		idx=$i
		[ "$cmd" = DEL ] && idx=$((n - 1 - i))
		conf=$(jq -c --argjson i "$idx" --arg prev "$prev" '
		    . as $l | $l.plugins[$i] + {cniVersion: $l.cniVersion,
		    name: $l.name} + (if $prev == "" then {} else
		    {prevResult: ($prev | fromjson)} end)' <<<"$list")
		OUT=$(plugin_exec "$cmd" "$conf" "$c" "${4:-}") || return $?
		[ "$cmd" = ADD ] && prev=$OUT
	done
	[ "$cmd" = ADD ] && printf '%s' "$prev" >"$CACHE/$c"
	[ "$cmd" = DEL ] && rm -f "$CACHE/$c"
	return 0
}

# ipam_stdin LIST: the bridge plugin's stdin, which it hands its IPAM.
ipam_stdin()
{
	jq -c '. as $l | $l.plugins[0] + {cniVersion: $l.cniVersion,
	    name: $l.name}' <<<"$1"
}

# container_add CONTAINER LIST [CNI_ARGS]: a new namespace, then ADD.
container_add()
{
	ns_create "$1"
	runtime ADD "$2" "$1" "${3:-}"
}

# ---------------------------------------------------------------- readers

# alloc RESOURCE [POOL]: evpnd's allocation object, or nothing.
alloc()
{
	evpnctl_in "$CNI_EVPND" show ipam allocations "${2:-train}" --json |
	    jq -ce --arg r "$1" '.allocations[] | select(.resource == $r)'
}

alloc_total()
{
	evpnctl_in "$CNI_EVPND" show ipam allocations "${1:-train}" --json |
	    jq .total
}

eth0_mac()
{
	ns_exec "$1" cat /sys/class/net/eth0/address
}

no_eth0()
{
	! ip netns exec "$(ns_name "$1")" ip link show eth0 >/dev/null 2>&1
}

# eth0_has CONTAINER ADDR/LEN
eth0_has()
{
	ns_exec "$1" ip -j addr show dev eth0 |
	    jq -e --arg a "${2%/*}" --argjson l "${2#*/}" \
	    '[.[0].addr_info[] | select(.local == $a and .prefixlen == $l)]
	    | length == 1' >/dev/null
}

# ---------------------------------------------------------------- fabric

# The pool's layouts: prefix, gateway, the range l1 leaves to l2 and the
# one l2 leaves to l1.
# shellcheck disable=SC2034 # used by the tests that source this file
CNI_LAYOUT_24="10.10.0.0/24 10.10.0.1 10.10.0.128-10.10.0.254 \
10.10.0.2-10.10.0.127"
# shellcheck disable=SC2034
CNI_LAYOUT_16="10.10.0.0/16 10.10.0.1 10.10.128.0-10.10.255.254 \
10.10.0.2-10.10.127.255"

# cni_leaf_conf LEAF LAYOUT MAC-PREFIX [POOL-LINES]: dp_lib.sh's evpnd
# leaf (it makes vx100 and br100) with its share of pool train in
# LAYOUT, and POOL-LINES (a shadow block, say) inside the pool block.
cni_leaf_conf()
{
	local prefix gw excl_l1 excl_l2 excl
	read -r prefix gw excl_l1 excl_l2 <<<"$2"
	excl=$excl_l1
	[ "$1" = l2 ] && excl=$excl_l2
	dp_evpnd_leaf_conf "$1" "$(cni_vtep "$1")" "$EVPN_RR"
	cat <<CONF
ipam pool train
 vni 100
 prefix $prefix
 gateway $gw
 exclude ${excl%-*} ${excl#*-}
 mac-prefix $3
${4:+$4
}!
CONF
}

# cni_fabric_start LAYOUT [POOL-LINES]: rr, l1 (MACs 02:00:c1:..) and
# l2 (02:00:c2:..) up; checks that both sessions are up and that both
# leaves flood VNI 100 to each other, bails out otherwise.
cni_fabric_start()
{
	evpn_fabric_create rr:$EVPN_RR l1:$EVPN_L1 l2:$EVPN_L2
	frr_start rr rr "$(evpn_rr_conf $EVPN_RR $EVPN_L1 $EVPN_L2)"
	evpnd_start l1 l1 "$(cni_leaf_conf l1 "$1" 02:00:c1 "${2:-}")"
	evpnd_start l2 l2 "$(cni_leaf_conf l2 "$1" 02:00:c2 "${2:-}")"
	check "l1 sees rr Established" \
	    wait_for 30 evpnd_peer_established l1 $EVPN_RR
	check "l2 sees rr Established" \
	    wait_for 30 evpnd_peer_established l2 $EVPN_RR
	{ evpnd_peer_established l1 $EVPN_RR &&
	    evpnd_peer_established l2 $EVPN_RR; } ||
	    bail_out "no EVPN sessions"
	# Both leaves know each other's VNI 100 (type 3): the flood lists.
	check "l1 floods VNI 100 to l2" wait_for 20 dp_fdb_flood l1 $EVPN_L2
	check "l2 floods VNI 100 to l1" wait_for 20 dp_fdb_flood l2 $EVPN_L1
}

# cni_on LEAF [POOL]: the runtime and readers act on that leaf, LIST is
# the README's conflist for POOL (default train) there.
cni_on()
{
	CNI_HOST=$1
	CNI_EVPND=$1
	LIST=$(conflist "${2:-train}" ipv4 br100)
}

# cni_other LEAF: the other leaf; cni_vtep LEAF: its VTEP address.
cni_other()
{
	if [ "$1" = l1 ]; then echo l2; else echo l1; fi
}

cni_vtep()
{
	if [ "$1" = l1 ]; then echo "$EVPN_L1"; else echo "$EVPN_L2"; fi
}

# cni_run_all CMD: the runtime's CMD for every container the caller
# holds in ALLOC (keys: containers; LEAF[c]: its leaf).  CNI_FAILED
# lists those that failed.
cni_run_all()
{
	local c
	CNI_FAILED=()
	for c in "${!ALLOC[@]}"; do
		cni_on "${LEAF[$c]}"
		runtime "$1" "$LIST" "$c" || CNI_FAILED+=("$c")
	done
}

# ---------------------------------------------------------------- shadow

# cni_shadow_block MIN-WARM: POOL-LINES for cni_fabric_start that keep
# MIN-WARM pre-allocations on each leaf.
cni_shadow_block()
{
	printf ' shadow\n  min-warm %d\n  max-warm %d\n' "$1" $(($1 * 2))
	printf '  max-pool-fraction 0.5\n  mode active\n exit-shadow\n'
}

# cni_warm_ready LEAF: the pool's pre-allocations whose routes have had
# their lead time to converge (GET /v1/ipam/shadow).
cni_warm_ready()
{
	evpnd_api "$1" /v1/ipam/shadow |
	    jq -er '.pools[] | select(.pool == "train") | .preallocated.ready'
}

cni_warm_ready_at_least()	# LEAF N
{
	local n
	n=$(cni_warm_ready "$1") && [ "$n" -ge "$2" ]
}

# cni_preallocations LEAF: the pool's unclaimed pre-allocations, one
# "IP MAC" a line.
cni_preallocations()
{
	evpnd_api "$1" /v1/ipam/allocations?pool=train |
	    jq -r '.allocations[] | select(.preallocated) | "\(.ip) \(.mac)"'
}

cni_no_preallocations()	# LEAF
{
	local out
	out=$(cni_preallocations "$1") && [ -z "$out" ]
}

# cni_made_by LEAF RESOURCE: the audit trail's op that gave RESOURCE its
# address: "claim" (a pre-allocation taken over) or "allocate".
cni_made_by()
{
	evpnd_api "$1" '/v1/ipam/audit/records?since=0&limit=10000' |
	    jq -er --arg r "$2" '[.records[] | select(.resource == $r and
	    (.op == "claim" or .op == "allocate"))] | last | .op'
}

cni_anchor_ip()	# LEAF: the address of that leaf's anchor
{
	jq -r .ip <<<"${ALLOC[a${1#l}]}"
}

# cni_anchors_add: containers a1 on l1 and a2 on l2 (in the caller's
# ALLOC and LEAF), checked to reach each other: the targets of first
# pings, reachable for sure, so that a ping measures only the new
# container.
cni_anchors_add()
{
	local leaf a
	for leaf in l1 l2; do
		a=a${leaf#l}
		cni_on "$leaf"
		container_add "$a" "$LIST"
		check "ADD anchor $a on $leaf: exit 0" test $? = 0
		LEAF[$a]=$leaf
		ALLOC[$a]=$(alloc "$a/eth0")
	done
	check "the anchors reach each other across the fabric" \
	    wait_for 20 dp_ping_once a1 "$(cni_anchor_ip l2)"
}
