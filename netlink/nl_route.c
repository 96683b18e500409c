/*
 * Routes (queued) and policy rules (synchronous), built with libnl's
 * rtnl_route and rtnl_rule objects.
 *
 * A route is "PREFIX via GW onlink dev IFINDEX table T", marked with
 * our protocol number so a dump can tell ours from others'.  onlink
 * because the gateway (a remote VTEP) is not on the device's subnet:
 * the kernel resolves it through the neighbour entry the caller
 * installs.  An IPv6 prefix over an IPv4 VTEP uses the IPv4-mapped
 * IPv6 address as gateway, as the kernel needs a gateway of the
 * route's family.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "common/log.h"
#include "common/util.h"
#include "netlink/nl_int.h"

static struct nl_addr *
nl_prefix_addr(const struct prefix *p)
{
	struct nl_addr	*a;

	if ((a = nl_addr_build(p->addr.af, p->addr.u.b,
	    ipaddr_len(&p->addr))) == NULL)
		fatalx("netlink: out of memory");
	nl_addr_set_prefixlen(a, p->len);
	return a;
}

/* The gateway in the prefix's family (IPv4-mapped for v6 over v4). */
static struct nl_addr *
nl_gateway_addr(const struct prefix *p, const struct ipaddr *gw)
{
	uint8_t	 mapped[16] = { [10] = 0xff, [11] = 0xff };

	if (p->addr.af == AF_INET6 && gw->af == AF_INET) {
		memcpy(mapped + 12, gw->u.b, 4);
		return nl_addr_build(AF_INET6, mapped, 16);
	}
	return nl_addr_build(gw->af, gw->u.b, ipaddr_len(gw));
}

static struct rtnl_route *
nl_route_object(uint32_t table, const struct prefix *p)
{
	struct rtnl_route	*r;
	struct nl_addr		*dst = nl_prefix_addr(p);

	if ((r = rtnl_route_alloc()) == NULL)
		fatalx("netlink: out of memory");
	rtnl_route_set_family(r, p->addr.af);
	rtnl_route_set_table(r, table);
	rtnl_route_set_dst(r, dst);
	nl_addr_put(dst);
	rtnl_route_set_protocol(r, NL_RTPROT_EVPND);
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(r, RTN_UNICAST);
	return r;
}

void
nl_route_replace(struct nl_ctx *nl, uint32_t table, const struct prefix *p,
    const struct ipaddr *gw, int ifindex)
{
	struct rtnl_route	*r = nl_route_object(table, p);
	struct rtnl_nexthop	*nh;
	struct nl_addr		*via;
	struct nl_msg		*msg = NULL;
	char			 a[PREFIX_STRLEN], g[IPADDR_STRLEN];
	char			 desc[NL_DESC_LEN];

	if ((nh = rtnl_route_nh_alloc()) == NULL ||
	    (via = nl_gateway_addr(p, gw)) == NULL)
		fatalx("netlink: out of memory");
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	nl_addr_put(via);
	rtnl_route_add_nexthop(r, nh);
	/* One nexthop is sent as RTA_GATEWAY/RTA_OIF: the onlink flag
	 * then travels in rtm_flags. */
	rtnl_route_set_flags(r, RTNH_F_ONLINK);
	if (rtnl_route_build_add_request(r, NLM_F_CREATE | NLM_F_REPLACE,
	    &msg) < 0)
		fatalx("netlink: cannot build a route request");
	rtnl_route_put(r);
	snprintf(desc, sizeof(desc), "route replace %s via %s onlink dev %d "
	    "table %u", prefix_fmt(p, a, sizeof(a)),
	    ipaddr_fmt(gw, g, sizeof(g)), ifindex, table);
	nl_enqueue(nl, msg, desc);
}

void
nl_route_delete(struct nl_ctx *nl, uint32_t table, const struct prefix *p)
{
	struct rtnl_route	*r = nl_route_object(table, p);
	struct nl_msg		*msg = NULL;
	char			 a[PREFIX_STRLEN], desc[NL_DESC_LEN];

	if (rtnl_route_build_del_request(r, 0, &msg) < 0)
		fatalx("netlink: cannot build a route request");
	rtnl_route_put(r);
	snprintf(desc, sizeof(desc), "route delete %s table %u",
	    prefix_fmt(p, a, sizeof(a)), table);
	nl_enqueue_delete(nl, msg, desc);
}

/* ---- parsing and dumps -------------------------------------------- */

int
nl_parse_route(const struct nlmsghdr *h, struct nl_route *r)
{
	struct nlattr	*tb[RTA_MAX + 1];
	struct rtmsg	*rtm;
	int		 alen;

	if ((h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE) ||
	    nlmsg_parse((struct nlmsghdr *)h, sizeof(*rtm), tb, RTA_MAX,
	    NULL) < 0)
		return -1;
	rtm = nlmsg_data(h);
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	/* Route cache clones are no routes of a table. */
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    rtm->rtm_dst_len > alen * 8 || (rtm->rtm_flags & RTM_F_CLONED))
		return -1;
	memset(r, 0, sizeof(*r));
	r->pfx.addr.af = rtm->rtm_family;
	r->pfx.len = rtm->rtm_dst_len;
	if (tb[RTA_DST] != NULL) {
		if (nla_len(tb[RTA_DST]) != alen)
			return -1;
		memcpy(r->pfx.addr.u.b, nla_data(tb[RTA_DST]), (size_t)alen);
	}
	r->table = rtm->rtm_table;
	if (tb[RTA_TABLE] != NULL && nla_len(tb[RTA_TABLE]) == 4)
		r->table = nla_get_u32(tb[RTA_TABLE]);
	r->protocol = rtm->rtm_protocol;
	r->type = rtm->rtm_type;
	return 0;
}

struct nl_route_dump_state {
	uint32_t	 table;
	nl_route_cb	*cb;
	void		*arg;
};

static void
nl_route_dump_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_route_dump_state	*st = arg;
	struct nl_route			 r;

	if (nl_parse_route(h, &r) == 0 && (st->table == 0 ||
	    r.table == st->table))
		st->cb(st->arg, &r);
}

int
nl_route_dump(struct nl_ctx *nl, uint32_t table, nl_route_cb *cb, void *arg)
{
	struct nl_route_dump_state	 st = { table, cb, arg };
	struct rtmsg			 rtm = { .rtm_family = AF_UNSPEC };

	return nl_sync_dump(nl, RTM_GETROUTE, &rtm, sizeof(rtm),
	    nl_route_dump_one, &st, "route");
}

static struct nl_msg *
nl_rule_msg(bool add, int family, uint32_t prio, const char *iif,
    uint32_t table)
{
	struct rtnl_rule	*rule;
	struct nl_msg		*msg = NULL;
	int			 rc;

	if ((rule = rtnl_rule_alloc()) == NULL)
		fatalx("netlink: out of memory");
	rtnl_rule_set_family(rule, family);
	rtnl_rule_set_prio(rule, prio);
	rtnl_rule_set_iif(rule, iif);
	rtnl_rule_set_table(rule, table);
	rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
	rc = add ? rtnl_rule_build_add_request(rule, NLM_F_CREATE |
	    NLM_F_EXCL, &msg) : rtnl_rule_build_delete_request(rule, 0, &msg);
	rtnl_rule_put(rule);
	if (rc < 0)
		fatalx("netlink: cannot build a rule request");
	return msg;
}

static int
nl_rule_request(struct nl_ctx *nl, bool add, int family, uint32_t prio,
    const char *iif, uint32_t table, char *err, size_t errlen)
{
	struct nl_msg	*msg = nl_rule_msg(add, family, prio, iif, table);
	char		 why[128];

	if (nl_sync(nl, msg, NULL, NULL, why, sizeof(why)) == -1) {
		/* Already there (ours from before a restart) is fine. */
		if (add && strcmp(why, strerror(EEXIST)) == 0)
			return 0;
		snprintf(err, errlen, "rule %s %s iif %s lookup %u pref %u: %s",
		    add ? "add" : "delete", family == AF_INET ? "-4" : "-6",
		    iif, table, prio, why);
		return -1;
	}
	return 0;
}

int
nl_rule_iif_add(struct nl_ctx *nl, uint32_t prio, const char *iif,
    uint32_t table, char *err, size_t errlen)
{
	if (nl_rule_request(nl, true, AF_INET, prio, iif, table, err,
	    errlen) == -1)
		return -1;
	return nl_rule_request(nl, true, AF_INET6, prio, iif, table, err,
	    errlen);
}

int
nl_rule_iif_delete(struct nl_ctx *nl, uint32_t prio, const char *iif,
    uint32_t table, char *err, size_t errlen)
{
	int	 rc;

	rc = nl_rule_request(nl, false, AF_INET, prio, iif, table, err,
	    errlen);
	if (nl_rule_request(nl, false, AF_INET6, prio, iif, table, err,
	    errlen) == -1)
		rc = -1;
	return rc;
}

void
nl_rule_iif_delete_queued(struct nl_ctx *nl, uint32_t prio, const char *iif,
    uint32_t table)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char		 desc[NL_DESC_LEN];

	for (size_t i = 0; i < nitems(families); i++) {
		snprintf(desc, sizeof(desc), "rule delete %s iif %s lookup %u "
		    "pref %u", families[i] == AF_INET ? "-4" : "-6", iif,
		    table, prio);
		nl_enqueue_delete(nl, nl_rule_msg(false, families[i], prio,
		    iif, table), desc);
	}
}
