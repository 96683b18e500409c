#!/usr/bin/env bash
#
# Install what building and testing evpnd needs on Debian 12, with
# apt-get.  Asks dpkg first, so a second run on a ready machine is quick
# and needs no network; "apt-get update" only runs when something is
# missing.  Run as root (CI runs it as root with no stdin).

set -euo pipefail

PACKAGES="build-essential autoconf automake libtool pkg-config
libevent-dev libnl-3-dev libnl-route-3-dev libssl-dev check
libjansson-dev libsqlite3-dev libldns-dev clang libclang-rt-14-dev frr iproute2
iputils-ping tshark jq curl python3 sqlite3 openssl gnuplot-nox
etcd-server etcd-client containernetworking-plugins podman runc busybox-static
knot dnsutils softflowd iputils-arping
debhelper dh-autoreconf dpkg-dev fakeroot lintian man-db groff-base"

missing=()
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) ||
	    status=
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing: ${missing[*]}; run as root to install" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
