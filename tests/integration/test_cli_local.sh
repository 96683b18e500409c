#!/usr/bin/env bash
#
# Local test of evpnd and evpnctl: no FRR, no root, no namespaces.
#
# Runs evpnd on a temp dir with one (passive) neighbor at 127.0.0.2 that
# nobody answers for and a BGP listener on a high port of 127.0.0.1,
# then checks "evpnd -n", the control API (JSON, /metrics, 404/405),
# evpnctl, SIGHUP with a bad and a good file, SIGTERM, and the socket
# handling (a second instance is refused, a stale socket is reclaimed,
# a non-socket file is left alone).
#
# Environment:
#   BUILD_DIR   where evpnd and evpnctl were built (default: the repo
#               root, or the current directory when it holds them, as
#               under "make check")
#   KEEP_TMP=1  keep the temp dir (configs, logs)
#   JSON_TOOL   jq or python3 (default: jq when installed)
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when curl or a JSON tool is missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
check_build_dir evpnd evpnctl
check_require_tools curl
if [ -n "${JSON_TOOL:-}" ]; then
	:	# jq or python3, forced by the caller
elif command -v jq >/dev/null; then
	JSON_TOOL=jq
elif command -v python3 >/dev/null; then
	JSON_TOOL=python3
else
	echo "SKIP: neither jq nor python3 is installed"
	exit 77
fi
check_require_build evpnd evpnctl
check_tmp_dir cli

# json_get FILE KEY...: the value at that path ("null" if absent).
json_get()
{
	local file=$1
	shift
	if [ "$JSON_TOOL" = jq ]; then
		jq -r 'getpath($ARGS.positional)' "$file" --args "$@"
	else
		python3 - "$file" "$@" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v.get(k) if isinstance(v, dict) else None
print("null" if v is None else json.dumps(v) if not isinstance(v, str) else v)
PY
	fi
}

# json_len FILE KEY...: number of members of the object at that path.
json_len()
{
	local file=$1
	shift
	if [ "$JSON_TOOL" = jq ]; then
		jq -r 'getpath($ARGS.positional) | length' "$file" --args "$@"
	else
		python3 - "$file" "$@" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(len(v))
PY
	fi
}

is_json()
{
	if [ "$JSON_TOOL" = jq ]; then
		jq -e . "$1" >/dev/null 2>&1
	else
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
		    "$1" 2>/dev/null
	fi
}

# http METHOD PATH OUTFILE: prints the status code.
http()
{
	curl -s -o "$3" -w '%{http_code}' --unix-socket "$SOCK" \
	    -X "$1" "http://evpnd$2"
}

ctl()
{
	"$EVPNCTL" -S "$SOCK" "$@"
}

metric()
{
	curl -s --unix-socket "$SOCK" http://evpnd/metrics |
	    awk -v m="$1" '$1 == m { print $2 }'
}

# A high port for the BGP listener; a clash only fails the listen check.
PORT=$((20000 + RANDOM % 30000))

write_config()
{
	cat >"$CONF" <<EOF
hostname cli-test
log stdout informational
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-address 127.0.0.1
 bgp listen-port $PORT
 neighbor 127.0.0.2 remote-as 65000
 neighbor 127.0.0.2 description spine1
 neighbor 127.0.0.2 passive
$1 address-family l2vpn evpn
  neighbor 127.0.0.2 activate
  advertise-all-vni
 exit-address-family
exit
!
EOF
}

# ------------------------------------------------------------ evpnd -n

write_config ""
"$EVPND" -n -f "$CONF" >"$T/n.out" 2>"$T/n.err"
check_eq "evpnd -n exits 0 on a good config" 0 $?
check "evpnd -n prints the canonical config" \
    grep -q '^ neighbor 127.0.0.2 remote-as 65000$' "$T/n.out"
"$EVPND" -n -f "$T/n.out" >"$T/n2.out" 2>&1
check "evpnd -n output is a fixed point" cmp -s "$T/n.out" "$T/n2.out"

printf 'router bgp 65000\n bgp router-id 10.0.0.11\n bogus statement\n' \
    >"$T/bad.conf"
"$EVPND" -n -f "$T/bad.conf" >"$T/bad.out" 2>"$T/bad.err"
check_eq "evpnd -n exits 1 on a bad config" 1 $?
check "the error names FILE:LINE" grep -q "^$T/bad.conf:3: " "$T/bad.err"
"$EVPND" -f "$T/bad.conf" -S "$SOCK" -D "$STATE" >"$T/bad2.out" 2>&1
check_eq "evpnd with a bad config exits 1" 1 $?
check "and starts nothing" test ! -e "$SOCK"

# ------------------------------------------------------------ start

if ! check_evpnd_start; then
	fail "evpnd starts and creates its socket" "$(tail -5 "$LOG")"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi
pass "evpnd starts and creates its socket"
check_eq "socket mode is 0660" 660 "$(stat -c %a "$SOCK")"
check_eq "state dir mode is 0750" 750 "$(stat -c %a "$STATE")"
if command -v ss >/dev/null; then
	check "BGP listens on 127.0.0.1:$PORT" \
	    wait_until 5 sh -c "ss -Hltn 'sport = :$PORT' | grep -q 127.0.0.1"
fi

"$EVPND" -f "$CONF" -S "$SOCK" -D "$STATE" >"$T/second.out" 2>&1
check_eq "a second evpnd on the same socket exits 1" 1 $?
check "and says another evpnd is running" \
    grep -q "another evpnd is already running on $SOCK" "$T/second.out"
check "the first one keeps its socket" test -S "$SOCK"

# ------------------------------------------------------------ evpnctl

ctl show bgp summary --json >"$T/sum.json"
check_eq "evpnctl show bgp summary --json exits 0" 0 $?
check "summary is JSON" is_json "$T/sum.json"
check_eq "summary routerId" 10.0.0.11 "$(json_get "$T/sum.json" routerId)"
check_eq "summary as" 65000 "$(json_get "$T/sum.json" as)"
check_eq "summary has one peer" 1 "$(json_len "$T/sum.json" peers)"
check_eq "peer remoteAs" 65000 \
    "$(json_get "$T/sum.json" peers 127.0.0.2 remoteAs)"
check_eq "peer description" spine1 \
    "$(json_get "$T/sum.json" peers 127.0.0.2 description)"
check_eq "totalPeers" 1 "$(json_get "$T/sum.json" totalPeers)"
check_eq "establishedPeers" 0 "$(json_get "$T/sum.json" establishedPeers)"

ctl sh bgp sum >"$T/sum.txt"
check "text summary has the router id line" grep -q \
    '^BGP router identifier 10.0.0.11, local AS number 65000' "$T/sum.txt"
check "text summary has the neighbor row" \
    grep -Eq '^127\.0\.0\.2 +4 +65000 ' "$T/sum.txt"

ctl show bgp neighbors 127.0.0.2 --json >"$T/nbr.json"
check_eq "neighbor JSON keyed by address, remoteAs" 65000 \
    "$(json_get "$T/nbr.json" 127.0.0.2 remoteAs)"
check_eq "neighbor passive" true \
    "$(json_get "$T/nbr.json" 127.0.0.2 passive)"
check "neighbor bgpState is not Established" test \
    "$(json_get "$T/nbr.json" 127.0.0.2 bgpState)" != Established
check_eq "neighbor messageStats present" 0 \
    "$(json_get "$T/nbr.json" 127.0.0.2 messageStats opensRecv)"

ctl show bgp neighbors >"$T/nbr.txt"
check "text neighbors block" grep -q \
    '^BGP neighbor is 127.0.0.2, remote AS 65000, local AS 65000' \
    "$T/nbr.txt"

ctl show bgp neighbors 127.0.0.9 >"$T/nonbr.out" 2>"$T/nonbr.err"
check_eq "unknown neighbor: evpnctl exits 1" 1 $?
check "and prints the API's message" \
    grep -q "no such neighbor 127.0.0.9" "$T/nonbr.err"

ctl show running-config >"$T/run.txt"
check "show running-config prints the config" cmp -s "$T/n.out" "$T/run.txt"

ctl show bogus >"$T/bogus.out" 2>"$T/bogus.err"
check_eq "unknown command exits 2" 2 $?
check "with usage on stderr" grep -q '^usage: evpnctl' "$T/bogus.err"

# ------------------------------------------------------------ HTTP API

code=$(curl -s -D "$T/metrics.hdr" -o "$T/metrics.txt" -w '%{http_code}' \
    --unix-socket "$SOCK" http://evpnd/metrics)
check_eq "/metrics is 200" 200 "$code"
check "/metrics content type is text format 0.0.4" \
    grep -qi '^content-type: text/plain; version=0.0.4' "$T/metrics.hdr"
check "evpnd_up 1" grep -qx 'evpnd_up 1' "$T/metrics.txt"
check "evpnd_bgp_peers has TYPE gauge" \
    grep -qx '# TYPE evpnd_bgp_peers gauge' "$T/metrics.txt"
check "evpnd_bgp_peer_state has the peer" grep -Eq \
    '^evpnd_bgp_peer_state\{peer="127.0.0.2",remote_as="65000"\} [1-5]$' \
    "$T/metrics.txt"
check "messages_received_total by type" grep -Eq \
    '^evpnd_bgp_messages_received_total\{peer="127.0.0.2",type="open"\} 0$' \
    "$T/metrics.txt"
check "every sample's family has HELP and TYPE" awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { type[$3] = 1; next }
	{ n = $1; sub(/\{.*/, "", n)
	  # a histogram family names its _bucket, _sum and _count samples
	  if (!(n in type)) sub(/_(bucket|sum|count)$/, "", n)
	  if (!(n in help) || !(n in type)) bad = 1 }
	END { exit bad }' "$T/metrics.txt"

check_eq "unknown path is 404" 404 "$(http GET /v1/nope "$T/404.json")"
check "404 body has an error" test \
    "$(json_get "$T/404.json" error)" != null
check_eq "wrong method is 405" 405 \
    "$(http POST /v1/bgp/summary "$T/405.json")"
check "405 body has an error" test \
    "$(json_get "$T/405.json" error)" != null
check_eq "unknown neighbor is 404" 404 \
    "$(http GET /v1/bgp/neighbors/127.0.0.9 "$T/nbr404.json")"
check_eq "404 names the neighbor" "no such neighbor 127.0.0.9" \
    "$(json_get "$T/nbr404.json" error)"
check_eq "GET /v1/config" "$(cat "$T/n.out")" \
    "$(curl -s --unix-socket "$SOCK" http://evpnd/v1/config |
    { cat >"$T/config.json"; json_get "$T/config.json" config; })"
head -c 100000 /dev/zero | tr '\0' x >"$T/big.body"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
    -X POST --data-binary @"$T/big.body" http://evpnd/v1/bgp/summary)
check_eq "a body over 64 KiB is refused (413)" 413 "$code"

# ------------------------------------------------------------ SIGHUP

cp "$CONF" "$T/good.conf"
printf 'router bgp 65000\n neighbor 127.0.0.3 remote-as\n' >"$CONF"
kill -HUP "$DAEMON_PID"
check "bad reload is counted" wait_until 5 \
    test "$(metric 'evpnd_config_reloads_total{result="error"}')" = 1
check "evpnd still runs after a bad reload" kill -0 "$DAEMON_PID"
check "the reload error is logged with FILE:LINE" grep -q \
    "reload failed: $CONF:2: .*; keeping running configuration" "$LOG"
ctl show running-config >"$T/run2.txt"
check "the old config is still running" cmp -s "$T/n.out" "$T/run2.txt"

write_config " neighbor 127.0.0.3 remote-as 65001
 neighbor 127.0.0.3 passive
"
kill -HUP "$DAEMON_PID"
check "good reload is counted" wait_until 5 \
    test "$(metric 'evpnd_config_reloads_total{result="ok"}')" = 1
ctl show bgp summary --json >"$T/sum2.json"
check_eq "after adding a neighbor there are 2 peers" 2 \
    "$(json_len "$T/sum2.json" peers)"
check_eq "the new peer's remoteAs" 65001 \
    "$(json_get "$T/sum2.json" peers 127.0.0.3 remoteAs)"
check "running-config shows the new neighbor" sh -c \
    "'$EVPNCTL' -S '$SOCK' show running-config | grep -q '127.0.0.3 remote-as 65001'"

# ------------------------------------------------------------ SIGTERM

check_evpnd_stop
check_eq "SIGTERM: evpnd exits 0" 0 $?
check "the socket file is removed" test ! -e "$SOCK"
check "no sanitizer report in the log" sh -c "! grep -q Sanitizer '$LOG'"

# ------------------------------------------------------------ sockets

check_evpnd_start
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "a killed evpnd leaves its socket behind" test -S "$SOCK"
if check_evpnd_start && wait_until 5 sh -c \
    "'$EVPNCTL' -S '$SOCK' show bgp summary >/dev/null 2>&1"; then
	pass "a stale socket is reclaimed"
else
	fail "a stale socket is reclaimed" "$(tail -3 "$LOG")"
fi
check_evpnd_stop

touch "$T/plain.file"
"$EVPND" -f "$CONF" -S "$T/plain.file" -D "$STATE" >"$T/plain.out" 2>&1
check_eq "a non-socket file at the socket path: exit 1" 1 $?
check "and the file is left alone" test -f "$T/plain.file"

# ------------------------------------------------------------ two peers

# Two instances side by side (own -S and -D), peering over loopback:
# A (127.0.0.1) connects to B (127.0.0.2, passive) on B's high port.
write_pair_config()
{
	# $1 file, $2 router-id, $3 local addr, $4 local port,
	# $5 peer addr, $6 peer port, $7 extra neighbor line
	cat >"$1" <<EOF
router bgp 65000
 bgp router-id $2
 bgp listen-address $3
 bgp listen-port $4
 neighbor $5 remote-as 65000
 neighbor $5 port $6
 neighbor $5 update-source $3
 neighbor $5 timers 3 9
$7
 address-family l2vpn evpn
  neighbor $5 activate
 exit-address-family
exit
EOF
}

PA=$((PORT + 1))
PB=$((PORT + 2))
write_pair_config "$T/a.conf" 10.0.0.11 127.0.0.1 "$PA" 127.0.0.2 "$PB" \
    " neighbor 127.0.0.2 description leaf-b"
write_pair_config "$T/b.conf" 10.0.0.12 127.0.0.2 "$PB" 127.0.0.1 "$PA" \
    " neighbor 127.0.0.1 passive"
"$EVPND" -f "$T/b.conf" -S "$T/b.sock" -D "$T/b" >"$T/b.log" 2>&1 &
PID_B=$!
"$EVPND" -f "$T/a.conf" -S "$T/a.sock" -D "$T/a" >"$T/a.log" 2>&1 &
PID_A=$!
established()
{
	"$EVPNCTL" -S "$1" show bgp summary --json >"$T/est.json" 2>/dev/null &&
	    [ "$(json_get "$T/est.json" establishedPeers)" = 1 ]
}
if wait_until 15 established "$T/a.sock" && established "$T/b.sock"; then
	pass "two evpnd instances reach Established"
	"$EVPNCTL" -S "$T/a.sock" show bgp neighbors --json >"$T/a-nbr.json"
	check_eq "A sees B's router id" 10.0.0.12 \
	    "$(json_get "$T/a-nbr.json" 127.0.0.2 remoteRouterId)"
	check_eq "negotiated hold time" 9000 \
	    "$(json_get "$T/a-nbr.json" 127.0.0.2 holdTimeMsecs)"
	check "negotiated family l2vpn evpn" \
	    grep -q '"l2vpn evpn"' "$T/a-nbr.json"
	check_eq "hostForeign/portForeign" "127.0.0.2:$PB" \
	    "$(json_get "$T/a-nbr.json" 127.0.0.2 hostForeign):$(json_get \
	    "$T/a-nbr.json" 127.0.0.2 portForeign)"
	check "peer_state metric is 6 (Established)" sh -c "curl -s \
	    --unix-socket '$T/a.sock' http://evpnd/metrics | grep -qx \
	    'evpnd_bgp_peer_state{peer=\"127.0.0.2\",remote_as=\"65000\"} 6'"
	kill -TERM "$PID_A"
	wait "$PID_A"
	check_eq "A exits 0 on SIGTERM" 0 $?
	notified()
	{
		"$EVPNCTL" -S "$T/b.sock" show bgp neighbors --json \
		    >"$T/b-nbr.json" 2>/dev/null &&
		    [ "$(json_get "$T/b-nbr.json" 127.0.0.1 \
		    lastNotificationReceived text)" = \
		    "Cease/Administrative Shutdown" ]
	}
	check "B got Cease/Administrative Shutdown from A" wait_until 5 notified
else
	fail "two evpnd instances reach Established" "$(tail -5 "$T/a.log")"
	kill -TERM "$PID_A" 2>/dev/null
	wait "$PID_A" 2>/dev/null
fi
kill -TERM "$PID_B"
wait "$PID_B"
check_eq "B exits 0 on SIGTERM" 0 $?
check "no sanitizer report from A or B" sh -c \
    "! grep -q Sanitizer '$T/a.log' '$T/b.log'"

ctl show bgp summary >"$T/down.out" 2>"$T/down.err"
check_eq "evpnctl without a daemon exits 1" 1 $?
check "and says it cannot connect" grep -q \
    "^evpnctl: cannot connect to evpnd at $SOCK: No such file or directory (is evpnd running?)$" \
    "$T/down.err"

if [ $FAILED -gt 0 ]; then
	echo "# evpnd log tail:"
	tail -20 "$LOG" | sed 's/^/#   /'
fi
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
