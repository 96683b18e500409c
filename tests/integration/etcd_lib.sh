# shellcheck shell=bash
#
# An etcd 3.4 cluster for the integration tests, on top of lib.sh
# (source that first): each member in a namespace of its own, started,
# killed with -9 and read back with etcdctl.
#
# How this works: etcd_cluster_create NET N... makes namespaces e1..eN,
# each with eth0 (NET.N/24) on bridge BRIDGE of namespace NS (the
# caller's switch), and starts the members as one cluster (fast
# elections: 50 ms heartbeat, 500 ms election timeout).  Members are
# children of the test shell; lib.sh's cleanup stops whatever still
# runs in the test's namespaces.  etcd_ctl runs etcdctl from NS against
# every member.  With ETCD_TLS_DIR set (srv.pem, srv.key and the client
# CA ca.pem in it, e.g. made with tls_lib.sh), each member also listens
# on etcd_tls_url N and asks https clients for a certificate.

declare -A _ETCD_PID=()
declare -A _ETCD_START=()
_ETCD_NET=
_ETCD_MEMBERS=
_ETCD_CTL_NS=
ETCD_TLS_DIR=${ETCD_TLS_DIR:-}

etcd_url()
{
	printf 'http://%s.%s:2379' "$_ETCD_NET" "$1"
}

etcd_tls_url()
{
	printf 'https://%s.%s:2381' "$_ETCD_NET" "$1"
}

etcd_urls()
{
	local m out=
	for m in $_ETCD_MEMBERS; do
		out+="${out:+,}$(etcd_url "$m")"
	done
	printf '%s' "$out"
}

# etcd_member_start N: member N in namespace eN, on its data dir.
etcd_member_start()
{
	local n=$1 dir=$TMP_ROOT/etcd-m$1 cluster= m listen tls=()
	mkdir -p "$dir"
	for m in $_ETCD_MEMBERS; do
		cluster+="${cluster:+,}m$m=http://$_ETCD_NET.$m:2380"
	done
	listen=$(etcd_url "$n")
	if [ -n "$ETCD_TLS_DIR" ]; then
		listen+=",$(etcd_tls_url "$n")"
		tls=(--cert-file "$ETCD_TLS_DIR/srv.pem"
		    --key-file "$ETCD_TLS_DIR/srv.key" --client-cert-auth
		    --trusted-ca-file "$ETCD_TLS_DIR/ca.pem")
	fi
	ip netns exec "$(ns_name "e$n")" etcd --name "m$n" \
	    --data-dir "$dir/data" \
	    --listen-client-urls "$listen" \
	    --advertise-client-urls "$(etcd_url "$n")" \
	    --listen-peer-urls "http://$_ETCD_NET.$n:2380" \
	    --initial-advertise-peer-urls "http://$_ETCD_NET.$n:2380" \
	    --initial-cluster "$cluster" --initial-cluster-state new \
	    --initial-cluster-token "$RUN_PREFIX" \
	    --heartbeat-interval 50 --election-timeout 500 "${tls[@]}" \
	    >>"$dir/etcd.log" 2>&1 &
	_ETCD_PID[$n]=$!
	_ETCD_START[$n]=$(_proc_start "$!")
}

# etcd_member_kill N: SIGKILL member N (only while that pid is it).
etcd_member_kill()
{
	local pid=${_ETCD_PID[$1]:-}
	[ -n "$pid" ] || return 0
	_same_proc "$pid" "${_ETCD_START[$1]}" && kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	_ETCD_PID[$1]=
}

etcd_ctl()
{
	ns_exec "$_ETCD_CTL_NS" etcdctl --endpoints="$(etcd_urls)" \
	    --command-timeout=3s --dial-timeout=1s "$@" 2>/dev/null
}

etcd_healthy()
{
	local m
	for m in $_ETCD_MEMBERS; do
		ns_exec "$_ETCD_CTL_NS" etcdctl --endpoints="$(etcd_url "$m")" \
		    --command-timeout=2s endpoint health >/dev/null 2>&1 ||
		    return 1
	done
}

# etcd_cluster_start NS BRIDGE NET N...: the members on BRIDGE of NS,
# started (not yet healthy).
etcd_cluster_start()
{
	local ns=$1 br=$2 n
	_ETCD_NET=$3
	shift 3
	_ETCD_MEMBERS="$*"
	_ETCD_CTL_NS=$ns
	ip -n "$(ns_name "$ns")" addr add "$_ETCD_NET.254/24" dev "$br"
	for n in "$@"; do
		ns_create "e$n"
		bridge_attach "e$n" eth0 "$_ETCD_NET.$n/24" "$ns" "$br" "p-e$n"
	done
	for n in "$@"; do
		etcd_member_start "$n"
	done
}

# etcd_cluster_create NS BRIDGE NET N...: started and healthy (or die).
etcd_cluster_create()
{
	etcd_cluster_start "$@"
	wait_for 20 etcd_healthy || die "etcd cluster did not come up"
}
