#!/usr/bin/env bash
#
# The IPAM store's state tampered with while evpnd is stopped, against
# a real evpnd in a namespace (no FRR, no peer):
#
#  1. The last audit records deleted (sqlite3): the next start refuses
#     the IPAM and logs which records are missing; evpnd itself runs
#     (the fabric is not taken down), /v1/ipam answers 503, and
#     "evpnctl ipam audit verify" reports the truncation and exits 1.
#  2. The whole ipam.db copied back from an older copy (chain head and
#     all): refused the same way; "evpnctl ipam audit verify" reports
#     a rollback against the anchor, with the seqs.
#  3. Healthy state: every change records its actor ("local" over the
#     Unix socket), GET /v1/ipam/audit/records lists the records, the
#     state files are 0600, and the head is logged at shutdown.
#
# Also: SIGTERM exits 0 with and without IPAM; no sanitizer reports.
#
# Environment: as lib.sh (BUILD_DIR, KEEP_TMP, VERBOSE).  Prints
# "N passed, N failed"; exits 77 (skip) when not root or a tool
# (sqlite3, jq, curl, ip) is missing.
. "$(dirname "$0")/lib.sh"

require_root_tools
command -v sqlite3 >/dev/null || { echo "SKIP: missing sqlite3"; exit 77; }

CONF="log stdout
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
ipam pool pa
 vni 100
 prefix 10.10.0.0/24
 mac-prefix 02:00:0a
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit"

ns_create a
STATE=$(dirname "$(evpnd_sock a)")/state
LOG=$(evpnd_log_path a)

allocate()	# RESOURCE...: through the API; true when each got 201
{
	local r
	for r in "$@"; do
		case $(evpnd_http a POST /v1/ipam/pools/pa/allocations \
		    "{\"resource\": \"$r\"}") in
		201\ *) ;;
		*) return 1 ;;
		esac
	done
}

# The next start logs alone in $LOG; what came before is kept aside.
new_log()
{
	cat "$LOG" >>"$LOG.before"
	: >"$LOG"
}

# verify_reports WHAT TEXT JQ: "evpnctl ipam audit verify" exits 1, its
# line says TEXT, its --json satisfies JQ.
verify_reports()
{
	local out text=$2 want=$3
	out=$(evpnctl_in a ipam audit verify 2>&1)
	check "evpnctl ipam audit verify exits 1 on the $1" test $? = 1
	check "... and reports the $1" eval \
	    '[ "${out#"audit trail $text"}" != "$out" ]'
	check "... --json says so" eval '{ evpnctl_in a ipam audit verify \
	    --json || true; } | jq -e "$want" >/dev/null'
}

# ---- 3. healthy state first: it is what 1 and 2 tamper with

evpnd_start a a "$CONF"
check "allocations answered 201" allocate p1 p2 p3
OUT=$(evpnd_http a GET "/v1/ipam/audit/records?since=0&limit=10")
check "audit records list each change with actor local" eval '
    [ "${OUT%% *}" = 200 ] &&
    [ "$(printf "%s" "${OUT#* }" | jq -r "[.records[].actor] | join(\",\")")" \
    = "local,local,local" ]'
check "ipam.db, its WAL and ipam.key are 0600" eval '
    [ "$(stat -c %a "$STATE/ipam.db" "$STATE/ipam.db-wal" \
    "$STATE/ipam.key" | sort -u)" = 600 ]'
evpnd_stop a
check "the chain head is logged at shutdown" \
    grep -q 'audit chain head seq 3 [0-9a-f]\{64\} (at shutdown)' "$LOG"
check "ipam.anchor holds seq 3, mode 0600" eval '
    grep -q "^evpnd-ipam-anchor 1 seq 3 head " "$STATE/ipam.anchor" &&
    [ "$(stat -c %a "$STATE/ipam.anchor")" = 600 ]'
cp "$STATE/ipam.db" "$TMP_ROOT/old.db"	# a copy at seq 3 (WAL merged)
evpnd_start a a "$CONF"
check "three more allocations" allocate p4 p5 p6
evpnd_stop a
cp -a "$STATE" "$TMP_ROOT/state.saved"

# ---- 1. the last records deleted

sqlite3 "$STATE/ipam.db" "DELETE FROM audit WHERE seq > 4"
new_log
evpnd_start a a "$CONF"
check "evpnd runs with the IPAM refused" eval '
    grep -q "ipam: refused; evpnd runs without IPAM" "$LOG"'
check "the log names the missing records" grep -q \
    'audit chain: seq 5: records 5..6 are missing at the end (the chain head names seq 6, the last record is seq 4); the IPAM is refused' \
    "$LOG"
OUT=$(evpnd_http a POST /v1/ipam/pools/pa/allocations '{"resource": "x"}')
check "an allocation is refused with 503" eval '[ "${OUT%% *}" = 503 ]'
verify_reports truncation \
    'TRUNCATED: the database ends at seq 4, its head names seq 6' \
    '.truncated == true and .rolledBack == false and .lastSeq == 4 and
    .anchorSeq == 6'
evpnd_stop a
stop_rc=$?
check "SIGTERM without IPAM: evpnd exits 0 (exit $stop_rc)" \
    test "$stop_rc" -eq 0
check "nothing was written over the shortened chain" eval '
    [ "$(sqlite3 "$STATE/ipam.db" "SELECT max(seq) FROM audit")" = 4 ]'

# ---- 2. the whole database rolled back to the older copy

rm -rf "$STATE"
cp -a "$TMP_ROOT/state.saved" "$STATE"
cp "$TMP_ROOT/old.db" "$STATE/ipam.db"
rm -f "$STATE/ipam.db-wal" "$STATE/ipam.db-shm"
new_log
evpnd_start a a "$CONF"
check "the log says rolled back, with the seqs" grep -q \
    'records 4..6 are missing: the database ends at seq 3 but ipam.anchor names seq 6 (rolled back to an older copy)' \
    "$LOG"
verify_reports rollback \
    'ROLLED BACK: the database ends at seq 3, the anchor names seq 6' \
    '.rolledBack == true and .truncated == false and .lastSeq == 3 and
    .anchorSeq == 6'

# ---- the latest copy put back: all is well again

evpnd_stop a
rm -rf "$STATE"
cp -a "$TMP_ROOT/state.saved" "$STATE"
new_log
evpnd_start a a "$CONF"
check "the latest copy opens: audit verify ok" eval '
    evpnctl_in a ipam audit verify | grep -q "^audit trail ok: 6 records, anchored at seq 6$"'
check "and allocates again" allocate p7
evpnd_stop a
stop_rc=$?
check "SIGTERM: evpnd exits 0 (exit $stop_rc)" test "$stop_rc" -eq 0
check "no sanitizer reports in evpnd's logs" eval '! grep -E \
    "ERROR: (Address|Leak)Sanitizer|runtime error:" "$LOG" "$LOG.before"'

summary
