#!/usr/bin/env bash
#
# The IPAM API against a running evpnd: no FRR needed, root required
# (evpnd creates its VXLAN devices; the whole test runs in a private
# network namespace so nothing touches the host).
#
#  1. Every status code of the allocation API with a real HTTP client
#     (curl over the Unix socket), each error a JSON {"error"} body;
#     a name held in two tenants' pools is released with ?pool=.
#  2. TLS listener: two CAs and client certificates made with openssl
#     at test time; a client with a good certificate gets 200, one
#     without a certificate and one with a certificate from the other CA
#     are refused; unreadable cert/key files refuse the start; an admin
#     client makes and deletes a pool over TLS.
#  3. Crash: a burst of 10,000 allocations (curl --parallel, 16 at a
#     time), kill -9 in the middle, restart on the same state directory:
#     every acknowledged (201/200) allocation is there with the address
#     and MAC it was acknowledged with, no IP or MAC twice, a local
#     type-2 route for each; the audit chain verifies; after editing one
#     audit row with sqlite3 (evpnd stopped) it no longer does.
#
# Environment:
#   BUILD_DIR   where evpnd and evpnctl were built (default: the current
#               directory when it holds them, as under "make check",
#               else the repo root)
#   BURST       allocations in the crash burst (default 10000)
#   KEEP_TMP=1  keep the temp dir (configs, logs, certificates)
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when not root or curl, jq, sqlite3, openssl or unshare is missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
# shellcheck source=tests/integration/tls_lib.sh
. "$TEST_DIR/tls_lib.sh"
check_build_dir evpnd evpnctl
BURST=${BURST:-10000}
check_require_root
check_require_tools curl jq sqlite3 openssl unshare ip
check_require_build evpnd evpnctl
check_in_netns "$@"
check_tmp_dir ipam
TLS_PORT=8443

# http METHOD PATH OUTFILE [BODY]: prints the status code.
http()
{
	if [ $# -gt 3 ]; then
		curl -s -o "$3" -w '%{http_code}' --unix-socket "$SOCK" \
		    -X "$1" -H 'Content-Type: application/json' \
		    --data-binary "$4" "http://evpnd$2"
	else
		curl -s -o "$3" -w '%{http_code}' --unix-socket "$SOCK" \
		    -X "$1" "http://evpnd$2"
	fi
}

ctl()
{
	"$EVPNCTL" -S "$SOCK" "$@"
}

write_conf()
{
	cat >"$CONF" <<EOF
log stdout
$1
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
vxlan vx200
 vni 200
 local-tunnel-ip 10.0.0.11
!
vxlan vx300
 vni 300
 local-tunnel-ip 10.0.0.11
!
ipam pool pa
 tenant t1
 vni 100
 prefix 10.10.0.0/24
 prefix 2001:db8:100::/64
 gateway 10.10.0.1
 mac-prefix 02:00:0a
!
ipam pool tiny
 vni 200
 prefix 10.20.0.0/31
 mac-prefix 02:00:0b
!
ipam pool burst
 vni 300
 prefix 10.128.0.0/16
 mac-prefix 02:00:0c
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF
}

# expect CODE METHOD PATH BODY DESCRIPTION: status and a JSON error body.
expect()
{
	local code
	code=$(http "$2" "$3" "$T/out" "$4")
	if [ "$code" = "$1" ] && jq -e '.error | type == "string"' \
	    "$T/out" >/dev/null 2>&1; then
		pass "$5 -> $1 $(jq -c .error "$T/out")"
	else
		fail "$5" "expected $1 with a JSON error, got $code:" \
		    "$(head -c 300 "$T/out")"
	fi
}

# ---- 1. status codes ----

test_status_codes()
{
	local big code

	expect 404 POST /v1/ipam/pools/nope/allocations '{"resource":"a"}' \
	    "unknown pool"
	expect 400 POST /v1/ipam/pools/pa/allocations '{"resource":' \
	    "malformed JSON"
	expect 400 POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"a","colour":"red"}' "unknown field"
	expect 400 POST /v1/ipam/pools/pa/allocations '{}' "missing resource"
	expect 400 POST /v1/ipam/pools/pa/allocations '{"resource":""}' \
	    "empty resource"
	expect 400 POST /v1/ipam/pools/pa/allocations \
	    "{\"resource\":\"$(printf 'r%.0s' $(seq 256))\"}" \
	    "resource over 255 bytes"
	expect 400 POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"a","family":"ipx"}' "bad family"
	expect 400 POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"a","mac":"01:00:5e:00:00:01"}' "multicast MAC"
	expect 400 POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"a","mac":"02:00:00:00:01"}' "5-byte MAC"
	big="{\"resource\":\"a\"}$(head -c 8000 /dev/zero | tr '\0' ' ')"
	expect 400 POST /v1/ipam/pools/pa/allocations "$big" \
	    "body over 4 KiB"
	# Over the server's 64 KiB limit evhttp answers 413 itself.
	head -c 70000 /dev/zero | tr '\0' ' ' >"$T/huge"
	code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST --data-binary @"$T/huge" \
	    http://evpnd/v1/ipam/pools/pa/allocations)
	check_eq "body over 64 KiB refused by the server" 413 "$code"

	code=$(http POST /v1/ipam/pools/pa/allocations "$T/a1" \
	    '{"resource":"pod-1","family":"dual"}')
	check_eq "allocate -> 201" 201 "$code"
	check "201 body has ip, ipv6, mac, vni" jq -e '.resource == "pod-1"
	    and .pool == "pa" and .vni == 100 and .ip == "10.10.0.2" and
	    .ipv6 == "2001:db8:100::1" and .mac == "02:00:0a:00:00:01" and
	    .preallocated == false' "$T/a1"
	code=$(http POST /v1/ipam/pools/pa/allocations "$T/a2" \
	    '{"resource":"pod-1","family":"dual"}')
	check_eq "same resource again -> 200" 200 "$code"
	check "the same answer" cmp -s "$T/a1" "$T/a2"
	# Names are per tenant: pa is tenant t1's, burst has none.
	code=$(http POST /v1/ipam/pools/burst/allocations "$T/out" \
	    '{"resource":"pod-1"}')
	check_eq "the same name in another tenant's pool -> 201" 201 "$code"
	http POST /v1/ipam/pools/pa/allocations "$T/out" \
	    '{"resource":"m1","mac":"02:aa:00:00:00:01"}' >/dev/null
	expect 409 POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"m2","mac":"02:aa:00:00:00:01"}' "MAC in use"
	http POST /v1/ipam/pools/tiny/allocations "$T/out" \
	    '{"resource":"t1"}' >/dev/null
	http POST /v1/ipam/pools/tiny/allocations "$T/out" \
	    '{"resource":"t2"}' >/dev/null
	expect 409 POST /v1/ipam/pools/tiny/allocations '{"resource":"t3"}' \
	    "pool exhausted"
	expect 404 GET /v1/ipam/pools/nope '' "GET unknown pool"
	expect 405 GET /v1/ipam/pools/pa/allocations '' "GET on POST route"
	expect 409 DELETE /v1/ipam/allocations/pod-1 '' \
	    "release of a name two tenants hold"
	code=$(http DELETE '/v1/ipam/allocations/pod-1?pool=burst' "$T/out")
	check_eq "release with ?pool= -> 204" 204 "$code"
	code=$(http DELETE /v1/ipam/allocations/pod-1 "$T/out")
	check_eq "release -> 204" 204 "$code"
	check "204 has no body" test ! -s "$T/out"
	expect 404 DELETE /v1/ipam/allocations/pod-1 '' "release again"

	check "evpnctl ipam allocate --json prints the API object" \
	    sh -c "'$EVPNCTL' -S '$SOCK' ipam allocate pa cli-1 --family dual \
	    --json | jq -e '.resource == \"cli-1\" and .ipv6 != null' \
	    >/dev/null"
	check "evpnctl ipam allocate text" sh -c "'$EVPNCTL' -S '$SOCK' \
	    ipam allocate pa cli-2 | grep -Eq '^cli-2: 10\.10\.0\.[0-9]+ \
02:00:0a(:[0-9a-f]{2}){3} \(pool pa, VNI 100\)$'"
	check "evpnctl ipam release" ctl ipam release cli-2
	check "evpnctl ipam release of an unknown resource fails" \
	    sh -c "! '$EVPNCTL' -S '$SOCK' ipam release cli-2 2>/dev/null"
	check "evpnctl show ipam pools --json" sh -c "'$EVPNCTL' -S '$SOCK' \
	    show ipam pools --json | jq -e '.pools | length == 3' >/dev/null"
	check "evpnctl show ipam allocations tiny" sh -c "'$EVPNCTL' -S \
	    '$SOCK' show ipam allocations tiny | grep -q '^Total: 2$'"
	check "evpnctl show ipam conflicts" ctl show ipam conflicts
}

# ---- 2. TLS ----

make_pki()
{
	tls_ca "$T" ca1 "/CN=evpnd test ca1" &&
	    tls_ca "$T" ca2 "/CN=evpnd test ca2" &&
	    tls_cert "$T" server ca1 /CN=server subjectAltName=IP:127.0.0.1 &&
	    tls_cert "$T" good ca1 /CN=good extendedKeyUsage=clientAuth &&
	    tls_cert "$T" other ca2 /CN=other extendedKeyUsage=clientAuth
}

tls_get()	# curl options...: prints the status code (000 = refused)
{
	curl -s -o "$T/tls.out" -w '%{http_code}' --max-time 10 \
	    --cacert "$T/ca1.pem" "$@" \
	    "https://127.0.0.1:$TLS_PORT/v1/ipam/pools" 2>/dev/null
}

test_tls()
{
	local code listen

	if ! make_pki; then
		fail "openssl made the test certificates"
		return
	fi
	listen="api listen 127.0.0.1 $TLS_PORT tls cert $T/server.pem key"
	listen="$listen $T/server.key client-ca $T/ca1.pem
api client good role admin"

	write_conf "api listen 127.0.0.1 $TLS_PORT tls cert $T/nope.pem key $T/server.key client-ca $T/ca1.pem"
	"$EVPND" -f "$CONF" -S "$SOCK" -D "$STATE" >"$T/bad.log" 2>&1
	check_eq "a missing cert file refuses the start" 1 "$?"
	check "the error names the file" grep -q "api listen cert $T/nope.pem" \
	    "$T/bad.log"
	write_conf "api listen 127.0.0.1 $TLS_PORT tls cert $T/server.pem key $T/other.key client-ca $T/ca1.pem"
	"$EVPND" -f "$CONF" -S "$SOCK" -D "$STATE" >"$T/bad.log" 2>&1
	check_eq "a key that does not match refuses the start" 1 "$?"

	write_conf "$listen"
	if ! check_evpnd_start /v1/ipam/pools; then
		fail "evpnd starts with the TLS listener" "$(tail -5 "$LOG")"
		return
	fi
	code=$(tls_get --cert "$T/good.pem" --key "$T/good.key")
	check_eq "client certificate from the CA -> 200" 200 "$code"
	check "the same API over TLS" jq -e '.pools | length == 3' \
	    "$T/tls.out"
	code=$(curl -s -o "$T/tls.out" -w '%{http_code}' --max-time 10 \
	    --cacert "$T/ca1.pem" --cert "$T/good.pem" --key "$T/good.key" \
	    -X POST --data '{"name": "x", "prefixes": ["10.99.0.0/24"]}' \
	    "https://127.0.0.1:$TLS_PORT/v1/ipam/pools" 2>/dev/null)
	check_eq "an admin client makes a pool over TLS -> 201" 201 "$code"
	code=$(curl -s -o "$T/tls.out" -w '%{http_code}' --max-time 10 \
	    --cacert "$T/ca1.pem" --cert "$T/good.pem" --key "$T/good.key" \
	    -X DELETE "https://127.0.0.1:$TLS_PORT/v1/ipam/pools/x" \
	    2>/dev/null)
	check_eq "and deletes it -> 204" 204 "$code"
	code=$(tls_get)
	check_eq "no client certificate -> refused" 000 "$code"
	code=$(tls_get --cert "$T/other.pem" --key "$T/other.key")
	check_eq "certificate from another CA -> refused" 000 "$code"
	code=$(tls_get --tls-max 1.1 --cert "$T/good.pem" --key "$T/good.key")
	check_eq "TLS 1.1 -> refused" 000 "$code"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    "http://127.0.0.1:$TLS_PORT/v1/ipam/pools" 2>/dev/null)
	check "plain HTTP on the TLS port gets no answer" \
	    test "$code" != 200
	check_evpnd_stop
	write_conf ""
}

# ---- 3. crash during a burst ----

burst_config()
{
	local i
	for i in $(seq 1 "$BURST"); do
		printf 'next\nunix-socket = "%s"\nurl = "http://evpnd/v1/ipam/pools/burst/allocations"\n' "$SOCK"
		printf 'request = "POST"\nheader = "Content-Type: application/json"\n'
		printf 'data = "{\\"resource\\":\\"b%d\\"}"\noutput = "%s/acks/b%d"\n' \
		    "$i" "$T" "$i"
		printf 'write-out = "%%{http_code} %%{filename_effective}\\n"\n'
		printf 'silent\n'
	done | tail -n +2
}

test_crash()
{
	local acks n dups missing moved routes

	mkdir -p "$T/acks"
	write_conf ""
	burst_config >"$T/burst.curl"
	check_evpnd_start /v1/ipam/pools ||
	    { fail "evpnd starts for the burst"; return; }
	curl --parallel --parallel-max 16 -K "$T/burst.curl" \
	    >"$T/burst.out" 2>/dev/null &
	local cpid=$!
	wait_until 60 sh -c "[ \$(grep -c '^20[01] ' '$T/burst.out') -ge \
	    $((BURST / 3)) ]"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	wait "$cpid"
	acks=$(grep -c '^20[01] ' "$T/burst.out")
	echo "# $acks of $BURST allocations acknowledged before kill -9"
	check "the kill hit the middle of the burst" \
	    test "$acks" -gt 0 -a "$acks" -lt "$BURST"

	if ! check_evpnd_start /v1/ipam/pools; then
		fail "evpnd restarts after kill -9" "$(tail -5 "$LOG")"
		return
	fi
	http GET "/v1/ipam/allocations?pool=burst" "$T/all.json" >/dev/null
	# Acknowledged: resource ip mac, from the answers curl kept.
	grep '^20[01] ' "$T/burst.out" | awk '{ print $2 }' |
	    xargs jq -r '"\(.resource) \(.ip) \(.mac)"' | sort >"$T/acked.txt"
	check_eq "every acknowledgement carries an allocation" "$acks" \
	    "$(wc -l <"$T/acked.txt")"
	jq -r '.allocations[] | "\(.resource) \(.ip) \(.mac)"' "$T/all.json" |
	    sort >"$T/restored.txt"
	missing=$(comm -23 "$T/acked.txt" "$T/restored.txt" | wc -l)
	check_eq "every acknowledged allocation restored as acknowledged" \
	    0 "$missing"
	n=$(wc -l <"$T/restored.txt")
	check "restored no more than were submitted" test "$n" -le "$BURST"
	dups=$(jq -r '.allocations[].ip' "$T/all.json" | sort | uniq -d |
	    wc -l)
	check_eq "no IP twice" 0 "$dups"
	dups=$(jq -r '.allocations[].mac' "$T/all.json" | sort | uniq -d |
	    wc -l)
	check_eq "no MAC twice" 0 "$dups"
	http GET "/v1/evpn/routes?type=2&vni=300" "$T/routes.json" >/dev/null
	jq -r '.routes[] | select(.peer == "local") | "\(.ip) \(.mac)"' \
	    "$T/routes.json" | sort >"$T/routes.txt"
	awk '{ print $2, $3 }' "$T/restored.txt" | sort >"$T/want.txt"
	routes=$(comm -23 "$T/want.txt" "$T/routes.txt" | wc -l)
	check_eq "a local type-2 route for every restored allocation" \
	    0 "$routes"
	check "evpnctl ipam audit verify: ok" ctl ipam audit verify
	check_evpnd_stop

	sqlite3 "$STATE/ipam.db" \
	    "UPDATE audit SET ip = '10.99.99.99' WHERE seq = 5;"
	check_evpnd_start /v1/ipam/pools ||
	    { fail "evpnd restarts after tampering"; return; }
	ctl ipam audit verify >"$T/verify.out" 2>&1
	check_eq "evpnctl ipam audit verify fails after an edit" 1 "$?"
	check "and says where" grep -q "BROKEN at record 5" "$T/verify.out"
	check_evpnd_stop
}

mkdir -p "$STATE"
write_conf ""
if check_evpnd_start /v1/ipam/pools; then
	test_status_codes
	check_evpnd_stop
else
	fail "evpnd starts" "$(tail -5 "$LOG")"
fi
test_tls
test_crash

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
