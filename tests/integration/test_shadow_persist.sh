#!/usr/bin/env bash
#
# The shadow inventory's learned state across a restart, against a
# running evpnd (no FRR; root, in a private network namespace):
#
#  1. Requests labelled job=llama-70b come in runs; the view shows a
#     learned Holt level and the group with its requests.
#  2. evpnd stops (SIGTERM) and starts again on the same state
#     directory: the view says the state was restored, the Holt level is
#     the one before the stop (not a cold 0), the group is back, and
#     "evpnctl show ipam shadow" prints its expectation.
#  3. The saved blob damaged with sqlite3 (evpnd stopped): evpnd starts,
#     logs that it ignores it and the pool starts cold.
#
# Environment: BUILD_DIR (where evpnd and evpnctl were built), KEEP_TMP=1.
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when not root or curl, jq, sqlite3 or unshare is missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
check_build_dir evpnd evpnctl
check_require_root
check_require_tools curl jq sqlite3 unshare ip
check_require_build evpnd evpnctl
check_in_netns "$@"
check_tmp_dir shadow

cat >"$CONF" <<EOF
log stdout
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
ipam pool train
 vni 100
 prefix 10.10.0.0/24
 mac-prefix 02:00:0a
 shadow
  max-warm 4
 exit-shadow
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF

# view JQ: the train pool's shadow view through jq.
view()
{
	curl -s --unix-socket "$SOCK" http://evpnd/v1/ipam/shadow |
	    jq -r ".pools[] | select(.pool == \"train\") | $1"
}

allocate()	# NAME
{
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST -H 'Content-Type: application/json' --data-binary \
	    "{\"resource\": \"$1\", \"labels\": {\"job\": \"llama-70b\"}}" \
	    http://evpnd/v1/ipam/pools/train/allocations
}

mkdir -p "$STATE"
if ! check_evpnd_start /v1/ipam/shadow; then
	fail "evpnd starts" "$(tail -5 "$LOG")"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

# 1. Four runs of three requests, two seconds apart.
ok=0
for run in 1 2 3 4; do
	for i in 1 2 3; do
		[ "$(allocate "w-$run-$i")" = 201 ] && ok=$((ok + 1))
	done
	sleep 2
done
check_eq "12 labelled requests allocated" 12 "$ok"
check_eq "the view is a cold start" false "$(view .state.restored)"
holt_learned()
{
	[ "$(view '.models.holt.level > 0')" = true ]
}
check "the Holt level is learned" wait_until 5 holt_learned
check_eq "the group's requests" 12 \
    "$(view '.groups[] | select(.label == "job=llama-70b") | .requests')"
LEVEL=$(view .models.holt.level)
check_evpnd_stop
check_eq "the state is in the database" 1 \
    "$(sqlite3 "$STATE/ipam.db" "SELECT count(*) FROM shadow_state \
    WHERE pool = 'train'")"

# 2. Back on the same state directory.
if check_evpnd_start /v1/ipam/shadow; then
	check_eq "the view says restored" true "$(view .state.restored)"
	after=$(view .models.holt.level)
	check "the Holt level is the one before the stop ($LEVEL, $after)" \
	    jq -ne "($after) > 0 and (($after) - ($LEVEL) | fabs) <= \
	    0.05 * ($LEVEL)"
	check_eq "the group is back with its requests" 12 \
	    "$(view '.groups[] | select(.label == "job=llama-70b") | .requests')"
	check_eq "and what it holds" 12 \
	    "$(view '.groups[] | select(.label == "job=llama-70b") | .active')"
	"$EVPNCTL" -S "$SOCK" show ipam shadow >"$T/show.out" 2>&1
	check "evpnctl prints the group's expectation" \
	    grep -Eq "job llama-70b: [0-9]+% confident [0-9]+ more within 5 min" \
	    "$T/show.out"
	check "the log says so" grep -q "pool train: learned state restored" \
	    "$LOG"
	check_evpnd_stop
else
	fail "evpnd restarts" "$(tail -5 "$LOG")"
fi

# 3. A damaged blob is ignored, not trusted in part.
sqlite3 "$STATE/ipam.db" "UPDATE shadow_state SET state = \
    substr(state, 1, 100) WHERE pool = 'train'"
if check_evpnd_start /v1/ipam/shadow; then
	check_eq "a damaged state: a cold start" false "$(view .state.restored)"
	check "the log says why" grep -q "pool train: saved state ignored" \
	    "$LOG"
	check_eq "the pool still serves" 201 "$(allocate w-after)"
	check_evpnd_stop
else
	fail "evpnd starts on a damaged state" "$(tail -5 "$LOG")"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
