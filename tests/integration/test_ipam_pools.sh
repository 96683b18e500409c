#!/usr/bin/env bash
#
# Pools and reservations at run time, end to end with evpnctl against a
# running evpnd (one private network namespace, no FRR):
#
#  1. ipam pool add makes a pool without a restart; allocations in it
#     get type-2 routes in its VNI; ipam pool set grows it; shrinking it
#     under its allocations is refused with their count; ipam reserve /
#     unreserve; ipam pool del is refused while it holds allocations
#     and works once they are released.
#  2. The config file's pool is read-only: add, set, del and reserve
#     answer with the file and the line of its block.
#  3. An asked address (--ip) is granted when free, refused (naming the
#     holder) when taken; labels (--label) are listed and filtered.
#  4. A pool made with a shadow inventory (evpnctl's words): its
#     min-warm pre-allocations appear in its allocations; curl PATCHes
#     its shadow object; a value out of range is refused naming the
#     field, and changes nothing.
#  5. kill -9, restart on the same state: the run-time pool, its
#     reservation, its allocations and their labels are back, and the
#     shadow pool with its settings, its engine and its pre-allocations
#     (its learned state only after a clean stop: the unit test);
#     the audit chain verifies and lists pool-create, pool-update,
#     reserve, unreserve and pool-delete with actor local; the shadow
#     pool is deleted with its pre-allocations.
#
# Environment: BUILD_DIR (where evpnd and evpnctl were built), KEEP_TMP.
# Prints "N passed, N failed"; exits 77 when not root or jq, curl or
# unshare is missing.  About 15 s.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
check_build_dir evpnd evpnctl
check_require_root
check_require_tools curl jq unshare ip
check_require_build evpnd evpnctl
check_in_netns "$@"
check_tmp_dir pools

ctl()
{
	"$EVPNCTL" -S "$SOCK" "$@"
}

# ctl_err ARGS...: evpnctl must fail; its message on stdout.
ctl_err()
{
	! ctl "$@" 2>"$T/err" >/dev/null && cat "$T/err"
}

# matches PATTERN ARGS...: evpnctl fails with a message holding PATTERN.
fails_with()
{
	local pat=$1
	shift
	ctl_err "$@" | grep -q -- "$pat"
}

cat >"$CONF" <<EOF
log stdout
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
vxlan vx300
 vni 300
 local-tunnel-ip 10.0.0.11
!
ipam pool pa
 vni 100
 prefix 10.10.0.0/24
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF

# routes VNI IP: local type-2 routes of VNI with IP.
routes()
{
	ctl show bgp l2vpn evpn route-type 2 vni "$1" --json |
	    jq --arg ip "$2" '[.routes[] | select(.ip == $ip)] | length'
}

check_evpnd_start /v1/ipam/pools ||
    { echo "Bail out! evpnd did not start"; exit 1; }

# ---- 1. a pool made, grown, refused, reserved, deleted ----
check "ipam pool add rt" ctl ipam pool add rt vni 300 prefix \
    10.30.0.0/29 gateway 10.30.0.1 quarantine 0
for r in a b c d e; do
	ctl ipam allocate rt "$r" >/dev/null
done
check "the /29 holds five allocations, a sixth is refused" \
    fails_with "pool rt is exhausted" ipam allocate rt f
check "its allocations are advertised in VNI 300" \
    test "$(routes 300 10.30.0.2)" = 1
check "ipam pool set rt grows it" ctl ipam pool set rt prefix \
    10.30.0.0/29 prefix 10.30.1.0/29
check "and it allocates from the new prefix" \
    test "$(ctl ipam allocate rt f --json | jq -r .ip)" = 10.30.1.1
check "shrinking under its allocations is refused with their count" \
    fails_with "5 live allocations would fall outside" \
    ipam pool set rt prefix 10.30.1.0/29 no-gateway
check "ipam reserve" ctl ipam reserve rt 10.30.1.2 lb
check "the reserved address is not handed out" \
    fails_with "not free in pool rt" ipam allocate rt g --ip 10.30.1.2
check "ipam unreserve" ctl ipam unreserve rt 10.30.1.2
check "then it is" test "$(ctl ipam allocate rt g --ip 10.30.1.2 \
    --json | jq -r .ip)" = 10.30.1.2
check "ipam pool del is refused under allocations" \
    fails_with "ipam pool rt has 7 live allocations" ipam pool del rt

# ---- 2. the config's pool is read-only ----
LINE=$(grep -n "^ipam pool pa" "$CONF" | cut -d: -f1)
MSG="ipam pool pa is defined in $CONF line $LINE and is read-only"
check "add of the config's pool names its file and line" \
    fails_with "$MSG" ipam pool add pa prefix 10.99.0.0/24
check "set of it too" fails_with "$MSG" ipam pool set pa quarantine 5
check "del of it too" fails_with "$MSG" ipam pool del pa
check "reserve in it too" fails_with "$MSG" ipam reserve pa 10.10.0.9 x

# ---- 3. asked addresses and labels ----
check "an asked address is granted" test "$(ctl ipam allocate pa w1 \
    --ip 10.10.0.50 --label job=llama-70b --label app=trainer --json |
    jq -r .ip)" = 10.10.0.50
check "a taken one is refused, naming its holder" \
    fails_with "10.10.0.50 is allocated to w1" ipam allocate pa w2 \
    --ip 10.10.0.50
ctl ipam allocate pa w3 --label job=llama-70b >/dev/null
ctl ipam allocate pa w4 --label job=bert >/dev/null
check "allocations filtered by label" test "$(ctl show ipam allocations \
    --label job=llama-70b --json | jq -r '[.allocations[].resource] |
    join(",")')" = w1,w3
check "labels are listed" eval "ctl show ipam allocations pa |
    grep -q 'w1: 10.10.0.50 .* app=trainer,job=llama-70b'"

# ---- 4. a pool with a shadow inventory ----
api()
{
	curl -s --unix-socket "$SOCK" -X "$1" "http://e$2" ${3:+-d "$3"}
}

# prealloc POOL: its pre-allocations.
prealloc()
{
	api GET "/v1/ipam/allocations?pool=$1" |
	    jq '[.allocations[] | select(.preallocated)] | length'
}

# shadow_def POOL: its shadow settings "minWarm,leadTimeMs,confidence".
shadow_def()
{
	ctl show ipam pool "$1" --json | jq -r '.definition.shadow |
	    [.minWarm, .leadTimeMs, .confidence] | join(",")'
}

check "ipam pool add sw with a shadow inventory" ctl ipam pool add sw \
    prefix 10.40.0.0/24 shadow-mode active min-warm 2 max-warm 8 \
    lead-time 200
check "its min-warm pre-allocations appear" \
    wait_until 10 test "$(prealloc sw)" -ge 2
check "the shadow view lists it" test "$(api GET /v1/ipam/shadow |
    jq -r '.pools[] | select(.pool == "sw") | .policy.minWarm')" = 2
check "a shadow object PATCHed with curl" test "$(api PATCH \
    /v1/ipam/pools/sw '{"shadow": {"confidence": 0.8}}' |
    jq -r .definition.shadow.maxWarm)" = 8
check "out of range: refused naming the field" test "$(api PATCH \
    /v1/ipam/pools/sw '{"shadow": {"minWarm": 2000000}}' |
    jq -r .error | cut -d: -f1)" = shadow.minWarm
check_eq "and nothing changed" 2,200,0.8 "$(shadow_def sw)"

# ---- 5. kill -9 and back ----
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check_evpnd_start /v1/ipam/pools ||
    { echo "Bail out! evpnd did not restart"; exit 1; }
check "the run-time pool is back" test "$(ctl show ipam pool rt --json |
    jq -r '[.runtime, .allocations, .size] | join(",")')" = true,7,11
check "with its reservation gone and its addresses" \
    test "$(ctl show ipam allocations rt --json | jq -r \
    '[.allocations[] | select(.resource == "g")][0].ip')" = 10.30.1.2
check "labels are back" test "$(ctl show ipam allocations --label \
    job=llama-70b --json | jq -r .total)" = 2
check "routes of the run-time pool are back" \
    test "$(routes 300 10.30.1.1)" = 1
check_eq "the shadow pool's settings are back" 2,200,0.8 "$(shadow_def sw)"
check "its engine is back" test "$(api GET /v1/ipam/shadow |
    jq -r '.pools[] | select(.pool == "sw") | .policy.confidence')" = 0.8
check "and its pre-allocations" test "$(prealloc sw)" -ge 2
check "a pool holding only pre-allocations is deleted" \
    ctl ipam pool del sw
for r in a b c d e f g; do
	ctl ipam release "$r" >/dev/null
done
check "ipam pool del once empty" ctl ipam pool del rt
check "it is gone" fails_with "no such pool rt" show ipam pool rt
check "the audit chain verifies" ctl ipam audit verify
check "and lists the pool changes with their actor" test "$(curl -s \
    --unix-socket "$SOCK" 'http://e/v1/ipam/audit/records?limit=10000' |
    jq -r '[.records[] | select(.pool != "sw") |
    select(.op | test("^pool-|reserve")) |
    .op + ":" + .actor] | join(",")')" = \
    pool-create:local,pool-update:local,reserve:local,unreserve:local,pool-delete:local

check_evpnd_stop
check "no sanitizer reports" eval '! grep -q "Sanitizer\|runtime error" \
    "$T/evpnd.log"'
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
