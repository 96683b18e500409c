#!/usr/bin/env bash
#
# The Debian package as an admin gets it.  Builds evpnd_*.deb from this
# tree with dpkg-buildpackage (in a temp copy, without the tests: the
# tree's build directories are not touched), checks it with lintian,
# installs it with dpkg -i, checks that its files are where dpkg -L says
# and the installed sample configuration passes "evpnd -n", then starts
# evpnd the way evpnd.service does: the installed unit's ExecStart, with
# a NOTIFY_SOCKET this test listens on.  READY=1 must come from the main
# process and "evpnctl show bgp summary" must answer on the default
# socket; the unit's ExecReload and SIGTERM must give RELOADING=1/READY=1
# and STOPPING=1.  Finally the package is purged and nothing of it stays.
#
# systemd is not running in CI, so its part is played here: /run/evpnd
# made as RuntimeDirectory= would, and evpnd runs in a private network
# namespace so the sample's VXLAN devices and peers stay off the host.
#
# Root only (exit 77 otherwise, or when dpkg-buildpackage is missing).
# Refuses to run when an evpnd package, /etc/evpnd or /var/lib/evpnd is
# already there: the purge would remove them.
#
# Environment:
#   DEB=FILE    test this .deb instead of building one
#   JOBS        parallel build jobs (default 2)
#   KEEP_TMP=1  keep the temp dir (build, logs)
# Prints "N passed, N failed".

set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (dpkg -i, network namespaces)"
	exit 77
fi
for t in dpkg-buildpackage dpkg apt-get ip python3; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "SKIP: missing $t"
		exit 77
	}
done

UNIT=/lib/systemd/system/evpnd.service
CONF=/etc/evpnd/evpnd.conf
SOCK=/run/evpnd/evpnd.sock
W=$TMP_ROOT/pkg
mkdir -p "$W"
INSTALLED=0
DAEMON_PID=
LISTENER_PID=

pkg_status()
{
	dpkg-query -W -f='${db:Status-Status}' evpnd 2>/dev/null
}

if [ "$(pkg_status)" = installed ] || [ -e /etc/evpnd ] ||
    [ -e /var/lib/evpnd ]; then
	echo "FATAL: evpnd is installed or /etc/evpnd or /var/lib/evpnd" \
	    "exists; this test installs and purges the package" >&2
	exit 1
fi

# Leave the machine as it was: daemon and listener stopped (lib.sh's
# trap then deletes the namespace and the temp dir), package purged.
pkg_cleanup()
{
	local rc=$?
	[ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
	[ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
	if [ "$INSTALLED" = 1 ] && [ -n "$(pkg_status)" ]; then
		dpkg --purge evpnd >>"$W/dpkg.log" 2>&1
	fi
	rm -rf /run/evpnd
	(exit "$rc")
	_cleanup
}
trap pkg_cleanup EXIT

# ---------------------------------------------------------------- build

# The tree's files as git knows them (tracked and new, not ignored), or
# the whole tree less build directories when this is no git checkout.
copy_tree()
{
	local dst=$1
	mkdir -p "$dst"
	if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$REPO_ROOT" ls-files -z -co --exclude-standard |
		    (cd "$REPO_ROOT" && while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		    done) | tar -C "$REPO_ROOT" --null -T - -cf - |
		    tar -C "$dst" -xf -
	else
		tar -C "$REPO_ROOT" --exclude='./build*' --exclude=./.git \
		    --exclude=./debian/build -cf - . | tar -C "$dst" -xf -
	fi
}

build_deb()
{
	copy_tree "$W/src" &&
	    (cd "$W/src" && DEB_BUILD_OPTIONS="nocheck parallel=${JOBS:-2}" \
	    dpkg-buildpackage -us -uc -b -Pnocheck) >"$W/build.log" 2>&1
}

if [ -n "${DEB:-}" ]; then
	log_info "testing $DEB"
	CHANGES=
else
	log_info "building the package in $W/src"
	start=$(now_ms)
	check "dpkg-buildpackage -us -uc -b builds the package" build_deb
	log_info "package build took $((($(now_ms) - start) / 1000)) s"
	DEB=$(ls "$W"/evpnd_*.deb 2>/dev/null | head -n 1)
	CHANGES=$(ls "$W"/evpnd_*.changes 2>/dev/null | head -n 1)
	[ -n "$DEB" ] || bail_out "no evpnd_*.deb was built"
fi

# lintian's errors ("E:") fail; warnings are listed only.
lintian_clean()
{
	command -v lintian >/dev/null || {
		echo "# lintian is not installed"
		return 1
	}
	lintian "${CHANGES:-$DEB}" >"$W/lintian.out" 2>&1
	sed 's/^/# /' "$W/lintian.out"
	! grep -q '^E:' "$W/lintian.out"
}
check "lintian reports no errors" lintian_clean

# ---------------------------------------------------------------- install

install_deb()
{
	INSTALLED=1
	{
		dpkg -i "$DEB" || DEBIAN_FRONTEND=noninteractive \
		    apt-get -f install -y -q </dev/null
	} >>"$W/dpkg.log" 2>&1
	[ "$(pkg_status)" = installed ]
}
check "dpkg -i installs evpnd" install_deb
[ "$(pkg_status)" = installed ] || bail_out "the package is not installed"

dpkg -L evpnd >"$W/files.out"
listed_and_present()
{
	grep -qx "$1" "$W/files.out" && [ -e "$1" ]
}
for f in /usr/sbin/evpnd /usr/bin/evpnctl \
    /usr/share/man/man8/evpnd.8.gz /usr/share/man/man8/evpnctl.8.gz \
    /usr/share/man/man5/evpnd.conf.5.gz "$UNIT" "$CONF" /var/lib/evpnd \
    /usr/share/doc/evpnd/copyright; do
	check "dpkg -L lists $f and it is there" listed_and_present "$f"
done

all_listed_present()
{
	local f
	while IFS= read -r f; do
		[ -e "$f" ] || { echo "# missing: $f"; return 1; }
	done <"$W/files.out"
}
check "every path dpkg -L lists exists" all_listed_present
check "$CONF is a conffile" \
    bash -c "dpkg-query -W -f='\${Conffiles}' evpnd | grep -q ' $CONF '"
check "shadowsim and tracegen are not installed" \
    bash -c '! grep -Eq "/(shadowsim|tracegen)$" "$1"' _ "$W/files.out"
check "man finds evpnd.conf(5)" \
    bash -c 'man -w 5 evpnd.conf | grep -q evpnd.conf.5'
check "evpnd -n passes on the installed $CONF" \
    bash -c "/usr/sbin/evpnd -n -f $CONF >'$W/canonical.conf'"

# ---------------------------------------------------------------- the unit

unit_value()
{
	sed -n "s/^$1=//p" "$UNIT" | head -n 1
}
check "the unit is Type=notify" test "$(unit_value Type)" = notify
read -r -a EXEC_START <<<"$(unit_value ExecStart)"
check "ExecStart runs the packaged evpnd" \
    test "${EXEC_START[0]:-}" = /usr/sbin/evpnd

# The service manager's side of the notify protocol: one line per
# datagram, "PID MESSAGE" with the sender's pid from its credentials.
NOTIFY=$W/notify.sock
python3 - "$NOTIFY" "$W/notify.out" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
s.settimeout(300)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        pid = 0
        for level, kind, cred in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cred[:12])[0]
        msg = data.decode(errors="replace").replace("\n", " ")
        out.write("%d %s\n" % (pid, msg))
        if "STOPPING=1" in msg:
            break
PY
LISTENER_PID=$!
wait_for 10 test -S "$NOTIFY" || bail_out "the notify listener did not start"

ns_create pkg
mkdir -p -m 0750 /run/evpnd
# Not through the ns_exec function: $! must be evpnd itself (ip netns
# exec and env exec it), the main process the unit's NotifyAccess means.
ip netns exec "$(ns_name pkg)" env NOTIFY_SOCKET="$NOTIFY" \
    "${EXEC_START[@]}" >"$W/evpnd.log" 2>&1 &
DAEMON_PID=$!

# notified N PATTERN: the Nth message matches and came from the daemon.
notified()
{
	local line
	line=$(sed -n "${1}p" "$W/notify.out" 2>/dev/null)
	# shellcheck disable=SC2053  # $2 is a pattern
	[ -n "$line" ] && [[ $line == "$DAEMON_PID "$2 ]]
}
check "READY=1 from evpnd's main process" wait_for 60 notified 1 "READY=1"
check "evpnctl show bgp summary answers on $SOCK" \
    bash -c "/usr/bin/evpnctl show bgp summary >'$W/summary.out' &&
	grep -q 10.0.0.11 '$W/summary.out'"
check "the running config is the installed file's" \
    bash -c "/usr/bin/evpnctl show running-config | cmp -s - '$W/canonical.conf'"
check "the sample's vx100 exists in evpnd's namespace" \
    wait_for 10 ns_exec pkg ip link show vx100

# ExecReload as systemd runs it, $MAINPID replaced.
reloaded()
{
	local cmd
	cmd=$(unit_value ExecReload)
	bash -c "${cmd//\$MAINPID/$DAEMON_PID}" &&
	    wait_for 20 notified 3 "READY=1" &&
	    notified 2 "RELOADING=1 MONOTONIC_USEC=*"
}
check "ExecReload gives RELOADING=1, then READY=1" reloaded

stopped()
{
	kill -TERM "$DAEMON_PID" && wait_for 20 notified 4 "STOPPING=1" &&
	    wait "$DAEMON_PID"
}
check "SIGTERM gives STOPPING=1 and exit 0" stopped
DAEMON_PID=
check "the socket is removed at exit" test ! -e "$SOCK"
rm -rf /run/evpnd

# ---------------------------------------------------------------- purge

purged()
{
	local status
	dpkg --purge evpnd >>"$W/dpkg.log" 2>&1 || return 1
	status=$(pkg_status)
	[ -z "$status" ] || [ "$status" = not-installed ]
}
check "dpkg --purge removes the package" purged
for f in /usr/sbin/evpnd /usr/bin/evpnctl "$UNIT" /etc/evpnd /var/lib/evpnd; do
	check "$f is gone after the purge" test ! -e "$f"
done

summary
