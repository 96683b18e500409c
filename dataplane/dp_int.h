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
struct nl_route;

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
	struct hash_node node;		/* a dp_table */
	uint8_t		 kind;
	bool		 marked;	/* stale unless pushed again */
	bool		 installed;	/* the kernel has it, as far as we know */
	bool		 blocked;	/* an entry not ours holds the key */
	bool		 sticky;
	uint32_t	 seen;		/* resync round it was last seen in */
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

/* A hash of entries by key. */
struct dp_table {
	struct hash_table by_key;	/* of dp_entry */
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
	bool		 learn_running;	/* in the read under way */
	bool		 vx_up, br_up;	/* as the last link event said */
};
TAILQ_HEAD(dp_vni_list, dp_vni);

/* A device deleted by a queued request, until the kernel says so. */
struct dp_dying {
	TAILQ_ENTRY(dp_dying) entry;
	char		 name[IF_NAMESIZE];
};
TAILQ_HEAD(dp_dying_list, dp_dying);

struct dp_resync;

struct dataplane {
	struct event_base	*base;
	struct nl_ctx		*nl;
	struct evpn		*evpn;
	struct evpn_dataplane	 ops;
	struct dp_vni_list	 vnis;
	struct dp_dying_list	 dying;		/* dp_vni.c */
	struct dp_table		 owned;		/* what evpn/ asked for */
	struct dp_table		 foreign;	/* keys the kernel holds for
						   someone else */
	uint64_t		 kind_count[DP_NKINDS];
	uint64_t		 blocked_count[DP_NKINDS];
	uint64_t		 refused;	/* sets that met a foreign key */
	uint64_t		 refusal_log_ms, refusals_unlogged;
	bool			 in_sync;
	uint32_t		 round;		/* resync round (dp_entry.seen) */
	struct event		*ev_learn;	/* reading the bridges, deferred */
	bool			 learning;	/* that read runs */
	struct dp_resync	*resync;	/* dp_resync.c, NULL when idle */
};

/* Every entry of a table, safe against removing the current one. */
#define DP_FOREACH(t, it, e)						\
	for (hash_iter_init(&(it), &(t)->by_key);			\
	    ((e) = dp_iter_next(&(it))) != NULL;)

static inline struct dp_entry *
dp_iter_next(struct hash_iter *it)
{
	struct hash_node *n = hash_iter_next(it);

	return n ? hash_entry(n, struct dp_entry, node) : NULL;
}

/* What a kernel entry is to us. */
enum dp_whose {
	DP_NOT_KEYED,	/* no key of ours: a local MAC, another device */
	DP_OURS,	/* we installed it (this run or the last) */
	DP_FOREIGN,	/* somebody else's, at a key we might write */
};

/* dp_entry.c: owned entries */
void		 dp_table_init(struct dp_table *);
void		 dp_table_free(struct dp_table *);
struct dp_entry	*dp_table_find(struct dp_table *, const struct dp_entry *key);
struct dp_entry	*dp_table_insert(struct dp_table *, const struct dp_entry *);
void		 dp_table_remove(struct dp_table *, struct dp_entry *);
struct dp_entry	*dp_find(struct dataplane *, const struct dp_entry *key);
struct dp_entry	*dp_insert(struct dataplane *, const struct dp_entry *key);
void		 dp_remove(struct dataplane *, struct dp_entry *);
void		 dp_install(struct dataplane *, struct dp_entry *);
void		 dp_delete(struct dataplane *, struct dp_entry *);
bool		 dp_value_eq(const struct dp_entry *, const struct dp_entry *);
struct dp_entry	*dp_set(struct dataplane *, const struct dp_entry *want);
void		 dp_unset(struct dataplane *, const struct dp_entry *key);
void		 dp_adopt(struct dataplane *, const struct dp_entry *key);
void		 dp_hold_rmac(struct dataplane *, const struct dp_entry *route,
		    bool take);
void		 dp_release_rmac(struct dataplane *, struct dp_entry *route);
void		 dp_sync_begin(void *ctx);
void		 dp_sync_end(void *ctx);
/* "route 10.2.0.0/24 table 100", "fdb 02:00:00:00:00:0b dev 7", ... */
const char	*dp_entry_fmt(const struct dp_entry *, char *, size_t);

/* dp_owner.c: whose a kernel entry is; entries that are not ours */
enum dp_whose	 dp_fdb_whose(struct dataplane *, const struct nl_fdb *,
		    struct dp_entry *key);
enum dp_whose	 dp_neigh_whose(struct dataplane *, const struct nl_neigh *,
		    struct dp_entry *key);
enum dp_whose	 dp_route_whose(struct dataplane *, const struct nl_route *,
		    struct dp_entry *key);
bool		 dp_foreign_has(struct dataplane *, const struct dp_entry *key);
/* The kernel holds (add) or no longer holds (del) somebody else's entry
 * at key: our entry there is blocked, or installed again. */
void		 dp_foreign_add(struct dataplane *, const struct dp_entry *key,
		    uint32_t round);
void		 dp_foreign_del(struct dataplane *, const struct dp_entry *key);
/* Our entry e meets a foreign one: keep the wish, send nothing. */
void		 dp_block(struct dataplane *, struct dp_entry *);
void		 dp_owner_fdb_event(struct dataplane *, bool added,
		    const struct nl_fdb *);
void		 dp_owner_neigh_event(struct dataplane *, bool added,
		    const struct nl_neigh *);
void		 dp_route_event(void *, bool added, const struct nl_route *);

/* dp_vni.c: devices */
struct dp_vni	*dp_vni_find(struct dataplane *, const struct evpn_dp_vni *);
struct dp_vni	*dp_vni_ready(struct dataplane *, const struct evpn_dp_vni *);
struct dp_vni	*dp_vni_by_bridge(struct dataplane *, int ifindex);
struct dp_vni	*dp_vni_by_vxlan(struct dataplane *, int ifindex);
struct dp_vni	*dp_vni_by_table(struct dataplane *, uint32_t table);
int		 dp_vni_add(void *ctx, const struct evpn_dp_vni *, char *err,
		    size_t errlen);
void		 dp_vni_del(void *ctx, const struct evpn_dp_vni *);
/* The kernel reported a device gone (NULL: forget them all). */
void		 dp_dying_gone(struct dataplane *, const char *name);

/* dp_learn.c: kernel events */
void		 dp_fdb_event(void *, bool added, const struct nl_fdb *);
void		 dp_neigh_event(void *, bool added, const struct nl_neigh *);
void		 dp_link_event(void *, bool added, const struct nl_link *);
void		 dp_learn_cb(evutil_socket_t, short, void *);
void		 dp_learn_schedule(struct dataplane *, struct dp_vni *);
/* A bridge entry as local learning (not an event: a dump's). */
void		 dp_learn_fdb(struct dataplane *, const struct nl_fdb *);
void		 dp_learn_neigh(struct dataplane *, const struct nl_neigh *);

/* dp_resync.c: the resync after an overrun */
void		 dp_overrun(void *);
void		 dp_resync_free(struct dataplane *);

#endif
