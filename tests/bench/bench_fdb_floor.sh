#!/bin/sh
# The kernel floor for remote-MAC programming: COUNT (default 100000)
# FDB entries added to a fresh VXLAN device, once with iproute2's
# "bridge -batch" and once through netlink/ (nl_fdb_bench), each in a
# scratch network namespace.  Run by hand as root from the build
# directory (or set NL_FDB_BENCH to the program's path).
set -eu
COUNT=${1:-100000}
BENCH=${NL_FDB_BENCH:-./tests/bench/nl_fdb_bench}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
[ -x "$BENCH" ] || { echo "$BENCH: not built (make tests/bench/nl_fdb_bench)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++)
	printf "fdb replace 02:00:00:%02x:%02x:%02x dev vx100 dst 10.0.0.12 self master extern_learn\n",
	    int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' > "$TMP/batch"

mkdev='ip link set lo up && ip link add br100 type bridge &&
	ip link add vx100 type vxlan id 100 local 10.0.0.1 dstport 4789 nolearning &&
	ip link set vx100 master br100 && ip link set br100 up && ip link set vx100 up'

unshare -n sh -c "$mkdev"'
	t0=$(date +%s.%N); bridge -batch '"$TMP/batch"'; t1=$(date +%s.%N)
	echo "bridge -batch: '"$COUNT"' entries in $(echo "$t1 - $t0" | bc) s"
	echo "  kernel holds $(bridge fdb show dev vx100 | grep -c "dst 10.0.0.12")"'

unshare -n sh -c "$mkdev"'
	'"$BENCH"' vx100 '"$COUNT"'
	echo "  kernel holds $(bridge fdb show dev vx100 | grep -c "dst 10.0.0.12")"'
