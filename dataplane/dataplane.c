/*
 * The data-plane adapter's life cycle and the evpn_dataplane operations
 * (see dataplane.h for how it works); owned entries are in dp_entry.c,
 * devices in dp_vni.c, kernel events and resync in dp_learn.c.
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

/*
 * The key of a kind's entry in VNI v: kind and where it lives (FDB and
 * flood entries on the VXLAN device, neighbours on the bridge, routes in
 * the VRF's table).  NULL while v's devices are not ready.
 */
static struct dp_vni *
dp_key_init(struct dataplane *dp, const struct evpn_dp_vni *v,
    enum dp_kind kind, struct dp_entry *k)
{
	struct dp_vni	*n;

	memset(k, 0, sizeof(*k));
	k->kind = kind;
	if ((n = dp_vni_ready(dp, v)) == NULL)
		return NULL;
	switch (kind) {
	case DP_NEIGH:
	case DP_RMAC_NEIGH:
		k->where = n->br_ifindex;
		break;
	case DP_ROUTE:
		k->where = (int)n->table;
		break;
	default:
		k->where = n->vx_ifindex;
		break;
	}
	return n;
}

static void
dp_mac_set(void *ctx, const struct evpn_dp_vni *v, const struct macaddr *mac,
    const struct ipaddr *vtep, bool sticky)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		 k;

	if (dp_key_init(dp, v, DP_FDB, &k) == NULL)
		return;
	k.mac = *mac;
	k.vtep = *vtep;
	k.sticky = sticky;
	dp_set(dp, &k);
}

static void
dp_mac_del(void *ctx, const struct evpn_dp_vni *v, const struct macaddr *mac)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		 k;

	if (dp_key_init(dp, v, DP_FDB, &k) == NULL)
		return;
	k.mac = *mac;
	dp_unset(dp, &k);
}

static void
dp_flood(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *vtep,
    bool add)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		 k;

	if (dp_key_init(dp, v, DP_FLOOD, &k) == NULL)
		return;
	k.ip = *vtep;
	if (add)
		dp_set(dp, &k);
	else
		dp_unset(dp, &k);
}

static void
dp_flood_add(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *vtep)
{
	dp_flood(ctx, v, vtep, true);
}

static void
dp_flood_del(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *vtep)
{
	dp_flood(ctx, v, vtep, false);
}

static void
dp_neigh_set(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *ip,
    const struct macaddr *mac)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		 k;

	if (dp_key_init(dp, v, DP_NEIGH, &k) == NULL)
		return;
	k.ip = *ip;
	k.mac = *mac;
	dp_set(dp, &k);
}

/* Only while the entry still maps ip to mac: an IP that moved to
 * another MAC keeps its new entry. */
static void
dp_neigh_del(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *ip,
    const struct macaddr *mac)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		 k, *e;

	if (dp_key_init(dp, v, DP_NEIGH, &k) == NULL)
		return;
	k.ip = *ip;
	if ((e = dp_find(dp, &k)) != NULL && mac_cmp(&e->mac, mac) == 0)
		dp_delete(dp, e);
}


static void
dp_route_set(void *ctx, const struct evpn_dp_vni *v, const struct prefix *p,
    const struct ipaddr *vtep, const struct macaddr *rmac)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;
	struct dp_entry		 k, *e;

	if ((n = dp_key_init(dp, v, DP_ROUTE, &k)) == NULL)
		return;
	k.pfx = *p;
	k.vtep = *vtep;
	k.rmac = *rmac;
	k.dev = n->br_ifindex;
	k.vx_dev = n->vx_ifindex;
	/* Neighbour and FDB before the route, so the kernel can resolve
	 * the onlink gateway from the first packet.  A route in the table
	 * holds one reference on each of its router-MAC entries. */
	e = dp_find(dp, &k);
	if (e != NULL && dp_value_eq(e, &k)) {
		dp_hold_rmac(dp, &k, false);	/* unmark, reinstall */
		dp_set(dp, &k);
		return;
	}
	dp_hold_rmac(dp, &k, true);
	if (e != NULL)
		dp_release_rmac(dp, e);		/* after: shared keys stay */
	dp_set(dp, &k);
}

static void
dp_route_del(void *ctx, const struct evpn_dp_vni *v, const struct prefix *p)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		 k;

	if (dp_key_init(dp, v, DP_ROUTE, &k) == NULL)
		return;
	k.pfx = *p;
	dp_unset(dp, &k);
}

/* The mac-limit let learned MACs go unreported: read the bridge again. */
static void
dp_learn_again(void *ctx, const struct evpn_dp_vni *v)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;

	if ((n = dp_vni_find(dp, v)) != NULL && !n->l3)
		dp_learn_schedule(dp, n);
}

/* ---- life cycle and API ----------------------------------------------- */

struct dataplane *
dataplane_create(struct event_base *base, struct evpn *evpn, char *err,
    size_t errlen)
{
	struct dataplane	*dp = xcalloc(1, sizeof(*dp));
	struct nl_callbacks	 cb = {
		.fdb = dp_fdb_event,
		.neigh = dp_neigh_event,
		.link = dp_link_event,
		.route = dp_route_event,
		.overrun = dp_overrun,
		.arg = dp,
	};

	TAILQ_INIT(&dp->vnis);
	TAILQ_INIT(&dp->dying);
	dp->base = base;
	dp->evpn = evpn;
	dp_table_init(&dp->owned);
	dp_table_init(&dp->foreign);
	if ((dp->nl = nl_create(base, &cb, err, errlen)) == NULL) {
		dataplane_free(dp);
		return NULL;
	}
	if (base != NULL &&
	    (dp->ev_learn = evtimer_new(base, dp_learn_cb, dp)) == NULL) {
		snprintf(err, errlen, "cannot register the learning event");
		dataplane_free(dp);
		return NULL;
	}
	dp->ops = (struct evpn_dataplane){
		.ctx = dp,
		.vni_add = dp_vni_add,
		.vni_del = dp_vni_del,
		.mac_set = dp_mac_set,
		.mac_del = dp_mac_del,
		.flood_add = dp_flood_add,
		.flood_del = dp_flood_del,
		.neigh_set = dp_neigh_set,
		.neigh_del = dp_neigh_del,
		.route_set = dp_route_set,
		.route_del = dp_route_del,
		.sync_begin = dp_sync_begin,
		.sync_end = dp_sync_end,
		.learn_again = dp_learn_again,
	};
	return dp;
}

/* Kernel state stays as it is: a restart adopts it. */
void
dataplane_free(struct dataplane *dp)
{
	struct dp_vni	*n;

	if (dp == NULL)
		return;
	if (dp->ev_learn != NULL)
		event_free(dp->ev_learn);
	dp_resync_free(dp);
	if (dp->nl != NULL)
		nl_wait_idle(dp->nl, 2000);
	dp_table_free(&dp->owned);
	dp_table_free(&dp->foreign);
	dp_dying_gone(dp, NULL);
	while ((n = TAILQ_FIRST(&dp->vnis)) != NULL) {
		TAILQ_REMOVE(&dp->vnis, n, entry);
		free(n);
	}
	nl_free(dp->nl);
	free(dp);
}

void
dataplane_set_evpn(struct dataplane *dp, struct evpn *evpn)
{
	dp->evpn = evpn;
}

const struct evpn_dataplane *
dataplane_ops(struct dataplane *dp)
{
	return &dp->ops;
}

struct nl_ctx *
dataplane_nl(struct dataplane *dp)
{
	return dp->nl;
}

static const char *const dp_kind_names[DP_NKINDS] = {
	"fdb", "flood", "neigh", "route", "rmac_fdb", "rmac_neigh",
};

const char *
dataplane_kind_name(int kind)
{
	return kind >= 0 && kind < DP_NKINDS ? dp_kind_names[kind] : "?";
}

bool
dataplane_idle(const struct dataplane *dp)
{
	const struct dp_vni	*n;
	struct nl_counters	 c;

	if (dp->resync != NULL || dp->learning || nl_dump_running(dp->nl))
		return false;
	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->learn_pending)
			return false;
	nl_get_counters(dp->nl, &c);
	return c.pending == 0;
}

void
dataplane_get_stats(struct dataplane *dp, struct dataplane_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->vrf_devices = nl_vrf_supported(dp->nl);
	for (int k = 0; k < DP_NKINDS; k++) {
		st->installed[k] = dp->kind_count[k] - dp->blocked_count[k];
		st->blocked[k] = dp->blocked_count[k];
	}
	st->refused = dp->refused;
	nl_get_counters(dp->nl, &st->nl);
}

/* From what the link events said: no netlink request per VNI. */
void
dataplane_foreach_vni(struct dataplane *dp, dataplane_vni_cb *cb, void *arg)
{
	struct dataplane_vni_state	 s;
	struct dp_vni			*n;

	TAILQ_FOREACH(n, &dp->vnis, entry) {
		s = (struct dataplane_vni_state){
			.vni = n->vni, .l3 = n->l3, .table = n->table,
			.vxlan_if = n->vxlan_if, .bridge_if = n->bridge_if,
			.vx_created = n->vx_created,
			.br_created = n->br_created,
			.vx_ifindex = n->vx_ifindex,
			.br_ifindex = n->br_ifindex,
			.vx_up = n->vx_ifindex != 0 && n->vx_up,
			.br_up = n->br_ifindex != 0 && n->br_up,
		};
		cb(arg, &s);
	}
}
