# shellcheck shell=bash
#
# Shared by the benchmark scripts: messages, polling, the injector's
# timestamps and MACs, the namespaces and veth pair of a run, starting
# evpnd and FRR, and the EXIT cleanup of what a run started (the
# scripts fill _PIDS and _NAMESPACES and set TMP, BENCH_POLL, KEEP_TMP;
# bench_tmp sets TMP and the traps).

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

note()
{
	printf '# %s\n' "$*" >&2
}

cleanup()
{
	local pid ns
	for pid in "${_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.3
	for pid in "${_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		note "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}

now()
{
	date +%s.%N
}

wait_until()
{
	local deadline
	deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		(($(date +%s) >= deadline)) && return 1
		sleep "$BENCH_POLL"
	done
}

injector_time()
{
	jq -r --arg e "$2" 'select(.event == $e) | .t' "$1" 2>/dev/null |
	    head -1 | grep .
}

# bench_mac I: the injector's I-th MAC (0-based, from MAC_BASE).
bench_mac()
{
	local v=$((MAC_BASE + $1))
	printf '%02x:%02x:%02x:%02x:%02x:%02x' $((v >> 40 & 255)) \
	    $((v >> 32 & 255)) $((v >> 24 & 255)) $((v >> 16 & 255)) \
	    $((v >> 8 & 255)) $((v & 255))
}

# bench_ns_new NAME: a namespace with lo up, deleted at exit.
bench_ns_new()
{
	ip netns add "$1" || die "cannot create namespace $1"
	_NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# bench_veth_pair NS-A IF-A ADDR-A NS-B IF-B ADDR-B: two new namespaces
# joined by a veth pair, each end with its /24 address and up.
bench_veth_pair()
{
	bench_ns_new "$1"
	bench_ns_new "$4"
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" ||
	    die "cannot create the veth pair"
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$4" addr add "$6/24" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# bench_evpnd_start NS DIR: evpnd in NS on DIR/evpnd.conf, answering on
# DIR/evpnd.sock; its pid in EVPND_PID.
bench_evpnd_start()
{
	ip netns exec "$1" "$EVPND" -f "$2/evpnd.conf" -S "$2/evpnd.sock" \
	    -D "$2" >"$2/evpnd.out" 2>&1 &
	EVPND_PID=$!
	_PIDS+=("$EVPND_PID")
	wait_until 10 "$EVPNCTL" -S "$2/evpnd.sock" show bgp summary ||
	    die "evpnd does not answer (see $2/evpnd.out)"
}

# bench_frr_conf ROUTER-ID PEER: FRR bgpd with a passive iBGP l2vpn
# evpn session to PEER (the injector), advertising all VNIs.
bench_frr_conf()
{
	cat <<CONF
hostname bench-frr
router bgp $ASN
 bgp router-id $1
 no bgp default ipv4-unicast
 neighbor $2 remote-as $ASN
 neighbor $2 passive
 address-family l2vpn evpn
  neighbor $2 activate
  advertise-all-vni
 exit-address-family
exit
CONF
}

# bench_frr_vtysh CMD: a command to the FRR of bench_frr_start.
bench_frr_vtysh()
{
	vtysh --vty_socket "$TMP/frr" -c "$1"
}

_bench_frr_daemon()	# NS DAEMON
{
	local dir=$TMP/frr
	ip netns exec "$1" "$FRR_DIR/$2" -d -N "$RUN" -i "$dir/$2.pid" \
	    -z "$dir/zserv.api" --vty_socket "$dir" -f "$dir/$2.conf" \
	    --log "file:$dir/$2.log" >>"$dir/frr.out" 2>&1 ||
	    die "FRR $2 failed to start"
	wait_until 10 test -s "$dir/$2.pid" || die "FRR $2: no pid file"
	_PIDS+=("$(cat "$dir/$2.pid")")
}

# bench_frr_start NS: FRR's zebra and bgpd in NS, on $TMP/frr (where
# bgpd.conf is), bgpd answering; their pids in zebra.pid and bgpd.pid.
bench_frr_start()
{
	local dir=$TMP/frr
	printf 'hostname bench-zebra\n' >"$dir/zebra.conf"
	chown -R frr:frr "$dir"	# the daemons drop to the frr user
	_bench_frr_daemon "$1" zebra
	wait_until 10 test -S "$dir/zserv.api" || die "zebra: no zserv socket"
	_bench_frr_daemon "$1" bgpd
	wait_until 10 bench_frr_vtysh 'show bgp summary json' ||
	    die "bgpd does not answer (see $dir/bgpd.log)"
}

# bench_tmp NAME: TMP (evpnd-NAME.XXXXXX, readable by FRR's user), the
# exit and interrupt traps, and FRR_VERSION.
bench_tmp()
{
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/evpnd-$1.XXXXXX") || exit 1
	chmod 755 "$TMP"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	# shellcheck disable=SC2034	# the scripts' result rows name it
	FRR_VERSION=$("$FRR_DIR/bgpd" --version 2>/dev/null |
	    awk 'NR == 1 { print $NF }')
}
