#!/usr/bin/env bash
#
# Measured convergence through an FRR 8.4 route reflector: the
# origination timestamps evpnd puts on its routes cross the reflector
# unchanged, the receiving leaf's convergence histogram fills with
# plausible values, and when the reflector is slowed the measured
# latency and the originating leaf's shadow lead time follow.
#
#         rr (FRR zebra+bgpd, AS 65000, 10.0.0.1, reflector)
#                  | fabric: bridge br0, 10.0.0.0/24 |
#      l1 (evpnd, VTEP 10.0.0.11)      l2 (evpnd, VTEP 10.0.0.12)
#          vxlan vx100 (VNI 100)           vxlan vx100 (VNI 100)
#          pool pa 10.10.1.0/24,           pool pb 10.10.2.0/24,
#          shadow (observe),               shadow (observe)
#          lead-time 2500
#
# Both leaves stamp every new type-2 route (convergence-sample 1), so
# each allocation is one sample at the other leaf.
#
# Cases: (1) sessions up; (2) FAST allocations at l1: l2 counts FAST
# samples, all plausible (0 <= latency < 2 s, p90 > 0 and < 2 s), none
# stale or skewed; (3) rr holds l1's routes with the timestamp
# community (FRR lists it as "UNK:136, 84": type 0x88, sub-type 0x54)
# and l2 holds them with the very stamp l1 put on (originatedMs equal:
# the bytes crossed the reflector unchanged); (4) before l2 has
# allocated, l1's pool plans with its configured lead-time (2500 ms,
# "configured"); after FAST allocations at l2 it plans with the
# measured p90 ("local", far below 2500 ms); (5) the reflector's bgpd
# is stopped (SIGSTOP) while both leaves allocate SLOW endpoints each
# (all at once), and PAUSE_MS longer, then continued (SIGCONT): l2's
# samples of those are at least
# PAUSE_MS - 100 ms and below the whole pause plus 2 s, its p90 rises
# as far, and so does l1's lead time (the p90 of what it measures of
# l2's routes: SLOW of FAST + SLOW samples are slow); (6) show evpn
# convergence, GET /v1/evpn/convergence and /metrics agree; no
# sanitizer reports.
#
# Then the fabric's path (7-9): a single-member etcd, and the leaves
# restarted with a fabric pool "pf" (so they publish and read
# P/convergence/ROUTER-ID).  Only l1 allocates: l1 measures nothing
# itself, so its lead time can only come from l2's published
# measurement of l1's routes.  (7) etcd holds l2's key with the window
# l2 shows, and l1's pool plans with it ("fabric"); (8) with the
# reflector paused while l1 allocates, l2's p90 rises and within two
# rounds so does l1's lead time; (9) l2 stops: its key's lease runs
# out, the fabric source lapses and l1 falls back to its lead-time.
#
# (FRR's "neighbor X advertisement-interval" is the other way to slow a
# reflector; pausing it is used here because it slows both directions
# at once and by a known amount.)
#
# Environment: BUILD_DIR (evpnd, evpnctl), FAST (20), SLOW (8),
# PAUSE_MS (2000).  About 100 s.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
require_root_tools
for t in etcd etcdctl; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: missing $t"; exit 77; }
done

RR=$EVPN_RR
L1=$EVPN_L1
L2=$EVPN_L2
FAST=${FAST:-20}
SLOW=${SLOW:-8}
PAUSE_MS=${PAUSE_MS:-2000}

# leaf_conf NAME VTEP POOL THIRD-OCTET MAC-PREFIX [LEAD-TIME]; the
# fabric phase sets DATASTORE (a top-level block) and POOL_SCOPE (pool
# statements).
DATASTORE=
POOL_SCOPE=
leaf_conf()
{
	cat <<EOF
hostname $1
log stdout debugging
$DATASTORE
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $2
!
ipam pool $3
 vni 100
 prefix 10.10.$4.0/24
 mac-prefix $5
$POOL_SCOPE
 shadow
  min-warm 0
  max-warm 4
  mode observe
${6:+  lead-time $6}
 exit-shadow
!
router bgp 65000
 bgp router-id $2
 neighbor $RR remote-as 65000
 neighbor $RR timers connect 2
 address-family l2vpn evpn
  neighbor $RR activate
  advertise-all-vni
  convergence-sample 1
 exit-address-family
exit
EOF
}

# ---------------------------------------------------------------- helpers

conv()		# NAME JQ: a value of GET /v1/evpn/convergence
{
	evpnd_api "$1" /v1/evpn/convergence | jq -er "$2"
}

lead()		# NAME POOL JQ: of the pool's convergence in the shadow view
{
	evpnd_api "$1" /v1/ipam/shadow |
	    jq -er --arg p "$2" ".pools[] | select(.pool == \$p) |
	    .convergence | $3"
}

# alloc NAME POOL RESOURCE: POST, 201 expected; the object on stdout.
alloc()
{
	local r
	r=$(evpnd_http "$1" POST "/v1/ipam/pools/$2/allocations" \
	    "{\"resource\": \"$3\"}") || return 1
	[ "${r%% *}" = 201 ] || { log_info "POST $3 at $1: $r"; return 1; }
	printf '%s\n' "${r#* }"
}

jqok()		# JQ-ARGS...: jq -e on stdin, quietly
{
	jq -e "$@" >/dev/null
}

# same_number A B: equal as numbers (the metrics print %.17g).
same_number()
{
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(a != "" &&
	    b != "" && d < 1e-9 && d > -1e-9) }'
}

samples_reach()	# NAME N: at least N ok samples received
{
	local n
	n=$(conv "$1" .received.samples) && [ "$n" -ge "$2" ]
}

# The stamp a leaf holds for its own route to MAC, or for the one it
# learned from PEER.
route_stamp()	# NAME MAC PEER
{
	evpnctl_in "$1" show bgp l2vpn evpn --json | jq -er --arg m "$2" \
	    --arg p "$3" '[.routes[] | select(.type == 2 and .peer == $p and
	    (.mac | ascii_downcase) == $m and .ip != null)] | first |
	    .originatedMs'
}

# rr's path for l1's route to an allocation, from FRR's detail JSON.
rr_path()	# ALLOC-JSON
{
	frr_evpn_path rr "[2]:[0]:[48]:[$(jq -r '.mac | ascii_downcase' \
	    <<<"$1")]:[32]:[$(jq -r .ip <<<"$1")]" "$L1"
}

# ---------------------------------------------------------------- setup

evpn_fabric_create rr:$RR l1:$L1 l2:$L2
frr_start rr rr "$(evpn_rr_conf $RR $L1 $L2)"
evpnd_start l1 l1 "$(leaf_conf l1 $L1 pa 1 02:00:0a 2500)"
evpnd_start l2 l2 "$(leaf_conf l2 $L2 pb 2 02:00:0b)"

# ---------------------------------------------------------------- 1

check "l1 sees rr Established" wait_for 30 evpnd_peer_established l1 $RR
check "l2 sees rr Established" wait_for 30 evpnd_peer_established l2 $RR
check "rr sees both leaves Established" wait_for 10 eval \
    "frr_peer_established rr $L1 && frr_peer_established rr $L2"
{ evpnd_peer_established l1 $RR && evpnd_peer_established l2 $RR; } ||
    bail_out "no sessions between the leaves and FRR"
sleep 1		# the initial tables, so what follows is news

# ---------------------------------------------------------------- 2

ALLOCS=()
for ((i = 1; i <= FAST; i++)); do
	a=$(alloc l1 pa "fast-$i") && ALLOCS+=("$a")
done
check "$FAST allocations at l1 answer 201" test "${#ALLOCS[@]}" -eq "$FAST"
check "l2 counts $FAST convergence samples" wait_for 15 samples_reach l2 \
    "$FAST"
fast=$(evpnd_api l2 /v1/evpn/convergence)
log_info "l2 after $FAST routes from l1: $(jq -c .window <<<"$fast")"
check "l2: every sample of l1's routes below 2 s, none negative" \
    jqok '[.recent[] | select(.vtep == "10.0.0.11")] |
    length > 0 and all(.latencyMs >= 0 and .latencyMs < 2000 and
    .result == "ok")' <<<"$fast"
check "l2: p90 above 0 and below 2 s" jqok '.window.p90Ms > 0 and
    .window.p90Ms < 2000' <<<"$fast"
check "l2: no stale or skewed samples" jqok '.received.stale == 0 and
    .received.skew == 0' <<<"$fast"
check "l2: l1's clock is not suspect" jqok '.vteps[] |
    select(.vtep == "10.0.0.11") | .clockSuspect == false' <<<"$fast"

# ---------------------------------------------------------------- 3

a=${ALLOCS[0]}
mac=$(jq -r '.mac | ascii_downcase' <<<"$a")
p=$(rr_path "$a")
log_info "rr's extended communities of l1's route: \
$(jq -c .extendedCommunity <<<"$p")"
check "rr holds l1's route with RT:65000:100 and ET:8" eval \
    'frr_ecomm_has "$p" RT:65000:100 && frr_ecomm_has "$p" ET:8'
check "rr lists the timestamp as an unknown community (UNK:136, 84)" \
    eval 'jq -er ".extendedCommunity.string" <<<"$p" |
    grep -q "UNK:136, 84"'
s1=$(route_stamp l1 "$mac" local)
s2=$(route_stamp l2 "$mac" "$RR")
check "l2 holds l1's route with the stamp l1 put on it ($s1 = $s2)" \
    eval '[ -n "$s1" ] && [ "$s1" = "$s2" ]'
check "the stamp is the time of the allocation (within 10 s of now)" \
    eval '[ $(( $(date +%s%3N) - s1 )) -lt 10000 ]'

# ---------------------------------------------------------------- 4

check "l1 plans with its configured lead time before measuring any" \
    eval '[ "$(lead l1 pa .source)" = configured ] &&
    [ "$(lead l1 pa .leadMs)" = 2500 ]'
for ((i = 1; i <= FAST; i++)); do
	alloc l2 pb "fast-$i" >/dev/null
done
check "l1 counts $FAST samples of l2's routes" wait_for 15 samples_reach \
    l1 "$FAST"
local_lead()	# the lead time is measured here and below MS
{
	[ "$(lead l1 pa .source)" = local ] &&
	    [ "$(lead l1 pa .leadMs)" -lt "$1" ]
}
check "l1 plans with the measured p90 (local, below 2500 ms)" \
    wait_for 5 local_lead 2500
lead_fast=$(lead l1 pa .leadMs)
log_info "l1's lead time on a quick fabric: $lead_fast ms \
($(lead l1 pa tojson))"

# ---------------------------------------------------------------- 5

# The allocations are made at once, in the background; the reflector
# stays stopped PAUSE_MS after the last one answered, so every one of
# their routes (stamped before its answer) waits at least that long.
rr_pid=$(frr_bgpd_pid rr)
[ -n "$rr_pid" ] || bail_out "no bgpd pid for rr"
kill -STOP "$rr_pid"
t0=$(now_ms)
pids=()
for ((i = 1; i <= SLOW; i++)); do
	alloc l1 pa "slow-$i" >/dev/null &
	pids+=($!)
	alloc l2 pb "slow-$i" >/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
spread=$(($(now_ms) - t0))
sleep "$((PAUSE_MS / 1000)).$(printf '%03d' $((PAUSE_MS % 1000)))"
kill -CONT "$rr_pid"
paused=$(($(now_ms) - t0))
low=$((PAUSE_MS - 100))
log_info "rr paused $paused ms; the allocations took $spread ms of that"
check "l2 counts the $SLOW slow samples" wait_for 20 samples_reach l2 \
    $((FAST + SLOW))
check "l1 counts the $SLOW slow samples" wait_for 20 samples_reach l1 \
    $((FAST + SLOW))
slow=$(evpnd_api l2 /v1/evpn/convergence)
log_info "l2 after the pause: $(jq -c .window <<<"$slow"); newest \
$(jq -c '[.recent[:3][] | .latencyMs]' <<<"$slow")"
check "l2: the $SLOW slow routes took $low ms to $((paused + 2000)) ms" \
    jqok --argjson min "$low" --argjson max $((paused + 2000)) \
    '[.recent[:'"$SLOW"'][] | .latencyMs] | length == '"$SLOW"' and
    all(. >= $min and . < $max)' <<<"$slow"
check "l2: p90 of the window rose to the pause" jqok --argjson min \
    "$low" '.window.p90Ms >= $min' <<<"$slow"
slow_lead()
{
	[ "$(lead l1 pa .source)" = local ] &&
	    [ "$(lead l1 pa .leadMs)" -ge "$1" ]
}
check "l1's lead time follows: at least $low ms" wait_for 5 slow_lead "$low"
log_info "l1's lead time after the pause: $(lead l1 pa .leadMs) ms \
(before: $lead_fast ms)"
check "evpnctl show ipam shadow prints the lead time and its source" \
    eval 'evpnctl_in l1 show ipam shadow |
    grep -Eq "lead time [0-9]+ ms \(local: p90"'

# ---------------------------------------------------------------- 6

check "evpnctl show evpn convergence --json matches the API" eval \
    '[ "$(evpnctl_in l2 show evpn convergence --json |
    jq .received.samples)" = "$(conv l2 .received.samples)" ]'
check "evpnctl show evpn convergence prints the window" eval \
    'evpnctl_in l2 show evpn convergence | grep -q "^Last 600 s: "'
check "/metrics: the histogram's count is the samples'" eval \
    '[ "$(evpnd_metric l2 evpnd_evpn_convergence_seconds_count)" = \
    "$(conv l2 .received.samples)" ]'
inf_is_count()	# the +Inf bucket holds every sample
{
	[ "$(evpnd_metric l2 \
	    'evpnd_evpn_convergence_seconds_bucket{le="+Inf"}')" = \
	    "$(evpnd_metric l2 evpnd_evpn_convergence_seconds_count)" ]
}
check "/metrics: +Inf bucket equals the count" inf_is_count
check "/metrics: l1's pool lead time is its view's" eval \
    'same_number "$(evpnd_metric l1 "evpnd_shadow_lead_seconds{pool=\"pa\"}")" \
    "$(lead l1 pa ".leadMs / 1000")"'

stop_clean()	# NAME...: SIGTERM, exit 0, a clean log
{
	local n rc
	for n in "$@"; do
		evpnd_stop "$n"
		rc=$?
		check "SIGTERM: evpnd $n exits 0 (exit $rc)" test "$rc" -eq 0
		check "no sanitizer reports in evpnd $n's log" \
		    evpnd_sanitizer_clean "$n"
	done
}
stop_clean l1 l2

# ---------------------------------------------------------------- 7

DS=10.200.0
bridge_create fabric br1
etcd_cluster_create fabric br1 $DS 1
bridge_attach l1 eth1 $DS.11/24 fabric br1 p-d1
bridge_attach l2 eth1 $DS.12/24 fabric br1 p-d2

# The fabric pool pf (shadow block, lead-time 2500) on the etcd member.
DATASTORE="ipam datastore etcd
 endpoint $(etcd_url 1)
!"
POOL_SCOPE=" scope fabric
 block-size 28"
evpnd_start l1 l1f "$(leaf_conf l1 $L1 pf 3 02:00:0c 2500)"
evpnd_start l2 l2f "$(leaf_conf l2 $L2 pf 3 02:00:0c 2500)"
check "l1f and l2f see rr Established" wait_for 30 eval \
    "evpnd_peer_established l1f $RR && evpnd_peer_established l2f $RR"

# etcd_conv ROUTER-ID: the value a VTEP published, compact JSON.
etcd_conv()
{
	local v
	v=$(etcd_ctl get --print-value-only "/evpnd/convergence/$1") &&
	    [ -n "$v" ] && jq -ec . <<<"$v"
}

fab=0
fabric_alloc()	# N: N more allocations at l1f, 201 each
{
	local i
	for ((i = 1; i <= $1; i++)); do
		fab=$((fab + 1))
		alloc l1f pf "fab-$fab" >/dev/null || return 1
	done
}
check "l1f allocates in the fabric pool (once the tables are in)" \
    wait_for 20 fabric_alloc 1
check "$((FAST - 1)) more allocations at l1f" fabric_alloc $((FAST - 1))
check "l2f counts them" wait_for 15 samples_reach l2f "$FAST"
published()	# the key of l2 exists with at least N samples
{
	local v
	v=$(etcd_conv $L2) && jq -e --argjson n "$1" '.count >= $n' \
	    <<<"$v" >/dev/null
}
check "etcd holds l2's distribution (/evpnd/convergence/$L2)" \
    wait_for 15 published "$FAST"
v2=$(etcd_conv $L2)
log_info "l2 published $v2"
check "it is the window l2 shows" eval '[ "$(jq .p90Ms <<<"$v2")" = \
    "$(conv l2f .window.p90Ms)" ] || [ "$(conv l2f .window.count)" -gt \
    "$(jq .count <<<"$v2")" ]'
check "l1f measured nothing itself" eval \
    '[ "$(conv l1f .received.samples)" = 0 ]'
fabric_lead()	# MIN-MS: l1f's pool plans with the fabric's p90 >= MIN
{
	[ "$(lead l1f pf .source)" = fabric ] &&
	    [ "$(lead l1f pf .leadMs)" -ge "$1" ]
}
check "l1f's pool plans with the fabric's p90 (source fabric)" \
    wait_for 15 fabric_lead 1
check "... which is what l2 published" eval \
    '[ "$(lead l1f pf .leadMs)" = "$(etcd_conv $L2 | jq .p90Ms)" ]'
log_info "l1f's lead time from the fabric: $(lead l1f pf tojson)"

# ---------------------------------------------------------------- 8

rr_pid=$(frr_bgpd_pid rr)
kill -STOP "$rr_pid"
fabric_alloc "$SLOW"
sleep "$((PAUSE_MS / 1000)).$(printf '%03d' $((PAUSE_MS % 1000)))"
kill -CONT "$rr_pid"
check "l2f counts the $SLOW slow routes" wait_for 20 samples_reach l2f \
    $((FAST + SLOW))
check "l1f's fabric lead time rises to at least $low ms" \
    wait_for 20 fabric_lead "$low"
log_info "l1f's lead time from the fabric after the pause: \
$(lead l1f pf tojson); l2 published $(etcd_conv $L2)"

# ---------------------------------------------------------------- 9

stop_clean l2f
gone()	# l2's key is gone from etcd (its lease ran out)
{
	! etcd_conv $L2 >/dev/null
}
check "l2's key goes when its lease runs out" wait_for 30 gone
configured_again()
{
	[ "$(lead l1f pf .source)" = configured ] &&
	    [ "$(lead l1f pf .leadMs)" = 2500 ]
}
check "l1f falls back to its lead-time (2500 ms)" \
    wait_for 30 configured_again
stop_clean l1f

summary
