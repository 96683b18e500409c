/*
 * The container's interface, seen from inside its network namespace:
 * its MAC, setting the MAC, its addresses.
 *
 * How this works: each operation enters the namespace with setns(2)
 * (the plugin is one thread), does its work on sockets made inside it
 * (a socket belongs to the namespace it was created in: SIOC*IF*
 * ioctls for the link, getifaddrs' netlink socket for addresses) and
 * goes back to the namespace it came from before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cni.h"

struct netns_op {
	const char	*ifname;
	char		*err;
	size_t		 errlen;
	/* in/out of the operation */
	struct cni_link	*link;
	const struct macaddr *mac;
	struct macaddr	*old;
	const struct ipaddr *ip;
	int		 plen;
	int		 found;
};

/* Run fn inside the namespace at path; -1 with err if it cannot be
 * entered or left, else what fn returned. */
static int
netns_run(const char *path, int (*fn)(struct netns_op *),
    struct netns_op *op)
{
	int self, target, rc;

	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(op->err, op->errlen, "cannot open our own network "
		    "namespace: %s", strerror(errno));
		return -1;
	}
	if ((target = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    setns(target, CLONE_NEWNET) == -1) {
		snprintf(op->err, op->errlen, "cannot enter network namespace "
		    "%s: %s", path, strerror(errno));
		if (target != -1)
			close(target);
		close(self);
		return -1;
	}
	rc = fn(op);
	if (setns(self, CLONE_NEWNET) == -1) {
		snprintf(op->err, op->errlen, "cannot return from network "
		    "namespace %s: %s", path, strerror(errno));
		rc = -1;
	}
	close(target);
	close(self);
	return rc;
}

static int
link_ioctl(int s, unsigned long req, struct ifreq *ifr, struct netns_op *op,
    const char *what)
{
	if (ioctl(s, req, ifr) == 0)
		return 0;
	snprintf(op->err, op->errlen, "%s %s: %s", what, op->ifname,
	    strerror(errno));
	return -1;
}

static int
link_sock(struct netns_op *op, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s == -1)
		snprintf(op->err, op->errlen, "socket: %s", strerror(errno));
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", op->ifname);
	return s;
}

static int
op_link_get(struct netns_op *op)
{
	struct ifreq ifr;
	int s, rc = 0;

	if ((s = link_sock(op, &ifr)) == -1)
		return -1;
	memset(op->link, 0, sizeof(*op->link));
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0) {
		op->link->exists = true;
		memcpy(op->link->mac.b, ifr.ifr_hwaddr.sa_data, 6);
	} else if (errno != ENODEV) {
		snprintf(op->err, op->errlen, "cannot read %s: %s", op->ifname,
		    strerror(errno));
		rc = -1;
	}
	close(s);
	return rc;
}

int
cni_link_get(const char *netns, const char *ifname, struct cni_link *link,
    char *err, size_t errlen)
{
	struct netns_op op = { .ifname = ifname, .err = err,
	    .errlen = errlen, .link = link };

	return netns_run(netns, op_link_get, &op);
}

/* For a driver that refuses a new MAC while running (EBUSY): down,
 * set, up. */
static int
link_set_mac_down(int s, struct ifreq *ifr, struct netns_op *op)
{
	struct ifreq flags;
	int rc;

	memset(&flags, 0, sizeof(flags));
	memcpy(flags.ifr_name, ifr->ifr_name, sizeof(flags.ifr_name));
	if (link_ioctl(s, SIOCGIFFLAGS, &flags, op, "cannot read flags of") ==
	    -1)
		return -1;
	flags.ifr_flags &= ~IFF_UP;
	if (link_ioctl(s, SIOCSIFFLAGS, &flags, op, "cannot set down") == -1)
		return -1;
	rc = link_ioctl(s, SIOCSIFHWADDR, ifr, op, "cannot set the MAC of");
	flags.ifr_flags |= IFF_UP;
	if (link_ioctl(s, SIOCSIFFLAGS, &flags, op, "cannot set up") == -1)
		rc = -1;
	return rc;
}

/*
 * The new MAC on the running interface (veth allows that), so its peer
 * keeps its carrier: after IPAM the bridge plugin waits up to 2.5 s for
 * its port to be up.  The IPv6 link-local address made from the old
 * MAC stays; the old MAC itself is gone.
 */
static int
op_link_set_mac(struct netns_op *op)
{
	struct ifreq ifr;
	int s, rc = -1;

	if ((s = link_sock(op, &ifr)) == -1)
		return -1;
	if (link_ioctl(s, SIOCGIFHWADDR, &ifr, op, "cannot read") == -1)
		goto out;
	memcpy(op->old->b, ifr.ifr_hwaddr.sa_data, 6);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, op->mac->b, 6);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) == 0)
		rc = 0;
	else if (errno == EBUSY)
		rc = link_set_mac_down(s, &ifr, op);
	else
		snprintf(op->err, op->errlen, "cannot set the MAC of %s: %s",
		    op->ifname, strerror(errno));
out:
	close(s);
	return rc;
}

int
cni_link_set_mac(const char *netns, const char *ifname,
    const struct macaddr *mac, struct macaddr *old, char *err, size_t errlen)
{
	struct netns_op op = { .ifname = ifname, .err = err,
	    .errlen = errlen, .mac = mac, .old = old };

	return netns_run(netns, op_link_set_mac, &op);
}

/* Leading one bits of a netmask. */
static int
mask_len(const struct sockaddr *sa)
{
	const uint8_t *b;
	size_t n;
	int len = 0;

	if (sa->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->
		    sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n && b[i] != 0; i++)
		for (uint8_t m = 0x80; m != 0 && (b[i] & m); m >>= 1)
			len++;
	return len;
}

static int
op_link_has_addr(struct netns_op *op)
{
	struct ifaddrs *all, *ifa;
	struct ipaddr a;

	if (getifaddrs(&all) == -1) {
		snprintf(op->err, op->errlen, "getifaddrs: %s",
		    strerror(errno));
		return -1;
	}
	op->found = 0;
	for (ifa = all; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL ||
		    strcmp(ifa->ifa_name, op->ifname) != 0 ||
		    ipaddr_from_sockaddr(ifa->ifa_addr, &a, NULL) == -1)
			continue;
		if (ipaddr_cmp(&a, op->ip) == 0 &&
		    mask_len(ifa->ifa_netmask) == op->plen)
			op->found = 1;
	}
	freeifaddrs(all);
	return op->found;
}

int
cni_link_has_addr(const char *netns, const char *ifname,
    const struct ipaddr *ip, int plen, char *err, size_t errlen)
{
	struct netns_op op = { .ifname = ifname, .err = err,
	    .errlen = errlen, .ip = ip, .plen = plen };

	return netns_run(netns, op_link_has_addr, &op);
}
