/*
 * Internal to the fabric pool manager: state shared by fabric.c (life
 * cycle, definitions, reconciliation, the timer, views), fabric_claim.c
 * (acquiring space, claims, releases, reclaim) and fabric_loan.c
 * (offers, borrowing, returns).  Not part of the ipam/ contract.
 */
#ifndef IPAM_FABRIC_INT_H
#define IPAM_FABRIC_INT_H

#include "common/queue.h"
#include "ipam/fabric.h"
#include "ipam/ipam_int.h"

#define FABRIC_RETRY_MAX_S	10	/* definition/reconcile back-off cap */
#define FABRIC_FAIL_HOLD_S	2	/* wants fail at once this long */
#define FABRIC_EXHAUSTED_HOLD_S	1	/* ... after no block and no offer */
#define FABRIC_CLAIM_ATTEMPTS	64	/* lost claims before giving up */
#define FABRIC_OFFERS_MAX	8	/* untaken offers per pool family */
#define FABRIC_LOAN_LIST_S	2	/* owners look for returns this often */
#define FABRIC_BLOCK_LIST_S	5	/* and refresh the blocks they know */

enum fp_state {
	FP_DEFINE,		/* recording/checking the definition */
	FP_RECONCILE,		/* comparing blocks and loans */
	FP_OK,
	FP_REFUSED,
};

/* Per pool and family: acquiring space. */
struct fabric_fam {
	bool		 acquiring;	/* a claim or borrow under way */
	bool		 wanted;	/* an allocation waits for it */
	bool		 listed;	/* this acquisition listed blocks */
	bool		 listing;	/* ... and waits for the answer */
	int		 attempts;
	uint64_t	 started_ms;
	int64_t		 fail_until;	/* wants fail at once until then */
	int		 fail_err;
	char		 fail_msg[IPAM_FABRIC_ERROR_MAX];
	bool		 full;		/* no free block, last we looked */
	int		 revoking;	/* offers being taken back */
	bool		 revoked;	/* ... and some came back */
};

struct fabric_pool {
	TAILQ_ENTRY(fabric_pool) link;
	struct ipam_fabric *fab;
	struct ipam_pool *pool;
	char		 tenant[IPAM_NAME_MAX + 1];
	struct ipam_fabric_key key;
	struct ipam_fabric_owner me;
	enum fp_state	 state;
	bool		 busy;		/* define/reconcile under way */
	bool		 restore_failed; /* ... and a block's re-claim failed */
	int64_t		 retry_at;
	unsigned	 backoff;
	char		 error[IPAM_FABRIC_ERROR_MAX];
	struct fabric_fam f[2];
	/* Blocks the last listing saw, updated by claims we heard of. */
	struct ipam_fabric_block *known;
	size_t		 nknown;
	int64_t		 written_rev;	/* highest of our writes, this run */
	bool		 loan_listing;
	bool		 take_unsure;	/* a take got no answer: list loans */
	bool		 take_listing;	/* ... and this listing checks it */
	int64_t		 loans_listed_at;
	bool		 block_listing;
	int64_t		 blocks_listed_at;
};
TAILQ_HEAD(fabric_pool_list, fabric_pool);

/* A release or return the datastore has not confirmed yet. */
struct fabric_end {
	TAILQ_ENTRY(fabric_end) link;
	struct fabric_pool *fp;
	bool		 loan;		/* a borrowed address's loan key */
	struct prefix	 prefix;	/* block, or the address /32 /128 */
	int64_t		 revision;
	bool		 busy;
};
TAILQ_HEAD(fabric_end_list, fabric_end);

/* An event waiting to reach the daemon. */
struct fabric_note {
	TAILQ_ENTRY(fabric_note) link;
	char		 pool[IPAM_NAME_MAX + 1];
	enum ipam_fabric_event ev;
	int		 fam;
	int		 err;
	char		 msg[IPAM_FABRIC_ERROR_MAX];
};
TAILQ_HEAD(fabric_note_list, fabric_note);

struct fabric_reclaim;

struct ipam_fabric {
	struct event_base *base;
	struct ipam	*ipam;
	struct ipam_store *store;
	const struct ipam_fabric_ops *ops;
	void		*ds;
	struct ipam_fabric_owner me;
	struct fabric_pool_list pools;
	struct fabric_end_list ends;
	struct fabric_note_list notes;
	struct event	*tick_ev;
	struct event	*note_ev;
	bool		 ready;
	bool		 stopped;
	ipam_fabric_event_cb *event_cb;
	ipam_fabric_demand_cb *demand_cb;
	void		*hook_arg;
	struct fabric_reclaim *reclaim;
	struct ipam_fabric_stats st;
};

/* fabric.c */
int64_t	 fabric_now(const struct ipam_fabric *);
void	 fabric_note(struct fabric_pool *, enum ipam_fabric_event, int fam,
	    int err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void	 fabric_error(struct fabric_pool *, const char *what,
	    const struct ipam_fabric_result *);
bool	 fabric_is_me(const struct fabric_pool *,
	    const struct ipam_fabric_owner *);
/* Persist a block, borrowed or lent address (add or delete). */
void	 fabric_store_range(struct fabric_pool *, bool add, const char *kind,
	    const struct prefix *, int64_t revision, int64_t claimed,
	    ipam_done_cb, void *);
/* The prefix of [lo, hi] of a family (a block or one address). */
void	 fabric_range_prefix(const struct fabric_pool *, int fam, u128 lo,
	    u128 hi, struct prefix *);
uint64_t fabric_owned_free(const struct fabric_pool *, int fam);
uint64_t fabric_low_water(struct fabric_pool *, int fam);
/* Any quarantine of range ri still running? */
bool	 fabric_quarantine_pending(const struct fabric_pool *, int fam,
	    size_t ri);
void	 fabric_known_set(struct fabric_pool *, const struct ipam_fabric_block *);
void	 fabric_known_del(struct fabric_pool *, const struct prefix *);
void	 fabric_known_replace(struct fabric_pool *,
	    const struct ipam_fabric_block *, size_t);
/* A write of ours (claim, offer) is at revision. */
void	 fabric_written(struct fabric_pool *, int64_t revision);
/* Did the listing read the datastore before our write at revision? */
bool	 fabric_listing_predates(const struct fabric_pool *,
	    const struct ipam_fabric_result *, int64_t revision);
/* A block of ours joins the allocator (or is there already). */
struct fam_range *fabric_block_join(struct fabric_pool *, int fam,
	    const struct ipam_fabric_block *);
/* Blocks a listing names ours that the allocator lacks: joined at once
 * (check_loans false: loans are reconciled next), or after a listing of
 * their loans. */
void	 fabric_adopt_listed(struct fabric_pool *,
	    const struct ipam_fabric_result *, bool check_loans);
/* Our blocks against a listing: confirmed, claimed again, or lost. */
void	 fabric_blocks_check(struct fabric_pool *,
	    const struct ipam_fabric_result *);
/* Block ri is held by another VTEP: stop allocating there. */
void	 fabric_block_lost(struct fabric_pool *, int fam, size_t ri,
	    const struct ipam_fabric_owner *holder);
/* Claiming a block of ours again got no answer: reconcile again. */
void	 fabric_restore_failed(struct fabric_pool *, const char *why);

/* fabric_claim.c */
void	 fabric_acquire(struct fabric_pool *, int fam);
void	 fabric_claim_next(struct fabric_pool *, int fam);
bool	 fabric_next_free_block(const struct fabric_pool *, int fam,
	    struct prefix *);
void	 fabric_blocks_refresh(struct fabric_pool *);
void	 fabric_acquire_failed(struct fabric_pool *, int fam, int err,
	    const char *msg);
void	 fabric_acquired(struct fabric_pool *, int fam);
/* An acquisition needed the datastore, which did not answer. */
void	 fabric_datastore_failed(struct fabric_pool *, int fam,
	    const struct ipam_fabric_result *);
void	 fabric_preclaim(struct fabric_pool *);
void	 fabric_idle_release(struct fabric_pool *);
void	 fabric_reclaim_own(struct fabric_pool *, int fam, size_t ri);
/* A block of ours the allocator lacks: list its loans, then join it. */
void	 fabric_adopt_block(struct fabric_pool *, int fam,
	    const struct ipam_fabric_block *);
/* Is a release (loan false) or return of p waiting for the datastore? */
bool	 fabric_end_pending(const struct fabric_pool *, bool loan,
	    const struct prefix *);
void	 fabric_end_add(struct fabric_pool *, bool loan, const struct prefix *,
	    int64_t revision);
void	 fabric_ends_run(struct ipam_fabric *);
void	 fabric_ends_drop(struct ipam_fabric *, const struct fabric_pool *);
void	 fabric_reclaim_free(struct ipam_fabric *);

/* fabric_loan.c */
void	 fabric_borrow(struct fabric_pool *, int fam);
int	 fabric_revoke_offers(struct fabric_pool *, int fam);
void	 fabric_loans_tick(struct fabric_pool *);
void	 fabric_return_borrowed(struct fabric_pool *);
/* Mark an address of ours lent (taken by a borrower, revision known). */
void	 fabric_lend_mark(struct fabric_pool *, const struct ipam_fabric_loan *,
	    const struct ipam_fabric_result *listing);
void	 fabric_unlend(struct fabric_pool *, int fam, u128);
void	 fabric_reconcile_loans(struct fabric_pool *,
	    const struct ipam_fabric_result *);

#endif
