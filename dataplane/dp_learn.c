/*
 * Kernel events: local learning on the managed bridges (and the read of
 * what they held before we watched them), the ifindex cache, and the
 * resync after an event-socket overrun.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "dataplane/dp_int.h"
#include "netlink/nl.h"

/* ---- start-up learning ----------------------------------------------- */


static void
dp_learn_fdb_cb(void *arg, const struct nl_fdb *f)
{
	dp_fdb_event(arg, true, f);
}

static void
dp_learn_neigh_cb(void *arg, const struct nl_neigh *nb)
{
	dp_neigh_event(arg, true, nb);
}

/*
 * MACs and neighbours the bridge held before we watched it (a restart,
 * or hosts plugged in before the VNI was configured): the kernel sends
 * no event for an entry that merely stays, so without this read they
 * would go unadvertised until they age out and come back, and remote
 * leaves would reach them only by flooding.
 */
static void
dp_learn_existing(struct dataplane *dp)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry) {
		if (!n->learn_pending)
			continue;
		n->learn_pending = false;
		if (n->l3 || n->br_ifindex == 0)
			continue;
		nl_fdb_dump(dp->nl, n->br_ifindex, dp_learn_fdb_cb, dp);
		nl_neigh_dump(dp->nl, n->br_ifindex, dp_learn_neigh_cb, dp);
	}
}

void
dp_learn_cb(evutil_socket_t fd, short what, void *arg)
{
	dp_learn_existing(arg);
}

/* On the next loop turn: evpn/ is still inside vni_add and must not be
 * called back from it. */
void
dp_learn_schedule(struct dataplane *dp, struct dp_vni *n)
{
	n->learn_pending = true;
	if (dp->ev_learn != NULL)
		event_active(dp->ev_learn, EV_TIMEOUT, 1);
}


/* ---- kernel events: local learning ---------------------------------- */

void
dp_fdb_event(void *arg, bool added, const struct nl_fdb *f)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_bridge(dp, f->master);

	/* A MAC the bridge learned on a local port: not on the VXLAN
	 * port, not ours (extern_learn), not a port's own address. */
	if (n == NULL || n->l3 || f->ifindex == n->vx_ifindex ||
	    f->ifindex == n->br_ifindex || (f->flags & NTF_EXT_LEARNED) ||
	    (f->state & NUD_PERMANENT) || mac_is_zero(&f->mac) ||
	    (f->mac.b[0] & 1) || dp->evpn == NULL)
		return;
	if (added)
		evpn_dp_mac_learned(dp->evpn, n->bridge_if, &f->mac);
	else
		evpn_dp_mac_gone(dp->evpn, n->bridge_if, &f->mac);
}

void
dp_neigh_event(void *arg, bool added, const struct nl_neigh *nb)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_bridge(dp, nb->ifindex);
	const uint16_t		 usable = NUD_REACHABLE | NUD_STALE |
	    NUD_DELAY | NUD_PROBE | NUD_PERMANENT;

	if (n == NULL || n->l3 || (nb->flags & NTF_EXT_LEARNED) ||
	    dp->evpn == NULL)
		return;
	if (!added || (nb->state & NUD_FAILED))
		evpn_dp_neigh_gone(dp->evpn, n->bridge_if, &nb->ip);
	else if ((nb->state & usable) && nb->has_mac)
		evpn_dp_neigh_learned(dp->evpn, n->bridge_if, &nb->ip,
		    &nb->mac);
}

/* Keep the ifindex cache right when a device comes or goes by hand. */
void
dp_link_event(void *arg, bool added, const struct nl_link *l)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n;

	TAILQ_FOREACH(n, &dp->vnis, entry) {
		if (strcmp(n->vxlan_if, l->name) == 0)
			n->vx_ifindex = added ? l->ifindex : 0;
		if (strcmp(n->bridge_if, l->name) == 0)
			n->br_ifindex = added ? l->ifindex : 0;
	}
}

/* ---- resync ------------------------------------------------------------ */

/* What a dump found, checked against the owned entries. */
static void
dp_seen(struct dataplane *dp, const struct dp_entry *k)
{
	struct dp_entry	*e = dp_find(dp, k);

	if (e != NULL && dp_value_eq(e, k))
		e->installed = true;
}

static void
dp_resync_fdb_cb(void *arg, const struct nl_fdb *f)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_vxlan(dp, f->ifindex);
	struct dp_entry		 k = { .where = f->ifindex };

	if (n == NULL) {
		/* Local MACs on the bridge may have been missed too. */
		dp_fdb_event(dp, true, f);
		return;
	}
	if (!(f->flags & NTF_SELF) || !ipaddr_is_set(&f->dst))
		return;
	dp_key_of_fdb(n, f, &k);
	dp_seen(dp, &k);
}

static void
dp_resync_neigh_cb(void *arg, const struct nl_neigh *nb)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_bridge(dp, nb->ifindex);
	struct dp_entry		 k = { .where = nb->ifindex };

	if (n == NULL)
		return;
	if (!(nb->flags & NTF_EXT_LEARNED)) {
		dp_neigh_event(dp, true, nb);
		return;
	}
	k.kind = n->l3 ? DP_RMAC_NEIGH : DP_NEIGH;
	k.ip = nb->ip;
	k.mac = nb->mac;
	dp_seen(dp, &k);
}

void
dataplane_resync(struct dataplane *dp)
{
	struct dp_entry	*e;
	struct dp_vni	*n;
	struct hash_iter it;
	size_t		 missing = 0;

	nl_count_resync(dp->nl);
	/* Let queued requests land before comparing. */
	nl_wait_idle(dp->nl, 5000);
	DP_FOREACH(dp, it, e)
		if (e->kind != DP_ROUTE)
			e->installed = false;
	TAILQ_FOREACH(n, &dp->vnis, entry) {
		nl_fdb_dump(dp->nl, n->br_ifindex, dp_resync_fdb_cb, dp);
		nl_fdb_dump(dp->nl, n->vx_ifindex, dp_resync_fdb_cb, dp);
		nl_neigh_dump(dp->nl, n->br_ifindex, dp_resync_neigh_cb, dp);
	}
	DP_FOREACH(dp, it, e)
		if (!e->installed) {
			dp_install(dp, e);
			missing++;
		}
	log_notice("dataplane: resync reinstalled %zu entries", missing);
	if (dp->evpn != NULL)
		evpn_dp_resync(dp->evpn);
}

void
dp_overrun(void *arg)
{
	dataplane_resync(arg);
}
