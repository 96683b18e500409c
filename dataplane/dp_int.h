/*
 * Internals of the data-plane adapter, shared by its files: the owned
 * entry, the per-VNI device state and the adapter itself.  Nothing
 * outside dataplane/ includes this.
 */
#ifndef DATAPLANE_DP_INT_H
#define DATAPLANE_DP_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/util.h>

#include "common/addr.h"
#include "common/hash.h"
#include "common/queue.h"
#include "dataplane/dataplane.h"

struct nl_fdb;
struct nl_neigh;
struct nl_link;

enum dp_kind {
	DP_FDB,		/* remote MAC on an L2 VXLAN device */
	DP_FLOOD,	/* 00:00:00:00:00:00 dst VTEP */
	DP_NEIGH,	/* IP lladdr MAC on an L2 bridge */
	DP_ROUTE,	/* prefix via VTEP onlink, in a table */
	DP_RMAC_FDB,	/* router MAC dst VTEP on the L3 VXLAN device */
	DP_RMAC_NEIGH,	/* VTEP lladdr router MAC on the L3 bridge */
	DP_NKINDS
};
_Static_assert(DP_NKINDS == DATAPLANE_NKINDS, "dataplane.h counts the kinds");

/* Key: kind, where (ifindex, or table for routes) and one of mac/ip/pfx. */
struct dp_entry {
	struct hash_node node;		/* dataplane.entries */
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
	struct hash_table	 entries;	/* of dp_entry, by key */
	uint64_t		 kind_count[DP_NKINDS];
	bool			 in_sync;
	struct event		*ev_learn;	/* start-up learning, deferred */
};

/* Every entry, safe against removing the current one. */
#define DP_FOREACH(dp, it, e)						\
	for (hash_iter_init(&(it), &(dp)->entries);			\
	    ((e) = dp_iter_next(&(it))) != NULL;)

static inline struct dp_entry *
dp_iter_next(struct hash_iter *it)
{
	struct hash_node *n = hash_iter_next(it);

	return n ? hash_entry(n, struct dp_entry, node) : NULL;
}

/* dp_entry.c: owned entries */
void		 dp_entries_init(struct dataplane *);
struct dp_entry	*dp_find(struct dataplane *, const struct dp_entry *key);
struct dp_entry	*dp_insert(struct dataplane *, const struct dp_entry *key);
void		 dp_remove(struct dataplane *, struct dp_entry *);
void		 dp_install(struct dataplane *, struct dp_entry *);
void		 dp_delete(struct dataplane *, struct dp_entry *);
bool		 dp_value_eq(const struct dp_entry *, const struct dp_entry *);
struct dp_entry	*dp_set(struct dataplane *, const struct dp_entry *want);
void		 dp_unset(struct dataplane *, const struct dp_entry *key);
void		 dp_adopt(struct dataplane *, const struct dp_entry *key);
void		 dp_key_of_fdb(const struct dp_vni *, const struct nl_fdb *,
		    struct dp_entry *);
void		 dp_hold_rmac(struct dataplane *, const struct dp_entry *route,
		    bool take);
void		 dp_release_rmac(struct dataplane *, struct dp_entry *route);
void		 dp_sync_begin(void *ctx);
void		 dp_sync_end(void *ctx);

/* dp_vni.c: devices */
struct dp_vni	*dp_vni_find(struct dataplane *, const struct evpn_dp_vni *);
struct dp_vni	*dp_vni_ready(struct dataplane *, const struct evpn_dp_vni *);
struct dp_vni	*dp_vni_by_bridge(struct dataplane *, int ifindex);
struct dp_vni	*dp_vni_by_vxlan(struct dataplane *, int ifindex);
int		 dp_vni_add(void *ctx, const struct evpn_dp_vni *, char *err,
		    size_t errlen);
void		 dp_vni_del(void *ctx, const struct evpn_dp_vni *);

/* dp_learn.c: kernel events */
void		 dp_fdb_event(void *, bool added, const struct nl_fdb *);
void		 dp_neigh_event(void *, bool added, const struct nl_neigh *);
void		 dp_link_event(void *, bool added, const struct nl_link *);
void		 dp_overrun(void *);
void		 dp_learn_cb(evutil_socket_t, short, void *);
void		 dp_learn_schedule(struct dataplane *, struct dp_vni *);

#endif
