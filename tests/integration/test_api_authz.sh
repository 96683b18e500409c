#!/usr/bin/env bash
#
# Who may do what over the API, against a running evpnd with real TLS
# clients (curl, openssl s_client); root required (evpnd creates its
# VXLAN devices; the test runs in a private network namespace).
#
#  1. Roles and tenants: certificates made with openssl at test time,
#     mapped by "api client" lines.  A certificate no line names gets
#     403 for everything; read sees its tenants' pools and the BGP/EVPN
#     views but changes nothing; allocate allocates, releases and posts
#     intents in its tenants' pools only; admin does everything.  Another
#     tenant's pool answers 403 exactly like a pool that does not exist,
#     listings (and /metrics) leave other tenants out, no error names
#     another tenant's pool, and two tenants may use the same resource
#     name.  A name in a SAN DNS entry identifies a client whose CN does
#     not.  Only admins make, delete and reserve in pools; a pool an
#     admin makes for tenant a is tenant a's: its allocations (asked
#     address, labels) are seen and filtered by label by tenant a only.
#  2. Secrets: GET /v1/config (admins only) shows the neighbor's
#     password redacted unless asked with ?secrets=1.
#  3. The identity is in the log line of each mutating request and is
#     the actor of the IPAM audit records.
#  4. TLS: a session saved by openssl s_client is resumed ("Reused")
#     with a client certificate; a revoked certificate (crl FILE) is
#     refused while a good one still works; a reload (SIGHUP) with a new
#     CRL refuses a certificate revoked since.
#  5. One client cannot hold the listener: a TCP connection that never
#     starts its handshake, and a TLS client that dribbles its request
#     headers a byte a second, are cut off at the 10 s deadline; the
#     33rd connection from one address is closed at once.
#
# Environment: BUILD_DIR (evpnd, evpnctl; default: the current directory
# when it holds them, else the repo root), KEEP_TMP=1.
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when not root or curl, jq, openssl, sqlite3 or unshare is
# missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/check_lib.sh
. "$TEST_DIR/check_lib.sh"
# shellcheck source=tests/integration/tls_lib.sh
. "$TEST_DIR/tls_lib.sh"
check_build_dir evpnd evpnctl
check_require_root
check_require_tools curl jq openssl sqlite3 unshare ip
check_require_build evpnd evpnctl
check_in_netns "$@"
check_tmp_dir authz
PORT=8443
URL=https://127.0.0.1:$PORT

# ---- certificates ----

ca_sign()	# NAME SUBJECT [SAN]
{
	tls_cert "$T" "$1" ca "$2" 'extendedKeyUsage=clientAuth,serverAuth' \
	    ${3:+"subjectAltName=$3"}
}

make_pki()
{
	tls_ca "$T" ca "/CN=evpnd authz test ca" || return 1
	ca_sign server "/CN=evpnd" "IP:127.0.0.1" &&
	    ca_sign orch-a "/CN=orch-a" &&
	    ca_sign orch-b "/CN=orch-b" &&
	    ca_sign noc "/CN=noc" &&
	    ca_sign ops "/CN=ops" &&
	    ca_sign stranger "/CN=stranger" &&
	    ca_sign robot "/CN=Robot Account/O=x" "DNS:robot.example.com" &&
	    ca_sign revoked "/CN=revoked" &&
	    ca_sign later "/CN=later" || return 1
	mkdir -p "$T/cadb" && : >"$T/cadb/index.txt" &&
	    echo 1000 >"$T/cadb/crlnumber" || return 1
	cat >"$T/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
database = $T/cadb/index.txt
crlnumber = $T/cadb/crlnumber
default_md = sha256
default_crl_days = 2
EOF
	revoke revoked
}

revoke()	# NAME: revoke its certificate and write $T/ca.crl again
{
	openssl ca -config "$T/ca.cnf" -keyfile "$T/ca.key" -cert "$T/ca.pem" \
	    -revoke "$T/$1.pem" >/dev/null 2>&1 &&
	    openssl ca -config "$T/ca.cnf" -keyfile "$T/ca.key" \
	    -cert "$T/ca.pem" -gencrl -out "$T/ca.crl" >/dev/null 2>&1
}

# ---- the daemon ----

write_conf()
{
	cat >"$CONF" <<EOF
log stdout
api listen 127.0.0.1 $PORT tls cert $T/server.pem key $T/server.key client-ca $T/ca.pem crl $T/ca.crl
api client orch-a role allocate tenant a
api client orch-b role allocate tenant b
api client noc role read
api client ops role admin
api client robot.example.com role read tenant a
api client revoked role admin
api client later role admin
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
 tenant a
 vni 100
 prefix 10.10.0.0/24
 mac-prefix 02:00:0a
!
ipam pool pb
 tenant b
 vni 200
 prefix 10.20.0.0/24
 mac-prefix 02:00:0b
 shadow
  min-warm 1
 exit-shadow
!
ipam pool untenanted
 vni 300
 prefix 10.30.0.0/24
 mac-prefix 02:00:0c
!
router bgp 65000
 bgp router-id 10.0.0.11
 bgp listen-port 0
 neighbor 127.0.0.2 remote-as 65000
 neighbor 127.0.0.2 password Tr0ub4dor-3
 neighbor 127.0.0.2 passive
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF
}

# as WHO METHOD PATH [BODY]: over TLS with WHO's certificate; the body
# goes to $T/out, the status code to stdout (000: no HTTP answer).
as()
{
	local who=$1 method=$2 path=$3 body=()
	[ $# -gt 3 ] && body=(-H 'Content-Type: application/json'
	    --data-binary "${4}")
	curl -s -o "$T/out" -w '%{http_code}' --max-time 10 \
	    --cacert "$T/ca.pem" --cert "$T/$who.pem" --key "$T/$who.key" \
	    -X "$method" "${body[@]}" "$URL$path" 2>/dev/null
}

# local_req METHOD PATH [BODY]: over the Unix socket (the administrator).
local_req()
{
	local method=$1 path=$2 body=()
	[ $# -gt 2 ] && body=(-H 'Content-Type: application/json'
	    --data-binary "$3")
	curl -s -o "$T/out" -w '%{http_code}' --unix-socket "$SOCK" \
	    -X "$method" "${body[@]}" "http://evpnd$path"
}

# expect_as CODE WHO METHOD PATH [BODY]: status, and a JSON error body
# for 4xx answers.
expect_as()
{
	local want=$1 code
	shift
	code=$(as "$@")
	if [ "$code" != "$want" ]; then
		fail "$2 $3 as $1 -> $want" "got $code: $(head -c 300 \
		    "$T/out")"
	elif [ "$want" -ge 400 ] && ! jq -e '.error | type == "string"' \
	    "$T/out" >/dev/null 2>&1; then
		fail "$2 $3 as $1 -> $want with a JSON error" \
		    "$(head -c 300 "$T/out")"
	else
		pass "$2 $3 as $1 -> $want"
	fi
}

# Nothing in the last answer may name what only tenant b has.
no_tenant_b()
{
	! grep -Eq '"pb"|10\.20\.|02:00:0b|tenant b|"b"' "$T/out"
}

# ---- 1. roles and tenants ----

test_roles()
{
	expect_as 403 stranger GET /v1/bgp/summary
	check "the refusal names the certificate" \
	    jq -e '.error | test("stranger")' "$T/out"
	expect_as 403 stranger GET /v1/ipam/pools
	expect_as 403 stranger POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"x"}'

	# read: the views, no IPAM of other tenants, no changes.
	expect_as 200 noc GET /v1/bgp/summary
	expect_as 200 noc GET /v1/bgp/neighbors
	expect_as 200 noc GET /v1/evpn/routes
	expect_as 200 noc GET /v1/evpn/vnis
	expect_as 200 noc GET /metrics
	expect_as 200 noc GET /v1/ipam/pools
	check "read without tenants sees no pool" \
	    jq -e '.pools == []' "$T/out"
	expect_as 403 noc GET /v1/ipam/pools/pa
	expect_as 403 noc POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"n1"}'
	check "the refusal names the role it needs" \
	    jq -e '.error | test("role read") and test("allocate")' "$T/out"
	expect_as 403 noc DELETE /v1/ipam/allocations/n1
	expect_as 403 noc GET /v1/config
	expect_as 403 noc GET /v1/ipam/audit
	expect_as 403 noc POST /v1/ipam/pools/pb/intent '{"count":3}'

	# allocate, tenant a.
	expect_as 201 orch-a POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"pod-1"}'
	expect_as 200 orch-a GET /v1/ipam/pools
	check "allocate sees its tenant's pool only" \
	    jq -e '[.pools[].name] == ["pa"]' "$T/out"
	expect_as 200 orch-a GET /v1/ipam/pools/pa
	expect_as 403 orch-a GET /v1/ipam/pools/pb
	check "another tenant's pool: nothing of it in the answer" no_tenant_b
	cp "$T/out" "$T/other.json"
	expect_as 403 orch-a GET /v1/ipam/pools/nosuch
	check "the same answer as for a pool that does not exist" sh -c \
	    "[ \"\$(jq -r '.error' '$T/other.json' | sed 's/pb//')\" = \
	    \"\$(jq -r '.error' '$T/out' | sed 's/nosuch//')\" ]"
	expect_as 403 orch-a POST /v1/ipam/pools/pb/allocations \
	    '{"resource":"pod-2"}'
	expect_as 403 orch-a POST /v1/ipam/pools/untenanted/allocations \
	    '{"resource":"pod-2"}'
	expect_as 403 orch-a POST /v1/ipam/pools/pb/intent '{"count":3}'
	expect_as 403 orch-a GET '/v1/ipam/allocations?pool=pb'
	expect_as 403 orch-a GET /v1/config

	# The administrator allocates in pb and in the untenanted pool.
	check_eq "local allocates pod-b in pb" 201 \
	    "$(local_req POST /v1/ipam/pools/pb/allocations \
	    '{"resource":"pod-b"}')"
	check_eq "local allocates pod-u in untenanted" 201 \
	    "$(local_req POST /v1/ipam/pools/untenanted/allocations \
	    '{"resource":"pod-u"}')"
	expect_as 200 orch-a GET /v1/ipam/allocations
	check "allocate lists its tenant's allocations only" \
	    jq -e '[.allocations[].resource] == ["pod-1"] and .total == 1' \
	    "$T/out"
	expect_as 200 orch-a GET /v1/ipam/shadow
	check "shadow view without the other tenant's pool" \
	    jq -e '.pools == []' "$T/out"
	expect_as 200 orch-a GET /v1/ipam/alerts
	check "alerts without the other tenant's" no_tenant_b
	expect_as 404 orch-a DELETE /v1/ipam/allocations/pod-b
	check "another tenant's resource is not there" no_tenant_b
	check_eq "pod-b is still allocated" 200 \
	    "$(local_req GET '/v1/ipam/allocations?pool=pb')"
	check "pod-b is still in pb" jq -e \
	    '[.allocations[].resource] | index("pod-b") != null' "$T/out"
	expect_as 400 orch-a DELETE /v1/ipam/allocations/shadow:pb:1
	check "a shadow name cannot be released by a client" \
	    jq -e '.error | test("not a resource id")' "$T/out"

	# Resource names are per tenant: pod-b exists in tenant b; tenant a
	# may use the name too, and the answer names nothing of tenant b.
	expect_as 201 orch-a POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"pod-b"}'
	check "pod-b of tenant a is in pa" jq -e '.pool == "pa"' "$T/out"
	expect_as 200 orch-b GET /v1/ipam/allocations
	check "tenant b's pod-b is untouched" jq -e \
	    '[.allocations[] | select(.resource == "pod-b")][0].pool == "pb"' \
	    "$T/out"
	expect_as 204 orch-a DELETE /v1/ipam/allocations/pod-b
	expect_as 200 orch-b GET /v1/ipam/allocations
	check "releasing tenant a's pod-b left tenant b's" jq -e \
	    '[.allocations[].resource] | index("pod-b") != null' "$T/out"

	expect_as 202 orch-b POST /v1/ipam/pools/pb/intent '{"count":2}'

	# /metrics: samples of other tenants' pools are left out.
	expect_as 200 orch-a GET /metrics
	check "metrics: tenant a's pool is there" \
	    grep -q '^evpnd_ipam_allocations{pool="pa"}' "$T/out"
	check "metrics: nothing of tenant b's or the untenanted pool" \
	    sh -c "! grep -Eq 'pool=\"(pb|untenanted)\"' '$T/out'"
	check "metrics: the rest is there" grep -q '^evpnd_up 1' "$T/out"
	expect_as 200 noc GET /metrics
	check "metrics for a client without tenants: no pool at all" \
	    sh -c "! grep -q 'pool=' '$T/out'"
	expect_as 200 ops GET /metrics
	check "metrics for an admin: every pool" \
	    grep -q '^evpnd_ipam_allocations{pool="pb"}' "$T/out"
	expect_as 204 orch-a DELETE /v1/ipam/allocations/pod-1

	# A SAN DNS name identifies a client whose CN no line names.
	expect_as 200 robot GET /v1/ipam/pools
	check "the SAN client sees tenant a's pool" \
	    jq -e '[.pools[].name] == ["pa"]' "$T/out"
	expect_as 403 robot POST /v1/ipam/pools/pa/allocations \
	    '{"resource":"r"}'

	# admin: everything.
	expect_as 200 ops GET /v1/ipam/pools
	check "admin sees every pool" jq -e '.pools | length == 3' "$T/out"
	expect_as 404 ops GET /v1/ipam/pools/nosuch
	expect_as 201 ops POST /v1/ipam/pools/untenanted/allocations \
	    '{"resource":"pod-o"}'
	expect_as 200 ops GET /v1/ipam/audit
}

# Pools made at run time: admins only; the tenant's clients use them.
test_runtime_pools()
{
	local pz='{"name":"pz","tenant":"a","prefixes":["10.99.0.0/24"]}'

	expect_as 403 orch-a POST /v1/ipam/pools "$pz"
	check "the refusal names the role it needs" \
	    jq -e '.error | test("admin")' "$T/out"
	expect_as 403 noc DELETE /v1/ipam/pools/pa
	expect_as 403 orch-a PATCH /v1/ipam/pools/pa '{"quarantine":5}'
	expect_as 403 orch-a POST /v1/ipam/pools/pa/reservations \
	    '{"ip":"10.10.0.9","name":"x"}'
	expect_as 403 orch-a DELETE /v1/ipam/pools/pa/reservations/10.10.0.9
	expect_as 201 ops POST /v1/ipam/pools "$pz"
	expect_as 201 ops POST /v1/ipam/pools/pz/reservations \
	    '{"ip":"10.99.0.9","name":"gw2"}'
	expect_as 200 orch-a GET /v1/ipam/pools/pz
	check "tenant a sees its new pool and its reservation" jq -e \
	    '.runtime and .reservations[0].ip == "10.99.0.9"' "$T/out"
	expect_as 403 orch-b GET /v1/ipam/pools/pz
	expect_as 201 orch-a POST /v1/ipam/pools/pz/allocations \
	    '{"resource":"pod-z","ip":"10.99.0.50","labels":{"job":"j1"}}'
	check "the asked address and the labels" jq -e \
	    '.ip == "10.99.0.50" and .labels.job == "j1"' "$T/out"
	expect_as 200 orch-a GET '/v1/ipam/allocations?label=job=j1'
	check "tenant a finds it by label" jq -e \
	    '[.allocations[].resource] == ["pod-z"]' "$T/out"
	expect_as 200 orch-b GET '/v1/ipam/allocations?label=job=j1'
	check "tenant b does not" jq -e '.total == 0' "$T/out"
	expect_as 200 orch-a GET /v1/ipam/allocations/pod-z
	expect_as 404 orch-b GET /v1/ipam/allocations/pod-z
	expect_as 409 ops DELETE /v1/ipam/pools/pz
	check "a pool with an allocation is kept" \
	    jq -e '.error | test("1 live allocation$")' "$T/out"
	expect_as 204 orch-a DELETE /v1/ipam/allocations/pod-z
	expect_as 204 ops DELETE /v1/ipam/pools/pz
	check "the audit record of pool pz names ops" sh -c "sqlite3 \
	    '$STATE/ipam.db' \"SELECT actor FROM audit WHERE pool = 'pz' \
	    AND op = 'pool-create'\" | grep -qx ops"
}

# ---- 2. secrets ----

test_secrets()
{
	expect_as 200 ops GET /v1/config
	check "the password is redacted" sh -c "jq -r .config '$T/out' | \
	    grep -q '^ neighbor 127.0.0.2 password <redacted>$'"
	check "and nowhere in the answer" sh -c "! grep -q Tr0ub4dor '$T/out'"
	expect_as 200 ops GET '/v1/config?secrets=1'
	check "an admin asking with ?secrets=1 gets it" sh -c "jq -r .config \
	    '$T/out' | grep -q '^ neighbor 127.0.0.2 password Tr0ub4dor-3$'"
	check "evpnctl show running-config redacts" sh -c "'$EVPNCTL' -S \
	    '$SOCK' show running-config | grep -q 'password <redacted>$'"
	check "evpnctl show running-config secrets shows it" sh -c \
	    "'$EVPNCTL' -S '$SOCK' show running-config secrets | \
	    grep -q 'password Tr0ub4dor-3$'"
}

# ---- 3. the identity in the log and the audit trail ----

test_identity_recorded()
{
	check "the log names the client of a POST" grep -q \
	    'api: POST /v1/ipam/pools/pa/allocations by orch-a' "$LOG"
	check "and of a DELETE" grep -q \
	    'api: DELETE /v1/ipam/allocations/pod-1 by orch-a' "$LOG"
	check "the Unix socket is logged as local" grep -q \
	    'api: POST /v1/ipam/pools/pb/allocations by local' "$LOG"
	check "the audit record of pod-1 names orch-a" sh -c "sqlite3 \
	    '$STATE/ipam.db' \"SELECT actor FROM audit WHERE resource = \
	    'pod-1' AND op = 'allocate'\" | grep -qx orch-a"
	check "the audit record of pod-o names ops" sh -c "sqlite3 \
	    '$STATE/ipam.db' \"SELECT actor FROM audit WHERE resource = \
	    'pod-o'\" | grep -qx ops"
}

# ---- 4. TLS: resumption, revocation ----

s_client()	# WHO [options]: one request over openssl s_client
{
	local who=$1
	shift
	printf 'GET /v1/bgp/summary HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -CAfile "$T/ca.pem" -cert "$T/$who.pem" -key "$T/$who.key" \
	    -ign_eof "$@" 2>&1
}

test_tls()
{
	local code

	s_client ops -sess_out "$T/sess.pem" >"$T/s1.txt"
	check "first handshake: a new session" grep -q '^New, ' "$T/s1.txt"
	check "and an answer" grep -q 'HTTP/1.1 200 OK' "$T/s1.txt"
	s_client ops -sess_in "$T/sess.pem" >"$T/s2.txt"
	check "the saved session is resumed" grep -q '^Reused, ' "$T/s2.txt"
	check "and the resumed client is still ops (200)" \
	    grep -q 'HTTP/1.1 200 OK' "$T/s2.txt"
	s_client ops -tls1_2 -sess_out "$T/sess12.pem" >/dev/null
	s_client ops -tls1_2 -sess_in "$T/sess12.pem" >"$T/s3.txt"
	check "TLS 1.2 session ids resume too" grep -q '^Reused, ' "$T/s3.txt"

	code=$(as revoked GET /v1/bgp/summary)
	check_eq "a revoked certificate is refused" 000 "$code"
	check "the refusal is logged with its reason" \
	    grep -q 'client certificate refused: certificate revoked' "$LOG"
	expect_as 200 later GET /v1/bgp/summary

	# A CRL revoking "later" too, then a reload: refused from then on.
	revoke later
	kill -HUP "$DAEMON_PID"
	wait_until 5 grep -q 'configuration reloaded' "$LOG"
	code=$(as later GET /v1/bgp/summary)
	check_eq "after a reload with a new CRL, later is refused" 000 "$code"
	expect_as 200 ops GET /v1/bgp/summary
	echo garbage >"$T/ca.crl"
	kill -HUP "$DAEMON_PID"
	wait_until 5 grep -q 'no CRL could be read' "$LOG"
	check "a CRL file that does not load fails the reload" \
	    grep -q 'reload failed.*no CRL could be read' "$LOG"
	expect_as 200 ops GET /v1/bgp/summary
}

# ---- 5. limits ----

# Seconds until fd reads EOF (the server closed), at most $2.
secs_to_eof()	# FD MAX
{
	local start=$SECONDS x rc
	while [ $((SECONDS - start)) -lt "$2" ]; do
		read -t 1 -r -u "$1" x
		rc=$?
		[ $rc -ne 0 ] && [ $rc -lt 128 ] && break
	done
	echo $((SECONDS - start))
}

test_limits()
{
	local fd t i start fds=()

	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || {
		fail "connect to the TLS port"; return; }
	t=$(secs_to_eof "$fd" 20)
	exec {fd}>&-
	check "a connection that never handshakes is cut at ~10 s ($t s)" \
	    test "$t" -ge 9 -a "$t" -le 13

	start=$SECONDS
	{ printf 'GET /v1/bgp/summary HTTP/1.1\r\nHost: x\r\n'
	  for i in $(seq 20); do sleep 1; printf 'X'; done; } |
	    timeout 30 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
	    -CAfile "$T/ca.pem" -cert "$T/ops.pem" -key "$T/ops.key" \
	    >/dev/null 2>&1
	t=$((SECONDS - start))
	check "a client dribbling its headers is cut at ~10 s ($t s)" \
	    test "$t" -ge 9 -a "$t" -le 14
	check "and that is logged" grep -q 'request not complete in time' \
	    "$LOG"

	for i in $(seq 32); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && fds+=("$fd")
	done
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
	t=$(secs_to_eof "$fd" 5)
	exec {fd}>&-
	check "the 33rd connection from one address is closed at once" \
	    test "$t" -le 2
	check "the 32 before it are still open" test "$(secs_to_eof \
	    "${fds[0]}" 2)" -ge 2
	check "and the refusal is logged" grep -q \
	    'too many connections from this address' "$LOG"
	for fd in "${fds[@]}"; do
		exec {fd}>&-
	done
	sleep 1.5
	expect_as 200 ops GET /v1/bgp/summary
}

if ! make_pki; then
	echo "FATAL: openssl could not make the test certificates" >&2
	exit 1
fi
write_conf
if ! check_evpnd_start /v1/ipam/pools; then
	fail "evpnd starts" "$(tail -5 "$LOG")"
else
	test_roles
	test_runtime_pools
	test_secrets
	test_identity_recorded
	test_tls
	test_limits
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
