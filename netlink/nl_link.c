/*
 * Devices: VXLAN, bridge and VRF links, bridge-port flags, up/down,
 * delete.  All synchronous on the sync socket: the caller needs the
 * ifindex (or the reason it cannot have one) before programming FDB
 * entries on the device.
 *
 * An existing device is adopted only when it is what the config asks
 * for (type, VNI, local address, UDP port); otherwise the error names
 * the device and the first difference, and nothing is changed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vrf.h>
#include <netlink/route/link/vxlan.h>

#include "common/log.h"
#include "common/util.h"
#include "netlink/nl_int.h"

#define NL_VRF_PROBE_NAME	"evpnd-vrfprobe"
#define NL_VRF_PROBE_TABLE	0x7ffffff0

int
nl_parse_link(const struct nlmsghdr *h, struct nl_link *l)
{
	struct nlattr		*tb[IFLA_MAX + 1];
	struct ifinfomsg	*ifi;

	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*ifi), tb, IFLA_MAX,
	    NULL) < 0)
		return -1;
	ifi = nlmsg_data(h);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = (ifi->ifi_flags & IFF_UP) != 0;
	if (tb[IFLA_IFNAME] != NULL)
		nla_strlcpy(l->name, tb[IFLA_IFNAME], sizeof(l->name));
	if (tb[IFLA_MASTER] != NULL && nla_len(tb[IFLA_MASTER]) == 4)
		l->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	return 0;
}

/* The existing link called name, NULL when there is none. */
static struct rtnl_link *
nl_link_lookup(struct nl_ctx *nl, const char *name)
{
	struct rtnl_link	*link = NULL;

	nl->ctr.sync++;
	if (rtnl_link_get_kernel(nl->sync_sk, 0, name, &link) < 0)
		return NULL;
	return link;
}

int
nl_link_index(struct nl_ctx *nl, const char *name)
{
	struct rtnl_link	*link = nl_link_lookup(nl, name);
	int			 ifindex;

	if (link == NULL)
		return 0;
	ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return ifindex;
}

int
nl_link_get(struct nl_ctx *nl, const char *name, struct nl_link *out)
{
	struct rtnl_link	*link = nl_link_lookup(nl, name);

	if (link == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(link);
	strlcpy_s(out->name, rtnl_link_get_name(link), sizeof(out->name));
	out->master = rtnl_link_get_master(link);
	out->up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
	rtnl_link_put(link);
	return 0;
}

static struct nl_addr *
nl_addr_from_ip(const struct ipaddr *ip)
{
	return nl_addr_build(ip->af, ip->u.b, ipaddr_len(ip));
}

/* Send a built link request and wait; err says which device failed. */
static int
nl_link_request(struct nl_ctx *nl, struct nl_msg *msg, const char *what,
    const char *name, char *err, size_t errlen)
{
	char	 why[128];

	if (nl_sync(nl, msg, NULL, NULL, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s: %s", name, what, why);
		return -1;
	}
	return 0;
}

static int
nl_link_create(struct nl_ctx *nl, struct rtnl_link *link, const char *name,
    int *ifindex, char *err, size_t errlen)
{
	struct nl_msg	*msg = NULL;

	rtnl_link_set_name(link, name);
	if (rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL,
	    &msg) < 0) {
		snprintf(err, errlen, "%s: cannot build the request", name);
		return -1;
	}
	if (nl_link_request(nl, msg, "create", name, err, errlen) == -1)
		return -1;
	if ((*ifindex = nl_link_index(nl, name)) == 0) {
		snprintf(err, errlen, "%s: created but not found", name);
		return -1;
	}
	return 0;
}

/* The first difference between an existing VXLAN link and p, if any. */
static int
nl_vxlan_compare(struct rtnl_link *link, const struct nl_vxlan_params *p,
    uint16_t port, char *err, size_t errlen)
{
	struct nl_addr	*local = NULL;
	struct ipaddr	 have = { 0 };
	char		 a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	const char	*type = rtnl_link_get_type(link);
	uint32_t	 vni = 0, kport = 0;

	if (type == NULL || strcmp(type, "vxlan") != 0) {
		snprintf(err, errlen, "%s: exists as a %s device, config says "
		    "vxlan", p->name, type != NULL ? type : "plain");
		return -1;
	}
	rtnl_link_vxlan_get_id(link, &vni);
	if (vni != p->vni) {
		snprintf(err, errlen, "%s: exists with VNI %u, config says %u",
		    p->name, vni, p->vni);
		return -1;
	}
	if (rtnl_link_vxlan_get_local(link, &local) == 0 && local != NULL) {
		have.af = (uint8_t)nl_addr_get_family(local);
		memcpy(have.u.b, nl_addr_get_binary_addr(local),
		    nl_addr_get_len(local) <= 16 ? nl_addr_get_len(local) : 16);
		nl_addr_put(local);
	}
	if (ipaddr_cmp(&have, &p->local) != 0) {
		snprintf(err, errlen, "%s: exists with local %s, config says %s",
		    p->name, ipaddr_is_set(&have) ?
		    ipaddr_fmt(&have, a, sizeof(a)) : "none",
		    ipaddr_fmt(&p->local, b, sizeof(b)));
		return -1;
	}
	rtnl_link_vxlan_get_port(link, &kport);
	if (kport != port) {
		snprintf(err, errlen, "%s: exists with dstport %u, config says "
		    "%u", p->name, kport, port);
		return -1;
	}
	return 0;
}

int
nl_vxlan_ensure(struct nl_ctx *nl, const struct nl_vxlan_params *p,
    bool *created, int *ifindex, char *err, size_t errlen)
{
	struct rtnl_link	*link;
	struct nl_addr		*local;
	uint16_t		 port = p->dstport ? p->dstport : NL_VXLAN_PORT;
	int			 rc;

	*created = false;
	if ((link = nl_link_lookup(nl, p->name)) != NULL) {
		rc = nl_vxlan_compare(link, p, port, err, errlen);
		*ifindex = rtnl_link_get_ifindex(link);
		rtnl_link_put(link);
		return rc;
	}
	if ((link = rtnl_link_vxlan_alloc()) == NULL)
		fatalx("netlink: out of memory");
	rtnl_link_vxlan_set_id(link, p->vni);
	if ((local = nl_addr_from_ip(&p->local)) != NULL) {
		rtnl_link_vxlan_set_local(link, local);
		nl_addr_put(local);
	}
	rtnl_link_vxlan_set_port(link, port);
	/* Remote MACs come from BGP, never from data-plane learning. */
	rtnl_link_vxlan_set_learning(link, 0);
	if (p->mtu != 0)
		rtnl_link_set_mtu(link, p->mtu);
	rc = nl_link_create(nl, link, p->name, ifindex, err, errlen);
	rtnl_link_put(link);
	*created = rc == 0;
	return rc;
}

/* RTM_NEWLINK on an existing ifindex: the base of small changes. */
static struct nl_msg *
nl_link_change_msg(int ifindex, uint8_t family, int type, unsigned flags,
    unsigned change)
{
	struct ifinfomsg ifi = {
		.ifi_family = family,
		.ifi_index = ifindex,
		.ifi_flags = flags,
		.ifi_change = change,
	};
	struct nl_msg	*msg;

	if ((msg = nlmsg_alloc_simple(type, 0)) == NULL ||
	    nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		fatalx("netlink: cannot build a link message");
	return msg;
}

int
nl_link_set_mac(struct nl_ctx *nl, int ifindex, const char *name,
    const struct macaddr *mac, char *err, size_t errlen)
{
	struct nl_msg	*msg = nl_link_change_msg(ifindex, AF_UNSPEC,
	    RTM_NEWLINK, 0, 0);

	if (nla_put(msg, IFLA_ADDRESS, 6, mac->b) < 0)
		fatalx("netlink: link message full");
	return nl_link_request(nl, msg, "set address", name, err, errlen);
}

int
nl_bridge_ensure(struct nl_ctx *nl, const char *name,
    const struct macaddr *mac, bool *created, int *ifindex, char *err,
    size_t errlen)
{
	struct rtnl_link	*link;
	const char		*type;
	int			 rc = 0;

	*created = false;
	if ((link = nl_link_lookup(nl, name)) != NULL) {
		type = rtnl_link_get_type(link);
		if (type == NULL || strcmp(type, "bridge") != 0) {
			snprintf(err, errlen, "%s: exists as a %s device, "
			    "config says bridge", name,
			    type != NULL ? type : "plain");
			rc = -1;
		}
		*ifindex = rtnl_link_get_ifindex(link);
		rtnl_link_put(link);
	} else {
		if ((link = rtnl_link_alloc()) == NULL ||
		    rtnl_link_set_type(link, "bridge") < 0)
			fatalx("netlink: cannot make a bridge link object");
		rc = nl_link_create(nl, link, name, ifindex, err, errlen);
		rtnl_link_put(link);
		*created = rc == 0;
	}
	if (rc == 0 && mac != NULL)
		rc = nl_link_set_mac(nl, *ifindex, name, mac, err, errlen);
	return rc;
}

int
nl_link_set_master(struct nl_ctx *nl, int ifindex, int master, char *err,
    size_t errlen)
{
	struct nl_msg	*msg = nl_link_change_msg(ifindex, AF_UNSPEC,
	    RTM_NEWLINK, 0, 0);
	char		 name[32];

	if (nla_put_u32(msg, IFLA_MASTER, (uint32_t)master) < 0)
		fatalx("netlink: link message full");
	snprintf(name, sizeof(name), "ifindex %d", ifindex);
	return nl_link_request(nl, msg, "set master", name, err, errlen);
}

int
nl_bridge_attach(struct nl_ctx *nl, int port, int bridge, bool learning,
    bool neigh_suppress, char *err, size_t errlen)
{
	struct nl_msg	*msg;
	struct nlattr	*prot;
	char		 name[32];

	if (nl_link_set_master(nl, port, bridge, err, errlen) == -1)
		return -1;
	/* Bridge-port flags: RTM_SETLINK of family AF_BRIDGE with a
	 * nested IFLA_PROTINFO, as "bridge link set" sends. */
	msg = nl_link_change_msg(port, AF_BRIDGE, RTM_SETLINK, 0, 0);
	if ((prot = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ==
	    NULL ||
	    nla_put_u8(msg, IFLA_BRPORT_LEARNING, learning) < 0 ||
	    nla_put_u8(msg, IFLA_BRPORT_NEIGH_SUPPRESS, neigh_suppress) < 0)
		fatalx("netlink: link message full");
	nla_nest_end(msg, prot);
	snprintf(name, sizeof(name), "ifindex %d", port);
	return nl_link_request(nl, msg, "bridge port flags", name, err,
	    errlen);
}

int
nl_link_set_up(struct nl_ctx *nl, int ifindex, char *err, size_t errlen)
{
	char	 name[32];

	snprintf(name, sizeof(name), "ifindex %d", ifindex);
	return nl_link_request(nl, nl_link_change_msg(ifindex, AF_UNSPEC,
	    RTM_NEWLINK, IFF_UP, IFF_UP), "set up", name, err, errlen);
}

int
nl_link_delete(struct nl_ctx *nl, int ifindex, char *err, size_t errlen)
{
	char	 name[32];

	snprintf(name, sizeof(name), "ifindex %d", ifindex);
	return nl_link_request(nl, nl_link_change_msg(ifindex, AF_UNSPEC,
	    RTM_DELLINK, 0, 0), "delete", name, err, errlen);
}

/* Queued behind the requests before it (entries on the device), so
 * the caller need not wait for them; logged if it fails. */
void
nl_link_delete_queued(struct nl_ctx *nl, int ifindex, const char *name)
{
	char	 desc[NL_DESC_LEN];

	snprintf(desc, sizeof(desc), "link delete %s (ifindex %d)", name,
	    ifindex);
	nl_enqueue_delete(nl, nl_link_change_msg(ifindex, AF_UNSPEC,
	    RTM_DELLINK, 0, 0), desc);
}

int
nl_vrf_ensure(struct nl_ctx *nl, const char *name, uint32_t table,
    bool *created, int *ifindex, char *err, size_t errlen)
{
	struct rtnl_link	*link;
	uint32_t		 have = 0;
	int			 rc = 0;

	*created = false;
	if ((link = nl_link_lookup(nl, name)) != NULL) {
		if (!rtnl_link_is_vrf(link)) {
			snprintf(err, errlen, "%s: exists and is not a vrf",
			    name);
			rc = -1;
		} else if (rtnl_link_vrf_get_tableid(link, &have) == 0 &&
		    have != table) {
			snprintf(err, errlen, "%s: exists with table %u, "
			    "config says %u", name, have, table);
			rc = -1;
		}
		*ifindex = rtnl_link_get_ifindex(link);
		rtnl_link_put(link);
		return rc;
	}
	if ((link = rtnl_link_vrf_alloc()) == NULL)
		fatalx("netlink: out of memory");
	rtnl_link_vrf_set_tableid(link, table);
	rc = nl_link_create(nl, link, name, ifindex, err, errlen);
	rtnl_link_put(link);
	*created = rc == 0;
	return rc;
}

/*
 * Can this kernel make VRF devices?  Try one under a name nobody uses
 * and remove it: "Unknown device type" (EOPNOTSUPP) means no.
 */
bool
nl_probe_vrf(struct nl_ctx *nl)
{
	char	 err[256];
	bool	 created;
	int	 ifindex;

	if (nl_link_index(nl, NL_VRF_PROBE_NAME) != 0)
		return true;
	if (nl_vrf_ensure(nl, NL_VRF_PROBE_NAME, NL_VRF_PROBE_TABLE, &created,
	    &ifindex, err, sizeof(err)) == -1) {
		log_debug("netlink: vrf probe: %s", err);
		return false;
	}
	nl_link_delete(nl, ifindex, err, sizeof(err));
	return true;
}

bool
nl_vrf_supported(const struct nl_ctx *nl)
{
	return nl->vrf_supported;
}
