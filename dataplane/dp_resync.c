/*
 * The resync after an event-socket overrun: notifications were lost, so
 * the kernel is read again and compared with what we hold.  Entries of
 * ours that are missing are installed again, foreign entries that came
 * or went unseen are noted, local MACs and neighbours are reported to
 * evpn/ again.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "dataplane/dp_int.h"
#include "netlink/nl.h"

/* What a dump found: ours (seen, when it has our value), foreign. */
static void
dp_resync_key(struct dataplane *dp, enum dp_whose whose,
    const struct dp_entry *k)
{
	struct dp_entry	*e;

	if (whose == DP_FOREIGN)
		dp_foreign_add(dp, k, dp->round);
	else if (whose == DP_OURS && (e = dp_find(dp, k)) != NULL &&
	    dp_value_eq(e, k))
		e->seen = dp->round;
}

static void
dp_resync_fdb_cb(void *arg, const struct nl_fdb *f)
{
	struct dataplane	*dp = arg;
	struct dp_entry		 k;

	dp_resync_key(dp, dp_fdb_whose(dp, f, &k), &k);
	/* Local MACs on the bridge may have been missed too. */
	dp_learn_fdb(dp, f);
}

static void
dp_resync_neigh_cb(void *arg, const struct nl_neigh *nb)
{
	struct dataplane	*dp = arg;
	struct dp_entry		 k;

	dp_resync_key(dp, dp_neigh_whose(dp, nb, &k), &k);
	dp_learn_neigh(dp, nb);
}

static void
dp_resync_route_cb(void *arg, const struct nl_route *r)
{
	struct dataplane	*dp = arg;
	struct dp_entry		 k;

	dp_resync_key(dp, dp_route_whose(dp, r, &k), &k);
}

static bool
dp_have_l3(struct dataplane *dp)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->l3)
			return true;
	return false;
}

/* Foreign keys not seen this round are gone (our entries there are
 * installed again); ours not seen are missing: installed again. */
static size_t
dp_resync_repair(struct dataplane *dp)
{
	struct dp_entry	*e, *next;
	size_t		 i, missing = 0;

	DP_FOREACH(&dp->foreign, i, e, next)
		if (e->seen != dp->round)
			dp_foreign_del(dp, e);
	DP_FOREACH(&dp->owned, i, e, next)
		if (e->seen != dp->round && !e->blocked) {
			dp_install(dp, e);
			missing++;
		}
	return missing;
}

void
dataplane_resync(struct dataplane *dp)
{
	nl_count_resync(dp->nl);
	/* Let queued requests land before comparing. */
	nl_wait_idle(dp->nl, 5000);
	dp->round++;
	if (nl_fdb_dump(dp->nl, 0, dp_resync_fdb_cb, dp) == -1 ||
	    nl_neigh_dump(dp->nl, 0, dp_resync_neigh_cb, dp) == -1 ||
	    (dp_have_l3(dp) &&
	    nl_route_dump(dp->nl, 0, dp_resync_route_cb, dp) == -1)) {
		log_warn("dataplane: resync: a dump failed; nothing repaired");
		return;
	}
	log_notice("dataplane: resync reinstalled %zu entries",
	    dp_resync_repair(dp));
}

void
dp_overrun(void *arg)
{
	dataplane_resync(arg);
}

void
dp_resync_free(struct dataplane *dp)
{
	(void)dp;
}
