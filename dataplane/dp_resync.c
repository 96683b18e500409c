/*
 * The resync after an event-socket overrun: notifications were lost, so
 * the kernel is read again and compared with what we hold.  Entries of
 * ours that are missing are installed again, foreign entries that came
 * or went unseen are noted, local MACs and neighbours are reported to
 * evpn/ again.  (evpn/ is not asked to push its state: the owned
 * entries are that state, and only kernel events were lost.)
 *
 * How this works: in steps on later loop turns, none of which reads or
 * walks more than a slice.  First the requests still queued are let
 * land (a short timer, at most RESYNC_WAIT_MS in all); then the FDB,
 * the neighbours and (with an L3 VNI) the routes are dumped through
 * netlink's loop-read dumps, each entry marking what it matches as seen
 * in this round; then the foreign keys and our entries are walked in
 * slices of RESYNC_SLICE entries: a foreign key not seen is gone, an
 * entry of ours not seen is installed again.  A table that grows under
 * a walk restarts it (what was repaired is seen by then).  An overrun
 * during a resync runs another one after it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "dataplane/dp_int.h"
#include "netlink/nl.h"

#define RESYNC_WAIT_MS		5000	/* for queued requests to land */
#define RESYNC_POLL_USEC	10000
#define RESYNC_SLICE		1024	/* entries per loop turn */

enum dp_resync_step {
	RESYNC_WAIT,		/* queued requests landing */
	RESYNC_DUMP_FDB,
	RESYNC_DUMP_NEIGH,
	RESYNC_DUMP_ROUTE,
	RESYNC_FOREIGN,		/* keys of others not seen: gone */
	RESYNC_OWNED,		/* ours not seen: install again */
	RESYNC_DONE,
};

struct dp_resync {
	struct dataplane	*dp;
	struct event		*ev;
	enum dp_resync_step	 step;
	uint64_t		 wait_until;
	bool			 failed;	/* a dump failed: no repair */
	bool			 again;		/* an overrun meanwhile */
	struct hash_iter	 it;		/* the walk's position */
	size_t			 missing;
};

static void	 dp_resync_step(evutil_socket_t, short, void *);

static void
dp_resync_later(struct dp_resync *rs, long usec)
{
	struct timeval	 tv = { 0, usec };

	/* A timer, not event_active(): libevent runs an event activated
	 * from its own callback again in the same pass. */
	evtimer_add(rs->ev, &tv);
}

/* ---- the dumps -------------------------------------------------------- */

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
	struct dataplane	*dp = ((struct dp_resync *)arg)->dp;
	struct dp_entry		 k;

	dp_resync_key(dp, dp_fdb_whose(dp, f, &k), &k);
	/* Local MACs on the bridge may have been missed too. */
	dp_learn_fdb(dp, f);
}

static void
dp_resync_neigh_cb(void *arg, const struct nl_neigh *nb)
{
	struct dataplane	*dp = ((struct dp_resync *)arg)->dp;
	struct dp_entry		 k;

	dp_resync_key(dp, dp_neigh_whose(dp, nb, &k), &k);
	dp_learn_neigh(dp, nb);
}

static void
dp_resync_route_cb(void *arg, const struct nl_route *r)
{
	struct dataplane	*dp = ((struct dp_resync *)arg)->dp;
	struct dp_entry		 k;

	dp_resync_key(dp, dp_route_whose(dp, r, &k), &k);
}

static void
dp_resync_dump_done(void *arg, int error)
{
	struct dp_resync	*rs = arg;

	if (error != 0) {
		log_warn("dataplane: resync: dump failed: %s",
		    strerror(-error));
		rs->failed = true;
	}
	rs->step++;
	dp_resync_later(rs, 0);
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

static void
dp_resync_dump(struct dp_resync *rs, enum nl_dump_kind kind)
{
	struct nl_dump_cbs	 cbs = {
		.fdb = dp_resync_fdb_cb,
		.neigh = dp_resync_neigh_cb,
		.route = dp_resync_route_cb,
		.done = dp_resync_dump_done,
		.arg = rs,
	};

	/* The bridges being read for learning: after that. */
	if (nl_dump_running(rs->dp->nl)) {
		dp_resync_later(rs, RESYNC_POLL_USEC);
		return;
	}
	if (nl_dump_start(rs->dp->nl, kind, &cbs) == -1) {
		log_warn("dataplane: resync: cannot start a dump: %s",
		    strerror(errno));
		dp_resync_dump_done(rs, -errno);
	}
}

/* ---- the walks ------------------------------------------------------- */

/* One slice of a walk over t; true when the walk is complete. */
static bool
dp_resync_walk(struct dp_resync *rs, struct dp_table *t,
    void (*fn)(struct dp_resync *, struct dp_entry *))
{
	struct dp_entry	*e;
	size_t		 budget = RESYNC_SLICE;

	/* The iterator starts over by itself if the table grew. */
	while (budget > 0 || !hash_iter_at_boundary(&rs->it)) {
		if ((e = dp_iter_next(&rs->it)) == NULL)
			return true;
		fn(rs, e);
		if (budget > 0)
			budget--;
	}
	return false;
}

static void
dp_resync_foreign_one(struct dp_resync *rs, struct dp_entry *f)
{
	if (f->seen != rs->dp->round)
		dp_foreign_del(rs->dp, f);
}

static void
dp_resync_owned_one(struct dp_resync *rs, struct dp_entry *e)
{
	if (e->seen == rs->dp->round || e->blocked)
		return;
	dp_install(rs->dp, e);
	rs->missing++;
}

/* Move to the walk of t (or to the end after the last walk). */
static void
dp_resync_walk_begin(struct dp_resync *rs, enum dp_resync_step step,
    struct dp_table *t)
{
	rs->step = step;
	if (t != NULL)
		hash_iter_init(&rs->it, &t->by_key);
	dp_resync_later(rs, 0);
}

/* ---- the steps ------------------------------------------------------- */

static void
dp_resync_begin(struct dp_resync *rs)
{
	nl_count_resync(rs->dp->nl);
	rs->step = RESYNC_WAIT;
	rs->wait_until = mono_msec() + RESYNC_WAIT_MS;
	rs->failed = rs->again = false;
	rs->missing = 0;
	dp_resync_later(rs, 0);
}

static void
dp_resync_end(struct dp_resync *rs)
{
	if (rs->failed)
		log_warn("dataplane: resync incomplete: a dump failed, nothing "
		    "repaired");
	else
		log_notice("dataplane: resync reinstalled %zu entries",
		    rs->missing);
	if (rs->again) {
		dp_resync_begin(rs);
		return;
	}
	event_free(rs->ev);
	rs->dp->resync = NULL;
	free(rs);
}

static void
dp_resync_step(evutil_socket_t fd, short what, void *arg)
{
	struct dp_resync	*rs = arg;
	struct dataplane	*dp = rs->dp;
	struct nl_counters	 c;

	switch (rs->step) {
	case RESYNC_WAIT:
		nl_get_counters(dp->nl, &c);
		if (c.pending > 0 && mono_msec() < rs->wait_until) {
			dp_resync_later(rs, RESYNC_POLL_USEC);
			return;
		}
		dp->round++;
		rs->step = RESYNC_DUMP_FDB;
		/* FALLTHROUGH */
	case RESYNC_DUMP_FDB:
	case RESYNC_DUMP_NEIGH:
	case RESYNC_DUMP_ROUTE:
		if (rs->failed)
			dp_resync_walk_begin(rs, RESYNC_DONE, NULL);
		else if (rs->step == RESYNC_DUMP_ROUTE && !dp_have_l3(dp))
			dp_resync_walk_begin(rs, RESYNC_FOREIGN, &dp->foreign);
		else
			dp_resync_dump(rs, rs->step == RESYNC_DUMP_FDB ?
			    NL_DUMP_FDB : rs->step == RESYNC_DUMP_NEIGH ?
			    NL_DUMP_NEIGH : NL_DUMP_ROUTE);
		return;
	case RESYNC_FOREIGN:
		if (dp_resync_walk(rs, &dp->foreign, dp_resync_foreign_one))
			dp_resync_walk_begin(rs, RESYNC_OWNED, &dp->owned);
		else
			dp_resync_later(rs, 0);
		return;
	case RESYNC_OWNED:
		if (dp_resync_walk(rs, &dp->owned, dp_resync_owned_one))
			dp_resync_walk_begin(rs, RESYNC_DONE, NULL);
		else
			dp_resync_later(rs, 0);
		return;
	case RESYNC_DONE:
		dp_resync_end(rs);
		return;
	}
}

/* ---- entry points ---------------------------------------------------- */

void
dataplane_resync(struct dataplane *dp)
{
	struct dp_resync	*rs;

	if (dp->resync != NULL) {
		dp->resync->again = true;
		return;
	}
	if (dp->base == NULL)
		fatalx("dataplane: a resync needs the event loop");
	rs = xcalloc(1, sizeof(*rs));
	rs->dp = dp;
	if ((rs->ev = evtimer_new(dp->base, dp_resync_step,
	    rs)) == NULL)
		fatalx("dataplane: cannot register the resync event");
	dp->resync = rs;
	dp_resync_begin(rs);
}

bool
dataplane_resync_running(const struct dataplane *dp)
{
	return dp->resync != NULL;
}

void
dp_overrun(void *arg)
{
	dataplane_resync(arg);
}

void
dp_resync_free(struct dataplane *dp)
{
	if (dp->resync == NULL)
		return;
	event_free(dp->resync->ev);
	free(dp->resync);
	dp->resync = NULL;
}
