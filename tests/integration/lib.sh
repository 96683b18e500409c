# shellcheck shell=bash
#
# Shared helpers for the integration tests: network namespaces, FRR and
# evpnd instances inside them, polling and counted assertions.
#
# How this works: a test sources this file, builds a topology with
# ns_create / link_add, starts daemons with frr_start / evpnd_start and
# asserts with check.  Every name it creates carries a per-run prefix
# (evt<PID>-), so parallel runs and leftovers of a killed run do not
# collide.  Everything created is recorded; the EXIT trap installed here
# stops the daemons (SIGCONT first, in case a test left one stopped),
# deletes the namespaces and the temp dir, even when the test fails or is
# interrupted.  summary prints "N passed, N failed" and returns non-zero
# when a check failed.
#
# Environment:
#   BUILD_DIR   where evpnd and evpnctl were built (default: the current
#               directory when it holds evpnd, as under make check; else
#               the repo root)
#   FRR_DIR     where zebra and bgpd live (default /usr/lib/frr)
#   KEEP_TMP=1  keep the temp dir (configs, logs) after the run
#   VERBOSE=1   print the logs' tails for passing runs too

set -u
set -o pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEG_DIR/../.." && pwd)
if [ -z "${BUILD_DIR:-}" ]; then
	BUILD_DIR=$REPO_ROOT
	[ -x ./evpnd ] && BUILD_DIR=$(pwd)
fi
EVPND=${EVPND:-$BUILD_DIR/evpnd}
EVPNCTL=${EVPNCTL:-$BUILD_DIR/evpnctl}
FRR_DIR=${FRR_DIR:-/usr/lib/frr}

RUN_PREFIX="evt$$"
PASSED=0
FAILED=0

_NAMESPACES=()		# full namespace names, in creation order
_FRR_NAMES=()		# FRR instance names
declare -A _FRR_NS=()	# FRR instance name -> full namespace name
declare -A _EVPND_PID=()	# evpnd instance name -> pid
declare -A _EVPND_START=()	# evpnd instance name -> its process start time
declare -A _EVPND_NS=()	# evpnd instance name -> full namespace name

TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/evpnd-integ.XXXXXX") || exit 1
# FRR drops to the frr user; it must reach its own run dir below.
chmod 755 "$TMP_ROOT"

log_info()
{
	printf '# %s\n' "$*"
}

die()
{
	printf 'FATAL: %s\n' "$*" >&2
	dump_logs
	exit 1
}

# ---------------------------------------------------------------- names

ns_name()
{
	printf '%s-%s' "$RUN_PREFIX" "$1"
}

# Run a command inside the namespace of logical name NS.
ns_exec()
{
	local ns=$1
	shift
	ip netns exec "$(ns_name "$ns")" "$@"
}

# ---------------------------------------------------------------- topology

ns_create()
{
	local full
	full=$(ns_name "$1")
	ip netns add "$full" || die "cannot create namespace $full"
	_NAMESPACES+=("$full")
	ip -n "$full" link set lo up
}

# link_add NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN
# A veth pair created directly inside the two namespaces, so interface
# names only need to be unique per namespace.
link_add()
{
	local na nb
	na=$(ns_name "$1")
	nb=$(ns_name "$4")
	ip link add "$2" netns "$na" type veth peer name "$5" netns "$nb" ||
	    die "cannot create veth $1:$2 <-> $4:$5"
	ip -n "$na" addr add "$3" dev "$2"
	ip -n "$nb" addr add "$6" dev "$5"
	ip -n "$na" link set "$2" up
	ip -n "$nb" link set "$5" up
}

# bridge_create NS BRIDGE [ADDR/LEN]: a Linux bridge standing for a
# switch; with an address the namespace itself sits on that segment.
bridge_create()
{
	local ns
	ns=$(ns_name "$1")
	ip -n "$ns" link add "$2" type bridge || die "cannot create bridge $2"
	[ $# -ge 3 ] && ip -n "$ns" addr add "$3" dev "$2"
	ip -n "$ns" link set "$2" up
}

# bridge_attach NS IF ADDR/LEN BRIDGE_NS BRIDGE PORT: a veth from IF in
# NS (with the address) to PORT, a port of BRIDGE in BRIDGE_NS.
bridge_attach()
{
	local na nb
	na=$(ns_name "$1")
	nb=$(ns_name "$4")
	ip link add "$2" netns "$na" type veth peer name "$6" netns "$nb" ||
	    die "cannot create veth $1:$2 <-> $4:$6"
	ip -n "$na" addr add "$3" dev "$2"
	ip -n "$nb" link set "$6" master "$5"
	ip -n "$na" link set "$2" up
	ip -n "$nb" link set "$6" up
}

# lo_addr NS ADDR/LEN: an address on the namespace's loopback.
lo_addr()
{
	ip -n "$(ns_name "$1")" addr add "$2" dev lo
}

# A kernel TCP counter (TcpExt field of /proc/net/netstat) as seen from
# inside a namespace, e.g. TCPMD5Failure.
ns_tcpext_counter()
{
	ns_exec "$1" cat /proc/net/netstat | awk -v f="$2" '
	    $1 == "TcpExt:" && !seen { for (i = 2; i <= NF; i++) idx[$i] = i; seen = 1; next }
	    $1 == "TcpExt:" && seen { print (f in idx) ? $idx[f] : 0; exit }'
}

# ---------------------------------------------------------------- polling

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds.
wait_for()
{
	local secs=$1 deadline
	shift
	deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		(($(date +%s%N) / 1000000 >= deadline)) && return 1
		sleep 0.2
	done
}

# now_ms: monotonic enough for measuring test intervals.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

pid_alive()
{
	kill -0 "$1" 2>/dev/null
}

# ---------------------------------------------------------------- FRR

_frr_dir()
{
	printf '%s/frr-%s' "$TMP_ROOT" "$1"
}

# frr_start NS NAME CONFTEXT: zebra and bgpd of FRR (8.4) inside NS.
# CONFTEXT is bgpd's configuration.  Each instance gets its own pid
# files, zserv socket and vty socket dir, so several run side by side
# and never touch the system FRR.  The daemons drop to the frr user (as
# packaged); running them as root would need root in the frrvty group.
frr_start()
{
	local ns=$1 name=$2 conf=$3 dir
	dir=$(_frr_dir "$name")
	mkdir -p "$dir"
	_FRR_NAMES+=("$name")
	_FRR_NS[$name]=$(ns_name "$ns")
	printf 'hostname %s\n' "$name" >"$dir/zebra.conf"
	frr_set_conf "$name" "$conf"
	ns_exec "$ns" "$FRR_DIR/zebra" -d -N "$RUN_PREFIX-$name" \
	    -i "$dir/zebra.pid" -z "$dir/zserv.api" --vty_socket "$dir" \
	    -f "$dir/zebra.conf" --log "file:$dir/zebra.log" \
	    >"$dir/zebra.out" 2>&1 || die "zebra $name failed to start"
	wait_for 10 test -S "$dir/zserv.api" ||
	    die "zebra $name: no zserv socket"
	frr_bgpd_start "$name"
}

# frr_set_conf NAME CONFTEXT: bgpd's config for its next start (changes
# made with frr_configure live only in the running daemon).  Neighbor
# state changes are logged, for the log tails printed on failure.
frr_set_conf()
{
	local dir
	dir=$(_frr_dir "$1")
	printf 'debug bgp neighbor-events\n%s\n' "$2" >"$dir/bgpd.conf"
	chown -R frr:frr "$dir" 2>/dev/null
}

frr_bgpd_start()
{
	local name=$1 dir
	dir=$(_frr_dir "$name")
	rm -f "$dir/bgpd.pid"
	ip netns exec "${_FRR_NS[$name]}" "$FRR_DIR/bgpd" -d \
	    -N "$RUN_PREFIX-$name" -i "$dir/bgpd.pid" -z "$dir/zserv.api" \
	    --vty_socket "$dir" -f "$dir/bgpd.conf" \
	    --log "file:$dir/bgpd.log" --log-level debug \
	    >>"$dir/bgpd.out" 2>&1 || die "bgpd $name failed to start"
	wait_for 10 test -S "$dir/bgpd.vty" -a -s "$dir/bgpd.pid" ||
	    die "bgpd $name: no vty socket"
	wait_for 10 frr_vtysh_raw "$name" 'show bgp summary json' ||
	    die "bgpd $name: vty does not answer"
}

# _frr_pid NAME DAEMON: the pid in DAEMON's pid file, but only while that
# process is still this instance's daemon.  FRR daemonizes, so a pid
# outlives nothing of ours, and pid_max may be as small as 32768: a
# stale pid file must never make us signal a stranger.
_frr_pid()
{
	local dir pid
	dir=$(_frr_dir "$1")
	pid=$(cat "$dir/$2.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
	    grep -qF -- "$dir/$2.pid" && echo "$pid"
}

frr_bgpd_pid()
{
	_frr_pid "$1" bgpd
}

frr_zebra_pid()
{
	_frr_pid "$1" zebra
}

# The start time of a process (field 22 of /proc/PID/stat), which tells
# it apart from a later process that reuses its pid.
_proc_start()
{
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# _same_proc PID START: PID still runs the process that started at START.
_same_proc()
{
	[ -n "$2" ] && [ "$(_proc_start "$1")" = "$2" ]
}

# Stop one daemon by pid: SIGCONT (it may have been stopped), SIGTERM,
# then SIGKILL after 5 s; never signals a process that reused the pid.
_stop_pid()
{
	local pid=$1 start
	[ -n "$pid" ] || return 0
	start=$(_proc_start "$pid")
	_same_proc "$pid" "$start" || return 0
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	wait_for 5 eval "! _same_proc $pid $start" && return 0
	_same_proc "$pid" "$start" && kill -KILL "$pid" 2>/dev/null
	wait_for 2 eval "! _same_proc $pid $start"
}

frr_bgpd_stop()
{
	_stop_pid "$(frr_bgpd_pid "$1")"
	# a restarted bgpd must not find its old vty socket
	rm -f "$(_frr_dir "$1")/bgpd.vty"
}

frr_stop()
{
	frr_bgpd_stop "$1"
	_stop_pid "$(frr_zebra_pid "$1")"
}

frr_vtysh_raw()
{
	vtysh --vty_socket "$(_frr_dir "$1")" -c "$2"
}

# frr_vtysh NS NAME CMD...: each CMD one vtysh -c; NS kept for symmetry
# with the other helpers (vtysh talks to the instance over its vty
# socket, which works from any namespace).
frr_vtysh()
{
	local name=$2 args=()
	shift 2
	for c in "$@"; do
		args+=(-c "$c")
	done
	vtysh --vty_socket "$(_frr_dir "$name")" "${args[@]}"
}

# frr_configure NS NAME LINE...: apply configuration lines under
# "configure terminal".
frr_configure()
{
	local ns=$1 name=$2
	shift 2
	frr_vtysh "$ns" "$name" 'configure terminal' "$@"
}

# frr_peer_field NAME PEER FIELD: a field of PEER in FRR's l2vpn evpn
# summary (state, peerUptimeMsec, connectionsEstablished, ...).
frr_peer_field()
{
	frr_vtysh_raw "$1" 'show bgp l2vpn evpn summary json' |
	    jq -er --arg p "$2" --arg f "$3" '.peers[$p][$f]'
}

frr_peer_established()
{
	[ "$(frr_peer_field "$1" "$2" state)" = Established ]
}

# ---------------------------------------------------------------- evpnd

_evpnd_dir()
{
	printf '%s/evpnd-%s' "$TMP_ROOT" "$1"
}

evpnd_conf_path()
{
	printf '%s/evpnd.conf' "$(_evpnd_dir "$1")"
}

evpnd_log_path()
{
	printf '%s/evpnd.log' "$(_evpnd_dir "$1")"
}

evpnd_sock()
{
	printf '%s/evpnd.sock' "$(_evpnd_dir "$1")"
}

# evpnd_pid NAME: the pid while that evpnd runs, else nothing (bash
# reaps an exited child at once, so its pid may already be reused).
evpnd_pid()
{
	local pid=${_EVPND_PID[$1]:-}
	[ -n "$pid" ] && _same_proc "$pid" "${_EVPND_START[$1]:-}" &&
	    printf '%s' "$pid"
}

# evpnd_start NS NAME CONFTEXT: evpnd in the background inside NS, its
# output (stdout and stderr, so sanitizer reports too) in evpnd.log.
# Returns once the API socket answers.
evpnd_start()
{
	local ns=$1 name=$2 conf=$3 dir pid
	[ -x "$EVPND" ] || die "no evpnd at $EVPND (set BUILD_DIR)"
	dir=$(_evpnd_dir "$name")
	mkdir -p "$dir"
	printf '%s\n' "$conf" >"$dir/evpnd.conf"
	_EVPND_NS[$name]=$(ns_name "$ns")
	# ip itself, not the ns_exec function: a function in the background
	# runs in a subshell, and $! would be that shell, not evpnd.
	ip netns exec "${_EVPND_NS[$name]}" "$EVPND" -f "$dir/evpnd.conf" \
	    -S "$dir/evpnd.sock" -D "$dir/state" >>"$dir/evpnd.log" 2>&1 &
	pid=$!
	_EVPND_PID[$name]=$pid
	_EVPND_START[$name]=$(_proc_start "$pid")
	wait_for 10 evpnctl_in "$name" show bgp summary --json ||
	    die "evpnd $name did not come up"
	pid_alive "$pid" || die "evpnd $name exited"
}

# evpnd_http NAME METHOD PATH [BODY]: one API request over the Unix
# socket; prints "CODE BODY" (the body on one line).
evpnd_http()
{
	local out
	out=$(curl -s --unix-socket "$(evpnd_sock "$1")" -X "$2" \
	    -H 'Content-Type: application/json' ${4:+--data "$4"} \
	    -w '\n%{http_code}' "http://localhost$3") || return 1
	printf '%s %s\n' "${out##*$'\n'}" \
	    "$(printf '%s' "${out%$'\n'*}" | tr -d '\n')"
}

# evpnd_reload NAME CONFTEXT: replace the config file and SIGHUP.
evpnd_reload()
{
	printf '%s\n' "$2" >"$(evpnd_conf_path "$1")"
	kill -HUP "$(evpnd_pid "$1")"
}

# evpnd_stop NAME: SIGTERM, SIGKILL after 10 s; returns evpnd's exit
# status (bash keeps it for a child that already exited; 127 when there
# is none to report).
evpnd_stop()
{
	local pid=${_EVPND_PID[$1]:-} start=${_EVPND_START[$1]:-} rc
	[ -n "$pid" ] || return 127
	if _same_proc "$pid" "$start"; then
		kill -TERM "$pid" 2>/dev/null
		wait_for 10 eval "! _same_proc $pid $start" ||
		    kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	_EVPND_PID[$1]=
	return "$rc"
}

evpnctl_in()
{
	local name=$1
	shift
	"$EVPNCTL" -S "$(evpnd_sock "$name")" "$@"
}

# evpnd_peer_field NAME PEER FIELD: from "show bgp summary --json".
evpnd_peer_field()
{
	evpnctl_in "$1" show bgp summary --json |
	    jq -er --arg p "$2" --arg f "$3" '.peers[$p][$f]'
}

# evpnd_neighbor_field NAME PEER JQ-PATH: from "show bgp neighbors
# PEER --json"; accepts FRR's shape {"ADDR": {...}} or a bare object.
evpnd_neighbor_field()
{
	evpnctl_in "$1" show bgp neighbors "$2" --json |
	    jq -er --arg p "$2" "(if has(\$p) then .[\$p] else . end) | $3"
}

evpnd_peer_established()
{
	[ "$(evpnd_peer_field "$1" "$2" state)" = Established ]
}

evpnd_peer_not_established()
{
	local s
	s=$(evpnd_peer_field "$1" "$2" state) || return 1
	[ "$s" != Established ]
}

# evpnd_sanitizer_clean NAME: no ASan/LSan/UBSan report in evpnd's log.
evpnd_sanitizer_clean()
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path "$1")"
}

# evpnd_metric NAME SERIES: value of one /metrics series, e.g.
# 'evpnd_bgp_state_changes_total{peer="10.0.0.1"}'.
evpnd_metric()
{
	curl -sf --unix-socket "$(evpnd_sock "$1")" http://localhost/metrics |
	    awk -v s="$2" 'index($0, s " ") == 1 { print $2; found = 1 }
	    END { exit !found }'
}

# ---------------------------------------------------------------- checks

# check NAME CMD...: one counted test case.
check()
{
	local name=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		printf 'ok %d - %s\n' $((PASSED + FAILED)) "$name"
	else
		FAILED=$((FAILED + 1))
		printf 'not ok %d - %s\n' $((PASSED + FAILED)) "$name"
		dump_logs
	fi
}

# Tails of every log this run produced.
dump_logs()
{
	local f
	for f in "$TMP_ROOT"/*/*.log "$TMP_ROOT"/*/*.out; do
		[ -s "$f" ] || continue
		printf '# ---- %s (last 25 lines)\n' "${f#"$TMP_ROOT"/}"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
}

# bail_out REASON: the remaining cases cannot mean anything (e.g. no
# session at all); stop here instead of waiting out every timeout.
bail_out()
{
	printf 'Bail out! %s\n' "$1"
	FAILED=$((FAILED + 1))
	summary
	exit 1
}

summary()
{
	[ "${VERBOSE:-0}" = 1 ] && dump_logs
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

# ---------------------------------------------------------------- cleanup

_cleanup()
{
	local rc=$? name ns pid
	trap - EXIT INT TERM
	for name in "${!_EVPND_PID[@]}"; do
		_stop_pid "$(evpnd_pid "$name")"
	done
	for name in "${_FRR_NAMES[@]}"; do
		frr_stop "$name"
	done
	# Anything still inside our namespaces was started by this run.
	for ns in "${_NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			_stop_pid "$pid"
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		log_info "kept $TMP_ROOT"
	else
		rm -rf "$TMP_ROOT"
	fi
	exit "$rc"
}

trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# require_root_tools: skip (exit 77) when the environment cannot run the
# namespace tests at all, rather than failing for the wrong reason.
require_root_tools()
{
	local t
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (network namespaces)"
		exit 77
	fi
	for t in ip jq curl vtysh "$FRR_DIR/zebra" "$FRR_DIR/bgpd"; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "SKIP: missing $t"
			exit 77
		}
	done
}
