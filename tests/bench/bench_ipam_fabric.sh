#!/usr/bin/env bash
#
# Fabric IPAM benchmark (the fabric IPAM issue): a three-member etcd
# cluster, an FRR route reflector and three evpnd leaves in network
# namespaces, as in tests/integration/test_ipam_fabric.sh.  Run by hand
# as root on an optimized build, never by "make check".
#
# Usage: bench_ipam_fabric.sh [N] [M]
#   N  allocations per pool in part 1 (default 20000)
#   M  allocations per leaf in part 3 (default 20000)
#
#  1. On l1, in the same run: N allocations in a local pool, then N in
#     a fabric pool (/12, /26 blocks), 64 requests in flight
#     (ipam_load): allocations/s, p50/p99.  The fabric pool claims
#     blocks as it goes; the goal is 90% of the local rate.
#  2. Block claim latency p50/p99 on l1, from its
#     evpnd_ipam_block_claim_seconds histogram (bucket bounds: 1 ms,
#     2.5 ms, 5 ms, ...; the quantile is the bound of the bucket it
#     falls in).
#  3. Three leaves x M concurrent allocations in the fabric pool: zero
#     duplicate IPs or MACs across the leaves, and the time from the
#     first request until the reflector holds all 3 x M routes.
#
# Environment: BUILD_DIR (evpnd, evpnctl, tests/bench/ipam_load; use
# ./configure CFLAGS="-O2 -g" without sanitizers), BENCH_CONC (default
# 64), KEEP_TMP=1.

. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/evpn_lib.sh"
. "$(dirname "$0")/../integration/etcd_lib.sh"
require_root_tools
IPAM_LOAD=${IPAM_LOAD:-$BUILD_DIR/tests/bench/ipam_load}
N=${1:-20000}
M=${2:-20000}
CONC=${BENCH_CONC:-64}
RR=10.0.0.1
LEAVES="1 2 3"

leaf_conf()
{
	cat <<EOF
hostname l$1
ipam datastore etcd
 endpoint $(etcd_url 1)
 endpoint $(etcd_url 2)
 endpoint $(etcd_url 3)
!
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip 10.0.0.1$1
!
vxlan vx200
 vni 200
 bridge br200
 local-tunnel-ip 10.0.0.1$1
!
ipam pool fab
 tenant a
 vni 100
 prefix 10.64.0.0/12
 scope fabric
 quarantine 0
!
ipam pool loc
 tenant l$1
 vni 200
 prefix 10.128.0.0/12
 quarantine 0
!
router bgp 65000
 bgp router-id 10.0.0.1$1
 neighbor $RR remote-as 65000
 address-family l2vpn evpn
  neighbor $RR activate
  advertise-all-vni
 exit-address-family
exit
EOF
}

load()	# LEAF POOL N TAG: ipam_load's JSON on stdout
{
	"$IPAM_LOAD" -S "$(evpnd_sock "l$1")" -p "$2" -n "$3" -c "$CONC" \
	    --prefix "$4-" --json
}

row()	# JSON: "allocations/s p50 p99"
{
	jq -r '"\(.per_s | floor) \(.latency_ms.p50) \(.latency_ms.p99) " +
	    "\(.status | tostring)"' <<<"$1"
}

# Quantile q (0..1) of the claim histogram of /metrics on LEAF.
claim_quantile()
{
	curl -sf --unix-socket "$(evpnd_sock "l$1")" http://localhost/metrics |
	    awk -v q="$2" '
	    /^evpnd_ipam_block_claim_seconds_bucket/ {
		match($0, /le="[^"]*"/); le = substr($0, RSTART + 4,
		    RLENGTH - 5); n++; bound[n] = le; cnt[n] = $2 }
	    /^evpnd_ipam_block_claim_seconds_count/ { total = $2 }
	    END { for (i = 1; i <= n; i++) if (cnt[i] >= q * total) {
		print bound[i] " s (of " total " claims)"; exit } }'
}

evpn_fabric_create rr:$RR l1:10.0.0.11 l2:10.0.0.12 l3:10.0.0.13
bridge_create fabric br1
etcd_cluster_create fabric br1 10.200.0 1 2 3
for n in $LEAVES; do
	bridge_attach "l$n" eth1 "10.200.0.1$n/24" fabric br1 "p-d$n"
done
frr_start rr rr "$(evpn_rr_conf $RR 10.0.0.11 10.0.0.12 10.0.0.13)"
for n in $LEAVES; do
	evpnd_start "l$n" "l$n" "$(leaf_conf "$n")"
done
ready()
{
	evpnctl_in "l$1" show ipam datastore --json | jq -e .ready >/dev/null
}
for n in $LEAVES; do
	wait_for 40 ready "$n" || die "l$n: fabric pools not ready"
done

log_info "1. l1, $N allocations each, $CONC in flight: rate p50_ms p99_ms statuses"
log_info "   local : $(row "$(load 1 loc "$N" loc)")"
log_info "   fabric: $(row "$(load 1 fab "$N" fab)")"
log_info "2. block claim latency on l1: p50 $(claim_quantile 1 0.5), p99 $(claim_quantile 1 0.99)"

t0=$(now_ms)
pids=()
for n in $LEAVES; do
	load "$n" fab "$M" "big-l$n" >"$TMP_ROOT/big-l$n.json" &
	pids+=($!)
done
wait "${pids[@]}"
t1=$(now_ms)
for n in $LEAVES; do
	log_info "   l$n: $(row "$(cat "$TMP_ROOT/big-l$n.json")")"
done
rr_count()
{
	frr_vtysh_raw rr 'show bgp l2vpn evpn route type macip json' |
	    jq '[.. | objects | select(has("paths")) | .paths[] |
	    (if type == "array" then .[] else . end) | select(.ip != null) |
	    .ip | split(".") | select(.[0] == "10" and (.[1] | tonumber) >= 64
	    and (.[1] | tonumber) < 80)] | length'
}
want=$((3 * M + N))
all_there() { [ "$(rr_count)" -ge "$want" ]; }
wait_for 600 all_there || log_info "the reflector did not get all $want"
t2=$(now_ms)
dups=$(for n in $LEAVES; do
	evpnd_api "l$n" "/v1/ipam/allocations?pool=fab" |
	    jq -r '.allocations[] | .ip, .mac'
done | sort | uniq -d | wc -l)
log_info "3. 3 x $M concurrent: $((t1 - t0)) ms to allocate, $((t2 - t0)) ms until all $want fabric routes are at the reflector, $dups duplicate IPs or MACs"
