/*
 * Fabric pools: one pool shared by every VTEP that configures it, with
 * block ownership kept in a datastore (the fabric IPAM issue).
 *
 * How this works:
 *
 * Seam.  ipam/ does not know which datastore it talks to: it declares
 * struct ipam_fabric_ops, a handful of asynchronous operations on keys
 * it names by (tenant, pool) and the objects below, and daemon/ wires
 * the etcd client (datastore/) into them through ipamd/fabric_etcd.c;
 * the unit tests wire an in-memory fake.  Every operation answers once,
 * later, from the event loop.  Operations that write are single-key
 * compare-and-write: claim and offer create a key that must not exist,
 * take replaces a key at the revision read, release and loan_end
 * delete a key only at the revision given.
 *
 * Definition.  Before claiming anything in a pool the VTEP records the
 * pool's definition (tenant, prefixes, block size) unless one exists,
 * and compares it with the one recorded: a difference refuses that pool
 * (the error names what differs); other pools run on.
 *
 * Blocks (block.c for the arithmetic).  A VTEP allocates only inside
 * blocks it owns, choosing and committing addresses in SQLite as local
 * pools do: no datastore round trip per allocation.  When an allocation
 * finds no free address (ipam_allocate() says ENOSPC) the daemon parks
 * the request and calls ipam_fabric_want(); when the free addresses of
 * the owned blocks fall below a low-water mark (a quarter of a block, or
 * the demand hook's figure, e.g. the shadow inventory's forecast) the
 * next block is claimed ahead of time.  Claims take the lowest block no
 * VTEP is known to hold; a lost claim learns the holder and tries the
 * next.  An owned block empty for the pool's idle-release time is
 * released (taken out of the allocator first, then deleted at the
 * revision of our claim).  Owned blocks are rows of the store, so a
 * restart finds them, and they are reconciled with the datastore when
 * it answers.
 *
 * Borrowing.  With no free block left, a VTEP that owns free addresses
 * offers some of them: it marks each lent in memory and in the store
 * (AE_LENT: never handed out here), then creates the address's loan key.
 * A VTEP that needs an address takes an offer by rewriting that key at
 * the revision it read; the owner takes an offer back only by deleting
 * it at the revision it wrote.  The datastore applies one of the two,
 * so an address is never used by both.  The borrower returns the
 * address (deletes the key) once it holds it no more; the owner sees
 * the key gone and frees it.
 *
 * Faults.  A datastore error fails only what needed the datastore: a
 * want answers with EHOSTUNREACH (and further wants of the pool fail at
 * once for a moment), owned blocks keep serving, and everything is
 * retried from the timer.  A write whose answer is lost may have been
 * applied: a block or a taken offer that a later listing (no older than
 * our last write) shows ours joins the allocator then.  Nothing is
 * handed out in a fabric pool before ipam_fabric_set_ready() (the
 * daemon's BGP sessions delivered their initial tables) nor in a
 * refused pool.
 */
#ifndef IPAM_FABRIC_H
#define IPAM_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "ipam/ipam.h"

#define IPAM_FABRIC_ERROR_MAX	256
#define IPAM_FABRIC_TICK_MS	1000	/* the daemon's timer */
#define IPAM_FABRIC_PREFIXES_MAX 64
/* Claim latency histogram bounds, seconds (for /metrics). */
#define IPAM_FABRIC_LATENCY_BUCKETS 10

struct event_base;
struct ipam_fabric;

/* A VTEP as the datastore records it. */
struct ipam_fabric_owner {
	char		 router_id[IPADDR_STRLEN];
	struct ipaddr	 vtep;
};

struct ipam_fabric_block {
	struct prefix	 prefix;
	struct ipam_fabric_owner owner;
	int64_t		 claimed;	/* unix seconds */
	int64_t		 revision;	/* of its key: release at this one */
};

/* An offered address; taken when a borrower holds it. */
struct ipam_fabric_loan {
	struct ipaddr	 ip;
	struct ipam_fabric_owner owner;
	bool		 taken;
	struct ipam_fabric_owner borrower;
	int64_t		 revision;
};

/* What every VTEP sharing a pool must configure alike. */
struct ipam_fabric_def {
	char		 tenant[IPAM_NAME_MAX + 1];
	struct prefix	 prefixes[IPAM_FABRIC_PREFIXES_MAX];
	size_t		 nprefixes;
	uint8_t		 block_size;
	struct ipam_fabric_owner by;	/* who recorded it */
};

/* Where a pool's keys live. */
struct ipam_fabric_key {
	const char	*tenant;	/* "default" for the default tenant */
	const char	*pool;
};

/* One answer.  Pointers are valid during the callback only. */
struct ipam_fabric_result {
	int		 status;	/* 0 answered; -1 no answer (error) */
	char		 error[IPAM_FABRIC_ERROR_MAX];
	bool		 won;		/* the compare held */
	/* Of the key written, when won; of the datastore when a listing
	 * read it (0: unknown), so a listing older than a write we know of
	 * is not taken for news about it. */
	int64_t		 revision;
	const struct ipam_fabric_def *def;	/* define, lost */
	const struct ipam_fabric_block *blocks;	/* claim lost: the holder */
	size_t		 nblocks;
	const struct ipam_fabric_loan *loans;	/* take lost: as it is now */
	size_t		 nloans;
};

typedef void	 ipam_fabric_cb(const struct ipam_fabric_result *, void *arg);

/* What the datastore says about itself (show ipam datastore). */
struct ipam_fabric_ds_status {
	const char	*kind;		/* "etcd" */
	const char	*key_prefix;
	size_t		 nendpoints;
	const char	*endpoints[16];
	size_t		 current;	/* endpoint in use */
	bool		 answered;	/* ... and it answered */
	int64_t		 revision;	/* highest cluster revision seen */
	uint64_t	 requests;
	uint64_t	 errors;
	uint64_t	 failovers;
	char		 last_error[IPAM_FABRIC_ERROR_MAX];
};

/*
 * The datastore, as ipam/ needs it.  Each returns 0 when the request is
 * under way (the callback will run once, later) or -1 with errno (it
 * will not).
 */
struct ipam_fabric_ops {
	/* Record def unless the pool has one; lost: def is the record. */
	int	(*define)(void *ds, const struct ipam_fabric_key *,
		    const struct ipam_fabric_def *, ipam_fabric_cb *, void *);
	/* Create the block's key unless it exists; lost: blocks[0]. */
	int	(*block_claim)(void *ds, const struct ipam_fabric_key *,
		    const struct ipam_fabric_block *, ipam_fabric_cb *, void *);
	/* Delete the block's key if it is still at revision. */
	int	(*block_release)(void *ds, const struct ipam_fabric_key *,
		    const struct prefix *, int64_t revision, ipam_fabric_cb *,
		    void *);
	/* Every block of the pool. */
	int	(*block_list)(void *ds, const struct ipam_fabric_key *,
		    ipam_fabric_cb *, void *);
	/* Create the address's loan key (an offer) unless it exists. */
	int	(*loan_offer)(void *ds, const struct ipam_fabric_key *,
		    const struct ipam_fabric_loan *, ipam_fabric_cb *, void *);
	/* Rewrite an offer as taken by loan->borrower if it is still at
	 * loan->revision; lost: loans[0] as it is now (if it exists). */
	int	(*loan_take)(void *ds, const struct ipam_fabric_key *,
		    const struct ipam_fabric_loan *, ipam_fabric_cb *, void *);
	/* Delete the loan key if it is still at revision; lost: loans[0]
	 * as it is now, none when the key is gone. */
	int	(*loan_end)(void *ds, const struct ipam_fabric_key *,
		    const struct ipaddr *, int64_t revision, ipam_fabric_cb *,
		    void *);
	/* Every loan key of the pool. */
	int	(*loan_list)(void *ds, const struct ipam_fabric_key *,
		    ipam_fabric_cb *, void *);
	void	(*status)(void *ds, struct ipam_fabric_ds_status *);
};

/* Block arithmetic (block.c) */

/* Prefix length of the pool's blocks of a family (0 IPv4, 1 IPv6). */
unsigned	 ipam_block_len(const struct ipam_pool *, int fam);
/* Blocks of a family (only as many as derived MACs can number). */
__extension__ typedef unsigned __int128 ipam_u128;
ipam_u128	 ipam_block_count(const struct ipam_pool *, int fam);
/* Block idx of a family; -1 past the last. */
int		 ipam_block_nth(const struct ipam_pool *, int fam, ipam_u128 idx,
		    struct prefix *);
/* The number of a block of the pool; -1 if it is none. */
int		 ipam_block_index(const struct ipam_pool *,
		    const struct prefix *, ipam_u128 *idx);
bool		 ipam_pool_is_fabric(const struct ipam_pool *);
/* The allocation of the pool whose MAC is mac, or NULL. */
const struct ipam_alloc *ipam_find_mac(const struct ipam *, const char *pool,
		    const struct macaddr *);

/* The manager (fabric.c, fabric_claim.c, fabric_loan.c) */

/* What the manager tells the daemon. */
enum ipam_fabric_event {
	IPAM_FABRIC_SPACE,	/* addresses of fam may be free now */
	IPAM_FABRIC_FAILED,	/* a want of fam failed: err, message */
	IPAM_FABRIC_USABLE,	/* the pool may hand out addresses now */
};
typedef void	 ipam_fabric_event_cb(void *arg, const char *pool,
		    enum ipam_fabric_event, int fam, int err,
		    const char *message);
/* Addresses a pool expects to hand out over the next minutes; 0 when
 * it has no forecast (the low-water mark applies alone). */
typedef uint64_t ipam_fabric_demand_cb(void *arg, const char *pool);

struct ipam_fabric *ipam_fabric_new(struct event_base *, struct ipam *,
		    struct ipam_store *, const struct ipam_fabric_ops *,
		    void *ds, const struct ipam_fabric_owner *me);
/* VTEP address of one pool (default: me->vtep). */
void		 ipam_fabric_set_vtep(struct ipam_fabric *, const char *pool,
		    const struct ipaddr *);
void		 ipam_fabric_set_hooks(struct ipam_fabric *,
		    ipam_fabric_event_cb *, ipam_fabric_demand_cb *, void *arg);
/* Record definitions and reconcile every fabric pool; start the timer
 * (tick_ms 0: no timer, the caller runs ipam_fabric_tick()). */
void		 ipam_fabric_start(struct ipam_fabric *, unsigned tick_ms);
/* Stop the timer; answers still under way are ignored from now on. */
void		 ipam_fabric_stop(struct ipam_fabric *);
void		 ipam_fabric_free(struct ipam_fabric *);
/* The daemon's BGP sessions delivered their initial tables. */
void		 ipam_fabric_set_ready(struct ipam_fabric *);
bool		 ipam_fabric_ready(const struct ipam_fabric *);

/*
 * May the pool hand out addresses?  0 yes; -1 with errno EAGAIN (not
 * ready yet) or EPERM (refused), and the reason in why.
 */
int		 ipam_fabric_usable(struct ipam_fabric *, const char *pool,
		    char *why, size_t whylen);
/* An allocation in pool found no free address of family: get some.
 * The answer comes as an event for each family concerned. */
void		 ipam_fabric_want(struct ipam_fabric *, const char *pool,
		    enum ipam_family);
/* An allocation was made: claim ahead if below the low-water mark. */
void		 ipam_fabric_check(struct ipam_fabric *, const char *pool);
/* One turn of the timer's work (the timer calls it every second). */
void		 ipam_fabric_tick(struct ipam_fabric *);

/* Reclaim: delete the blocks and loans of a VTEP that is gone. */
struct ipam_fabric_reclaim {
	int		 status;	/* 0 done; -1 the datastore failed */
	size_t		 blocks;
	size_t		 loans;
	char		 error[IPAM_FABRIC_ERROR_MAX];
};
typedef void	 ipam_fabric_reclaim_cb(const struct ipam_fabric_reclaim *,
		    void *arg);
/* -1 with EINVAL when vtep is this VTEP's, EBUSY while one is running. */
int		 ipam_fabric_reclaim(struct ipam_fabric *, const struct ipaddr *,
		    ipam_fabric_reclaim_cb *, void *arg);

/* Views */

struct ipam_fabric_block_view {
	const char	*pool;
	struct prefix	 prefix;
	const char	*kind;		/* "block", "borrowed" */
	bool		 mine;
	struct ipam_fabric_owner owner;
	int64_t		 claimed;
	bool		 counted;	/* used/free known (mine) */
	uint64_t	 used;
	uint64_t	 free;
	uint64_t	 lent;
};
typedef void	 ipam_fabric_block_cb(const struct ipam_fabric_block_view *,
		    void *arg);
/* Blocks of pool (NULL: all fabric pools): mine, then the others the
 * last listing saw, then addresses borrowed. */
void		 ipam_fabric_blocks(struct ipam_fabric *, const char *pool,
		    ipam_fabric_block_cb *, void *arg);

struct ipam_fabric_pool_view {
	const char	*pool;
	const char	*state;		/* "starting", "ready", "refused" ... */
	const char	*error;		/* refusal or last datastore error */
	size_t		 blocks;
	size_t		 borrowed;
	size_t		 lent;
};
void		 ipam_fabric_pools(struct ipam_fabric *,
		    void (*)(const struct ipam_fabric_pool_view *, void *),
		    void *arg);

struct ipam_fabric_stats {
	uint64_t	 claims;		/* won */
	uint64_t	 claims_lost;
	uint64_t	 claim_errors;
	uint64_t	 releases;
	uint64_t	 borrows;		/* offers taken here */
	uint64_t	 returns;
	uint64_t	 offers;
	uint64_t	 revokes;
	uint64_t	 errors;		/* datastore errors, any */
	uint64_t	 refused_pools;
	uint64_t	 borrowed_now;		/* addresses held borrowed */
	/* claim latency: counts per bucket bound, sum in seconds */
	uint64_t	 latency_count[IPAM_FABRIC_LATENCY_BUCKETS];
	uint64_t	 latency_total;
	double		 latency_sum;
	char		 last_error[IPAM_FABRIC_ERROR_MAX];
};
extern const double ipam_fabric_latency_bounds[IPAM_FABRIC_LATENCY_BUCKETS];
void		 ipam_fabric_stats(const struct ipam_fabric *,
		    struct ipam_fabric_stats *);
/* The datastore's own view; false when it offers none. */
bool		 ipam_fabric_ds_status(const struct ipam_fabric *,
		    struct ipam_fabric_ds_status *);

#endif
