/*
 * Bridge FDB entries and ARP/ND neighbours: requests (queued), dumps
 * and the parsers the event socket shares.
 *
 * A remote MAC is one RTM_NEWNEIGH of family AF_BRIDGE with NTF_SELF |
 * NTF_MASTER: the kernel's rtnl_fdb_add() gives it to the bridge (the
 * master entry pointing at the VXLAN port) and to the VXLAN driver (the
 * entry with NDA_DST, the remote VTEP), so both exist or the request
 * fails.  NTF_EXT_LEARNED marks them as ours: the bridge never ages
 * them out and a local learn does not silently take them over.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>

#include "common/log.h"
#include "common/util.h"
#include "netlink/nl_int.h"

static int
nl_attr_ip(const struct nlattr *a, int family_hint, struct ipaddr *ip)
{
	int	 len = nla_len(a);

	memset(ip, 0, sizeof(*ip));
	if (len == 4 && family_hint != AF_INET6) {
		ip->af = AF_INET;
		memcpy(ip->u.b, nla_data(a), 4);
	} else if (len == 16 && family_hint != AF_INET) {
		ip->af = AF_INET6;
		memcpy(ip->u.b, nla_data(a), 16);
	} else {
		return -1;
	}
	return 0;
}

/* An RTM_NEWNEIGH/RTM_DELNEIGH's header, its attributes in tb. */
static const struct ndmsg *
nl_ndmsg_parse(const struct nlmsghdr *h, struct nlattr *tb[NDA_MAX + 1])
{
	if ((h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) ||
	    nlmsg_parse((struct nlmsghdr *)h, sizeof(struct ndmsg), tb,
	    NDA_MAX, NULL) < 0)
		return NULL;
	return nlmsg_data(h);
}

int
nl_parse_fdb(const struct nlmsghdr *h, struct nl_fdb *f)
{
	struct nlattr		*tb[NDA_MAX + 1];
	const struct ndmsg	*ndm;

	if ((ndm = nl_ndmsg_parse(h, tb)) == NULL)
		return -1;
	if (ndm->ndm_family != AF_BRIDGE || tb[NDA_LLADDR] == NULL ||
	    nla_len(tb[NDA_LLADDR]) != 6)
		return -1;
	memset(f, 0, sizeof(*f));
	f->ifindex = ndm->ndm_ifindex;
	f->state = ndm->ndm_state;
	f->flags = ndm->ndm_flags;
	memcpy(f->mac.b, nla_data(tb[NDA_LLADDR]), 6);
	if (tb[NDA_DST] != NULL)
		nl_attr_ip(tb[NDA_DST], AF_UNSPEC, &f->dst);
	if (tb[NDA_MASTER] != NULL && nla_len(tb[NDA_MASTER]) == 4)
		f->master = (int)nla_get_u32(tb[NDA_MASTER]);
	if (tb[NDA_VLAN] != NULL && nla_len(tb[NDA_VLAN]) == 2)
		f->vlan = nla_get_u16(tb[NDA_VLAN]);
	return 0;
}

int
nl_parse_neigh(const struct nlmsghdr *h, struct nl_neigh *n)
{
	struct nlattr		*tb[NDA_MAX + 1];
	const struct ndmsg	*ndm;

	if ((ndm = nl_ndmsg_parse(h, tb)) == NULL)
		return -1;
	if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
	    tb[NDA_DST] == NULL)
		return -1;
	memset(n, 0, sizeof(*n));
	if (nl_attr_ip(tb[NDA_DST], ndm->ndm_family, &n->ip) == -1)
		return -1;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	n->flags = ndm->ndm_flags;
	if (tb[NDA_LLADDR] != NULL && nla_len(tb[NDA_LLADDR]) == 6) {
		memcpy(n->mac.b, nla_data(tb[NDA_LLADDR]), 6);
		n->has_mac = true;
	}
	if (tb[NDA_PROTOCOL] != NULL && nla_len(tb[NDA_PROTOCOL]) == 1)
		n->protocol = nla_get_u8(tb[NDA_PROTOCOL]);
	return 0;
}

/* ---- requests ------------------------------------------------------ */

static struct nl_msg *
nl_neigh_msg(int type, int flags, uint8_t family, int ifindex,
    uint16_t state, uint8_t ntf)
{
	struct ndmsg	 ndm = {
		.ndm_family = family,
		.ndm_ifindex = ifindex,
		.ndm_state = state,
		.ndm_flags = ntf,
	};
	struct nl_msg	*msg;

	if ((msg = nlmsg_alloc_simple(type, flags)) == NULL ||
	    nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0)
		fatalx("netlink: cannot build a neighbour message");
	return msg;
}

static void
nl_put(struct nl_msg *msg, int attr, const void *data, size_t len)
{
	if (nla_put(msg, attr, (int)len, data) < 0)
		fatalx("netlink: message attribute does not fit");
}

void
nl_fdb_replace(struct nl_ctx *nl, int vxlan_ifindex, const struct macaddr *mac,
    const struct ipaddr *dst, bool sticky)
{
	struct nl_msg	*msg;
	char		 m[MAC_STRLEN], d[IPADDR_STRLEN], desc[NL_DESC_LEN];

	/* Sticky (RFC 7432 §15.2, a static MAC): permanent and NTF_STICKY,
	 * so the bridge never moves it to a local port.  The VXLAN driver
	 * wants NUD_REACHABLE or NUD_PERMANENT, nothing else.  The kernel
	 * keeps the old state when replacing an entry in place: turning a
	 * dynamic entry sticky is delete then replace (the caller's job). */
	msg = nl_neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
	    AF_BRIDGE, vxlan_ifindex,
	    sticky ? NUD_NOARP | NUD_PERMANENT : NUD_REACHABLE,
	    NTF_SELF | NTF_MASTER | NTF_EXT_LEARNED |
	    (sticky ? NTF_STICKY : 0));
	nl_put(msg, NDA_LLADDR, mac->b, 6);
	nl_put(msg, NDA_DST, dst->u.b, ipaddr_len(dst));
	snprintf(desc, sizeof(desc), "fdb replace %s dev %d dst %s%s",
	    mac_fmt(mac, m, sizeof(m)), vxlan_ifindex,
	    ipaddr_fmt(dst, d, sizeof(d)), sticky ? " static" : "");
	nl_enqueue(nl, msg, desc);
}

/*
 * Two requests, the bridge's entry first, then the VXLAN driver's.  One
 * request with NTF_SELF | NTF_MASTER stops at the bridge when the
 * bridge has no entry for the MAC on the VXLAN port (rtnl_fdb_del()
 * returns before the driver): that is the case after a move to a local
 * port, where the bridge took the MAC over and the driver's entry dst
 * the old VTEP would stay behind.  The bridge's entry may be gone (or
 * local now) without that being an error.
 */
void
nl_fdb_delete(struct nl_ctx *nl, int vxlan_ifindex, const struct macaddr *mac)
{
	struct nl_msg	*msg;
	char		 m[MAC_STRLEN], desc[NL_DESC_LEN];

	mac_fmt(mac, m, sizeof(m));
	msg = nl_neigh_msg(RTM_DELNEIGH, 0, AF_BRIDGE, vxlan_ifindex, 0,
	    NTF_MASTER);
	nl_put(msg, NDA_LLADDR, mac->b, 6);
	snprintf(desc, sizeof(desc), "fdb delete %s dev %d master", m,
	    vxlan_ifindex);
	nl_enqueue_delete(nl, msg, desc);
	msg = nl_neigh_msg(RTM_DELNEIGH, 0, AF_BRIDGE, vxlan_ifindex, 0,
	    NTF_SELF);
	nl_put(msg, NDA_LLADDR, mac->b, 6);
	snprintf(desc, sizeof(desc), "fdb delete %s dev %d self", m,
	    vxlan_ifindex);
	nl_enqueue(nl, msg, desc);
}

static void
nl_flood_request(struct nl_ctx *nl, bool add, int vxlan_ifindex,
    const struct ipaddr *dst)
{
	static const uint8_t zero[6];
	struct nl_msg	*msg;
	char		 d[IPADDR_STRLEN], desc[NL_DESC_LEN];

	/* The VXLAN driver keeps one all-zeros entry with a list of
	 * remotes: NLM_F_APPEND adds a remote, a delete with NDA_DST
	 * removes only that remote.  extern_learn tells ours apart from
	 * remotes somebody else configured. */
	msg = nl_neigh_msg(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
	    add ? NLM_F_CREATE | NLM_F_APPEND : 0, AF_BRIDGE, vxlan_ifindex,
	    add ? NUD_NOARP | NUD_PERMANENT : 0,
	    NTF_SELF | (add ? NTF_EXT_LEARNED : 0));
	nl_put(msg, NDA_LLADDR, zero, 6);
	nl_put(msg, NDA_DST, dst->u.b, ipaddr_len(dst));
	snprintf(desc, sizeof(desc), "flood %s 00:00:00:00:00:00 dev %d dst %s",
	    add ? "append" : "delete", vxlan_ifindex,
	    ipaddr_fmt(dst, d, sizeof(d)));
	nl_enqueue(nl, msg, desc);
}

void
nl_flood_append(struct nl_ctx *nl, int vxlan_ifindex, const struct ipaddr *dst)
{
	nl_flood_request(nl, true, vxlan_ifindex, dst);
}

void
nl_flood_delete(struct nl_ctx *nl, int vxlan_ifindex, const struct ipaddr *dst)
{
	nl_flood_request(nl, false, vxlan_ifindex, dst);
}

void
nl_neigh_replace(struct nl_ctx *nl, int ifindex, const struct ipaddr *ip,
    const struct macaddr *mac)
{
	struct nl_msg	*msg;
	char		 m[MAC_STRLEN], a[IPADDR_STRLEN], desc[NL_DESC_LEN];

	msg = nl_neigh_msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ip->af,
	    ifindex, NUD_NOARP, NTF_EXT_LEARNED);
	nl_put(msg, NDA_DST, ip->u.b, ipaddr_len(ip));
	nl_put(msg, NDA_LLADDR, mac->b, 6);
	nl_put(msg, NDA_PROTOCOL, &(uint8_t){ NL_RTPROT_EVPND }, 1);
	snprintf(desc, sizeof(desc), "neigh replace %s lladdr %s dev %d",
	    ipaddr_fmt(ip, a, sizeof(a)), mac_fmt(mac, m, sizeof(m)), ifindex);
	nl_enqueue(nl, msg, desc);
}

void
nl_neigh_delete(struct nl_ctx *nl, int ifindex, const struct ipaddr *ip)
{
	struct nl_msg	*msg;
	char		 a[IPADDR_STRLEN], desc[NL_DESC_LEN];

	msg = nl_neigh_msg(RTM_DELNEIGH, 0, ip->af, ifindex, 0, 0);
	nl_put(msg, NDA_DST, ip->u.b, ipaddr_len(ip));
	snprintf(desc, sizeof(desc), "neigh delete %s dev %d",
	    ipaddr_fmt(ip, a, sizeof(a)), ifindex);
	nl_enqueue(nl, msg, desc);
}

/* ---- dumps ---------------------------------------------------------- */

struct nl_dump_state {
	int		 ifindex;
	nl_fdb_cb	*fdb;
	nl_neigh_cb	*neigh;
	void		*arg;
};

static void
nl_dump_fdb_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_dump_state	*st = arg;
	struct nl_fdb		 f;

	if (nl_parse_fdb(h, &f) == 0 && (st->ifindex == 0 ||
	    f.ifindex == st->ifindex || f.master == st->ifindex))
		st->fdb(st->arg, &f);
}

static void
nl_dump_neigh_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_dump_state	*st = arg;
	struct nl_neigh		 n;

	if (nl_parse_neigh(h, &n) == 0 && (st->ifindex == 0 ||
	    n.ifindex == st->ifindex))
		st->neigh(st->arg, &n);
}

static int
nl_neightab_dump(struct nl_ctx *nl, uint8_t family, nl_msg_fn *fn,
    struct nl_dump_state *st)
{
	struct ndmsg	 ndm = { .ndm_family = family };

	return nl_sync_dump(nl, RTM_GETNEIGH, &ndm, sizeof(ndm), fn, st,
	    "neighbour");
}

int
nl_fdb_dump(struct nl_ctx *nl, int ifindex, nl_fdb_cb *cb, void *arg)
{
	struct nl_dump_state	 st = { .ifindex = ifindex, .fdb = cb,
	    .arg = arg };

	return nl_neightab_dump(nl, AF_BRIDGE, nl_dump_fdb_one, &st);
}

int
nl_neigh_dump(struct nl_ctx *nl, int ifindex, nl_neigh_cb *cb, void *arg)
{
	struct nl_dump_state	 st = { .ifindex = ifindex, .neigh = cb,
	    .arg = arg };

	/* AF_UNSPEC answers both ARP and ND entries. */
	return nl_neightab_dump(nl, AF_UNSPEC, nl_dump_neigh_one, &st);
}
