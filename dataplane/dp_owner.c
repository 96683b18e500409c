/*
 * Whose a kernel entry is, and the entries that are not ours.
 *
 * evpnd replaces and deletes only what it installed.  A route of ours
 * carries protocol NL_RTPROT_EVPND, a neighbour of ours extern_learn and
 * NDA_PROTOCOL NL_RTPROT_EVPND; the kernel keeps no protocol on bridge
 * FDB entries, so there ours are the extern_learn ones on our VXLAN
 * devices (FRR's zebra flags its own the same way: run one of the two
 * per VNI).  Somebody else's entry at a key we might write - a
 * connected or static route in a VRF's table, a static or another
 * daemon's neighbour, a static FDB entry on the VXLAN device or a MAC
 * pinned to a local port - is "foreign": its key is remembered (from
 * the dumps at VNI setup and resync, and from kernel events), our entry
 * there is blocked (kept as a wish, counted and logged, nothing sent),
 * and installed once the foreign one is gone.  A dynamic entry the
 * kernel learned is neither: local learning owns it (evpn/ decides a
 * MAC's location, RFC 7432 §15).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>

#include "common/log.h"
#include "common/util.h"
#include "dataplane/dp_int.h"
#include "netlink/nl.h"

#define DP_STATIC_STATES	(NUD_PERMANENT | NUD_NOARP)

/* ---- whose ----------------------------------------------------------- */

/* A VXLAN device's own entry (self, with a dst): a remote MAC, or one
 * remote of the all-zeros flood entry. */
static enum dp_whose
dp_fdb_whose_self(const struct dp_vni *n, const struct nl_fdb *f,
    struct dp_entry *k)
{
	k->where = n->vx_ifindex;
	k->kind = n->l3 ? DP_RMAC_FDB : DP_FDB;
	k->mac = f->mac;
	k->vtep = f->dst;
	k->sticky = (f->flags & NTF_STICKY) != 0;
	if (mac_is_zero(&f->mac)) {
		k->kind = DP_FLOOD;
		k->ip = f->dst;
	}
	return (f->flags & NTF_EXT_LEARNED) ? DP_OURS : DP_FOREIGN;
}

enum dp_whose
dp_fdb_whose(struct dataplane *dp, const struct nl_fdb *f,
    struct dp_entry *k)
{
	struct dp_vni	*n;

	memset(k, 0, sizeof(*k));
	if ((n = dp_vni_by_vxlan(dp, f->ifindex)) != NULL) {
		if (!(f->flags & NTF_SELF) || !ipaddr_is_set(&f->dst))
			return DP_NOT_KEYED;	/* the bridge's twin */
		return dp_fdb_whose_self(n, f, k);
	}
	/* A MAC the bridge holds statically on another port (pinned by an
	 * administrator, or a port's own address): a remote MAC of ours
	 * would take it over. */
	if ((n = dp_vni_by_bridge(dp, f->master)) == NULL ||
	    (f->flags & NTF_EXT_LEARNED) || !(f->state & DP_STATIC_STATES) ||
	    mac_is_zero(&f->mac))
		return DP_NOT_KEYED;
	k->kind = n->l3 ? DP_RMAC_FDB : DP_FDB;
	k->where = n->vx_ifindex;
	k->mac = f->mac;
	return DP_FOREIGN;
}

enum dp_whose
dp_neigh_whose(struct dataplane *dp, const struct nl_neigh *nb,
    struct dp_entry *k)
{
	struct dp_vni	*n = dp_vni_by_bridge(dp, nb->ifindex);
	bool		 ext = (nb->flags & NTF_EXT_LEARNED) != 0;

	memset(k, 0, sizeof(*k));
	if (n == NULL)
		return DP_NOT_KEYED;
	k->kind = n->l3 ? DP_RMAC_NEIGH : DP_NEIGH;
	k->where = nb->ifindex;
	k->ip = nb->ip;
	k->mac = nb->mac;
	if (ext && nb->protocol == NL_RTPROT_EVPND && nb->has_mac)
		return DP_OURS;
	if (ext || (nb->state & DP_STATIC_STATES))
		return DP_FOREIGN;
	return DP_NOT_KEYED;		/* learned: local learning's */
}

enum dp_whose
dp_route_whose(struct dataplane *dp, const struct nl_route *r,
    struct dp_entry *k)
{
	memset(k, 0, sizeof(*k));
	if (r->table == 0 || dp_vni_by_table(dp, r->table) == NULL)
		return DP_NOT_KEYED;
	k->kind = DP_ROUTE;
	k->where = (int)r->table;
	k->pfx = r->pfx;
	return r->protocol == NL_RTPROT_EVPND ? DP_OURS : DP_FOREIGN;
}

/* ---- foreign keys ---------------------------------------------------- */

/* One line a second at most: a table full of static routes must not
 * flood the log (the counters keep the full count). */
static void
dp_block_log(struct dataplane *dp, const struct dp_entry *e)
{
	uint64_t	 now = mono_msec();
	char		 what[PREFIX_STRLEN + 48];

	if (dp->refusal_log_ms != 0 && now - dp->refusal_log_ms < 1000) {
		dp->refusals_unlogged++;
		return;
	}
	dp_entry_fmt(e, what, sizeof(what));
	if (dp->refusals_unlogged == 0)
		log_warn("dataplane: %s: the kernel holds an entry there that "
		    "evpnd does not own; left alone", what);
	else
		log_warn("dataplane: %s: the kernel holds an entry there that "
		    "evpnd does not own; left alone (and %llu more since the "
		    "last such line)", what,
		    (unsigned long long)dp->refusals_unlogged);
	dp->refusal_log_ms = now;
	dp->refusals_unlogged = 0;
}

void
dp_block(struct dataplane *dp, struct dp_entry *e)
{
	if (e->blocked)
		return;
	e->blocked = true;
	e->installed = false;
	dp->blocked_count[e->kind]++;
	dp->refused++;
	dp_block_log(dp, e);
}

bool
dp_foreign_has(struct dataplane *dp, const struct dp_entry *key)
{
	return dp_table_find(&dp->foreign, key) != NULL;
}

void
dp_foreign_add(struct dataplane *dp, const struct dp_entry *key,
    uint32_t round)
{
	struct dp_entry	*f = dp_table_find(&dp->foreign, key), *e;

	if (f == NULL)
		f = dp_table_insert(&dp->foreign, key);
	f->seen = round;
	if ((e = dp_find(dp, key)) != NULL)
		dp_block(dp, e);
}

void
dp_foreign_del(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	 k = *key;	/* key may be the entry freed here */
	struct dp_entry	*f = dp_table_find(&dp->foreign, &k), *e;

	if (f == NULL)
		return;
	dp_table_remove(&dp->foreign, f);
	if ((e = dp_find(dp, &k)) == NULL || !e->blocked)
		return;
	e->blocked = false;
	dp->blocked_count[e->kind]--;
	dp_install(dp, e);
}

/* ---- events ---------------------------------------------------------- */

/* A kernel event about an entry at key k, of the owner whose. */
static void
dp_foreign_event(struct dataplane *dp, enum dp_whose whose, bool added,
    const struct dp_entry *k)
{
	if (whose != DP_FOREIGN)
		return;
	if (added)
		dp_foreign_add(dp, k, dp->round);
	else
		dp_foreign_del(dp, k);
}

void
dp_owner_fdb_event(struct dataplane *dp, bool added, const struct nl_fdb *f)
{
	struct dp_entry	 k;

	dp_foreign_event(dp, dp_fdb_whose(dp, f, &k), added, &k);
}

void
dp_owner_neigh_event(struct dataplane *dp, bool added,
    const struct nl_neigh *nb)
{
	struct dp_entry	 k;

	switch (dp_neigh_whose(dp, nb, &k)) {
	case DP_FOREIGN:
		if (added && !(nb->state & NUD_FAILED))
			dp_foreign_add(dp, &k, dp->round);
		else
			dp_foreign_del(dp, &k);
		break;
	case DP_NOT_KEYED:
		/* A foreign entry that turned dynamic is no longer one. */
		if (k.where != 0 && dp_foreign_has(dp, &k))
			dp_foreign_del(dp, &k);
		break;
	case DP_OURS:
		break;
	}
}

void
dp_route_event(void *arg, bool added, const struct nl_route *r)
{
	struct dataplane	*dp = arg;
	struct dp_entry		 k;

	dp_foreign_event(dp, dp_route_whose(dp, r, &k), added, &k);
}
