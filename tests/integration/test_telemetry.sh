#!/usr/bin/env bash
#
# Traffic telemetry into a pool's shadow inventory, in namespaces.
#
#   leaf: evpnd, bridge br100 (10.10.0.1, pool web's gateway) with
#         vx100 (VNI 100); softflowd on br100 exporting IPFIX to
#         evpnd's collector on 127.0.0.1:4739; evpnd also samples
#         br100 (every ARP request, 1 in SAMPLE_RATE of the rest)
#   h1:   an endpoint, 10.10.0.250, on a port of br100
#
# Cases: (1) a ping flood between the leaf and h1 reaches evpnd as
# IPFIX records (decoded, none malformed) and as samples, and pool web's
# traffic rate rises in /metrics and in GET /v1/ipam/shadow (measured
# and the engine's smoothed rate), while no allocation was made; (2) an
# ARP request from h1 for a free pool address counts one neighbour
# miss, one for the gateway none; (3) h1 ARPing for 200 free addresses
# raises the engine's scan alert naming h1 within a minute (GET
# /v1/ipam/alerts); (4) a reload whose collector port another socket
# holds is refused and changes nothing, a good one moves the collector;
# (5) with 'flow-exporter 127.0.0.0/8' and the collector on every
# address, datagrams h1 sends are refused and counted, undecoded, while
# softflowd on the leaf's loopback still gets through (without any
# flow-exporter evpnd warned at start); (6) evpnctl shows the traffic
# line; SIGTERM exits 0, no sanitizer reports.  About 50 s.

. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces)"
	exit 77
fi
for t in ip jq curl softflowd arping ping python3; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "SKIP: missing $t"
		exit 77
	}
done

VTEP=10.0.0.11
GW=10.10.0.1
H1=10.10.0.250
PORT=4739
PORT2=4740
SAMPLE_RATE=10
POOL=web
SF_DIR=$TMP_ROOT/softflowd
SF_PID=

leaf_conf()	# COLLECTOR-PORT [COLLECTOR-OPTIONS [TELEMETRY-LINES]]
{
	cat <<EOF
log stdout debugging
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $VTEP
!
ipam pool $POOL
 vni 100
 prefix 10.10.0.0/24
 gateway $GW
 mac-prefix 02:00:0a
 shadow
  mode observe
 exit-shadow
!
telemetry
 flow-collector port $1 ${2-address 127.0.0.1}
 sample bridge br100 rate $SAMPLE_RATE
 rate-window 5
${3-}
exit-telemetry
!
router bgp 65000
 bgp router-id $VTEP
 bgp listen-port 0
 address-family l2vpn evpn
  advertise-all-vni
 exit-address-family
exit
EOF
}

# The VNI's devices, made here (evpnd adopts them), and h1 on a port.
leaf_dataplane()
{
	ns_exec leaf ip link add br100 type bridge
	ns_exec leaf ip link add vx100 type vxlan id 100 local $VTEP \
	    dstport 4789 nolearning
	ns_exec leaf ip link set vx100 master br100
	ns_exec leaf ip addr add $GW/24 dev br100
	ns_exec leaf ip link set vx100 up
	ns_exec leaf ip link set br100 up
	bridge_attach h1 eth0 $H1/24 leaf br100 p1
}

softflowd_start()	# PORT
{
	mkdir -p "$SF_DIR"
	ip netns exec "$(ns_name leaf)" softflowd -d -i br100 \
	    -n "127.0.0.1:$1" -v 10 -t maxlife=2 -t expint=1 \
	    -p "$SF_DIR/sf.pid" -c "$SF_DIR/sf.ctl" \
	    >>"$SF_DIR/softflowd.log" 2>&1 &
	SF_PID=$!
}

softflowd_stop()
{
	[ -n "$SF_PID" ] && _stop_pid "$SF_PID"
	wait "$SF_PID" 2>/dev/null
	SF_PID=
}

metric()	# SERIES: its value, 0 when absent
{
	evpnd_metric l1 "$1" || echo 0
}

metric_above()	# SERIES MIN
{
	awk -v v="$(metric "$1")" -v m="$2" 'BEGIN { exit !(v > m) }'
}

shadow_field()	# JQ: of pool web's entry in GET /v1/ipam/shadow
{
	evpnd_http l1 GET /v1/ipam/shadow | cut -d' ' -f2- |
	    jq -er --arg p "$POOL" ".pools[] | select(.pool == \$p) | $1"
}

shadow_above()	# JQ MIN
{
	local v
	v=$(shadow_field "$1") || return 1
	awk -v v="$v" -v m="$2" 'BEGIN { exit !(v > m) }'
}

# A flood of echo requests from the leaf to h1 for SECONDS, in the
# background (the leaf's own address, so br100 itself carries it).
flood()	# SECONDS
{
	ip netns exec "$(ns_name leaf)" ping -f -q -w "$1" $H1 \
	    >/dev/null 2>&1 &
	FLOOD_PID=$!
}

flood_wait()
{
	wait "$FLOOD_PID" 2>/dev/null
}

scan_alert()	# SOURCE: an alert of kind scan naming it
{
	evpnd_http l1 GET /v1/ipam/alerts | cut -d' ' -f2- |
	    jq -e --arg s "$1" '[.alerts[] | select(.kind == "scan" and
	    (.message | contains($s)))] | length > 0' >/dev/null
}

# ARP requests from h1 for 10.10.0.FIRST .. LAST, 50 at a time.
arp_range()	# FIRST LAST
{
	local i pids=()
	for ((i = $1; i <= $2; i++)); do
		ip netns exec "$(ns_name h1)" arping -q -c 1 -w 1 -I eth0 \
		    "10.10.0.$i" >/dev/null 2>&1 &
		pids+=($!)
		if ((${#pids[@]} == 50)); then
			wait "${pids[@]}"
			pids=()
		fi
	done
	((${#pids[@]} == 0)) || wait "${pids[@]}"
}

reloads_are()	# RESULT COUNT
{
	test "$(metric "evpnd_config_reloads_total{result=\"$1\"}")" = "$2"
}

allocations()
{
	evpnd_http l1 GET "/v1/ipam/allocations?pool=$POOL" | cut -d' ' -f2- |
	    jq -e '.allocations | length'
}

ns_create leaf
ns_create h1
lo_addr leaf $VTEP/32
leaf_dataplane
evpnd_start leaf l1 "$(leaf_conf $PORT)"
check "the bridge sampler opens on br100" \
    wait_for 10 grep -q 'telemetry: sampling bridge br100' \
    "$(evpnd_log_path l1)"

# 1. Flood: IPFIX records and samples; the pool's rate rises before
# any allocation.
softflowd_start $PORT
sleep 1
flood 15
check "softflowd's IPFIX reaches the collector (records decoded)" \
    wait_for 15 metric_above evpnd_telemetry_flow_records_total 0
check "no flow export message is malformed" \
    test "$(metric evpnd_telemetry_flow_malformed_total)" = 0
check "the bridge sampler takes frames" \
    metric_above 'evpnd_telemetry_sampler_frames_total{bridge="br100"}' 0
check "pool web's traffic rate rises in /metrics" \
    wait_for 10 metric_above "evpnd_telemetry_traffic_rate{pool=\"$POOL\"}" 100
check "the shadow view shows the measured rate" \
    wait_for 5 shadow_above .traffic.measured 100
# The engine takes one sample a second: three of them may still be to
# come when the measured rate first shows.
check "the engine took it (smoothed rate, samples)" wait_for 10 \
    eval 'shadow_above .traffic.rate 50 && shadow_above .traffic.samples 3'
check "the pool's packets count both the flows and the samples" \
    metric_above "evpnd_telemetry_traffic_packets_total{pool=\"$POOL\"}" 10000
check "no allocation was made meanwhile" test "$(allocations)" = 0
flood_wait
softflowd_stop

# 2. Neighbour misses: a free address counts, the gateway does not (the
# leaf's own requests for h1, a static endpoint, counted already).
before=$(shadow_field .neighMisses.total)
mbefore=$(metric "evpnd_telemetry_neighbor_misses_total{pool=\"$POOL\"}")
ns_exec h1 arping -q -c 1 -w 1 -I eth0 10.10.0.50
check "an ARP request for a free address is a neighbour miss" \
    wait_for 5 eval "test \"\$(shadow_field .neighMisses.total)\" = $((before + 1))"
ns_exec h1 arping -q -c 1 -w 1 -I eth0 $GW
sleep 1
check "one for the gateway is not" \
    test "$(shadow_field .neighMisses.total)" = $((before + 1))
check "/metrics counts the miss for the pool" \
    test "$(metric "evpnd_telemetry_neighbor_misses_total{pool=\"$POOL\"}")" = \
    $((mbefore + 1))

# 3. A scan: 200 free addresses from one source.
t0=$(now_ms)
arp_range 10 209
check "one source ARPing for 200 free addresses raises the scan alert" \
    wait_for 60 scan_alert $H1
check "... within a minute" test $(($(now_ms) - t0)) -lt 60000
check "/metrics counts it" \
    test "$(metric "evpnd_shadow_alerts_total{pool=\"$POOL\",kind=\"scan\"}")" = 1

# 4. Reloads: a held port refuses, a free one moves the collector.
ip netns exec "$(ns_name leaf)" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1]))); time.sleep(30)' $PORT2 &
HOLDER=$!
wait_for 10 eval "ns_exec leaf ss -Hlun 'sport = :$PORT2' | grep -q ." ||
    die "no socket holds port $PORT2"
evpnd_reload l1 "$(leaf_conf $PORT2)"
check "a reload to a port another socket holds is refused" \
    wait_for 5 reloads_are error 1
check "... and says why" \
    grep -q 'reload failed: .*flow collector on port 4740' "$(evpnd_log_path l1)"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
records=$(metric evpnd_telemetry_flow_records_total)
softflowd_start $PORT
flood 4
check "the collector still listens on the old port" \
    wait_for 10 metric_above evpnd_telemetry_flow_records_total "$records"
flood_wait
softflowd_stop
evpnd_reload l1 "$(leaf_conf $PORT2)"
check "a reload to a free port is taken" \
    wait_for 5 reloads_are ok 1
records=$(metric evpnd_telemetry_flow_records_total)
softflowd_start $PORT2
flood 4
check "the collector moved to the new port" \
    wait_for 10 metric_above evpnd_telemetry_flow_records_total "$records"
flood_wait
softflowd_stop

# 5. Exporter allowlist: the collector on every address now, taking
# only the leaf's loopback; h1 reaches it on the bridge and is refused.
check "without a flow-exporter evpnd warned that any source is taken" \
    grep -q 'takes datagrams from any source' "$(evpnd_log_path l1)"
evpnd_reload l1 "$(leaf_conf $PORT '' ' flow-exporter 127.0.0.0/8')"
check "a reload naming the exporters is taken" \
    wait_for 5 reloads_are ok 2
messages=$(metric evpnd_telemetry_flow_messages_total)
dgram=$(grep -v '^#' "$REPO_ROOT/tests/fixtures/softflowd_ipfix.hex" |
    head -1)
ns_exec h1 python3 -c '
import binascii, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(binascii.unhexlify(sys.argv[3]), (sys.argv[1], int(sys.argv[2])))
' $GW $PORT "$dgram"
check "datagrams from h1 (no flow-exporter) are refused and counted" \
    wait_for 5 eval 'test "$(metric evpnd_telemetry_flow_refused_total)" = 3'
check "... undecoded" \
    test "$(metric evpnd_telemetry_flow_messages_total)" = "$messages"
records=$(metric evpnd_telemetry_flow_records_total)
softflowd_start $PORT
flood 4
check "softflowd on the allowed loopback still gets through" \
    wait_for 10 metric_above evpnd_telemetry_flow_records_total "$records"
flood_wait
softflowd_stop
check "nothing of it was refused" \
    test "$(metric evpnd_telemetry_flow_refused_total)" = 3

# 6. The CLI; a clean stop.
check "evpnctl show ipam shadow prints the traffic line" \
    eval 'evpnctl_in l1 show ipam shadow | grep -q "^  traffic: .* packets/s (measured"'
evpnd_stop l1
check "SIGTERM: evpnd exits 0" test $? = 0
check "no sanitizer reports" evpnd_sanitizer_clean l1

summary
