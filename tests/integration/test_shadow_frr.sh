#!/usr/bin/env bash
#
# The shadow inventory in the fabric: route churn from another VTEP makes
# evpnd pre-allocate and advertise endpoints in that VNI before any
# request asks for them, and a request then gets one of them.
#
#         rr (FRR zebra+bgpd, AS 65000, 10.0.0.1)
#              | fabric: bridge br0, 10.0.0.0/24 |
#         l1 (evpnd, VTEP 10.0.0.11)        inj (tests/bench/bgp_inject,
#             vxlan vx100 (VNI 100)               10.0.0.99: "another
#             ipam pool train: VNI 100,            VTEP" streaming type-2
#             10.10.0.0/24, shadow block           routes in VNI 100,
#                                                  RT 65000:100)
#
# The engine's churn model learns online how local requests follow
# fresh remote type-2 adds in the VNI (lag and ratio), so it needs some
# history first.  Training: TRAIN_ROUNDS rounds, ROUND_S apart; in each
# the injector announces BURST routes (fresh MACs), evpnd sees them
# (counted in GET /v1/ipam/shadow), LAG_S later REQUESTS allocations are
# made, and near the end of the round they are released and the
# injector leaves (its routes are withdrawn).  Then a quiet gap, then
# the checked burst: no request at all.  Checks:
#   (1) sessions up; (2) evpnd counts the injected adds as churn;
#   (3) after the checked burst, with no request in between, evpnd holds
#       more pre-allocations than just before it, made by the churn
#       forecast for when the learned lag says requests come (the engine
#       holds a gang's units around that time, not from its first remote
#       route on), and GET /v1/ipam/allocations lists them;
#   (4) a request made then answers 201 with "preallocated": true and
#       the address and MAC of one of them; (5) rr holds that very route
#       (same prefix, same VTEP, VNI 100, RT): advertised as the
#       pre-allocation, it stays;
#   (6) evpnctl show ipam shadow / alerts answer; no sanitizer reports.
#
# Settings.  The timeline mirrors a shadowsim trace (3 training rounds
# of 10 adds then 5 requests 5 s later, 30 s apart; the churn model
# learns lag ~5 s, ratio ~0.5).  With "cost wastage 1 delay 10" the
# background hold is 0 and the burst lifts it to about the 5 requests
# the kernel expects, for a second or two around the lag, which shows
# the churn reaction plainly.  min-warm 0, so nothing is pre-allocated
# but what the forecast asks for.  About 3 minutes.
#
# Environment: BUILD_DIR (evpnd, evpnctl, tests/bench/bgp_inject),
# BGP_INJECT, TRAIN_ROUNDS (3, more up to MAX_TRAIN_ROUNDS (6) until
# the churn model has learned), ROUND_S (30), GAP_S (30).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
require_root_tools

BGP_INJECT=${BGP_INJECT:-$BUILD_DIR/tests/bench/bgp_inject}
[ -x "$BGP_INJECT" ] || die "no bgp_inject at $BGP_INJECT (set BUILD_DIR)"

RR=$EVPN_RR
L1=$EVPN_L1
INJ=10.0.0.99
POOL=train
TRAIN_ROUNDS=${TRAIN_ROUNDS:-3}
ROUND_S=${ROUND_S:-30}
GAP_S=${GAP_S:-30}
MAX_TRAIN_ROUNDS=${MAX_TRAIN_ROUNDS:-6}
LEARNED=0
BURST=10
REQUESTS=5
LAG_S=5

leaf_conf()
{
	evpn_ipam_leaf_conf "$L1" "$RR" <<EOF
ipam pool $POOL
 vni 100
 prefix 10.10.0.0/24
 gateway 10.10.0.1
 quarantine 2
 mac-prefix 02:00:0a
 shadow
  horizon 300
  confidence 0.9
  min-warm 0
  max-warm 32
  max-pool-fraction 0.5
  cost wastage 1 delay 10
  mode active
 exit-shadow
!
EOF
}

# ---------------------------------------------------------------- helpers

# api_call METHOD PATH [BODY]: evpnd_http on l1.
api_call()
{
	evpnd_http l1 "$@"
}

# shadow_field JQ: a value of this pool's entry in GET /v1/ipam/shadow.
shadow_field()
{
	evpnd_api l1 /v1/ipam/shadow |
	    jq -er --arg p "$POOL" ".pools[] | select(.pool == \$p) | $1"
}

held()		{ shadow_field '.preallocated.total'; }
route_adds()	{ shadow_field '.counters.routeAdds'; }
requests()	{ shadow_field '.outcomes.requests'; }

# The pool's pre-allocations, one compact JSON object a line.
preallocations()
{
	evpnd_api l1 "/v1/ipam/allocations?pool=$POOL" |
	    jq -c '.allocations[] | select(.preallocated)'
}

rr_has()	# ALLOC-JSON: rr holds its route from l1, VNI 100, RT
{
	local p
	p=$(frr_evpn_path rr "$(frr_macip_prefix "$1")" $L1) || return 1
	jq -e '.VNI == "100" or .VNI == 100' <<<"$p" >/dev/null &&
	    frr_ecomm_has "$p" RT:65000:100
}

INJ_PID=
# inject ROUND STAY: announce BURST fresh MACs (02:10:00:00:RR:xx) in
# VNI 100 from "another VTEP", staying STAY seconds; the routes are
# withdrawn when the session closes.
inject()
{
	local mac
	mac=$(printf '02:10:00:00:%02x:00' "$1")
	ip netns exec "$(ns_name inj)" "$BGP_INJECT" --connect "$RR" \
	    --source "$INJ" --as 65000 --peer-as 65000 --router-id "$INJ" \
	    --count "$BURST" --vni 100 --rd "$INJ:100" --nexthop "$INJ" \
	    --rt 65000:100 --mac-base "$mac" --stay "$2" \
	    >>"$TMP_ROOT/inject.log" 2>&1 &
	INJ_PID=$!
}

inject_wait()
{
	[ -n "$INJ_PID" ] || return 0
	wait_for 20 eval "! pid_alive $INJ_PID" || kill "$INJ_PID" 2>/dev/null
	wait "$INJ_PID" 2>/dev/null
	INJ_PID=
}

# (lib.sh's cleanup stops whatever still runs in our namespaces, the
# injector included.)

# sleep_until T0 S: sleep until S seconds after T0 (ms), if not past.
sleep_until()
{
	local left=$(($1 + $2 * 1000 - $(now_ms)))
	[ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' \
	    $((left % 1000)))"
}

adds_reach()	# N: evpnd counted at least N fresh remote adds
{
	local n
	n=$(route_adds) && [ "$n" -ge "$1" ]
}

# ---------------------------------------------------------------- setup

evpn_fabric_create rr:$RR l1:$L1 inj:$INJ
frr_start rr rr "$(evpn_rr_conf $RR $L1 $INJ)"
evpnd_start l1 l1 "$(leaf_conf)"

check "evpnd sees rr Established" wait_for 30 evpnd_peer_established l1 $RR
check "rr sees evpnd ($L1) Established" \
    wait_for 10 frr_peer_established rr $L1
{ evpnd_peer_established l1 $RR && frr_peer_established rr $L1; } ||
    bail_out "no session between evpnd and FRR"
check "GET /v1/ipam/shadow has pool $POOL in active mode" \
    eval '[ "$(shadow_field .mode)" = active ]'

# ---------------------------------------------------------------- training

# The model needs a few rounds; on a slower or busier machine a round's
# requests can land in another tick than on this one, so keep training
# (up to MAX_TRAIN_ROUNDS) until it has learned a ratio.
learned()
{
	local r
	r=$(shadow_field .models.churn.ratio) &&
	    awk -v r="$r" 'BEGIN { exit !(r > 0.1) }'
}
adds=0
for ((round = 1; round <= TRAIN_ROUNDS ||
    (round <= MAX_TRAIN_ROUNDS && !LEARNED); round++)); do
	t0=$(now_ms)
	inject "$round" $((ROUND_S - 4))
	adds=$((adds + BURST))
	if ! wait_for 20 adds_reach $adds; then
		check "training round $round: evpnd counts $BURST remote adds" \
		    false
		bail_out "the injected routes do not reach evpnd"
	fi
	sleep "$LAG_S"
	for ((i = 1; i <= REQUESTS; i++)); do
		r=$(api_call POST "/v1/ipam/pools/$POOL/allocations" \
		    "{\"resource\": \"train-$round-$i\"}")
		[ "${r%% *}" = 201 ] || log_info "round $round: POST: $r"
	done
	sleep_until "$t0" $((ROUND_S - 6))
	for ((i = 1; i <= REQUESTS; i++)); do
		api_call DELETE "/v1/ipam/allocations/train-$round-$i" \
		    >/dev/null
	done
	inject_wait
	log_info "round $round: held $(held), lag $(shadow_field \
	    .models.churn.lagS), ratio $(shadow_field .models.churn.ratio)"
	sleep_until "$t0" "$ROUND_S"
	LEARNED=0
	learned && LEARNED=1
done
check "training: the churn model learned a ratio after $((round - 1)) \
rounds" learned
check "training: evpnd counted the $adds injected adds as churn" \
    adds_reach $adds
sleep "$GAP_S"

# ---------------------------------------------------------------- burst

before=$(held)
reqs_before=$(requests)
log_info "before the burst: $before pre-allocated, $reqs_before requests"
t_burst=$(now_ms)
inject 99 60
adds=$((adds + BURST))
check "burst: evpnd counts the $BURST new remote adds" wait_for 20 \
    adds_reach $adds
more_held()
{
	local n
	n=$(held) && [ "$n" -gt "$before" ] && [ "$n" -gt 0 ]
}
listed()	# the pool lists committed pre-allocations
{
	[ -n "$(preallocations)" ]
}
check "burst: evpnd pre-allocates more than the $before it held" \
    wait_for 15 more_held
check "GET /v1/ipam/allocations lists preallocated: true entries" \
    wait_for 10 listed

# ---------------------------------------------------------------- request

# At once: the units are held around the learned lag, as long as the
# forecast expects the gang's requests, not indefinitely.
declare -A PRE=()
while read -r a; do
	[ -n "$a" ] && PRE[$(jq -r '.ip + " " + .mac' <<<"$a")]=$a
done < <(preallocations)
r=$(api_call POST "/v1/ipam/pools/$POOL/allocations" '{"resource": "job-1"}')
code=${r%% *}
job=${r#* }
log_info "after the burst: ${#PRE[@]} listed, job-1 at $(( ($(now_ms) - \
t_burst) / 1000 )) s"
check "no other request was made meanwhile" \
    eval '[ "$(requests)" = "$((reqs_before + 1))" ]'
check "POST job-1: 201 (got $r)" test "$code" = 201
check "job-1 is served by a pre-allocation (preallocated: true)" \
    eval 'jq -e ".preallocated == true" <<<"$job" >/dev/null'
key=$(jq -r '.ip + " " + .mac' <<<"$job" 2>/dev/null)
check "job-1 has the address and MAC of a pre-allocation ($key)" \
    test -n "${PRE[$key]:-}"
check "rr holds job-1's route, advertised as the pre-allocation \
$(frr_macip_prefix "$job") (VNI 100, RT)" wait_for 10 rr_has "$job"
check "job-1 is listed as a normal allocation now" \
    eval 'evpnd_api l1 "/v1/ipam/allocations?pool=$POOL" | jq -e \
    ".allocations[] | select(.resource == \"job-1\") |
    .preallocated == false" >/dev/null'
check "GET /v1/ipam/shadow counts the hit" \
    eval '[ "$(shadow_field .outcomes.hits)" -ge 1 ]'
inject_wait

# ---------------------------------------------------------------- views

check "evpnctl show ipam shadow" \
    eval 'evpnctl_in l1 show ipam shadow | grep -q "^Pool $POOL (VNI 100)"'
check "evpnctl show ipam alerts --json" \
    eval 'evpnctl_in l1 show ipam alerts --json | jq -e \
    ".total == (.alerts | length)" >/dev/null'
check "/metrics: evpnd_shadow_hits_total of the pool >= 1" \
    eval '[ "$(evpnd_metric l1 "evpnd_shadow_hits_total{pool=\"$POOL\"}" |
    cut -d. -f1)" -ge 1 ]'

sanitizer_clean()
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path l1)"
}
evpnd_stop l1
stop_rc=$?
check "SIGTERM: evpnd exits 0 (exit $stop_rc)" test "$stop_rc" -eq 0
check "no sanitizer reports in evpnd's log" sanitizer_clean

summary
