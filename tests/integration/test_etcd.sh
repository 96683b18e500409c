#!/usr/bin/env bash
#
# The datastore/ etcd client against a real three-member etcd 3.4
# cluster, each member in its own network namespace on a bridge in a
# fourth namespace, where the client (tests/integration/etcd_probe)
# runs.  Everything the client does is read back with etcdctl.
#
#  1. put / get, create_if_absent (first wins, second sees the owner),
#     a race of 8 clients each starting at another member and of two
#     separate processes on different members: exactly one winner, and
#     etcdctl holds the winner's value.
#  2. get_prefix, cas and delete_if (wrong revision loses, right one
#     wins), leases (grant, attach, keepalive, revoke deletes the key,
#     an unrefreshed lease expires), a watch seeing puts and deletes.
#  3. Failover: kill -9 the member the client uses; requests go on
#     through another, the watch reconnects and misses nothing.  All
#     members killed: a clean error within the request timeout.  All
#     restarted: requests and the watch work again.
#  4. TLS: https:// endpoints with a client certificate (made with
#     openssl at test time) work; without one the client gets an error.
#
# Environment: BUILD_DIR (where etcd_probe was built, under
# tests/integration/), KEEP_TMP=1, VERBOSE=1 as in lib.sh.
# Prints "N passed, N failed"; exits non-zero when a check failed, 77
# (skip) when not root or etcd, etcdctl or openssl is missing.

set -u

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TEST_DIR/../.." && pwd)
if [ -z "${BUILD_DIR:-}" ]; then
	if [ -x ./tests/integration/etcd_probe ]; then
		BUILD_DIR=$(pwd)
	else
		BUILD_DIR=$REPO_ROOT
	fi
fi
PROBE=$BUILD_DIR/tests/integration/etcd_probe

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (network namespaces)"
	exit 77
fi
for t in ip etcd etcdctl openssl; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: missing $t"; exit 77; }
done
[ -x "$PROBE" ] || { echo "FATAL: no etcd_probe at $PROBE (set BUILD_DIR)"; exit 1; }

# shellcheck source=lib.sh
. "$TEST_DIR/lib.sh"
# shellcheck source=tests/integration/etcd_lib.sh
. "$TEST_DIR/etcd_lib.sh"
# shellcheck source=tests/integration/tls_lib.sh
. "$TEST_DIR/tls_lib.sh"

NET=10.200.0
CLIENT=$NET.100
MEMBERS="1 2 3"
REQUEST_MS=3000
ETCD_TLS_DIR=$TMP_ROOT/pki

# ---------------------------------------------------------------- setup

make_certs()
{
	local d=$ETCD_TLS_DIR
	mkdir -p "$d"
	tls_ca "$d" ca /CN=etcd-test-ca &&
	    tls_cert "$d" srv ca /CN=srv \
	    "subjectAltName=IP:$NET.1,IP:$NET.2,IP:$NET.3" &&
	    tls_cert "$d" cli ca /CN=cli extendedKeyUsage=clientAuth
}

ctl() { etcd_ctl "$@"; }
ctl_get() { ctl get "$1" --print-value-only; }

# ctl_absent KEY: etcdctl answered, and KEY is not there.
ctl_absent()
{
	local out
	out=$(ctl get "$1" --keys-only) && [ -z "$out" ]
}

# ---------------------------------------------------------------- probe

# probe_start: the client in the bridge namespace, one command per line.
probe_start()
{
	coproc PROBE_CO {
		ip netns exec "$(ns_name sw)" "$PROBE" -e "$(etcd_url 1)" \
		    -e "$(etcd_url 2)" -e "$(etcd_url 3)" -t $REQUEST_MS \
		    -a 500 2>>"$TMP_ROOT/probe/probe.log"
	}
}

# probe CMD...: send one command, the reply line in $REPLY_LINE.
probe()
{
	REPLY_LINE=
	printf '%s\n' "$*" >&"${PROBE_CO[1]}" || return 1
	IFS= read -r -t 20 REPLY_LINE <&"${PROBE_CO[0]}" || return 1
	printf '# probe: %s -> %s\n' "$*" "$REPLY_LINE" >>"$TMP_ROOT/probe/probe.log"
	return 0
}

# probe_ok CMD...: the reply starts with "ok".
probe_ok()
{
	probe "$@" && [ "${REPLY_LINE%% *}" = ok ]
}

# field NAME: NAME=VALUE out of the last reply.
field()
{
	printf '%s\n' "$REPLY_LINE" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

reply_has()
{
	case $REPLY_LINE in *"$1"*) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------- checks

check_put_get()
{
	probe_ok put t/a one || return 1
	[ "$(ctl_get t/a)" = one ] || return 1
	probe_ok get t/a && reply_has "n=1 t/a=one"
}

check_create_if_absent()
{
	probe_ok create t/lock owner-a && reply_has "ok won" || return 1
	probe_ok create t/lock owner-b && reply_has "lost value=owner-a" ||
	    return 1
	[ "$(ctl_get t/lock)" = owner-a ]
}

check_race_in_process()
{
	local seen
	probe_ok race t/race 8 || return 1
	reply_has "winners=1 errors=0 agree=yes" || return 1
	seen=$(field losers_saw)
	[ -n "$seen" ] && [ "$(ctl_get t/race)" = "$seen" ]
}

# Two processes, each on another member, create the same keys at once.
check_race_two_processes()
{
	local i out1 out2 wins value p1 p2
	for i in 1 2 3 4 5; do
		out1=$TMP_ROOT/probe/race1 out2=$TMP_ROOT/probe/race2
		echo "create t/race2-$i p1" | ns_exec sw "$PROBE" \
		    -e "$(etcd_url 1)" -t $REQUEST_MS >"$out1" &
		p1=$!
		echo "create t/race2-$i p2" | ns_exec sw "$PROBE" \
		    -e "$(etcd_url 2)" -t $REQUEST_MS >"$out2" &
		p2=$!
		wait "$p1" "$p2"
		wins=$(cat "$out1" "$out2" | grep -c '^ok won')
		[ "$wins" = 1 ] || return 1
		if grep -q '^ok won' "$out1"; then value=p1; else value=p2; fi
		grep -q "^ok lost value=$value " "$out1" "$out2" || return 1
		[ "$(ctl_get "t/race2-$i")" = "$value" ] || return 1
	done
}

check_prefix()
{
	ctl put t/p/1 a >/dev/null && ctl put t/p/2 b >/dev/null &&
	    ctl put t/p/3 c >/dev/null && ctl put t/q x >/dev/null || return 1
	probe_ok prefix t/p/ || return 1
	reply_has "ok n=3 t/p/1=a " && reply_has " t/p/2=b " &&
	    reply_has " t/p/3=c " && ! reply_has "t/q"
}

check_delete_if()
{
	local mod
	probe_ok get t/a || return 1
	mod=$(field mod)
	probe_ok delif t/a $((mod + 100)) && reply_has "lost value=one" ||
	    return 1
	[ "$(ctl_get t/a)" = one ] || return 1
	probe_ok delif t/a "$mod" && reply_has "ok won" || return 1
	ctl_absent t/a
}

check_cas()
{
	local mod
	probe_ok get t/lock || return 1
	mod=$(field mod)
	probe_ok cas t/lock $((mod - 1)) owner-c && reply_has "lost" ||
	    return 1
	probe_ok cas t/lock "$mod" owner-c && reply_has "ok won" || return 1
	[ "$(ctl_get t/lock)" = owner-c ]
}

check_lease_revoke()
{
	local id hex
	probe_ok grant 30 || return 1
	id=$(field id)
	[ "$(field ttl)" = 30 ] || return 1
	probe_ok put t/leased v "$id" || return 1
	[ "$(ctl_get t/leased)" = v ] || return 1
	hex=$(printf '%x' "$id")
	ctl lease list | grep -q "$hex" || return 1
	probe_ok keepalive "$id" && [ "$(field ttl)" = 30 ] || return 1
	probe_ok revoke "$id" || return 1
	ctl_absent t/leased || return 1
	# a refresh of a revoked lease says it is gone
	probe_ok keepalive "$id" && [ "$(field ttl)" = 0 ]
}

check_lease_expires()
{
	local id
	probe_ok grant 1 || return 1
	id=$(field id)
	probe_ok put t/expiring v "$id" || return 1
	[ "$(ctl_get t/expiring)" = v ] || return 1
	wait_for 5 ctl_absent t/expiring
}

watch_file() { printf '%s/probe/watch' "$TMP_ROOT"; }

watch_has() { grep -qxF "$1" "$(watch_file)"; }

# watch_has_event TYPE KEY VALUE: an event line, any revision.
watch_has_event()
{
	grep -q "^$1 $2 $3 [0-9]*\$" "$(watch_file)"
}

check_watch()
{
	probe_ok watch w/ 0 "$(watch_file)" || return 1
	wait_for 5 grep -q '^CONNECTED' "$(watch_file)" || return 1
	ctl put w/1 one >/dev/null && ctl put w/2 two >/dev/null &&
	    ctl del w/1 >/dev/null && ctl put x/1 outside >/dev/null || return 1
	wait_for 5 watch_has_event DELETE w/1 - || return 1
	watch_has_event PUT w/1 one && watch_has_event PUT w/2 two &&
	    ! grep -q 'x/1' "$(watch_file)"
}

# The member the client uses dies; the rest of the cluster carries on.
check_failover()
{
	local cur n
	probe_ok endpoint || return 1
	cur=${REPLY_LINE#ok }
	cur=${cur%% *}
	n=${cur#http://$NET.}
	n=${n%%:*}
	log_info "killing member $n ($cur), the one the client uses"
	etcd_member_kill "$n"
	KILLED=$n
	probe_ok put fo/1 v1 || return 1
	[ "$(field endpoint)" != "$cur" ] || return 1
	[ "$(ctl_get fo/1)" = v1 ] || return 1
	probe_ok stats && [ "$(field failovers)" -ge 1 ]
}

# The watch moved to another member from the revision it had reached.
check_watch_after_failover()
{
	ctl put w/3 three >/dev/null || return 1
	wait_for 10 watch_has_event PUT w/3 three || return 1
	# nothing delivered twice
	[ -z "$(grep -v '^CONNECTED\|^LOST' "$(watch_file)" | sort | uniq -d)" ]
}

check_all_down()
{
	local m ms
	for m in $MEMBERS; do
		[ "$m" = "$KILLED" ] || etcd_member_kill "$m"
	done
	probe put fo/2 v2 || return 1
	log_info "all down: $REPLY_LINE"
	reply_has "err no etcd endpoint answered within $REQUEST_MS ms" ||
	    return 1
	ms=$(field ms)
	[ "$ms" -ge $((REQUEST_MS - 100)) ] && [ "$ms" -le $((REQUEST_MS + 700)) ]
}

check_all_back()
{
	local m
	for m in $MEMBERS; do
		etcd_member_start "$m"
	done
	wait_for 30 etcd_healthy || return 1
	probe_ok put fo/3 v3 || return 1
	[ "$(ctl_get fo/1)" = v1 ] && [ "$(ctl_get fo/3)" = v3 ] &&
	    ctl_absent fo/2
}

check_watch_after_restart()
{
	ctl put w/4 four >/dev/null || return 1
	wait_for 15 watch_has_event PUT w/4 four || return 1
	[ -z "$(grep -v '^CONNECTED\|^LOST' "$(watch_file)" | sort | uniq -d)" ]
}

check_tls()
{
	local pki=$TMP_ROOT/pki out
	out=$(printf 'put tls/1 secure\nget tls/1\n' | ns_exec sw "$PROBE" \
	    -e "$(etcd_tls_url 2)" -e "$(etcd_tls_url 3)" -c "$pki/cli.pem" \
	    -k "$pki/cli.key" -C "$pki/ca.pem" -t $REQUEST_MS)
	log_info "tls: $(printf '%s' "$out" | tr '\n' '|')"
	printf '%s\n' "$out" |
	    grep -q "^ok rev=.* endpoint=$(etcd_tls_url 2) " || return 1
	printf '%s\n' "$out" | grep -q '^ok n=1 tls/1=secure ' || return 1
	[ "$(ctl_get tls/1)" = secure ]
}

check_tls_needs_client_cert()
{
	local out
	out=$(echo 'get tls/1' | ns_exec sw "$PROBE" -e "$(etcd_tls_url 2)" \
	    -C "$TMP_ROOT/pki/ca.pem" -t 1000)
	case $out in "err no etcd endpoint answered"*) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------- run

mkdir -p "$TMP_ROOT/probe"
make_certs || die "openssl could not make the test certificates"
ns_create sw
bridge_create sw br0 "$CLIENT/24"
# shellcheck disable=SC2086
etcd_cluster_start sw br0 "$NET" $MEMBERS
wait_for 30 etcd_healthy || bail_out "the etcd cluster did not come up"
check "three-member cluster healthy" \
    eval '[ "$(ctl member list | wc -l)" = 3 ]'

probe_start
KILLED=
check "put then get, etcdctl reads it back" check_put_get
check "create_if_absent: first wins, second sees the owner" \
    check_create_if_absent
check "8 clients race on one key: one winner, all agree" \
    check_race_in_process
check "two processes on two members race: one winner, x5" \
    check_race_two_processes
check "get_prefix returns exactly the prefix, in order" check_prefix
check "delete_if: wrong revision loses, right one deletes" check_delete_if
check "cas: wrong revision loses, right one writes" check_cas
check "lease: grant, attach, keepalive, revoke deletes the key" \
    check_lease_revoke
check "lease without keepalive expires with its key" check_lease_expires
check "watch sees puts and deletes under its prefix only" check_watch
check "kill -9 the member in use: requests go on elsewhere" check_failover
check "watch resumes on another member, nothing twice" \
    check_watch_after_failover
check "all members down: clean error within the request timeout" \
    check_all_down
check "all members back: requests work again" check_all_back
check "watch resumes after the whole cluster restarted" \
    check_watch_after_restart
check "https with a client certificate" check_tls
check "https without a client certificate is refused" \
    check_tls_needs_client_cert

# quit frees everything: a sanitizer build exits non-zero on a leak
probe_exits_cleanly()
{
	local pid=$PROBE_CO_PID
	printf 'quit\n' >&"${PROBE_CO[1]}" || return 1
	wait "$pid"
}

probe_ok stats && log_info "client: $REPLY_LINE"
check "the client exits cleanly (watch and connections freed)" \
    probe_exits_cleanly
summary
