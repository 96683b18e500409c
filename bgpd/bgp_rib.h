/*
 * The routing information base: Adj-RIB-In, Loc-RIB and Adj-RIB-Out
 * (RFC 4271 §3.2) for every registered address family.
 *
 * How this works
 *
 * One hash table per family maps a canonical key (see bgp_af.h) to a
 * struct bgp_rib_entry.  An entry holds the list of candidate paths,
 * best first: the paths of all peers together are the Adj-RIBs-In, the
 * head of each list is the Loc-RIB.  A path is a pointer to an interned
 * attribute set, the labels, and a small peer slot number; entries and
 * paths come from slabs, so a route costs its key and a few pointers.
 *
 * Received UPDATEs come in through the bgp_rib_ops seam of bgp_peer.h:
 * attributes are decoded and interned once per UPDATE, each NLRI is
 * decoded by its family's row and added or withdrawn.  When the best
 * path of an entry changes, the family's best_changed hook runs (evpn/
 * imports there) and the entry is queued towards each peer whose
 * Adj-RIB-Out must change.  Outbound UPDATEs are packed per peer: routes
 * sharing an attribute set go in one message, up to the negotiated size.
 *
 * Long walks (a peer going down, a peer coming up and receiving the
 * table, a route refresh) run in slices from the event loop so timers
 * and keepalives keep running.  Graceful restart, helper side
 * (RFC 4724 §4.2): when a peer that announced GR drops, its paths stay,
 * marked stale, until it sends End-of-RIB on the new session or the
 * restart time passes.
 */
#ifndef BGPD_BGP_RIB_H
#define BGPD_BGP_RIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgpd/bgp_af.h"
#include "bgpd/bgp_attr.h"
#include "bgpd/bgp_msg.h"
#include "common/hash.h"

struct bgp;
struct bgp_peer;
struct bgp_rib;

#define BGP_RIB_PEER_LOCAL	0	/* slot of locally originated paths */

/*
 * Unknown optional transitive attributes are passed on (RFC 4271 §5),
 * so a route keeps them: at most BGP_RIB_UNKNOWN_ROUTE_MAX bytes of
 * them per route (4 bytes of header per attribute, and its value), and
 * at most BGP_RIB_UNKNOWN_PEER_MAX over all the routes of one peer,
 * counted route by route.  Beyond either, attributes are dropped (in
 * type order, the last first) and counted in the peer's statistics, so
 * a peer sending unique large attributes cannot grow memory without
 * bound.
 */
#define BGP_RIB_UNKNOWN_ROUTE_MAX	4096
#define BGP_RIB_UNKNOWN_PEER_MAX	(16 * 1024 * 1024)

struct bgp_rib_path {
	struct bgp_rib_path *next;
	const struct bgp_attrs *attrs;		/* interned */
	uint32_t	 label[BGP_MAX_LABELS];
	uint16_t	 slot;			/* peer slot; 0 = local */
	uint8_t		 nlabels;
	uint8_t		 flags;
};

struct bgp_rib_entry {
	struct hash_node node;			/* the family's table */
	struct bgp_rib_path *paths;		/* best first */
	uint32_t	 hash;			/* of key, keyed (common/hash.h) */
	uint8_t		 aid;
	uint8_t		 pad;
	uint16_t	 outrefs;		/* Adj-RIBs-Out holding it */
	uint8_t		 key[];
};

/* Who a path came from, for the decision process and the CLI. */
struct bgp_rib_source {
	struct bgp_peer	*peer;			/* NULL for local */
	struct ipaddr	 addr;
	uint32_t	 router_id;		/* BGP Identifier, host order */
	uint32_t	 asn;
	bool		 ebgp;
	/* Per family: a route-reflector client (RFC 4456 §6). */
	bool		 rr_client[BGP_AID_MAX];
};

/* Called after the best path of an entry changed.  old may be NULL
 * (new entry) and new NULL (entry gone); old is still valid here. */
typedef void	 bgp_rib_best_cb(void *arg, const struct bgp_rib_entry *,
		    const struct bgp_rib_path *old_best,
		    const struct bgp_rib_path *new_best);

struct bgp_rib	*bgp_rib_create(struct bgp *);
void		 bgp_rib_free(struct bgp_rib *);
/* Carry a family (a row with an NLRI codec) in this RIB; the row joins
 * the family table (bgp_af_register) if it is not there yet. */
void		 bgp_rib_af_register(struct bgp_rib *, const struct bgp_af *,
		    bgp_rib_best_cb *, void *arg);
const struct bgp_af *bgp_rib_af(const struct bgp_rib *, int aid);

/* Locally originated routes (slot 0).  attrs is a scratch set: the RIB
 * interns it.  Replaces an earlier local path for the same key. */
void		 bgp_rib_local_add(struct bgp_rib *, int aid, const uint8_t *key,
		    const struct bgp_labels *, const struct bgp_attrs *);
void		 bgp_rib_local_del(struct bgp_rib *, int aid, const uint8_t *key);

const struct bgp_rib_entry *bgp_rib_lookup(const struct bgp_rib *, int aid,
		    const uint8_t *key);
const struct bgp_rib_path *bgp_rib_best(const struct bgp_rib_entry *);
const struct bgp_rib_source *bgp_rib_path_source(const struct bgp_rib *,
		    const struct bgp_rib_path *);
/* Kept from a gracefully restarting peer's previous session. */
bool		 bgp_rib_path_stale(const struct bgp_rib *,
		    const struct bgp_rib_path *);
size_t		 bgp_rib_count(const struct bgp_rib *, int aid);	/* entries */
size_t		 bgp_rib_path_count(const struct bgp_rib *);
/* Visit every entry of a family (no yielding: for the CLI and tests). */
typedef void	 bgp_rib_entry_cb(const struct bgp_rib_entry *, void *arg);
void		 bgp_rib_foreach(const struct bgp_rib *, int aid,
		    bgp_rib_entry_cb *, void *arg);
/*
 * Visit the entries of a family in slices, for views too large for one
 * turn of the loop: from cursor (0 to start) until about budget entries
 * were visited; returns the cursor to go on from, 0 when the walk is
 * done.  An entry present for the whole walk is visited exactly once,
 * even if the table grows meanwhile; one added or removed between two
 * slices may or may not be.
 */
uint64_t	 bgp_rib_scan(const struct bgp_rib *, int aid, uint64_t cursor,
		    size_t budget, bgp_rib_entry_cb *, void *arg);
/* True while no walk or outbound queue is pending (tests, benchmarks). */
bool		 bgp_rib_idle(const struct bgp_rib *);
size_t		 bgp_rib_memory(const struct bgp_rib *);	/* bytes */

/* Decision process (bgp_decide.c): <0 when a is preferred. */
int		 bgp_rib_path_cmp(const struct bgp_rib *, const struct bgp_af *,
		    const uint8_t *key, const struct bgp_rib_path *a,
		    const struct bgp_rib_path *b);

#endif
