/*
 * VNI devices: create or adopt the VXLAN device and bridge of a VNI
 * (and its VRF or policy rule for an L3 VNI), take over the
 * extern_learn entries already on them, and remove them again.
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

/* ---- VNIs ------------------------------------------------------------ */

struct dp_vni *
dp_vni_find(struct dataplane *dp, const struct evpn_dp_vni *v)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (strcmp(n->vxlan_if, v->vxlan_if) == 0)
			return n;
	return NULL;
}

/* The VNI's devices, or NULL (logged) when vni_add did not make them. */
struct dp_vni *
dp_vni_ready(struct dataplane *dp, const struct evpn_dp_vni *v)
{
	struct dp_vni	*n = dp_vni_find(dp, v);

	if (n == NULL || n->vx_ifindex == 0 || n->br_ifindex == 0) {
		log_warn("dataplane: %s: devices not ready, entry skipped",
		    v->vxlan_if);
		return NULL;
	}
	return n;
}

struct dp_vni *
dp_vni_by_bridge(struct dataplane *dp, int ifindex)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->br_ifindex == ifindex && ifindex != 0)
			return n;
	return NULL;
}

struct dp_vni *
dp_vni_by_vxlan(struct dataplane *dp, int ifindex)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->vx_ifindex == ifindex && ifindex != 0)
			return n;
	return NULL;
}

struct dp_vni *
dp_vni_by_table(struct dataplane *dp, uint32_t table)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->l3 && n->table == table && table != 0)
			return n;
	return NULL;
}

/* What a dump at a VNI's setup finds on its devices: ours is adopted
 * (marked, so a sync that does not push it again removes it), somebody
 * else's remembered.  Other VNIs' entries are not looked at: a delete
 * of theirs may still be queued. */
struct dp_adopting {
	struct dataplane	*dp;
	struct dp_vni		*n;
};

static void
dp_adopt_key(struct dp_adopting *a, enum dp_whose whose,
    const struct dp_entry *k)
{
	bool	 mine;

	if (k->kind == DP_ROUTE)
		mine = (uint32_t)k->where == a->n->table;
	else
		mine = k->where == a->n->vx_ifindex ||
		    k->where == a->n->br_ifindex;
	if (!mine)
		return;
	if (whose == DP_OURS)
		dp_adopt(a->dp, k);
	else if (whose == DP_FOREIGN)
		dp_foreign_add(a->dp, k, a->dp->round);
}

static void
dp_adopt_fdb_cb(void *arg, const struct nl_fdb *f)
{
	struct dp_adopting	*a = arg;
	struct dp_entry		 k;

	dp_adopt_key(a, dp_fdb_whose(a->dp, f, &k), &k);
}

static void
dp_adopt_neigh_cb(void *arg, const struct nl_neigh *nb)
{
	struct dp_adopting	*a = arg;
	struct dp_entry		 k;

	dp_adopt_key(a, dp_neigh_whose(a->dp, nb, &k), &k);
}

static void
dp_adopt_route_cb(void *arg, const struct nl_route *r)
{
	struct dp_adopting	*a = arg;
	struct dp_entry		 k;

	dp_adopt_key(a, dp_route_whose(a->dp, r, &k), &k);
}

/* Before anything is installed on the VNI: what is there already. */
static void
dp_vni_adopt_entries(struct dataplane *dp, struct dp_vni *n)
{
	struct dp_adopting	 a = { dp, n };

	/* All of it: the bridge's static entries on other ports count. */
	nl_fdb_dump(dp->nl, 0, dp_adopt_fdb_cb, &a);
	nl_neigh_dump(dp->nl, n->br_ifindex, dp_adopt_neigh_cb, &a);
	if (n->l3 && n->table != 0) {
		if (nl_events_routes(dp->nl) == -1)
			log_warn("dataplane: cannot watch route changes");
		nl_route_dump(dp->nl, n->table, dp_adopt_route_cb, &a);
	}
}



static int
dp_vni_l3_setup(struct dataplane *dp, struct dp_vni *n, char *err,
    size_t errlen)
{
	if (nl_vrf_supported(dp->nl) && n->vrf[0] != '\0') {
		if (nl_vrf_ensure(dp->nl, n->vrf, n->table, &n->vrf_created,
		    &n->vrf_ifindex, err, errlen) == -1 ||
		    nl_link_set_master(dp->nl, n->br_ifindex, n->vrf_ifindex,
		    err, errlen) == -1 ||
		    nl_link_set_up(dp->nl, n->vrf_ifindex, err, errlen) == -1)
			return -1;
		return 0;
	}
	/* No VRF devices: traffic entering the L3 bridge looks up the
	 * VRF's table by policy rule instead. */
	if (nl_rule_iif_add(dp->nl, NL_RULE_PRIO_BASE, n->bridge_if, n->table,
	    err, errlen) == -1)
		return -1;
	n->rule_added = true;
	return 0;
}

/*
 * A bridge we create for an L2 VNI gets a fixed MAC (the VTEP's router
 * MAC): left alone, the kernel gives a bridge the lowest MAC of its
 * ports, and when a port with a lower one joins it changes it and
 * flushes the bridge's neighbour table - our ARP/ND suppression entries
 * with it.  An adopted bridge keeps its MAC.
 */
static int
dp_l2_bridge_mac(struct dataplane *dp, struct dp_vni *n,
    const struct evpn_dp_vni *v, char *err, size_t errlen)
{
	if (v->l3 || !n->br_created || mac_is_zero(&v->router_mac))
		return 0;
	return nl_link_set_mac(dp->nl, n->br_ifindex, v->bridge_if,
	    &v->router_mac, err, errlen);
}

static int
dp_vni_devices(struct dataplane *dp, struct dp_vni *n,
    const struct evpn_dp_vni *v, char *err, size_t errlen)
{
	struct nl_vxlan_params	 p = { v->vxlan_if, v->vni, v->local_ip,
	    v->dstport, v->mtu };

	if (nl_vxlan_ensure(dp->nl, &p, &n->vx_created, &n->vx_ifindex, err,
	    errlen) == -1 ||
	    nl_bridge_ensure(dp->nl, v->bridge_if, v->l3 ? &v->router_mac :
	    NULL, &n->br_created, &n->br_ifindex, err, errlen) == -1 ||
	    dp_l2_bridge_mac(dp, n, v, err, errlen) == -1 ||
	    nl_bridge_attach(dp->nl, n->vx_ifindex, n->br_ifindex, false,
	    v->arp_suppress, err, errlen) == -1 ||
	    nl_link_set_up(dp->nl, n->br_ifindex, err, errlen) == -1 ||
	    nl_link_set_up(dp->nl, n->vx_ifindex, err, errlen) == -1)
		return -1;
	/* An L3 VNI's bridge, and an L2 VNI's bridge whose SVI routes in a
	 * VRF (svi-vrf), belong to the VRF. */
	if ((n->l3 || n->vrf[0] != '\0') && n->table != 0 &&
	    dp_vni_l3_setup(dp, n, err, errlen) == -1)
		return -1;
	return 0;
}

static void
dp_vni_remove_devices(struct dataplane *dp, struct dp_vni *n)
{
	char	 err[256];

	if (n->rule_added && nl_rule_iif_delete(dp->nl, NL_RULE_PRIO_BASE,
	    n->bridge_if, n->table, err, sizeof(err)) == -1)
		log_warn("dataplane: %s", err);
	if (n->vx_created && nl_link_delete(dp->nl, n->vx_ifindex, err,
	    sizeof(err)) == -1)
		log_warn("dataplane: %s: %s", n->vxlan_if, err);
	if (n->br_created && nl_link_delete(dp->nl, n->br_ifindex, err,
	    sizeof(err)) == -1)
		log_warn("dataplane: %s: %s", n->bridge_if, err);
	if (n->vrf_created && nl_link_delete(dp->nl, n->vrf_ifindex, err,
	    sizeof(err)) == -1)
		log_warn("dataplane: %s: %s", n->vrf, err);
}

/*
 * The devices of a removed VNI go by queued requests, behind the entry
 * deletes queued before them: nothing waits for the kernel.  Their
 * names are remembered until the kernel reports them gone, so a VNI
 * added meanwhile under one of those names waits for the delete
 * instead of adopting a device about to vanish.
 */
static void
dp_dying_add(struct dataplane *dp, const char *name)
{
	struct dp_dying	*d = xcalloc(1, sizeof(*d));

	strlcpy_s(d->name, name, sizeof(d->name));
	TAILQ_INSERT_TAIL(&dp->dying, d, entry);
}

void
dp_dying_gone(struct dataplane *dp, const char *name)
{
	struct dp_dying	*d, *next;

	TAILQ_FOREACH_SAFE(d, &dp->dying, entry, next)
		if (name == NULL || strcmp(d->name, name) == 0) {
			TAILQ_REMOVE(&dp->dying, d, entry);
			free(d);
		}
}

static bool
dp_dying_has(struct dataplane *dp, const char *name)
{
	struct dp_dying	*d;

	TAILQ_FOREACH(d, &dp->dying, entry)
		if (name != NULL && strcmp(d->name, name) == 0)
			return true;
	return false;
}

static void
dp_vni_remove_queued(struct dataplane *dp, struct dp_vni *n)
{
	if (n->rule_added)
		nl_rule_iif_delete_queued(dp->nl, NL_RULE_PRIO_BASE,
		    n->bridge_if, n->table);
	if (n->vx_created) {
		nl_link_delete_queued(dp->nl, n->vx_ifindex, n->vxlan_if);
		dp_dying_add(dp, n->vxlan_if);
	}
	if (n->br_created) {
		nl_link_delete_queued(dp->nl, n->br_ifindex, n->bridge_if);
		dp_dying_add(dp, n->bridge_if);
	}
	if (n->vrf_created) {
		nl_link_delete_queued(dp->nl, n->vrf_ifindex, n->vrf);
		dp_dying_add(dp, n->vrf);
	}
}

int
dp_vni_add(void *ctx, const struct evpn_dp_vni *v, char *err, size_t errlen)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;

	if ((n = dp_vni_find(dp, v)) != NULL)
		return 0;
	if (dp_dying_has(dp, v->vxlan_if) || dp_dying_has(dp, v->bridge_if) ||
	    dp_dying_has(dp, v->vrf)) {
		/* Rare: a reload reusing a removed VNI's device name. */
		nl_wait_idle(dp->nl, 2000);
		dp_dying_gone(dp, NULL);
	}
	n = xcalloc(1, sizeof(*n));
	strlcpy_s(n->vxlan_if, v->vxlan_if, sizeof(n->vxlan_if));
	strlcpy_s(n->bridge_if, v->bridge_if, sizeof(n->bridge_if));
	if (v->vrf != NULL)
		strlcpy_s(n->vrf, v->vrf, sizeof(n->vrf));
	n->vni = v->vni;
	n->l3 = v->l3;
	n->table = v->table;
	if (dp_vni_devices(dp, n, v, err, errlen) == -1) {
		dp_vni_remove_devices(dp, n);
		free(n);
		return -1;
	}
	n->vx_up = n->br_up = true;	/* dp_vni_devices set them up */
	TAILQ_INSERT_TAIL(&dp->vnis, n, entry);
	log_info("dataplane: VNI %u: %s %s, %s %s", n->vni, n->vxlan_if,
	    n->vx_created ? "created" : "adopted", n->bridge_if,
	    n->br_created ? "created" : "adopted");
	dp_vni_adopt_entries(dp, n);
	dp_learn_schedule(dp, n);
	return 0;
}

/* Whether e lives on n's devices (or, for a route, in its table). */
static bool
dp_entry_of_vni(const struct dp_entry *e, const struct dp_vni *n)
{
	if (e->kind == DP_ROUTE)
		return n->l3 && (uint32_t)e->where == n->table;
	return e->where == n->vx_ifindex || e->where == n->br_ifindex;
}

void
dp_vni_del(void *ctx, const struct evpn_dp_vni *v)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n = dp_vni_find(dp, v);
	struct dp_entry		*e;
	struct hash_iter	 it;
	bool			 was_in_sync;

	if (n == NULL)
		return;
	/* Routes first: they hold references on the router-MAC entries,
	 * which the second walk removes (in_sync keeps the release from
	 * freeing entries under the first walk). */
	was_in_sync = dp->in_sync;
	dp->in_sync = true;
	DP_FOREACH(&dp->owned, it, e)
		if (e->kind == DP_ROUTE && dp_entry_of_vni(e, n))
			dp_delete(dp, e);
	dp->in_sync = was_in_sync;
	DP_FOREACH(&dp->foreign, it, e)
		if (dp_entry_of_vni(e, n))
			dp_table_remove(&dp->foreign, e);
	DP_FOREACH(&dp->owned, it, e) {
		if (e->kind == DP_ROUTE || !dp_entry_of_vni(e, n))
			continue;
		/* A device we delete takes its entries along. */
		if ((e->where == n->vx_ifindex && n->vx_created) ||
		    (e->where == n->br_ifindex && n->br_created))
			dp_remove(dp, e);
		else
			dp_delete(dp, e);
	}
	dp_vni_remove_queued(dp, n);
	TAILQ_REMOVE(&dp->vnis, n, entry);
	free(n);
}
