/*
 * Inside the RIB: shared by bgp_rib.c (tables, Adj-RIBs-In, walks),
 * bgp_decide.c (best path) and bgp_update.c (Adj-RIBs-Out, packing).
 */
#ifndef BGPD_BGP_RIB_INT_H
#define BGPD_BGP_RIB_INT_H

#include "bgpd/bgp_rib.h"
#include "common/hash.h"
#include "common/queue.h"

struct event;
struct slab;
struct rib_out;

#define RIB_MAX_SLOTS		1024
/* Stale routes of a restarted peer wait this long for its End-of-RIB
 * (RFC 4724 §4.2 leaves the bound to the implementation; FRR: 360 s). */
#define BGP_RIB_STALEPATH_SEC	360
/* Work done per event-loop turn before yielding. */
#define RIB_SLICE_ENTRIES	4096
#define RIB_SLICE_UPDATES	512
/* Stop filling a peer's send buffer past this; look again later. */
#define RIB_OUT_HIGH_WATER	(4 * 1024 * 1024)
#define RIB_OUT_RETRY_USEC	20000

struct rib_table {
	const struct bgp_af *af;
	bgp_rib_best_cb	*best_cb;
	void		*best_arg;
	struct hash_table by_key;	/* entries; af NULL: not registered */
	struct slab	*entries;
};

struct rib_slot {
	bool		 in_use;
	bool		 stale;		/* GR: paths kept until EoR/timer */
	struct bgp_rib_source src;
	size_t		 npaths;
	size_t		 npaths_af[BGP_AID_MAX];	/* maximum-prefix counts */
	size_t		 unknown_bytes;	/* unknown attributes, per path */
	bool		 unknown_logged;
	struct event	*gr_timer;
	struct bgp_rib	*rib;
};

enum rib_walk_kind {
	RIB_WALK_FLUSH,		/* remove every path of a slot */
	RIB_WALK_DUMP,		/* queue the table towards a peer */
};

/* What one peer was sent for one entry (its Adj-RIB-Out row). */
struct adj_out {
	struct hash_node node;		/* rib_out.rows, by entry */
	TAILQ_ENTRY(adj_out) qentry;
	struct bgp_rib_entry *entry;
	const struct bgp_attrs *sent;	/* NULL: nothing advertised */
	uint32_t	 label[BGP_MAX_LABELS];
	uint8_t		 nlabels;
	bool		 queued;
	bool		 force;		/* resend even if unchanged */
};
TAILQ_HEAD(adj_out_queue, adj_out);

struct rib_out {
	TAILQ_ENTRY(rib_out) entry_link;
	struct bgp_peer	*peer;
	struct hash_table rows;
	size_t		 advertised;	/* rows with sent != NULL */
	struct adj_out_queue queue;
	bool		 eor_pending[BGP_AID_MAX];
	/* At most one table dump per family in flight; a ROUTE-REFRESH
	 * during it is remembered once, and dumped again when the first
	 * dump's rows have gone out. */
	bool		 dump_running[BGP_AID_MAX];
	bool		 dump_again[BGP_AID_MAX];
	struct slab	*slab;
	/* A partly filled UPDATE held back for the next flush. */
	struct wbuf	 pend;
	const struct bgp_attrs *pend_attrs;
	int		 pend_aid;
	/* fits_peer(): room for NLRI beside the last set seen. */
	const struct bgp_attrs *room_attrs;
	size_t		 room;
	size_t		 too_big;	/* routes not sent: too big */
};

struct rib_walk {
	TAILQ_ENTRY(rib_walk) entry;
	enum rib_walk_kind kind;
	int		 aid;
	uint16_t	 slot;
	struct rib_out	*out;		/* DUMP */
	bool		 eor;		/* DUMP: End-of-RIB after it */
	struct hash_iter it;
};
TAILQ_HEAD(rib_walk_list, rib_walk);
TAILQ_HEAD(rib_out_list, rib_out);

struct bgp_rib {
	struct bgp	*bgp;
	struct rib_table tables[BGP_AID_MAX];
	struct slab	*paths;
	struct rib_slot	 slots[RIB_MAX_SLOTS];
	struct rib_walk_list walks;
	struct rib_out_list outs;
	struct event	*work_ev;
	bool		 work_scheduled;
};

/* bgp_rib.c */
void	 rib_schedule(struct bgp_rib *);
struct rib_slot *rib_slot_of_peer(struct bgp_rib *, const struct bgp_peer *);
void	 rib_entry_maybe_free(struct bgp_rib *, struct bgp_rib_entry *);
struct rib_table *rib_table(struct bgp_rib *, int aid);

/* bgp_update.c */
struct rib_out *rib_out_create(struct bgp_rib *, struct bgp_peer *);
void	 rib_out_destroy(struct bgp_rib *, struct rib_out *);
struct rib_out *rib_out_of_peer(struct bgp_rib *, const struct bgp_peer *);
/* Best path of entry changed: queue it towards every peer. */
void	 rib_out_entry_changed(struct bgp_rib *, struct bgp_rib_entry *);
/* Queue one entry towards one peer (initial dump, refresh). */
void	 rib_out_queue(struct bgp_rib *, struct rib_out *,
	    struct bgp_rib_entry *, bool force);
/* Initial dump of a family done: End-of-RIB goes after the queue. */
void	 rib_out_dump_done(struct rib_out *, int aid);
/* Send queued updates; returns true while more remain. */
bool	 rib_out_flush(struct bgp_rib *, struct rib_out *, size_t budget);
bool	 rib_out_pending(const struct rib_out *);
bool	 rib_out_wants(const struct rib_out *, int aid);

#endif
