/*
 * Dropping capabilities and becoming non-dumpable (harden.h).  The
 * capget/capset system calls are used directly: glibc has no wrapper
 * and libcap would be a dependency for three calls.
 */
#include "daemon/harden.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "common/log.h"

#define CAP_BIT(c)	(1ULL << (c))

uint64_t
harden_kept_caps(void)
{
	return CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_NET_BIND_SERVICE) |
	    CAP_BIT(CAP_NET_RAW);
}

static int
caps_get(uint64_t *permitted)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	*permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	return 0;
}

static int
caps_set(uint64_t caps)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++)
		data[i].effective = data[i].permitted =
		    (uint32_t)(caps >> (32 * i));
	return syscall(SYS_capset, &hdr, data) == -1 ? -1 : 0;
}

/*
 * Out of the bounding set with everything not kept.  That takes
 * CAP_SETPCAP; without it the set is what the service manager left
 * (which cannot give back more than the permitted set allows anyway).
 */
static int
bounding_drop(uint64_t keep, uint64_t permitted, char *err, size_t errlen)
{
	if ((permitted & CAP_BIT(CAP_SETPCAP)) == 0)
		return 0;
	for (int c = 0; c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0;
	    c++) {
		if ((keep & CAP_BIT(c)) != 0 ||
		    prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1) {
			snprintf(err, errlen, "dropping capability %d from the "
			    "bounding set: %s", c, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
harden_process(char *err, size_t errlen)
{
	uint64_t permitted, keep = harden_kept_caps();

	if (caps_get(&permitted) == -1) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	if ((keep & ~permitted) != 0)
		log_warn("running without some of CAP_NET_ADMIN, "
		    "CAP_NET_BIND_SERVICE, CAP_NET_RAW: the kernel will refuse "
		    "what needs them");
	keep &= permitted;
	if (bounding_drop(keep, permitted, err, errlen) == -1)
		return -1;
	/* Ambient capabilities would survive an execve: none. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "clearing ambient capabilities: %s",
		    strerror(errno));
		return -1;
	}
	if (caps_set(keep) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return -1;
	}
	log_info("capabilities dropped to %#llx; not dumpable",
	    (unsigned long long)keep);
	return 0;
}
