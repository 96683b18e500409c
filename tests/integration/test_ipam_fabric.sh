#!/usr/bin/env bash
#
# Fabric-wide IPAM (the fabric IPAM issue), everything real: a
# three-member etcd cluster (each member in its own namespace), an FRR
# route reflector and three evpnd leaves sharing pool "train" (a /22 of
# /26 blocks and a /64) and the one-block pool "one".
#
#   rr (FRR, 10.0.0.1)   l1 l2 l3 (evpnd, VTEPs 10.0.0.11-13)
#        underlay: bridge br0 of namespace fabric, 10.0.0.0/24
#   e1 e2 e3 (etcd)      l1 l2 l3 again, on eth1
#        datastore: bridge br1 of namespace fabric, 10.200.0.0/24
#
# Cases:
#  1. The leaves come up; the datastore records the pool definitions.
#  2. Borrowing: l1 holds the only block of "one"; l2 gets 409 at
#     first, then (once l1 offers) an address of l1's block that l1
#     never hands out itself.
#  3. Burst: 3 leaves x 2,000 allocations at once (1,000 IPv4 and 1,000
#     IPv6 each, 64 in flight per leaf; the IPv4 /22 runs out, the rest
#     answer 409).  No IP and no MAC is in two leaves' allocation lists;
#     the reflector's "show bgp l2vpn evpn route type macip json" holds
#     each allocated IP from exactly the VTEP that allocated it and
#     nothing else; no route carries a mobility sequence above 0.
#  4. kill -9 of an etcd member during a burst: every allocation
#     succeeds, still no duplicates.
#  5. l3 cut off from every etcd member: it allocates what its blocks
#     hold, then answers 503 "...fabric datastore unreachable..."; it
#     recovers by itself when the link returns; what etcd says l3 owns
#     is what l3 lists.
#  6. kill -9 of l2 and a restart: the same blocks, the same
#     allocations.
#  7. Reclaim: refused (409) while l3 still has routes at the
#     reflector; after l3 stops, l1 reclaims l3's blocks, etcd no longer
#     names l3, and l1 can claim them.
# About 90 s on an idle machine.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
require_root_tools
for t in etcd etcdctl; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: missing $t"; exit 77; }
done
IPAM_LOAD=${IPAM_LOAD:-$BUILD_DIR/tests/bench/ipam_load}
[ -x "$IPAM_LOAD" ] || die "no ipam_load at $IPAM_LOAD (set BUILD_DIR)"

RR=10.0.0.1
DS=10.200.0
LEAVES="1 2 3"
V4_USABLE=1022		# 10.10.0.0/22 less network and broadcast

leaf_conf()
{
	local n=$1
	cat <<EOF
hostname l$n
ipam datastore etcd
 endpoint $(etcd_url 1)
 endpoint $(etcd_url 2)
 endpoint $(etcd_url 3)
!
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip 10.0.0.1$n
!
ipam pool train
 tenant a
 vni 100
 prefix 10.10.0.0/22
 prefix 2001:db8:100::/64
 scope fabric
 block-size 26
 quarantine 1
!
ipam pool one
 tenant a
 prefix 10.30.0.0/28
 scope fabric
 block-size 28
 quarantine 1
!
router bgp 65000
 bgp router-id 10.0.0.1$n
 neighbor $RR remote-as 65000
 neighbor $RR timers connect 2
 address-family l2vpn evpn
  neighbor $RR activate
  advertise-all-vni
 exit-address-family
exit
EOF
}

# post LEAF POOL RESOURCE FAMILY: sets CODE and BODY.
post()
{
	local r
	r=$(evpnd_http "l$1" POST "/v1/ipam/pools/$2/allocations" \
	    "{\"resource\": \"$3\", \"family\": \"$4\"}") || r="000 "
	CODE=${r%% *}
	BODY=${r#* }
}

# allocs LEAF: "ip ipv6 mac" of every allocation of pool train.
allocs()
{
	evpnd_api "l$1" "/v1/ipam/allocations?pool=train" |
	    jq -r '.allocations[] | "\(.ip // "-") \(.ipv6 // "-") " +
	    (.mac | ascii_downcase)'
}

# mine LEAF [POOL]: the blocks a leaf lists as its own, sorted.
mine()
{
	evpnd_api "l$1" "/v1/ipam/blocks${2:+?pool=$2}" |
	    jq -r '.blocks[] | select(.mine) | "\(.pool) \(.block) \(.kind)"' |
	    sort
}

# etcd_blocks_of VTEP: the blocks etcd records for VTEP, as "pool block".
etcd_blocks_of()
{
	etcd_ctl get --prefix /evpnd/ipam/a/ |
	    awk 'NR % 2 == 1 { key = $0; next } { print key " " $0 }' |
	    grep '/blocks/' | grep "\"vtep\":\"$1\"" |
	    sed -E 's|^/evpnd/ipam/a/([^/]+)/blocks/([^ ]+) .*|\1 \2 block|' |
	    sort
}

# ---------------------------------------------------------------- setup

evpn_fabric_create rr:$RR l1:10.0.0.11 l2:10.0.0.12 l3:10.0.0.13
bridge_create fabric br1
etcd_cluster_create fabric br1 $DS 1 2 3
for n in $LEAVES; do
	bridge_attach "l$n" eth1 "$DS.1$n/24" fabric br1 "p-d$n"
done
frr_start rr rr "$(evpn_rr_conf $RR 10.0.0.11 10.0.0.12 10.0.0.13)"
for n in $LEAVES; do
	evpnd_start "l$n" "l$n" "$(leaf_conf "$n")"
done

# ---------------------------------------------------------------- 1

sessions_up()
{
	for n in $LEAVES; do
		frr_peer_established rr "10.0.0.1$n" || return 1
	done
}
check "rr sees l1, l2 and l3 Established" wait_for 30 sessions_up
sessions_up || bail_out "no BGP sessions"
fabric_in_use()
{
	evpnctl_in "l$1" show ipam datastore --json |
	    jq -e '.ready and ([.pools[].state] | all(. == "ready"))' \
	    >/dev/null
}
for n in $LEAVES; do
	check "l$n: fabric pools ready (End-of-RIB in, reconciled)" \
	    wait_for 40 fabric_in_use "$n"
done
pool_recorded()
{
	etcd_ctl get /evpnd/ipam/pools/train --print-value-only |
	    jq -e '.blockSize == 26 and .tenant == "a" and (.prefixes | sort ==
	    ["10.10.0.0/22", "2001:db8:100::/64"])' >/dev/null
}
check "etcd records pool train's definition" pool_recorded

# ---------------------------------------------------------------- 2

for i in 1 2 3 4; do
	post 1 one "own$i" ipv4
done
check "one: l1 allocates in the only block (201)" test "$CODE" = 201
borrowed()
{
	post 2 one b1 ipv4
	[ "$CODE" = 201 ] || [ "$CODE" = 200 ]
}
check "one: l2, with no block to claim, borrows once l1 offers" \
    wait_for 15 borrowed
BIP=$(jq -r .ip <<<"$BODY")
listed_borrowed()
{
	evpnd_api l2 /v1/ipam/blocks?pool=one | jq -e --arg b "$BIP/32" \
	    '[.blocks[] | select(.mine and .kind == "borrowed" and
	    .block == $b)] | length == 1' >/dev/null
}
check "one: l2's address $BIP is listed as borrowed" listed_borrowed
for i in $(seq 5 20); do
	post 1 one "own$i" ipv4
	[ "$CODE" = 201 ] || break
	[ "$(jq -r .ip <<<"$BODY")" != "$BIP" ] || { CODE=dup; break; }
done
check "one: l1 hands out the rest of its block, never $BIP" \
    test "$CODE" != dup
# l2 takes what l1 still offers, then the pool is exhausted: the 14
# addresses of the block went out once each.
for i in $(seq 2 16); do
	post 2 one "b$i" ipv4
	[ "$CODE" = 201 ] || break
done
check "one: all handed out, l2 answers 409 exhausted ($BODY)" \
    eval '[ "$CODE" = 409 ] && grep -q "pool one is exhausted" <<<"$BODY"'
one_ips()
{
	for n in 1 2; do
		evpnd_api "l$n" "/v1/ipam/allocations?pool=one" |
		    jq -r '.allocations[].ip'
	done
}
check "one: its 14 addresses went out once each" \
    test "$(one_ips | sort -u | wc -l)" -eq 14 -a "$(one_ips | wc -l)" -eq 14

# ---------------------------------------------------------------- 3

# burst TAG N [v6only]: every leaf, IPv4 and IPv6 at once, 32 in
# flight each; returns when all answered.
burst()
{
	local n fam pids=()
	for n in $LEAVES; do
		for fam in ipv4 ipv6; do
			[ "$fam" = ipv4 ] && [ "${3:-}" = v6only ] &&
			    continue
			"$IPAM_LOAD" -S "$(evpnd_sock "l$n")" -p train -n "$2" \
			    -c 32 --prefix "$1-l$n-$fam-" --family "$fam" \
			    --json >"$TMP_ROOT/$1-l$n-$fam.json" 2>&1 &
			pids+=($!)
		done
	done
	wait "${pids[@]}"
}

# status TAG LEAF FAMILY CODE: how many answers had CODE.
status()
{
	jq -r --arg c "$4" '.status[$c] // 0' "$TMP_ROOT/$1-l$2-$3.json"
}

t0=$(now_ms)
burst b 1000
log_info "burst: $(( $(now_ms) - t0 )) ms for 6,000 requests"
v4_ok=0
v6_ok=0
others=0
for n in $LEAVES; do
	a=$(status b "$n" ipv4 201) b=$(status b "$n" ipv4 409)
	c=$(status b "$n" ipv6 201)
	log_info "l$n: ipv4 $a allocated, $b exhausted; ipv6 $c allocated"
	v4_ok=$((v4_ok + a))
	v6_ok=$((v6_ok + c))
	others=$((others + 1000 - a - b + 1000 - c))
done
check "burst: every IPv6 request allocated ($v6_ok of 3000)" \
    test "$v6_ok" -eq 3000
check "burst: IPv4 answers are 201 or 409 only ($others others)" \
    test "$others" -eq 0
check "burst: the /22 handed out ($v4_ok of $V4_USABLE)" \
    test "$v4_ok" -ge 1000 -a "$v4_ok" -le $V4_USABLE

all_allocs()
{
	for n in $LEAVES; do
		allocs "$n" | sed "s/\$/ 10.0.0.1$n/"
	done
}
no_dups()	# column of all_allocs: no value in two allocations
{
	local d
	d=$(all_allocs | awk -v c="$1" '$c != "-" { print $c }' | sort |
	    uniq -d | head -3)
	[ -z "$d" ] || { log_info "duplicates: $d"; return 1; }
}
check "no IPv4 address in two allocations" no_dups 1
check "no IPv6 address in two allocations" no_dups 2
check "no MAC in two allocations" no_dups 3
check "the leaves list as many allocations as they answered 201" \
    test "$(all_allocs | awk '$1 != "-"' | wc -l)" -eq "$v4_ok"

# The reflector: "IP VTEP" of every MAC+IP route, and MM sequences.
rr_macip()
{
	frr_vtysh_raw rr 'show bgp l2vpn evpn route type macip json' >"$TMP_ROOT/rr.json"
	jq -r '[.. | objects | select(has("paths")) | .paths[] |
	    (if type == "array" then .[] else . end) | select(.ip != null)] |
	    .[] | "\(.ip) \(.nexthops[0].ip) \(.extendedCommunity.string)"' \
	    "$TMP_ROOT/rr.json"
}
want_routes()
{
	all_allocs | awk '{ if ($1 != "-") print $1, $4;
	    if ($2 != "-") print $2, $4 }' | sort
}
rr_routes_match()
{
	[ "$(rr_macip | awk '{ print $1, $2 }' | sort)" = "$(want_routes)" ]
}
t0=$(now_ms)
check "rr holds each allocated IP from exactly its VTEP, nothing else" \
    wait_for 60 rr_routes_match
log_info "all $(want_routes | wc -l) routes at the reflector after $(( $(now_ms) - t0 )) ms"
rr_macip >"$TMP_ROOT/rr.txt"
check "rr: no IP from two VTEPs" \
    test -z "$(awk '{ print $1 }' "$TMP_ROOT/rr.txt" | sort | uniq -d)"
check "rr: no mobility sequence above 0" \
    sh -c "! grep -Eq 'MM:[1-9]' '$TMP_ROOT/rr.txt'"
local_seq0()
{
	evpnd_api "l$1" /v1/evpn/routes | jq -e '[.routes[] |
	    select((.mobilitySeq // 0) > 0)] | length == 0' >/dev/null
}
for n in $LEAVES; do
	check "l$n: no route with a mobility sequence above 0" local_seq0 "$n"
done
claims=$(evpnd_metric l1 'evpnd_ipam_block_claims_total{result="won"}')
check "l1: /metrics counts its block claims ($claims)" test "${claims:-0}" -gt 0

# ---------------------------------------------------------------- 4

(sleep 0.3; etcd_member_kill 1) &
killer=$!
burst k 300 v6only
wait "$killer"
for n in $LEAVES; do
	check "etcd member killed mid-burst: l$n allocated all 300" \
	    test "$(status k "$n" ipv6 201)" -eq 300
done
check "after the kill: no IPv6 address in two allocations" no_dups 2
check "after the kill: no MAC in two allocations" no_dups 3

# ---------------------------------------------------------------- 5

free6()		# LEAF: free IPv6 addresses in its own blocks
{
	evpnd_api "l$1" /v1/ipam/blocks?pool=train | jq '[.blocks[] |
	    select(.mine and .kind == "block" and (.block | contains(":"))) |
	    .free] | add // 0'
}
ns_exec l3 ip link set eth1 down
f=$(free6 3)
"$IPAM_LOAD" -S "$(evpnd_sock l3)" -p train -n "$f" -c 8 --prefix cut- \
    --family ipv6 --json >"$TMP_ROOT/cut.json" 2>&1
check "cut off: l3 allocates the $f addresses its blocks hold" \
    test "$(jq -r '.status["201"] // 0' "$TMP_ROOT/cut.json")" -eq "$f"
post 3 train cut-more ipv6
check "cut off, blocks full: 503 fabric datastore unreachable ($CODE)" \
    eval '[ "$CODE" = 503 ] &&
    grep -q "fabric datastore unreachable" <<<"$BODY"'
ns_exec l3 ip link set eth1 up
recovered()
{
	post 3 train cut-more ipv6
	[ "$CODE" = 201 ]
}
check "link back: l3 allocates again by itself" wait_for 20 recovered
check "l3's blocks in etcd are the ones it lists (nothing half-claimed)" \
    test "$(etcd_blocks_of 10.0.0.13)" = "$(mine 3 train | grep ' block$')"

# ---------------------------------------------------------------- 6

before_a=$(allocs 2 | sort)
before_b=$(mine 2)
kill -KILL "$(evpnd_pid l2)"
wait "${_EVPND_PID[l2]}" 2>/dev/null
evpnd_start l2 l2 "$(leaf_conf 2)"
check "kill -9 and restart: l2 lists the same allocations" \
    test "$(allocs 2 | sort)" = "$before_a"
check "kill -9 and restart: l2 owns the same blocks" test "$(mine 2)" = "$before_b"
restarted_allocates()
{
	post 2 train after-restart ipv6
	[ "$CODE" = 201 ] || [ "$CODE" = 200 ]
}
check "after the restart l2 allocates (once BGP is in)" \
    wait_for 40 restarted_allocates

# ---------------------------------------------------------------- 7

r=$(evpnd_http l1 POST /v1/ipam/blocks/reclaim '{"vtep": "10.0.0.13"}')
check "reclaim while l3 runs: 409 (${r%% *})" test "${r%% *}" = 409
l3_blocks=$(etcd_blocks_of 10.0.0.13 | wc -l)
evpnd_stop l3
reclaimed()
{
	r=$(evpnd_http l1 POST /v1/ipam/blocks/reclaim '{"vtep": "10.0.0.13"}')
	[ "${r%% *}" = 200 ]
}
check "l3 gone: l1 reclaims its blocks" wait_for 30 reclaimed
check "reclaim answered $l3_blocks blocks ($r)" \
    test "$(jq -r .blocks <<<"${r#* }")" -eq "$l3_blocks"
check "etcd no longer names l3" test -z "$(etcd_blocks_of 10.0.0.13)"
post 1 train after-reclaim ipv4
check "l1 claims a reclaimed block for IPv4 (201 $BODY)" test "$CODE" = 201

sanitizer_clean()
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path "$1")"
}
for n in 1 2; do
	evpnd_stop "l$n"
	check "l$n exits 0 on SIGTERM, no sanitizer reports" sanitizer_clean "l$n"
done

summary
