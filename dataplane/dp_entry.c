/*
 * Owned kernel entries (see dataplane.h for how the adapter works): the
 * hash of entries evpnd installed, their kernel side, set/unset that
 * sends nothing when the kernel already holds the value, the router-MAC
 * entries type-5 routes share by reference, adoption of entries found
 * at start-up, and the mark-and-sweep of a full resync from evpn/.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>

#include <event2/event.h>

#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"
#include "dataplane/dp_int.h"
#include "netlink/nl.h"

/* ---- owned entries -------------------------------------------------- */

/* Keys are MACs hosts chose and routes peers sent: a keyed hash. */
static uint32_t
dp_hash(const struct dp_entry *e)
{
	uint8_t		 k[1 + 4 + 1 + 16];
	size_t		 len = 5;

	k[0] = e->kind;
	be32_store(k + 1, (uint32_t)e->where);
	switch (e->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		memcpy(k + len, e->mac.b, 6);
		len += 6;
		break;
	case DP_ROUTE:
		k[len++] = e->pfx.len;
		memcpy(k + len, e->pfx.addr.u.b, 16);
		len += 16;
		break;
	default:
		memcpy(k + len, e->ip.u.b, 16);
		len += 16;
		break;
	}
	return hash_bytes_keyed(k, len);
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

static uint32_t
dp_node_hash(const struct hash_node *n)
{
	return dp_hash(hash_entry(n, struct dp_entry, node));
}

static bool
dp_node_equal(const struct hash_node *n, const void *key)
{
	return dp_key_eq(hash_entry(n, struct dp_entry, node), key);
}

static const struct hash_ops dp_entry_ops = { dp_node_hash, dp_node_equal };

void
dp_table_init(struct dp_table *t)
{
	hash_init(&t->by_key, &dp_entry_ops, 1024);
}

void
dp_table_free(struct dp_table *t)
{
	struct dp_entry	*e;
	struct hash_iter it;

	DP_FOREACH(t, it, e)
		free(e);
	hash_free(&t->by_key);
}

struct dp_entry *
dp_table_find(struct dp_table *t, const struct dp_entry *key)
{
	struct hash_node *n = hash_find(&t->by_key, dp_hash(key), key);

	return n ? hash_entry(n, struct dp_entry, node) : NULL;
}

/* A new entry with key's fields (the caller knows it is absent). */
struct dp_entry *
dp_table_insert(struct dp_table *t, const struct dp_entry *key)
{
	struct dp_entry	*e = xcalloc(1, sizeof(*e));

	*e = *key;
	hash_insert(&t->by_key, &e->node);
	return e;
}

void
dp_table_remove(struct dp_table *t, struct dp_entry *e)
{
	hash_remove(&t->by_key, &e->node);
	free(e);
}

struct dp_entry *
dp_find(struct dataplane *dp, const struct dp_entry *key)
{
	return dp_table_find(&dp->owned, key);
}

/* A new owned entry with key's key fields (not linked to the kernel). */
struct dp_entry *
dp_insert(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	*e = dp_table_insert(&dp->owned, key);

	e->blocked = false;
	dp->kind_count[e->kind]++;
	return e;
}

void
dp_remove(struct dataplane *dp, struct dp_entry *e)
{
	dp->kind_count[e->kind]--;
	if (e->blocked)
		dp->blocked_count[e->kind]--;
	dp_table_remove(&dp->owned, e);
}

/* ---- kernel side of an entry ----------------------------------------- */


void
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
	e->seen = dp->round;
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

/*
 * A blocked entry was never sent (or was replaced by its owner): a
 * delete would remove the other's entry, as FDB and neighbour deletes
 * name no owner.  A route delete does (the kernel matches our
 * protocol), so ours goes even if it stood beside theirs.
 */
void
dp_delete(struct dataplane *dp, struct dp_entry *e)
{
	if (!e->blocked || e->kind == DP_ROUTE)
		dp_uninstall(dp, e);
	dp_remove(dp, e);
}

/* Does the owned entry already hold the value in want? */
bool
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
struct dp_entry *
dp_set(struct dataplane *dp, const struct dp_entry *want)
{
	struct dp_entry	*e = dp_find(dp, want);

	if (e == NULL) {
		e = dp_insert(dp, want);
		if (dp_foreign_has(dp, e))
			dp_block(dp, e);
		else
			dp_install(dp, e);
		return e;
	}
	e->marked = false;
	if (dp_value_eq(e, want) && (e->installed || e->blocked))
		return e;
	/* The kernel keeps a replaced FDB entry's state: becoming sticky
	 * needs the old entry gone first. */
	if ((e->kind == DP_FDB || e->kind == DP_RMAC_FDB) && want->sticky &&
	    !e->sticky && e->installed && !e->blocked)
		nl_fdb_delete(dp->nl, e->where, &e->mac);
	e->vtep = want->vtep;
	e->mac = want->mac;
	e->rmac = want->rmac;
	e->sticky = want->sticky;
	e->dev = want->dev;
	e->vx_dev = want->vx_dev;
	if (!e->blocked)
		dp_install(dp, e);
	return e;
}

void
dp_unset(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	*e = dp_find(dp, key);

	if (e != NULL)
		dp_delete(dp, e);
}

/* ---- adoption of what the kernel already has --------------------------- */

void
dp_adopt(struct dataplane *dp, const struct dp_entry *key)
{
	struct dp_entry	*e;

	if (dp_find(dp, key) != NULL)
		return;
	e = dp_insert(dp, key);
	e->installed = true;
	e->marked = true;
	e->seen = dp->round;
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
void
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

void
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


void
dp_sync_begin(void *ctx)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		*e;
	struct hash_iter	 it;

	dp->in_sync = true;
	DP_FOREACH(&dp->owned, it, e)
		e->marked = true;
}

void
dp_sync_end(void *ctx)
{
	struct dataplane	*dp = ctx;
	struct dp_entry		*e;
	struct hash_iter	 it;

	/* Routes first: deleting one releases its router-MAC entries,
	 * which stay (in_sync) until the second walk, so the walk never
	 * meets a freed entry. */
	DP_FOREACH(&dp->owned, it, e)
		if (e->kind == DP_ROUTE && e->marked)
			dp_delete(dp, e);
	dp->in_sync = false;
	DP_FOREACH(&dp->owned, it, e)
		if (e->marked || ((e->kind == DP_RMAC_FDB ||
		    e->kind == DP_RMAC_NEIGH) && e->refs == 0))
			dp_delete(dp, e);
}

static const char *const dp_kind_words[DP_NKINDS] = {
	"fdb", "flood", "neigh", "route", "router-MAC fdb",
	"router-MAC neigh",
};

const char *
dp_entry_fmt(const struct dp_entry *e, char *buf, size_t len)
{
	char	 a[PREFIX_STRLEN];

	switch (e->kind) {
	case DP_FDB:
	case DP_RMAC_FDB:
		mac_fmt(&e->mac, a, sizeof(a));
		break;
	case DP_ROUTE:
		prefix_fmt(&e->pfx, a, sizeof(a));
		snprintf(buf, len, "route %s table %d", a, e->where);
		return buf;
	default:
		ipaddr_fmt(&e->ip, a, sizeof(a));
		break;
	}
	snprintf(buf, len, "%s %s dev %d", dp_kind_words[e->kind], a,
	    e->where);
	return buf;
}
