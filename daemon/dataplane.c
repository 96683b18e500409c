/*
 * The data-plane adapter (see dataplane.h for how it works): owned
 * entries, mark and sweep, adoption at start-up, learning events and
 * the overrun resync, on top of netlink/.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/queue.h"
#include "common/util.h"
#include "daemon/dataplane.h"
#include "netlink/nl.h"

enum dp_kind {
	DP_FDB,		/* remote MAC on an L2 VXLAN device */
	DP_FLOOD,	/* 00:00:00:00:00:00 dst VTEP */
	DP_NEIGH,	/* IP lladdr MAC on an L2 bridge */
	DP_ROUTE,	/* prefix via VTEP onlink, in a table */
	DP_RMAC_FDB,	/* router MAC dst VTEP on the L3 VXLAN device */
	DP_RMAC_NEIGH,	/* VTEP lladdr router MAC on the L3 bridge */
	DP_NKINDS
};

static const char *const dp_kind_names[DP_NKINDS] = {
	"fdb", "flood", "neigh", "route", "rmac_fdb", "rmac_neigh",
};

/* Key: kind, where (ifindex, or table for routes) and one of mac/ip/pfx. */
struct dp_entry {
	struct dp_entry	*next;		/* hash chain */
	uint8_t		 kind;
	bool		 marked;	/* stale unless pushed again */
	bool		 installed;	/* the kernel has it, as far as we know */
	bool		 sticky;
	int		 where;
	struct macaddr	 mac;		/* key: FDB, RMAC_FDB; value: neighs */
	struct ipaddr	 ip;		/* key: FLOOD, NEIGH, RMAC_NEIGH */
	struct prefix	 pfx;		/* key: ROUTE */
	struct ipaddr	 vtep;		/* value: FDB, ROUTE, RMAC_FDB */
	struct macaddr	 rmac;		/* value: ROUTE */
	int		 dev;		/* ROUTE: L3 bridge */
	int		 vx_dev;	/* ROUTE: L3 VXLAN device */
	uint32_t	 refs;		/* RMAC_*: routes using it */
};

struct dp_vni {
	TAILQ_ENTRY(dp_vni) entry;
	char		 vxlan_if[IF_NAMESIZE];
	char		 bridge_if[IF_NAMESIZE];
	char		 vrf[IF_NAMESIZE];
	uint32_t	 vni;
	uint32_t	 table;
	bool		 l3;
	int		 vx_ifindex, br_ifindex, vrf_ifindex;
	bool		 vx_created, br_created, vrf_created, rule_added;
	bool		 learn_pending;	/* bridge not read for local MACs yet */
};
TAILQ_HEAD(dp_vni_list, dp_vni);

struct dataplane {
	struct nl_ctx		*nl;
	struct evpn		*evpn;
	struct evpn_dataplane	 ops;
	struct dp_vni_list	 vnis;
	struct dp_entry		**hash;
	size_t			 hash_size, count;
	uint64_t		 kind_count[DP_NKINDS];
	bool			 in_sync;
	struct event		*ev_learn;	/* start-up learning, deferred */
};

/* ---- owned entries -------------------------------------------------- */

static uint32_t
dp_hash_bytes(uint32_t h, const void *p, size_t len)
{
	const uint8_t	*b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;	/* FNV-1a */
	return h;
}

static uint32_t
dp_hash(const struct dp_entry *e)
{
	uint32_t	 h = 2166136261u;

	h = dp_hash_bytes(h, &e->kind, 1);
	h = dp_hash_bytes(h, &e->where, sizeof(e->where));
	switch (e->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		return dp_hash_bytes(h, e->mac.b, 6);
	case DP_ROUTE:
		h = dp_hash_bytes(h, &e->pfx.len, 1);
		return dp_hash_bytes(h, e->pfx.addr.u.b, 16);
	default:
		return dp_hash_bytes(h, e->ip.u.b, 16);
	}
}

static bool
dp_key_eq(const struct dp_entry *a, const struct dp_entry *b)
{
	if (a->kind != b->kind || a->where != b->where)
		return false;
	switch (a->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		return mac_cmp(&a->mac, &b->mac) == 0;
	case DP_ROUTE:
		return prefix_cmp(&a->pfx, &b->pfx) == 0;
	default:
		return ipaddr_cmp(&a->ip, &b->ip) == 0;
	}
}

static struct dp_entry **
dp_slot(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	**pp = &dp->hash[dp_hash(key) & (dp->hash_size - 1)];

	while (*pp != NULL && !dp_key_eq(*pp, key))
		pp = &(*pp)->next;
	return pp;
}

static void
dp_hash_grow(struct dataplane *dp)
{
	struct dp_entry	**old = dp->hash, *e, *next;
	size_t		 old_size = dp->hash_size;

	dp->hash_size = old_size ? old_size * 2 : 1024;
	dp->hash = xcalloc(dp->hash_size, sizeof(*dp->hash));
	for (size_t i = 0; i < old_size; i++)
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			e->next = dp->hash[dp_hash(e) & (dp->hash_size - 1)];
			dp->hash[dp_hash(e) & (dp->hash_size - 1)] = e;
		}
	free(old);
}

static struct dp_entry *
dp_find(struct dataplane *dp, const struct dp_entry *key)
{
	return *dp_slot(dp, key);
}

/* A new owned entry with key's key fields (not linked to the kernel). */
static struct dp_entry *
dp_insert(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	*e, **pp;

	if (dp->count >= dp->hash_size)
		dp_hash_grow(dp);
	e = xcalloc(1, sizeof(*e));
	*e = *key;
	pp = dp_slot(dp, key);
	e->next = NULL;
	*pp = e;
	dp->count++;
	dp->kind_count[e->kind]++;
	return e;
}

static void
dp_remove(struct dataplane *dp, struct dp_entry *e)
{
	struct dp_entry	**pp = dp_slot(dp, e);

	*pp = e->next;
	dp->count--;
	dp->kind_count[e->kind]--;
	free(e);
}

/* Every entry, safe against removing the current one. */
#define DP_FOREACH(dp, i, e, next)					\
	for ((i) = 0; (i) < (dp)->hash_size; (i)++)			\
		for ((e) = (dp)->hash[i];				\
		    (e) != NULL && ((next) = (e)->next, 1); (e) = (next))

/* ---- kernel side of an entry ----------------------------------------- */

static void	dp_release_rmac(struct dataplane *, struct dp_entry *route);

static void
dp_install(struct dataplane *dp, struct dp_entry *e)
{
	switch (e->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		nl_fdb_replace(dp->nl, e->where, &e->mac, &e->vtep, e->sticky);
		break;
	case DP_FLOOD:
		nl_flood_append(dp->nl, e->where, &e->ip);
		break;
	case DP_NEIGH:
	case DP_RMAC_NEIGH:
		nl_neigh_replace(dp->nl, e->where, &e->ip, &e->mac);
		break;
	case DP_ROUTE:
		nl_route_replace(dp->nl, (uint32_t)e->where, &e->pfx, &e->vtep,
		    e->dev);
		break;
	}
	e->installed = true;
}

static void
dp_uninstall(struct dataplane *dp, struct dp_entry *e)
{
	switch (e->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		nl_fdb_delete(dp->nl, e->where, &e->mac);
		break;
	case DP_FLOOD:
		nl_flood_delete(dp->nl, e->where, &e->ip);
		break;
	case DP_NEIGH:
	case DP_RMAC_NEIGH:
		nl_neigh_delete(dp->nl, e->where, &e->ip);
		break;
	case DP_ROUTE:
		nl_route_delete(dp->nl, (uint32_t)e->where, &e->pfx);
		dp_release_rmac(dp, e);
		break;
	}
}

static void
dp_delete(struct dataplane *dp, struct dp_entry *e)
{
	dp_uninstall(dp, e);
	dp_remove(dp, e);
}

/* Does the owned entry already hold the value in want? */
static bool
dp_value_eq(const struct dp_entry *e, const struct dp_entry *want)
{
	switch (e->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		return ipaddr_cmp(&e->vtep, &want->vtep) == 0 &&
		    e->sticky == want->sticky;
	case DP_NEIGH:
	case DP_RMAC_NEIGH:
		return mac_cmp(&e->mac, &want->mac) == 0;
	case DP_ROUTE:
		return ipaddr_cmp(&e->vtep, &want->vtep) == 0 &&
		    mac_cmp(&e->rmac, &want->rmac) == 0 && e->dev == want->dev;
	default:
		return true;
	}
}

/*
 * Make the kernel hold want: nothing when an owned entry already has
 * that value (it is unmarked), a replace otherwise.  Returns the entry.
 */
static struct dp_entry *
dp_set(struct dataplane *dp, const struct dp_entry *want)
{
	struct dp_entry	*e = dp_find(dp, want);

	if (e == NULL) {
		e = dp_insert(dp, want);
		dp_install(dp, e);
		return e;
	}
	e->marked = false;
	if (dp_value_eq(e, want) && e->installed)
		return e;
	/* The kernel keeps a replaced FDB entry's state: becoming sticky
	 * needs the old entry gone first. */
	if ((e->kind == DP_FDB || e->kind == DP_RMAC_FDB) && want->sticky &&
	    !e->sticky && e->installed)
		nl_fdb_delete(dp->nl, e->where, &e->mac);
	e->vtep = want->vtep;
	e->mac = want->mac;
	e->rmac = want->rmac;
	e->sticky = want->sticky;
	e->dev = want->dev;
	e->vx_dev = want->vx_dev;
	dp_install(dp, e);
	return e;
}

static void
dp_unset(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	*e = dp_find(dp, key);

	if (e != NULL)
		dp_delete(dp, e);
}

/* ---- VNIs ------------------------------------------------------------ */

static struct dp_vni *
dp_vni_find(struct dataplane *dp, const struct evpn_dp_vni *v)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (strcmp(n->vxlan_if, v->vxlan_if) == 0)
			return n;
	return NULL;
}

/* The VNI's devices, or NULL (logged) when vni_add did not make them. */
static struct dp_vni *
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

static struct dp_vni *
dp_vni_by_bridge(struct dataplane *dp, int ifindex)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->br_ifindex == ifindex && ifindex != 0)
			return n;
	return NULL;
}

static struct dp_vni *
dp_vni_by_vxlan(struct dataplane *dp, int ifindex)
{
	struct dp_vni	*n;

	TAILQ_FOREACH(n, &dp->vnis, entry)
		if (n->vx_ifindex == ifindex && ifindex != 0)
			return n;
	return NULL;
}

/* ---- adoption of what the kernel already has --------------------------- */

static void
dp_adopt(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	*e;

	if (dp_find(dp, key) != NULL)
		return;
	e = dp_insert(dp, key);
	e->installed = true;
	e->marked = true;
}


/* The owned-entry key a kernel FDB entry of ours stands for. */
static void
dp_key_of_fdb(const struct dp_vni *n, const struct nl_fdb *f,
    struct dp_entry *k)
{
	k->kind = n->l3 ? DP_RMAC_FDB : DP_FDB;
	k->mac = f->mac;
	k->vtep = f->dst;
	k->sticky = (f->flags & NTF_STICKY) != 0;
	if (mac_is_zero(&f->mac)) {
		k->kind = DP_FLOOD;
		k->ip = f->dst;
	}
}

static void
dp_adopt_fdb_cb(void *arg, const struct nl_fdb *f)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_vxlan(dp, f->ifindex);
	struct dp_entry		 k = { .where = f->ifindex };

	/* Only the VXLAN driver's entries (self, with a dst) that we
	 * flagged: the bridge's master twin goes with them. */
	if (n == NULL || !(f->flags & NTF_EXT_LEARNED) ||
	    !(f->flags & NTF_SELF) || !ipaddr_is_set(&f->dst))
		return;
	dp_key_of_fdb(n, f, &k);
	dp_adopt(dp, &k);
}

static void
dp_adopt_neigh_cb(void *arg, const struct nl_neigh *nb)
{
	struct dataplane	*dp = arg;
	struct dp_vni		*n = dp_vni_by_bridge(dp, nb->ifindex);
	struct dp_entry		 k = { .where = nb->ifindex };

	if (n == NULL || !(nb->flags & NTF_EXT_LEARNED) || !nb->has_mac)
		return;
	k.kind = n->l3 ? DP_RMAC_NEIGH : DP_NEIGH;
	k.ip = nb->ip;
	k.mac = nb->mac;
	dp_adopt(dp, &k);
}

static void
dp_vni_adopt_entries(struct dataplane *dp, struct dp_vni *n)
{
	nl_fdb_dump(dp->nl, n->vx_ifindex, dp_adopt_fdb_cb, dp);
	nl_neigh_dump(dp->nl, n->br_ifindex, dp_adopt_neigh_cb, dp);
}

/* ---- start-up learning ----------------------------------------------- */

static void	dp_fdb_event(void *, bool, const struct nl_fdb *);
static void	dp_neigh_event(void *, bool, const struct nl_neigh *);

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

static void
dp_learn_cb(evutil_socket_t fd, short what, void *arg)
{
	dp_learn_existing(arg);
}

/* On the next loop turn: evpn/ is still inside vni_add and must not be
 * called back from it. */
static void
dp_learn_schedule(struct dataplane *dp, struct dp_vni *n)
{
	n->learn_pending = true;
	if (dp->ev_learn != NULL)
		event_active(dp->ev_learn, EV_TIMEOUT, 1);
}

/* ---- evpn_dataplane operations ------------------------------------------ */

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

static int
dp_vni_add(void *ctx, const struct evpn_dp_vni *v, char *err, size_t errlen)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;

	if ((n = dp_vni_find(dp, v)) != NULL)
		return 0;
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

static void
dp_vni_del(void *ctx, const struct evpn_dp_vni *v)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n = dp_vni_find(dp, v);
	struct dp_entry		*e, *next;
	size_t			 i;
	bool			 was_in_sync;

	if (n == NULL)
		return;
	/* Routes first: they hold references on the router-MAC entries,
	 * which the second walk removes (in_sync keeps the release from
	 * freeing entries under the first walk). */
	was_in_sync = dp->in_sync;
	dp->in_sync = true;
	DP_FOREACH(dp, i, e, next)
		if (e->kind == DP_ROUTE && dp_entry_of_vni(e, n))
			dp_delete(dp, e);
	dp->in_sync = was_in_sync;
	DP_FOREACH(dp, i, e, next) {
		if (e->kind == DP_ROUTE || !dp_entry_of_vni(e, n))
			continue;
		/* A device we delete takes its entries along. */
		if ((e->where == n->vx_ifindex && n->vx_created) ||
		    (e->where == n->br_ifindex && n->br_created))
			dp_remove(dp, e);
		else
			dp_delete(dp, e);
	}
	nl_wait_idle(dp->nl, 2000);
	dp_vni_remove_devices(dp, n);
	TAILQ_REMOVE(&dp->vnis, n, entry);
	free(n);
}

static void
dp_mac_set(void *ctx, const struct evpn_dp_vni *v, const struct macaddr *mac,
    const struct ipaddr *vtep, bool sticky)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_FDB };

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = n->vx_ifindex;
	k.mac = *mac;
	k.vtep = *vtep;
	k.sticky = sticky;
	dp_set(dp, &k);
}

static void
dp_mac_del(void *ctx, const struct evpn_dp_vni *v, const struct macaddr *mac)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_FDB };

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = n->vx_ifindex;
	k.mac = *mac;
	dp_unset(dp, &k);
}

static void
dp_flood(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *vtep,
    bool add)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_FLOOD };

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = n->vx_ifindex;
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
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_NEIGH };

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = n->br_ifindex;
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
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_NEIGH }, *e;

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = n->br_ifindex;
	k.ip = *ip;
	if ((e = dp_find(dp, &k)) != NULL && mac_cmp(&e->mac, mac) == 0)
		dp_delete(dp, e);
}

/* The router-MAC entries a type-5 route through vtep needs (RFC 9136
 * §4.4.1: the inner frame carries the remote router MAC). */
static void
dp_rmac_keys(const struct dp_entry *route, struct dp_entry *fdb,
    struct dp_entry *neigh, struct dp_entry *neigh6)
{
	memset(fdb, 0, sizeof(*fdb));
	fdb->kind = DP_RMAC_FDB;
	fdb->where = route->vx_dev;
	fdb->mac = route->rmac;
	fdb->vtep = route->vtep;
	memset(neigh, 0, sizeof(*neigh));
	neigh->kind = DP_RMAC_NEIGH;
	neigh->where = route->dev;
	neigh->ip = route->vtep;
	neigh->mac = route->rmac;
	*neigh6 = *neigh;
	neigh6->ip.af = 0;
	/* An IPv6 route over an IPv4 VTEP has the mapped address as its
	 * gateway (netlink/nl_route.c): it needs its own neighbour. */
	if (route->pfx.addr.af == AF_INET6 && route->vtep.af == AF_INET) {
		neigh6->ip.af = AF_INET6;
		memset(neigh6->ip.u.b, 0, 16);
		neigh6->ip.u.b[10] = neigh6->ip.u.b[11] = 0xff;
		memcpy(neigh6->ip.u.b + 12, route->vtep.u.b, 4);
	}
}

/* Set the router-MAC entries of route; take a reference when take. */
static void
dp_hold_rmac(struct dataplane *dp, const struct dp_entry *route, bool take)
{
	struct dp_entry	 k[3], *e;

	dp_rmac_keys(route, &k[0], &k[1], &k[2]);
	for (int i = 0; i < 3; i++) {
		if (k[i].kind == DP_RMAC_NEIGH && k[i].ip.af == 0)
			continue;
		e = dp_set(dp, &k[i]);
		if (take)
			e->refs++;
	}
}

static void
dp_release_rmac(struct dataplane *dp, struct dp_entry *route)
{
	struct dp_entry	 k[3], *e;

	dp_rmac_keys(route, &k[0], &k[1], &k[2]);
	for (int i = 0; i < 3; i++) {
		if ((e = dp_find(dp, &k[i])) == NULL || e->refs == 0)
			continue;
		/* In a sync, sync_end sweeps what nobody uses any more. */
		if (--e->refs == 0 && !dp->in_sync)
			dp_delete(dp, e);
	}
}

static void
dp_route_set(void *ctx, const struct evpn_dp_vni *v, const struct prefix *p,
    const struct ipaddr *vtep, const struct macaddr *rmac)
{
	struct dataplane	*dp = ctx;
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_ROUTE }, *e;

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = (int)n->table;
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
	struct dp_vni		*n;
	struct dp_entry		 k = { .kind = DP_ROUTE };

	if ((n = dp_vni_ready(dp, v)) == NULL)
		return;
	k.where = (int)n->table;
	k.pfx = *p;
	dp_unset(dp, &k);
}

static void
dp_sync_begin(void *ctx)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		*e, *next;
	size_t			 i;

	dp->in_sync = true;
	DP_FOREACH(dp, i, e, next)
		e->marked = true;
}

static void
dp_sync_end(void *ctx)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		*e, *next;
	size_t			 i;

	/* Routes first: deleting one releases its router-MAC entries,
	 * which stay (in_sync) until the second walk, so the walk never
	 * meets a freed entry. */
	DP_FOREACH(dp, i, e, next)
		if (e->kind == DP_ROUTE && e->marked)
			dp_delete(dp, e);
	dp->in_sync = false;
	DP_FOREACH(dp, i, e, next)
		if (e->marked || ((e->kind == DP_RMAC_FDB ||
		    e->kind == DP_RMAC_NEIGH) && e->refs == 0))
			dp_delete(dp, e);
}

/* ---- kernel events: local learning ---------------------------------- */

static void
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

static void
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
static void
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
	struct dp_entry	*e, *next;
	struct dp_vni	*n;
	size_t		 i, missing = 0;

	nl_count_resync(dp->nl);
	/* Let queued requests land before comparing. */
	nl_wait_idle(dp->nl, 5000);
	DP_FOREACH(dp, i, e, next)
		if (e->kind != DP_ROUTE)
			e->installed = false;
	TAILQ_FOREACH(n, &dp->vnis, entry) {
		nl_fdb_dump(dp->nl, n->br_ifindex, dp_resync_fdb_cb, dp);
		nl_fdb_dump(dp->nl, n->vx_ifindex, dp_resync_fdb_cb, dp);
		nl_neigh_dump(dp->nl, n->br_ifindex, dp_resync_neigh_cb, dp);
	}
	DP_FOREACH(dp, i, e, next)
		if (!e->installed) {
			dp_install(dp, e);
			missing++;
		}
	log_notice("dataplane: resync reinstalled %zu entries", missing);
	if (dp->evpn != NULL)
		evpn_dp_resync(dp->evpn);
}

static void
dp_overrun(void *arg)
{
	dataplane_resync(arg);
}

/* ---- life cycle and API ----------------------------------------------- */

struct dataplane *
dataplane_create(struct event_base *base, struct evpn *evpn, char *err,
    size_t errlen)
{
	struct dataplane	*dp = xcalloc(1, sizeof(*dp));
	struct nl_callbacks	 cb = { dp_fdb_event, dp_neigh_event,
	    dp_link_event, dp_overrun, dp };

	TAILQ_INIT(&dp->vnis);
	dp->evpn = evpn;
	dp_hash_grow(dp);
	if ((dp->nl = nl_create(base, &cb, err, errlen)) == NULL) {
		free(dp->hash);
		free(dp);
		return NULL;
	}
	if (base != NULL &&
	    (dp->ev_learn = event_new(base, -1, 0, dp_learn_cb, dp)) == NULL) {
		snprintf(err, errlen, "cannot register the learning event");
		nl_free(dp->nl);
		free(dp->hash);
		free(dp);
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
	};
	return dp;
}

/* Kernel state stays as it is: a restart adopts it. */
void
dataplane_free(struct dataplane *dp)
{
	struct dp_entry	*e, *next;
	struct dp_vni	*n;
	size_t		 i;

	if (dp == NULL)
		return;
	if (dp->ev_learn != NULL)
		event_free(dp->ev_learn);
	nl_wait_idle(dp->nl, 2000);
	DP_FOREACH(dp, i, e, next)
		free(e);
	free(dp->hash);
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

static json_t *
dp_vni_json(struct dataplane *dp, const struct dp_vni *n)
{
	struct nl_link	 vx, br;
	bool		 vx_ok, br_ok;
	json_t		*o;

	vx_ok = nl_link_get(dp->nl, n->vxlan_if, &vx) == 0;
	br_ok = nl_link_get(dp->nl, n->bridge_if, &br) == 0;
	o = json_pack("{s:I, s:b, s:{s:s, s:s, s:i, s:b}, "
	    "s:{s:s, s:s, s:i, s:b}}",
	    "vni", (json_int_t)n->vni, "l3", n->l3,
	    "vxlan", "name", n->vxlan_if,
	    "state", n->vx_created ? "created" : "adopted",
	    "ifindex", vx_ok ? vx.ifindex : 0, "up", vx_ok && vx.up,
	    "bridge", "name", n->bridge_if,
	    "state", n->br_created ? "created" : "adopted",
	    "ifindex", br_ok ? br.ifindex : 0, "up", br_ok && br.up);
	if (n->l3)
		json_object_set_new(o, "table", json_integer(n->table));
	return o;
}

json_t *
dataplane_json(struct dataplane *dp)
{
	struct nl_counters	 c;
	struct dp_vni		*n;
	json_t			*o, *installed, *vnis;

	nl_get_counters(dp->nl, &c);
	installed = json_object();
	for (int k = 0; k < DP_NKINDS; k++)
		json_object_set_new(installed, dp_kind_names[k],
		    json_integer((json_int_t)dp->kind_count[k]));
	vnis = json_array();
	TAILQ_FOREACH(n, &dp->vnis, entry)
		json_array_append_new(vnis, dp_vni_json(dp, n));
	o = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I}, s:I, s:I, s:I, "
	    "s:o}",
	    "vrf_mode", nl_vrf_supported(dp->nl) ? "vrf" : "rule",
	    "installed", installed,
	    "requests", "sent", (json_int_t)c.sent,
	    "acked", (json_int_t)c.acked, "failed", (json_int_t)c.failed,
	    "pending", (json_int_t)c.pending,
	    "errors", (json_int_t)c.failed,
	    "overruns", (json_int_t)c.overruns,
	    "resyncs", (json_int_t)c.resyncs,
	    "vnis", vnis);
	return o;
}
