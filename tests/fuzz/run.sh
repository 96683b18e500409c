#!/bin/sh
# Build and run the libFuzzer targets.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS         how long to fuzz each target (default 30)
#   TARGET          fuzz_msg ... (default: all in TARGETS below)
# Environment:
#   FUZZ_BUILD_DIR  where binaries, corpus copies and crash files go
#                   (default: a fresh mktemp -d, kept for inspection)
#   CC              a clang with libFuzzer (default: clang)
#   FUZZ_TIMEOUT    seconds one input may take before it counts as a
#                   hang (default 25)
#
# "make check" replays each corpus without libFuzzer (replay.c,
# tests/fuzz/Makemodule.am): add a new target there too.
#
# Exits non-zero when a target fails to build or finds a crash; the
# crashing input is left in $FUZZ_BUILD_DIR/<target>/.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SECONDS_PER_TARGET=${1:-30}
[ $# -gt 0 ] && shift
CC=${CC:-clang}
BUILD=${FUZZ_BUILD_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/evpnd-fuzz.XXXXXX")}
mkdir -p "$BUILD"

# Targets and the sources each links, relative to the top of the tree.
# Add a parser: append its .c file here (and decode it in the target).
TARGETS="fuzz_msg fuzz_update fuzz_attr fuzz_evpn fuzz_conf fuzz_flow fuzz_pkt fuzz_etcd fuzz_netlink fuzz_rib fuzz_store fuzz_shadow fuzz_fabconv fuzz_api fuzz_dns"
# folder DIR...: a folder's sources (not its benchmarks), so that a new
# file in a parser's folder cannot leave a target unlinkable.
folder()
{
	(cd "$TOP" && for d in "$@"; do echo "$d"/*.c; done) |
	    tr ' ' '\n' | grep -v '_bench\.c$' | tr '\n' ' '
}
COMMON_SOURCES="$(folder common)"
ATTR_SOURCES="bgpd/bgp_attr.c bgpd/bgp_attr_decode.c bgpd/bgp_attr_encode.c"
# The family table with the l2vpn evpn row (registered by fuzz_af.c).
AF_SOURCES="tests/fuzz/fuzz_af.c bgpd/bgp_af.c evpn/evpn_af.c evpn/evpn_nlri.c $ATTR_SOURCES"
SOURCES_fuzz_msg="$COMMON_SOURCES bgpd/bgp_msg.c bgpd/bgp_caps.c $AF_SOURCES"
SOURCES_fuzz_attr="$COMMON_SOURCES $AF_SOURCES"
SOURCES_fuzz_update="$COMMON_SOURCES bgpd/bgp_msg.c bgpd/bgp_caps.c $AF_SOURCES"
SOURCES_fuzz_evpn="$COMMON_SOURCES evpn/evpn_nlri.c"
SOURCES_fuzz_conf="$COMMON_SOURCES $(folder conf)"
SOURCES_fuzz_flow="$COMMON_SOURCES telemetry/flow.c"
SOURCES_fuzz_pkt="$COMMON_SOURCES telemetry/pkt.c"
SOURCES_fuzz_etcd="$COMMON_SOURCES datastore/etcd_encode.c datastore/etcd_decode.c datastore/etcd_stream.c"
SOURCES_fuzz_dns="$COMMON_SOURCES dns/dns_msg.c"
NETLINK_SOURCES="netlink/nl.c netlink/nl_dump.c netlink/nl_link.c netlink/nl_fdb.c netlink/nl_route.c"
SOURCES_fuzz_netlink="$COMMON_SOURCES $NETLINK_SOURCES"
# A whole routing core on the unit tests' fake transport.
# The daemon's libraries (ipam/ for evpn/'s address pools).
CORE_SOURCES="$(folder common conf bgpd evpn ipam)"
RIB_SOURCES="$CORE_SOURCES tests/unit/fake_peer.c"
SOURCES_fuzz_rib="$RIB_SOURCES"
# Slow: each input opens SQLite and starts the writer thread, so it runs
# a few executions a second; its seed corpus stays tiny.
SOURCES_fuzz_store="$COMMON_SOURCES $(folder ipam)"
# The shadow engine's saved state (a blob from the state database).
SOURCES_fuzz_shadow="$COMMON_SOURCES $(folder ipam)"
MAXLEN_fuzz_shadow=131072
SOURCES_fuzz_fabconv="$COMMON_SOURCES ipamd/fabric_conv_value.c"
# Largest input per target (default 4200, a BGP message and a bit).
MAXLEN_fuzz_store=65536
SOURCES_fuzz_api="$COMMON_SOURCES api/api_body.c ipam/labels.c"
# Seed corpus directory per target, under tests/fuzz/corpus/.
CORPUS_fuzz_msg="msg"
CORPUS_fuzz_evpn="evpn"
CORPUS_fuzz_attr="attr"
CORPUS_fuzz_update="update"
CORPUS_fuzz_conf="conf"
CORPUS_fuzz_flow="flow"
CORPUS_fuzz_pkt="pkt"
CORPUS_fuzz_etcd="etcd"
CORPUS_fuzz_dns="dns"
CORPUS_fuzz_netlink="netlink"
CORPUS_fuzz_rib="rib"
CORPUS_fuzz_store="store"
CORPUS_fuzz_shadow="shadow"
CORPUS_fuzz_fabconv="fabconv"
CORPUS_fuzz_api="api"
# Libraries a target needs beyond libc (default none).
LIBS_fuzz_netlink="$(pkg-config --libs libnl-route-3.0 libnl-3.0 libevent 2>/dev/null || echo -lnl-route-3 -lnl-3 -levent)"
LIBS_fuzz_rib="$(pkg-config --libs libevent check libcrypto jansson sqlite3 2>/dev/null || echo -levent -lcheck -lcrypto -ljansson -lsqlite3) -lm -lpthread"
LIBS_fuzz_store="$(pkg-config --libs libevent sqlite3 libcrypto jansson 2>/dev/null || echo -levent -lsqlite3 -lcrypto -ljansson) -lpthread -lm"
LIBS_fuzz_shadow="$LIBS_fuzz_store"
LIBS_fuzz_etcd="$(pkg-config --libs jansson libcrypto 2>/dev/null || echo -ljansson -lcrypto)"
LIBS_fuzz_dns="-lldns $(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)"
LIBS_fuzz_fabconv="$(pkg-config --libs jansson 2>/dev/null || echo -ljansson)"
LIBS_fuzz_api="$(pkg-config --libs jansson 2>/dev/null || echo -ljansson)"

CFLAGS="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$TOP $(pkg-config --cflags libevent libnl-3.0 2>/dev/null || true)"

[ $# -gt 0 ] && TARGETS="$*"
status=0
for t in $TARGETS; do
	eval "srcs=\$SOURCES_$t"
	eval "corpus=\$CORPUS_$t"
	eval "libs=\${LIBS_$t:-}"
	eval "maxlen=\${MAXLEN_$t:-4200}"
	files="$HERE/$t.c"
	for s in $srcs; do
		files="$files $TOP/$s"
	done
	out="$BUILD/$t"
	mkdir -p "$out/corpus"
	echo "== building $t in $out"
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS $files -o "$out/$t" $libs; then
		echo "== $t: BUILD FAILED" >&2
		status=1
		continue
	fi
	cp "$HERE/corpus/$corpus"/* "$out/corpus/" 2>/dev/null || true
	echo "== running $t for ${SECONDS_PER_TARGET}s"
	# A slow input is a bug too (a hang ends the run at once, instead of
	# after libFuzzer's default of 20 minutes).
	if ! (cd "$out" && "./$t" -max_total_time="$SECONDS_PER_TARGET" \
	    -timeout="${FUZZ_TIMEOUT:-25}" -max_len="$maxlen" \
	    -print_final_stats=1 -close_fd_mask=1 corpus >"$out/log" 2>&1); then
		tail -n 60 "$out/log"
		echo "== $t: CRASH (inputs in $out)" >&2
		status=1
	else
		grep -E "^stat::(number_of_executed_units|new_units_added)" \
		    "$out/log" || true
		echo "== $t: ok"
	fi
done
exit $status
