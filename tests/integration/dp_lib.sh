# shellcheck shell=bash
#
# Data-plane helpers for the integration tests, on top of lib.sh and
# evpn_lib.sh (source those first): hosts in their own namespaces
# plugged into a leaf's bridge, leaf devices made by hand for FRR,
# evpnd leaf configs that let evpnd make the devices, readers of the
# kernel's FDB and neighbour tables, and a background ping whose losses
# can be counted.
#
# How this works: a host is a namespace with one veth "eth0" (fixed MAC,
# IPv4 and IPv6 with nodad) whose other end is a port of the leaf's
# bridge br100.  Learning is off on every VXLAN device, so a frame
# crosses the overlay only when EVPN put the destination MAC (or the
# flood entry) into the VXLAN device's FDB.  Readers return success or
# failure, so they compose with wait_for and check.

DP_NET4=10.10.0
DP_NET6=2001:db8:100:

# ---------------------------------------------------------------- hosts

# dp_host_add HOST LEAF PORT MAC N: namespace HOST with eth0 (MAC,
# 10.10.0.N/24, 2001:db8:100::N/64) plugged into br100 of LEAF as PORT.
# The leaf's bridge must exist (evpnd makes it on its leaves).
dp_host_add()
{
	local host=$1 leaf=$2 port=$3 mac=$4 n=$5
	ns_create "$host"
	ip link add eth0 netns "$(ns_name "$host")" type veth peer name \
	    "$port" netns "$(ns_name "$leaf")" ||
	    die "cannot create veth $host:eth0 <-> $leaf:$port"
	ns_exec "$host" ip link set eth0 address "$mac"
	ns_exec "$host" ip addr add "$DP_NET4.$n/24" dev eth0
	ns_exec "$host" ip addr add "$DP_NET6:$(printf %x "$n")/64" dev eth0 \
	    nodad
	ns_exec "$host" ip link set eth0 up
	dp_port_plug "$leaf" "$port"
}

# dp_port_plug LEAF PORT: PORT (already in LEAF's namespace) into br100.
dp_port_plug()
{
	ns_exec "$1" ip link set "$2" master br100 || return 1
	ns_exec "$1" ip link set "$2" up
}

# dp_host_move_begin HOST TO PORT: HOST moves the way a VM migrates -
# make before break.  It gets a second interface, eth1 with eth0's MAC,
# plugged into TO's br100 as PORT, and its addresses move there; eth0
# stays up but silent (no address, no IPv6, no ARP answers), so the old
# leaf's bridge keeps the MAC and that leaf still advertises it when TO
# learns it.  dp_host_move_end HOST then removes eth0 (and the old port).
dp_host_move_begin()
{
	local host=$1 to=$2 port=$3 mac a4 a6
	mac=$(ns_exec "$host" cat /sys/class/net/eth0/address) || return 1
	a4=$(ns_exec "$host" ip -4 -o addr show dev eth0 | awk '{ print $4 }')
	a6=$(ns_exec "$host" ip -6 -o addr show dev eth0 scope global |
	    awk '{ print $4 }')
	ip link add eth1 netns "$(ns_name "$host")" type veth peer name \
	    "$port" netns "$(ns_name "$to")" || return 1
	ns_exec "$host" ip link set eth1 address "$mac"
	ns_exec "$host" sysctl -qw net.ipv4.conf.eth0.arp_ignore=1
	ns_exec "$host" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	ns_exec "$host" ip addr flush dev eth0
	ns_exec "$host" ip addr add "$a4" dev eth1
	ns_exec "$host" ip addr add "$a6" dev eth1 nodad
	dp_port_plug "$to" "$port" || return 1
	ns_exec "$host" ip link set eth1 up
}

dp_host_move_end()
{
	ns_exec "$1" ip link del eth0
}

# dp_ping HOST ADDR [COUNT]: COUNT (3) pings, every one answered.
dp_ping()
{
	local out
	out=$(ns_exec "$1" ping -n -q -c "${3:-3}" -i 0.2 -W 2 "$2" 2>&1)
	grep -q " ${3:-3} received" <<<"$out" || {
		log_info "ping $1 -> $2: $(grep transmitted <<<"$out")"
		return 1
	}
}

# dp_ping_once HOST ADDR: one ping answered (for wait_for).
dp_ping_once()
{
	ns_exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1
}

# dp_ping_bg_start HOST ADDR FILE: ping every 0.2 s in the background,
# its output in FILE; DP_PING_PID is its pid.
dp_ping_bg_start()
{
	ip netns exec "$(ns_name "$1")" ping -n -i 0.2 -W 1 "$2" >"$3" 2>&1 &
	DP_PING_PID=$!
}

# dp_ping_bg_stop FILE: stop the background ping (SIGINT: it prints its
# summary) and set DP_SENT, DP_RECV.
dp_ping_bg_stop()
{
	kill -INT "$DP_PING_PID" 2>/dev/null
	wait "$DP_PING_PID" 2>/dev/null
	DP_SENT=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1")
	DP_RECV=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1")
	DP_SENT=${DP_SENT:-0}
	DP_RECV=${DP_RECV:-0}
}

# dp_ping_answered FILE: how many replies the background ping has so far.
dp_ping_answered()
{
	grep -c 'bytes from' "$1"
}

# dp_watch_start LEAF MAC VTEP FILE: every 50 ms, append "MS 1" to FILE
# when LEAF's vx100 holds MAC dst VTEP and the flood entry to VTEP,
# "MS 0" when it lacks either (how long a remote leaf could not reach
# VTEP's host); DP_WATCH_PID is the watcher's pid.
dp_watch_start()
{
	local leaf=$1 mac=$2 vtep=$3 file=$4
	(
		while :; do
			if ns_exec "$leaf" bridge fdb show dev vx100 |
			    awk -v m="$mac dst $vtep " \
			    -v f="00:00:00:00:00:00 dst $vtep " '
				index($0, m) == 1 { hm = 1 }
				index($0, f) == 1 { hf = 1 }
				END { exit !(hm && hf) }'; then
				echo "$(now_ms) 1"
			else
				echo "$(now_ms) 0"
			fi
			sleep 0.05
		done
	) >"$file" 2>/dev/null &
	DP_WATCH_PID=$!
}

dp_watch_stop()
{
	kill "$DP_WATCH_PID" 2>/dev/null
	wait "$DP_WATCH_PID" 2>/dev/null
}

# dp_watch_gap FILE: "GAP STEP": milliseconds from the first "0" sample
# to the first "1" after it (to the last sample when none; 0 when never
# absent), and the longest time between two samples (the resolution,
# which a loaded machine stretches).
dp_watch_gap()
{
	awk '$2 == 0 && !t0 { t0 = $1 } $2 == 1 && t0 && !t1 { t1 = $1 }
	    last && $1 - last > step { step = $1 - last }
	    { last = $1 }
	    END { print (t0 ? (t1 ? t1 : last) - t0 : 0), step + 0 }' "$1"
}

# ---------------------------------------------------------------- leaves

# dp_frr_leaf_devices LEAF VTEP: br100 with vx100 (VNI 100, learning off,
# as zebra expects them to be made by the operator), bridge-port
# learning off on vx100.  IPv6 stays on (the hosts ping over it).
dp_frr_leaf_devices()
{
	ns_exec "$1" ip link add br100 type bridge || return 1
	ns_exec "$1" ip link add vx100 type vxlan id 100 local "$2" \
	    dstport 4789 nolearning || return 1
	ns_exec "$1" ip link set vx100 master br100
	ns_exec "$1" bridge link set dev vx100 learning off
	ns_exec "$1" ip link set br100 up
	ns_exec "$1" ip link set vx100 up
}

# dp_evpnd_leaf_conf NAME VTEP RR: evpnd leaf whose config makes the
# devices (vx100 in br100, VNI 100, ARP/ND suppression).
dp_evpnd_leaf_conf()
{
	cat <<EOF
hostname $1
log stdout debugging
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $2
 arp-suppression
!
router bgp 65000
 bgp router-id $2
 bgp graceful-restart
 neighbor $3 remote-as 65000
 neighbor $3 timers connect 2
 address-family l2vpn evpn
  neighbor $3 activate
  advertise-all-vni
  vni 100
   rd $2:100
   route-target import 65000:100
   route-target export 65000:100
  exit-vni
 exit-address-family
exit
EOF
}

# ---------------------------------------------------------------- kernel

# dp_fdb_json LEAF [DEV]: "bridge -j fdb show [dev DEV]".
dp_fdb_json()
{
	if [ $# -ge 2 ]; then
		ns_exec "$1" bridge -j fdb show dev "$2"
	else
		ns_exec "$1" bridge -j fdb show
	fi
}

# dp_fdb_remote LEAF MAC VTEP: vx100 holds MAC dst VTEP, extern_learn.
dp_fdb_remote()
{
	dp_fdb_json "$1" vx100 | jq -e --arg m "$2" --arg d "$3" \
	    'any(.[]; .mac == $m and .dst == $d and
	     ((.flags // []) | index("extern_learn") != null))' >/dev/null
}

# dp_fdb_flood LEAF VTEP: the all-zeros flood entry dst VTEP on vx100.
dp_fdb_flood()
{
	dp_fdb_json "$1" vx100 | jq -e --arg d "$2" \
	    'any(.[]; .mac == "00:00:00:00:00:00" and .dst == $d)' >/dev/null
}

# dp_fdb_no_dst LEAF MAC VTEP: vx100 has no entry for MAC dst VTEP.
dp_fdb_no_dst()
{
	local out
	out=$(dp_fdb_json "$1" vx100) || return 1
	jq -e --arg m "$2" --arg d "$3" \
	    'all(.[]; (.mac == $m and .dst == $d) | not)' <<<"$out" >/dev/null
}

# dp_fdb_local LEAF MAC PORT: the bridge holds MAC on local PORT.
dp_fdb_local()
{
	dp_fdb_json "$1" | jq -e --arg m "$2" --arg p "$3" \
	    'any(.[]; .mac == $m and .ifname == $p and .master == "br100")' \
	    >/dev/null
}

# dp_fdb_mac_lines LEAF MAC: the kernel's FDB lines for MAC (report).
dp_fdb_mac_lines()
{
	ns_exec "$1" bridge fdb show | grep -i "^$2" | tr '\n' ';'
}

# dp_neigh_has LEAF IP MAC: br100's neighbour table maps IP to MAC.
dp_neigh_has()
{
	ns_exec "$1" ip -j neigh show dev br100 | jq -e --arg i "$2" \
	    --arg m "$3" 'any(.[]; .dst == $i and .lladdr == $m)' >/dev/null
}

# ---------------------------------------------------------------- evpnd

# dp_evpnd_field NAME JQ: a value of evpnd's GET /v1/dataplane.
dp_evpnd_field()
{
	evpnd_api "$1" /v1/dataplane | jq -er "$2"
}
