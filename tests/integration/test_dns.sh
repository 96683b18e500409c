#!/usr/bin/env bash
#
# DNS registration against a real authoritative server: Knot DNS
# (knotd) and evpnd in one network namespace, knotd answering on
# 10.200.0.53 for train.example.net, 0.10.10.in-addr.arpa and the
# ip6.arpa zone of 2001:db8:100::/64, updates allowed with one TSIG key
# (hmac-sha256).  Every record is checked with dig @10.200.0.53.
#
# Cases: (1) a dual-stack allocation with a dns-name label gets A, AAAA
# and both PTR records, and its state turns "registered"; (2) its
# release removes all four; (3) a pool made over the API with a name
# template registers by template; (4) a wrong secret and an unknown key
# name are refused by knotd (its log says so), the allocations still
# succeed, and evpnd reports "failed: NOTAUTH (TSIG BADSIG)" / "(TSIG
# BADKEY)" and that the server rejects its key, with nothing in the
# zone (knotd's refusals are unsigned, so they are reported once the
# wait for a signed answer ends: RFC 8945 §5.3); (5) knotd stopped: an
# allocation answers 201 at once with dns "pending", and its record
# appears once knotd is back (backoff retry); (6) evpnd restarted: the
# records are still there and the state is "registered" again; (7) an
# allocation asking for worker-5's name, or for the zone apex, is
# refused and the zone keeps worker-5's address, until worker-5 is
# released and the name goes to the waiting allocation; no sanitizer
# reports.  knotd logs at debug level, where it names each refusal.
# Polls, no fixed sleeps but the outage and one second for a refused
# name's update to show if it were sent; about 25 s.

. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces)"
	exit 77
fi
for t in ip jq curl knotd dig; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "SKIP: missing $t"
		exit 77
	}
done

SERVER=10.200.0.53
ZONE=train.example.net
REV4=0.10.10.in-addr.arpa
REV6=0.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa
KEY=evpnd-key
SECRET=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==
KNOT=$TMP_ROOT/knot
KNOT_PID=

knot_conf()
{
	mkdir -p "$KNOT/zones" "$KNOT/run" "$KNOT/db"
	cat >"$KNOT/knot.conf" <<EOF
server:
    rundir: "$KNOT/run"
    listen: $SERVER@53
log:
  - target: stderr
    any: debug
database:
    storage: "$KNOT/db"
key:
  - id: $KEY
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: update
    key: $KEY
    action: update
template:
  - id: default
    storage: "$KNOT/zones"
    file: "%s.zone"
zone:
  - domain: $ZONE
    acl: update
  - domain: $REV4
    acl: update
  - domain: $REV6
    acl: update
EOF
	for z in $ZONE $REV4 $REV6; do
		cat >"$KNOT/zones/$z.zone" <<EOF
\$ORIGIN $z.
\$TTL 60
@	SOA	ns.$ZONE. admin.$ZONE. 1 60 60 600 60
@	NS	ns.$ZONE.
EOF
	done
}

knot_start()
{
	ip netns exec "$(ns_name dns)" knotd -c "$KNOT/knot.conf" \
	    >>"$KNOT/knotd.log" 2>&1 &
	KNOT_PID=$!
	wait_for 10 ns_exec dns dig +time=1 +tries=1 @"$SERVER" "$ZONE" SOA ||
	    die "knotd did not come up"
}

knot_stop()
{
	[ -n "$KNOT_PID" ] && _stop_pid "$KNOT_PID"
	wait "$KNOT_PID" 2>/dev/null
	KNOT_PID=
}

# dig_short NAME TYPE: the answer's data, one record a line.
dig_short()
{
	ns_exec dns dig +short +time=1 +tries=1 @"$SERVER" "$1" "$2"
}

has_record()
{
	[ "$(dig_short "$1" "$2")" = "$3" ]
}

no_record()
{
	[ -z "$(dig_short "$1" "$2")" ]
}

# dns_state RESOURCE: the allocation's "dns" field.
dns_state()
{
	evpnctl_in l1 show ipam allocations --json |
	    jq -r --arg r "$1" '.allocations[] | select(.resource == $r) |
	    .dns // "none"'
}

dns_state_is()
{
	[ "$(dns_state "$1")" = "$2" ]
}

# alloc POOL BODY: a POST; its status in CODE, its answer in ANS.
alloc()
{
	local out
	out=$(evpnd_http l1 POST "/v1/ipam/pools/$1/allocations" "$2")
	CODE=${out%% *}
	ANS=${out#* }
}

leaf_conf()
{
	cat <<EOF
log stdout debugging
vxlan vx100
 vni 100
 local-tunnel-ip 10.0.0.11
!
vxlan vx200
 vni 200
 local-tunnel-ip 10.0.0.11
!
ipam pool train
 vni 100
 prefix 10.10.0.0/24
 prefix 2001:db8:100::/64
 quarantine 0
 dns zone $ZONE server $SERVER tsig hmac-sha256 $KEY $SECRET reverse
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

ns_create dns
lo_addr dns "$SERVER/32"
knot_conf
knot_start
evpnd_start dns l1 "$(leaf_conf)"

# 1. A dual-stack allocation with a dns-name label.
alloc train '{"resource": "w1", "family": "dual", "labels":
    {"dns-name": "worker-1", "job": "llama-70b"}}'
IP4=$(printf '%s' "$ANS" | jq -r .ip)
IP6=$(printf '%s' "$ANS" | jq -r .ipv6)
check "allocation with a dns-name answers 201 with its name" \
    test "$CODE" = 201 -a "$(printf '%s' "$ANS" | jq -r .dnsName)" = \
    "worker-1.$ZONE"
check "its state turns registered" \
    wait_for 10 dns_state_is w1 registered
check "A record of worker-1 is $IP4" \
    has_record "worker-1.$ZONE" A "$IP4"
check "AAAA record of worker-1 is $IP6" \
    has_record "worker-1.$ZONE" AAAA "$IP6"
check "PTR of $IP4 names worker-1" \
    has_record "$(printf '%s' "$IP4" | awk -F. '{print $4"."$3"."$2"."$1}').in-addr.arpa" \
    PTR "worker-1.$ZONE."
check "PTR of $IP6 names worker-1" \
    test "$(ns_exec dns dig +short @"$SERVER" -x "$IP6")" = "worker-1.$ZONE."

# 2. Release removes them.
evpnd_http l1 DELETE /v1/ipam/allocations/w1 >/dev/null
check "release removes the A record" \
    wait_for 10 no_record "worker-1.$ZONE" A
# Each record is its own update: under load the others may come later.
check "release removes the AAAA record" \
    wait_for 10 no_record "worker-1.$ZONE" AAAA
no_ptrs()
{
	[ -z "$(ns_exec dns dig +short @"$SERVER" -x "$IP4")$(ns_exec dns \
	    dig +short @"$SERVER" -x "$IP6")" ]
}
check "release removes the PTR records" wait_for 10 no_ptrs

# 3. A pool made over the API, named by template.
check "pool made over the API with a name template" \
    evpnctl_in l1 ipam pool add rt vni 200 prefix 10.10.0.0/24 \
    tenant t2 dns-zone "$ZONE" dns-server "$SERVER" \
    tsig hmac-sha256 "$KEY" "$SECRET" name-template "{resource}-rt"
alloc rt '{"resource": "pod-7", "ip": "10.10.0.77"}'
check "its allocation registers pod-7-rt" \
    wait_for 10 has_record "pod-7-rt.$ZONE" A 10.10.0.77

# 4. Keys the server does not accept.
evpnctl_in l1 ipam pool set rt tsig hmac-sha256 "$KEY" \
    "b3RoZXItc2VjcmV0LWIzUm9aWEl0YzJWamNtVjA=" >/dev/null
check "pod-7-rt re-registered under the new settings fails" \
    wait_for 10 eval '[[ "$(dns_state pod-7)" == "failed: "* ]]'
alloc rt '{"resource": "pod-8"}'
check "allocation under a wrong secret still succeeds" test "$CODE" = 201
# dns_state_key_rejected RESOURCE ERROR: failed, the server rejecting
# our key with TSIG error ERROR.
dns_state_key_rejected()
{
	[[ "$(dns_state "$1")" == \
	    "failed: $ZONE: NOTAUTH (TSIG $2): $SERVER rejects our key ("* ]]
}
check "evpnd reports the server's BADSIG" \
    wait_for 10 dns_state_key_rejected pod-8 BADSIG
check "nothing registered under the wrong secret" \
    no_record "pod-8-rt.$ZONE" A
evpnctl_in l1 ipam pool set rt tsig hmac-sha256 nobody-key "$SECRET" \
    >/dev/null
check "an unknown key: evpnd reports the server's BADKEY" \
    wait_for 10 dns_state_key_rejected pod-8 BADKEY
check "knotd logged both refusals" \
    eval 'grep -q "verification failed .BADSIG." "$KNOT/knotd.log" &&
    grep -q "ACL, denied, action update.*nobody-key" "$KNOT/knotd.log"'

# 5. The server is down: the allocation answers at once, the record
# comes once the server is back.
knot_stop
t0=$(now_ms)
alloc train '{"resource": "w5", "labels": {"dns-name": "worker-5"}}'
t1=$(now_ms)
check "with knotd down the allocation answers 201 at once ($((t1 - t0)) ms)" \
    test "$CODE" = 201 -a $((t1 - t0)) -lt 2000
check "its dns state is pending" \
    test "$(printf '%s' "$ANS" | jq -r .dns)" = pending
sleep 3
check "still pending while knotd is down" dns_state_is w5 pending
knot_start
check "worker-5 appears once knotd is back" \
    wait_for 30 has_record "worker-5.$ZONE" A "$(printf '%s' "$ANS" |
    jq -r .ip)"
check "and its state turns registered" \
    wait_for 5 dns_state_is w5 registered

# 6. A restart registers again, harmlessly.
evpnd_stop l1
evpnd_start dns l1 "$(leaf_conf)"
check "after a restart w5 is registered again" \
    wait_for 10 dns_state_is w5 registered
W5=$(printf '%s' "$ANS" | jq -r .ip)
check "worker-5 is still in the zone" has_record "worker-5.$ZONE" A "$W5"

# 7. A name another allocation holds, or the zone apex, is refused: an
# update replaces a name's records (RFC 2136 §2.5.2).
alloc train '{"resource": "w7", "labels": {"dns-name": "worker-5.'"$ZONE"'."}}'
check "an allocation asking for worker-5's name is refused" \
    test "$(printf '%s' "$ANS" | jq -r .dns)" = \
    "failed: 'worker-5.$ZONE' is registered for another allocation"
alloc train '{"resource": "w8", "labels": {"dns-name": "'"$ZONE"'."}}'
check "an allocation asking for the zone apex is refused" \
    test "$(printf '%s' "$ANS" | jq -r .dns)" = \
    "failed: '$ZONE' is the apex of the zone, not a name for an allocation"
sleep 1
check "worker-5 keeps its address, the apex gets none" \
    eval 'has_record "worker-5.$ZONE" A "$W5" && no_record "$ZONE" A'
evpnd_http l1 DELETE /v1/ipam/allocations/w5 >/dev/null
check "once w5 is released, w7 registers worker-5" \
    wait_for 10 dns_state_is w7 registered
check "worker-5 now has w7's address" \
    has_record "worker-5.$ZONE" A "$(evpnctl_in l1 show ipam allocations \
    --json | jq -r '.allocations[] | select(.resource == "w7") | .ip')"
evpnd_stop l1
check "no sanitizer reports" \
    eval '! grep -q "Sanitizer\|runtime error" "$(evpnd_log_path l1)"'
knot_stop

summary
