/*
 * Kernel events: local learning on the managed bridges (and the read of
 * what they held before we watched them), entries of others appearing
 * and going (dp_owner.c), and the ifindex cache.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "dataplane/dp_int.h"
#include "netlink/nl.h"

/* ---- reading what the bridges hold -------------------------------- */

/*
 * MACs and neighbours the bridge held before we watched it (a restart,
 * or hosts plugged in before the VNI was configured), or that the
 * mac-limit let go unreported: the kernel sends no event for an entry
 * that merely stays, so without this read they would go unadvertised
 * until they age out and come back, and remote leaves would reach them
 * only by flooding.  One FDB dump and one neighbour dump, read on the
 * loop (nl_dump.c), serve every VNI asked for before they started;
 * VNIs asked for meanwhile get the next pair.
 */
#define DP_LEARN_RETRY_USEC	10000	/* another dump is being read */

static void
dp_learn_later(struct dataplane *dp, long usec)
{
	struct timeval	 tv = { 0, usec };

	if (dp->ev_learn != NULL)
		evtimer_add(dp->ev_learn, &tv);
}

static void
dp_learn_dump_fdb(void *arg, const struct nl_fdb *f)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_bridge(dp, f->master);

	if (n != NULL && n->learn_running)
		dp_learn_fdb(dp, f);
}

static void
dp_learn_dump_neigh(void *arg, const struct nl_neigh *nb)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_bridge(dp, nb->ifindex);

	if (n != NULL && n->learn_running)
		dp_learn_neigh(dp, nb);
}

static void
dp_learn_finish(struct dataplane *dp)
{
	struct dp_vni	*n;
	bool		 more = false;

	dp->learning = false;
	TAILQ_FOREACH(n, &dp->vnis, entry) {
		n->learn_running = false;
		more |= n->learn_pending;
	}
	if (more)
		dp_learn_later(dp, 0);
}

static void
dp_learn_neigh_done(void *arg, int error)
{
	if (error != 0)
		log_warn("dataplane: reading the bridges' neighbours: %s",
		    strerror(-error));
	dp_learn_finish(arg);
}

static void
dp_learn_fdb_done(void *arg, int error)
{
	struct dataplane	*dp = arg;
	struct nl_dump_cbs	 cbs = { .neigh = dp_learn_dump_neigh,
	    .done = dp_learn_neigh_done, .arg = dp };

	if (error != 0)
		log_warn("dataplane: reading the bridges' MACs: %s",
		    strerror(-error));
	if (nl_dump_start(dp->nl, NL_DUMP_NEIGH, &cbs) == -1) {
		log_warn("dataplane: reading the bridges' neighbours: %s",
		    strerror(errno));
		dp_learn_finish(dp);
	}
}

void
dp_learn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dataplane	*dp = arg;
	struct nl_dump_cbs	 cbs = { .fdb = dp_learn_dump_fdb,
	    .done = dp_learn_fdb_done, .arg = dp };
	struct dp_vni		*n;
	bool			 any = false;

	if (dp->learning)
		return;			/* its end looks for more */
	if (nl_dump_running(dp->nl)) {
		dp_learn_later(dp, DP_LEARN_RETRY_USEC);
		return;
	}
	TAILQ_FOREACH(n, &dp->vnis, entry) {
		n->learn_running = n->learn_pending && !n->l3 &&
		    n->br_ifindex != 0;
		n->learn_pending = false;
		any |= n->learn_running;
	}
	if (!any)
		return;
	dp->learning = true;
	if (nl_dump_start(dp->nl, NL_DUMP_FDB, &cbs) == -1) {
		log_warn("dataplane: reading the bridges' MACs: %s",
		    strerror(errno));
		dp_learn_finish(dp);
	}
}

/* On a later loop turn: evpn/ is still inside vni_add (or inside the
 * removal of a learned route) and must not be called back from it. */
void
dp_learn_schedule(struct dataplane *dp, struct dp_vni *n)
{
	n->learn_pending = true;
	dp_learn_later(dp, 0);
}

/* ---- kernel events: local learning ---------------------------------- */

static void
dp_fdb_learned(struct dataplane *dp, bool added, const struct nl_fdb *f)
{
	struct dp_vni	*n = dp_vni_by_bridge(dp, f->master);

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

static void
dp_neigh_learned(struct dataplane *dp, bool added, const struct nl_neigh *nb)
{
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

void
dp_learn_fdb(struct dataplane *dp, const struct nl_fdb *f)
{
	dp_fdb_learned(dp, true, f);
}

void
dp_learn_neigh(struct dataplane *dp, const struct nl_neigh *nb)
{
	dp_neigh_learned(dp, true, nb);
}

void
dp_fdb_event(void *arg, bool added, const struct nl_fdb *f)
{
	dp_owner_fdb_event(arg, added, f);
	dp_fdb_learned(arg, added, f);
}

void
dp_neigh_event(void *arg, bool added, const struct nl_neigh *nb)
{
	dp_owner_neigh_event(arg, added, nb);
	dp_neigh_learned(arg, added, nb);
}

/* Keep the ifindex and up/down cache right (the API's view reads it,
 * so a request for it costs no netlink round trip). */
void
dp_link_event(void *arg, bool added, const struct nl_link *l)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n;

	if (!added)
		dp_dying_gone(dp, l->name);
	TAILQ_FOREACH(n, &dp->vnis, entry) {
		if (strcmp(n->vxlan_if, l->name) == 0) {
			n->vx_ifindex = added ? l->ifindex : 0;
			n->vx_up = added && l->up;
		}
		if (strcmp(n->bridge_if, l->name) == 0) {
			n->br_ifindex = added ? l->ifindex : 0;
			n->br_up = added && l->up;
		}
	}
}

