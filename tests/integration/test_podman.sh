#!/usr/bin/env bash
#
# Podman runs containers on an evpnd network: Debian 12's podman 4.3
# with its CNI network backend executes the README's conflist (bridge
# with evpnd-cni as IPAM, then evpnd-cni chained), so
# "podman run --network tenant-a" gets evpnd's address and MAC.
#
#         h (the host: evpnd, br100 + vx100 (VNI 100), pool train
#            10.10.0.0/24; podman runs here, so its CNI plugins find
#            br100 and evpnd's socket)
#          |          |
#      web-1        web-2     podman containers, eth0 a veth into br100
#
# No image is pulled: the root filesystem is busybox-static in a
# tarball given to "podman import".  Podman is confined to this run:
# its own containers.conf (CONTAINERS_CONF) and storage.conf
# (CONTAINERS_STORAGE_CONF) put its storage, run and lock directories
# and its CNI config directory under the test's temp dir, and its CNI
# plugin directory is cni_lib.sh's CNI_PATH.  For CI machines that are
# themselves containers, the conf (a) names runc as the OCI runtime:
# crun 1.8 refuses a cgroup v1 hierarchy with a cgroup2 "unified" mount
# beside it ("cgroups in hybrid mode not supported"); (b) sets the
# containers' RLIMIT_NOFILE and RLIMIT_NPROC to 1024: podman's default
# of 1048576 is above such a machine's hard limits, and raising those
# needs CAP_SYS_RESOURCE, which a docker container lacks ("setrlimit
# RLIMIT_NOFILE: Operation not permitted"); (c) uses the vfs storage
# driver (no overlay on overlay) and cgroupfs (no systemd).  Podman
# runs in h through nsenter, not "ip netns exec": that mounts a sysfs
# of its own over /sys, which hides the cgroup mounts ("no cgroup mount
# found in mountinfo").
#
# Cases: podman imports the root filesystem; (1) podman run of two
# containers on network tenant-a succeeds; (2) evpnd holds one
# allocation for each, named CONTAINER-ID/eth0 (podman passes no K8S_*
# arguments); (3) each
# container's eth0 has its allocation's MAC and address (seen from
# inside, with busybox), and podman inspect reports that address;
# (4) evpnd advertises each as a local type-2 MAC+IP route; (5) the
# containers ping each other; (6) podman rm releases the allocation and
# withdraws the route; no sanitizer report.
#
# Environment: BUILD_DIR (evpnd, evpnctl, evpnd-cni), BUSYBOX (default
# /bin/busybox, must be static), PODMAN_RUNTIME (default runc).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evpn_lib.sh"
. "$(dirname "$0")/cni_lib.sh"
cni_require

BUSYBOX=${BUSYBOX:-/bin/busybox}
PODMAN_RUNTIME=${PODMAN_RUNTIME:-runc}
for t in podman "$PODMAN_RUNTIME"; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: missing $t"; exit 77; }
done
if [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "SKIP: no static busybox at $BUSYBOX"
	exit 77
fi

VTEP=10.0.0.11
# shellcheck disable=SC2034 # read by cni_lib.sh
CNI_EVPND=h
PODMAN_DIR=$TMP_ROOT/podman
IMAGE=localhost/evpnd-busybox:test

leaf_conf()
{
	cat <<EOF
log stdout debugging
vxlan vx100
 vni 100
 bridge br100
 local-tunnel-ip $VTEP
!
ipam pool train
 vni 100
 prefix 10.10.0.0/24
 gateway 10.10.0.1
 mac-prefix 02:00:c0
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

# ---------------------------------------------------------------- podman

# podman_setup: this run's podman configuration, network and image.
podman_setup()
{
	local d=$PODMAN_DIR
	mkdir -p "$d/net.d" "$d/tmp" "$d/rootfs/bin"
	cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "$PODMAN_RUNTIME"
tmp_dir = "$d/tmp"

[network]
network_backend = "cni"
cni_plugin_dirs = ["$PLUGINS"]
network_config_dir = "$d/net.d"
EOF
	cat >"$d/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$d/root"
runroot = "$d/run"
EOF
	conflist train ipv4 br100 >"$d/net.d/tenant-a.conflist"
	cp "$BUSYBOX" "$d/rootfs/bin/busybox"
	for a in sh ip ping cat sleep; do
		ln -s busybox "$d/rootfs/bin/$a"
	done
	tar -C "$d/rootfs" -cf "$d/rootfs.tar" .
}

# pm ARGS...: this run's podman, in the host namespace h (nsenter: see
# above).
pm()
{
	nsenter --net="/var/run/netns/$(ns_name h)" env \
	    CONTAINERS_CONF="$PODMAN_DIR/containers.conf" \
	    CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf" \
	    podman "$@"
}

# Remove this run's containers (their namespaces, then the cgroups
# under their parent) before lib.sh's cleanup removes ours.
podman_cleanup()
{
	local rc=$?
	[ -f "$PODMAN_DIR/containers.conf" ] &&
	    pm rm -a -f -t 0 >/dev/null 2>&1
	find /sys/fs/cgroup/*/"$RUN_PREFIX-podman" -depth -type d \
	    -exec rmdir {} + 2>/dev/null
	(exit "$rc")
	_cleanup
}
trap podman_cleanup EXIT

# ---------------------------------------------------------------- readers

# pm_eth0 NAME: "MAC ADDR/LEN" of eth0 inside the container.
pm_eth0()
{
	pm exec "$1" cat /sys/class/net/eth0/address &&
	    pm exec "$1" ip -4 -o addr show dev eth0 |
	    awk '{ print $4 }'
}

# evpnd_local_route ALLOC-JSON: evpnd advertises its MAC+IP route.
evpnd_local_route()
{
	evpnd_route h "[2]:[0]:[48]:[$(jq -r .mac <<<"$1")]:[32]:[$(jq -r .ip \
	    <<<"$1")]" local
}

evpnd_no_local_route()
{
	! evpnd_local_route "$1"
}

no_alloc()
{
	[ -z "$(alloc "$1")" ]
}

# ---------------------------------------------------------------- setup

ns_create h
ns_exec h ip link set lo up
evpnd_start h h "$(leaf_conf)"
wait_for 10 ns_exec h ip link show br100 || die "evpnd made no br100"
podman_setup
check "podman imports the busybox root filesystem" \
    eval 'pm import -q "$PODMAN_DIR/rootfs.tar" "$IMAGE" >/dev/null 2>&1'

# ---------------------------------------------------------------- 1-5

declare -A ALLOC=() ID=()
for c in web-1 web-2; do
	out=$(pm run -d --name "$c" --network tenant-a \
	    --cgroup-parent "/$RUN_PREFIX-podman" "$IMAGE" \
	    /bin/sleep 600 2>&1)
	rc=$?
	[ "$rc" = 0 ] || log_info "podman run: $out"
	check "podman run --network tenant-a $c" test "$rc" = 0
	ID[$c]=$(pm inspect -f '{{.Id}}' "$c")
	ALLOC[$c]=$(alloc "${ID[$c]}/eth0")
	check "evpnd holds $c's allocation as CONTAINER-ID/eth0" \
	    test -n "${ALLOC[$c]}"
	[ -n "${ALLOC[$c]}" ] || ALLOC[$c]='{"ip": "none", "mac": "none"}'
	check "$c's eth0 has the allocation's MAC and address" test \
	    "$(pm_eth0 "$c" | tr '\n' ' ')" = "$(jq -r '"\(.mac) \(.ip)/24 "' \
	    <<<"${ALLOC[$c]}")"
	check "podman inspect gives $c the allocation's address" test \
	    "$(pm inspect -f \
	    '{{(index .NetworkSettings.Networks "tenant-a").IPAddress}}' \
	    "$c")" = "$(jq -r .ip <<<"${ALLOC[$c]}")"
	check "evpnd advertises $c as a local type-2 MAC+IP route" \
	    wait_for 10 evpnd_local_route "${ALLOC[$c]}"
done
check "web-1 pings web-2 over br100" \
    eval 'pm exec web-1 ping -c 1 -W 2 "$(jq -r .ip <<<"${ALLOC[web-2]}")" \
    >/dev/null'


# ---------------------------------------------------------------- 6

check "podman rm web-1" eval 'pm rm -f -t 0 web-1 >/dev/null'
check "the allocation of web-1 is released" no_alloc "${ID[web-1]}/eth0"
check "evpnd withdraws web-1's route" \
    wait_for 10 evpnd_no_local_route "${ALLOC[web-1]}"
check "web-2 keeps its allocation" \
    eval '[ -n "$(alloc "${ID[web-2]}/eth0")" ]'
check "no sanitizer report from evpnd" evpnd_sanitizer_clean h

summary
