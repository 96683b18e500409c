#!/usr/bin/env bash
#
# Out-of-tree build of evpnd in $BUILD_DIR (default: build/ at the repo
# root).
#   scripts/build.sh [--sanitizers]
# Regenerates the autotools files when configure is missing or older
# than its inputs, (re)configures when the build dir is new or was
# configured with other flags, then runs make.  --sanitizers adds
# --enable-sanitizers --enable-werror (what CI and scripts/test.sh use).

set -euo pipefail

cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
JOBS=${JOBS:-$(nproc)}

flags=()
for arg in "$@"; do
	case $arg in
	--sanitizers)
		flags+=(--enable-sanitizers --enable-werror)
		;;
	-h | --help)
		sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build.sh: unknown argument '$arg'" >&2
		exit 2
		;;
	esac
done

# A Makemodule.am change alone is left to make, which re-runs automake.
need_autoreconf()
{
	[ -x configure ] || return 0
	[ -n "$(find configure.ac Makefile.am -newer configure)" ]
}

if need_autoreconf; then
	echo "build: autoreconf -fi"
	autoreconf -fi
fi

if [ -f config.status ]; then
	echo "build: the source tree is configured in place;" \
	    "run 'make distclean' in $REPO_ROOT first" >&2
	exit 1
fi

mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"

# The flags of the last configure run, to notice a switch between a
# sanitizer build and a plain one.
stamp=.evpnd-configure-flags
want="${flags[*]:-}"
if [ ! -f config.status ] || [ ! -f "$stamp" ] ||
    [ "$(cat "$stamp")" != "$want" ]; then
	echo "build: configure ${want:-(default flags)}"
	"$REPO_ROOT/configure" ${flags[@]+"${flags[@]}"}
	printf '%s' "$want" >"$stamp"
fi

make -j"$JOBS"
