/*
 * What the evpnd process gives up before it serves anything.
 *
 * How this works: started as root (or with ambient capabilities), the
 * process keeps only the capabilities it uses: CAP_NET_ADMIN (netlink
 * changes to links, FDB, neighbours and routes; forced socket buffer
 * sizes), CAP_NET_BIND_SERVICE (port 179, and a new listen port on a
 * reload) and CAP_NET_RAW (raw and packet sockets, SO_BINDTODEVICE).
 * TCP MD5 keys (TCP_MD5SIG) and TTLs need none.  The rest leaves the
 * effective, permitted, inheritable and ambient sets and, when the
 * process may change it, the bounding set, so not even an execve could
 * bring it back; no_new_privs is set too.  This happens once, before
 * the first thread starts: Linux capabilities are per thread, and a
 * thread inherits its creator's.  The process is also made
 * non-dumpable: no core file, and no ptrace or /proc/PID/mem for a
 * user other than root, with its keys and passwords in memory.
 *
 * Files the process reads later (a reload's config, TLS files, the
 * state directory) must be readable without CAP_DAC_OVERRIDE: owned by
 * its user, as the packaged layout has them.
 */
#ifndef DAEMON_HARDEN_H
#define DAEMON_HARDEN_H

#include <stddef.h>
#include <stdint.h>

/* The capabilities kept, as a mask of 1 << CAP_*. */
uint64_t	 harden_kept_caps(void);
/* Drop the rest and become non-dumpable; -1 with err filled. */
int		 harden_process(char *err, size_t errlen);

#endif
