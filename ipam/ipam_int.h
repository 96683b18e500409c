/*
 * Internal to ipam/: the allocator's tables, shared by pool.c (building
 * pools, statistics), alloc.c (allocate, release, conflicts) and
 * store.c (restoring state).  Not part of the ipam/ contract.
 *
 * Addresses are handled as 128-bit unsigned integers (IPv4 in the low
 * 32 bits), so one cursor and one interval search serve both families.
 */
#ifndef IPAM_IPAM_INT_H
#define IPAM_IPAM_INT_H

#include "common/hash.h"
#include "common/macset.h"
#include "common/queue.h"
#include "ipam/ipam.h"

__extension__ typedef unsigned __int128 u128;

#define FAM_V4		0
#define FAM_V6		1

/* States of an address the pool knows about (kept in pool->addrs). */
#define AE_ALLOCATED	0x01
#define AE_QUARANTINED	0x02	/* on the family's quarantine FIFO */
#define AE_FREELISTED	0x04	/* free, behind the cursor */
#define AE_RESERVED	0x08
#define AE_CONFLICT	0x10
#define AE_LENT		0x20	/* offered to or borrowed by another VTEP */

struct alloc_node;
struct fabric_pool;

/* An address of an owned block offered to other VTEPs (fabric.c). */
struct pool_loan {
	u128		 a;
	uint8_t		 fam;
	bool		 taken;		/* a borrower holds it */
	bool		 busy;		/* a datastore request is under way */
	int64_t		 revision;	/* of its key; 0 = not offered yet */
};

struct addr_entry {
	struct hash_node hn;		/* pool->addrs */
	uint32_t	 hash;		/* of (fam, a) */
	uint8_t		 fam;
	uint8_t		 flags;
	u128		 a;
	int64_t		 until;		/* end of quarantine */
	struct alloc_node *owner;	/* when allocated */
	TAILQ_ENTRY(addr_entry) link;	/* quarantine FIFO or free list */
};
TAILQ_HEAD(addr_list, addr_entry);

struct fam_prefix {
	struct prefix	 p;
	u128		 first;
	u128		 last;
};

struct u128_range {
	u128		 lo;
	u128		 hi;
};

/*
 * What the allocator may hand out, walked by the cursor: in a local
 * pool the configured prefixes; in a fabric pool the blocks this VTEP
 * owns and the single addresses it borrowed.  Sorted by lo, disjoint,
 * each inside configured prefix pi.
 */
enum range_kind {
	RANGE_PREFIX,
	RANGE_BLOCK,
	RANGE_BORROWED,
};

struct fam_range {
	u128		 lo;
	u128		 hi;
	size_t		 pi;		/* the configured prefix holding it */
	uint8_t		 kind;		/* enum range_kind */
	int64_t		 revision;	/* the datastore's token for it */
	int64_t		 claimed;	/* unix seconds */
	uint64_t	 size;		/* addresses it can ever hand out */
	uint64_t	 used;		/* allocated addresses in it */
	uint64_t	 lent;
	uint64_t	 quarantined;
	int64_t		 idle_since;	/* used + lent fell to 0; 0 if busy */
};

struct fam {
	struct fam_prefix *pfx;		/* as configured */
	size_t		 npfx;
	struct fam_range *rng;		/* sorted by lo in fabric pools, */
	size_t		 nrng;		/* in file order in local ones */
	bool		 rng_sorted;
	struct u128_range *excl;	/* sorted, merged */
	size_t		 nexcl;
	bool		 has_gateway;
	u128		 gateway;
	/* the "next fresh" cursor, over rng */
	size_t		 cur_ri;
	u128		 cur;
	struct addr_list quarantine;	/* in expiry order */
	struct addr_list freelist;
	double		 size;
	uint64_t	 used;
	uint64_t	 quarantined;
	uint64_t	 conflicts;
	uint64_t	 lent;
};

struct alloc_node {
	struct ipam_alloc a;		/* a.labels points to labels */
	char		*labels;	/* canonical text; NULL none */
	struct hash_node hn_res;	/* ipam->by_resource */
	struct hash_node hn_mac;	/* pool->macs */
	uint32_t	 res_hash;
	uint32_t	 mac_hash;
	TAILQ_ENTRY(alloc_node) link;	/* pool->allocs */
	struct ipam_pool *pool;
	struct addr_entry *e[2];
};
TAILQ_HEAD(alloc_list, alloc_node);

struct ipam_pool {
	TAILQ_ENTRY(ipam_pool) entry;
	char		 name[IPAM_NAME_MAX + 1];
	char		 tenant[IPAM_NAME_MAX + 1];
	uint64_t	 ord;			/* ipam_pool_ord() */
	uint32_t	 vni;
	uint32_t	 quarantine;
	uint8_t		 mac_prefix[IPAM_MAC_PREFIX_MAX];
	uint8_t		 mac_prefix_len;
	uint64_t	 mac_counter;
	struct prefix	*prefixes;		/* as configured */
	size_t		 nprefixes;
	struct ipam_reservation *res;
	size_t		 nres;
	struct fam	 f[2];
	struct hash_table addrs;
	struct hash_table macs;		/* of alloc_nodes */
	struct alloc_list allocs;
	uint64_t	 nallocs;
	uint64_t	 nprealloc;
	/* fabric pools (fabric.h) */
	bool		 fabric;
	uint8_t		 block_size;	/* IPv4 block prefix length */
	bool		 borrow;
	uint32_t	 idle_release;
	struct pool_loan *loans;	/* addresses lent out (owner side) */
	size_t		 nloans;
	struct fabric_pool *fp;		/* fabric.c's state */
	bool		 runtime;	/* its definition is in the store */
};
TAILQ_HEAD(ipam_pool_list, ipam_pool);

struct ipam {
	struct ipam_pool_list pools;
	struct hash_table by_resource;	/* of alloc_nodes */
	int64_t		(*now)(void *);
	void		*now_arg;
	size_t		 nentries;
	uint64_t	 last_seq;	/* of the newest allocation */
	uint64_t	 last_pool_ord;	/* of the newest pool */
	struct macset	 reserved_macs;	/* ipam_mac_reserve() */
};

/* Address conversions. */
u128	 ip_to_u128(const struct ipaddr *);
void	 u128_to_ip(u128, int fam, struct ipaddr *);
int	 ip_fam(const struct ipaddr *);		/* FAM_V4, FAM_V6 or -1 */

/* alloc.c: how the resource and MAC tables see an alloc_node */
extern const struct hash_ops alloc_resource_ops;
extern const struct hash_ops alloc_mac_ops;

/* pool.c */
struct addr_entry *pool_addr_find(const struct ipam_pool *, int fam, u128);
struct addr_entry *pool_addr_get(struct ipam *, struct ipam_pool *, int fam,
	    u128);
/* Change an entry's flags, keep the counters, drop it when empty. */
void	 pool_addr_set(struct ipam *, struct ipam_pool *, struct addr_entry *,
	    uint8_t flags);
int	 fam_prefix_of(const struct fam *, u128);	/* index or -1 */
/* The range holding a (binary search): index or -1. */
int	 fam_range_of(const struct fam *, u128);
/* Build a pool from spec without adding it (its reservations count in
 * ipam->nentries until pool_discard); NULL with err. */
struct ipam_pool *pool_build(struct ipam *, const struct ipam_pool_spec *,
	    char *err, size_t errlen);
void	 pool_discard(struct ipam *, struct ipam_pool *);
/* The counter an entry with these flags counts in (NULL: none). */
uint64_t *fam_counter(struct fam *, uint8_t flags);
bool	 fam_is_special(const struct fam *, size_t pi, u128);
const struct u128_range *fam_excluded(const struct fam *, u128);
void	 pool_free(struct ipam_pool *);

/* block.c: ranges and loans of fabric pools. */
/* Add [lo, hi] (inside configured prefix pi, clear of other ranges). */
struct fam_range *fam_range_add(struct ipam_pool *, int fam, u128 lo, u128 hi,
	    enum range_kind);
/* Forget range ri: addresses still held there stay as they are. */
void	 fam_range_del(struct ipam *, struct ipam_pool *, int fam, size_t ri);
/* Keep the range counters and idle time when an entry's flags change. */
void	 fam_range_account(struct ipam *, struct fam *, const struct addr_entry *,
	    uint8_t old_flags, uint8_t new_flags);
/* Block size and MAC room of a fabric pool: -1 with err filled. */
int	 pool_fabric_check(const struct ipam_pool *, char *err, size_t errlen);
/* A loan of the pool by address, or NULL. */
struct pool_loan *pool_loan_find(const struct ipam_pool *, int fam, u128);
void	 pool_loan_add(struct ipam_pool *, int fam, u128, int64_t revision,
	    bool taken);
void	 pool_loan_del(struct ipam_pool *, struct pool_loan *);
/* Take a out of allocation as lent and record the loan; -1 (nothing
 * done) when it is allocated here. */
int	 pool_addr_lend(struct ipam *, struct ipam_pool *, int fam, u128,
	    int64_t revision, bool taken);
/* Bits of a fabric pool's derived MAC for the address offset. */
unsigned pool_mac_offset_bits(const struct ipam_pool *);
/* The MAC a fabric pool derives from an address; -1 if it has none. */
int	 pool_mac_derive(const struct ipam_pool *, int fam, u128,
	    struct macaddr *);

/* alloc.c: taking and freeing addresses (flag: AE_ALLOCATED or AE_LENT). */
struct addr_entry *fam_take(struct ipam *, struct ipam_pool *, int fam,
	    int64_t now, uint8_t flag);
void	 addr_now_free(struct ipam *, struct ipam_pool *, struct addr_entry *,
	    uint8_t clear);
/* Take e off the quarantine FIFO or the free list, adding flag. */
void	 addr_unlist(struct ipam *, struct ipam_pool *, struct addr_entry *,
	    uint8_t flag);

/* alloc.c: restoring what the store holds. */
int	 ipam_restore_alloc(struct ipam *, const struct ipam_alloc *,
	    char *err, size_t errlen);
int	 ipam_restore_quarantine(struct ipam *, const char *pool,
	    const struct ipaddr *, int64_t until);
/* alloc.c: undoing a change whose commit failed (store.c).  rec->pool
 * names the pool. */
bool	 alloc_drop(struct ipam *, const struct ipam_alloc *rec);
int	 alloc_reinstate(struct ipam *, const struct ipam_alloc *rec);
int	 alloc_unclaim(struct ipam *, const struct ipam_alloc *rec,
	    const char *prev);
/* block.c: a block, borrowed or lent address of a fabric pool (1: the
 * pool is not configured, or not a fabric pool). */
int	 ipam_restore_block(struct ipam *, const char *pool,
	    const struct ipam_block_rec *, char *err, size_t errlen);

/* audit.c: the chain's arithmetic, shared with store.c. */
#define AUDIT_KEY_LEN	32
#define AUDIT_HMAC_LEN	IPAM_AUDIT_HASH_LEN

struct sqlite3;

/* A record's fields (struct ipam_audit_record, without the hex): its
 * actor is "" in records of schema 1. */
void	 audit_hmac(const uint8_t *key, const uint8_t *prev,
	    const struct ipam_audit_record *, uint8_t *out);
/* The tag that vouches for the chain head (seq, hmac). */
void	 audit_head_tag(const uint8_t *key, int64_t seq, const uint8_t *hmac,
	    uint8_t *out);
/* The meta row's value: seq (8 bytes, big-endian), hmac, tag. */
#define AUDIT_HEAD_BLOB_LEN	(8 + 2 * AUDIT_HMAC_LEN)
void	 audit_head_blob(const uint8_t *key, int64_t seq, const uint8_t *hmac,
	    uint8_t *blob);
void	 audit_hex(const uint8_t *, size_t, char *out);
/* Read STATE/ipam.key, creating it (0600, RAND_bytes) when allowed. */
int	 audit_key_load(const char *dir, bool create, uint8_t *key,
	    char *err, size_t errlen);

/* STATE/ipam.anchor: a head published outside the database. */
struct audit_anchor {
	bool		 present;
	int64_t		 seq;
	uint8_t		 hmac[AUDIT_HMAC_LEN];
};
/* 0 (present false when there is no file); -1 with err when it cannot
 * be read or its tag does not vouch for it. */
int	 audit_anchor_read(const char *dir, const uint8_t *key,
	    struct audit_anchor *, char *err, size_t errlen);
/* Replace it atomically (temporary file, fsync, rename). */
int	 audit_anchor_write(const char *dir, const uint8_t *key, int64_t seq,
	    const uint8_t *hmac, char *err, size_t errlen);
/*
 * The tagged head, the last record and the anchor (may be NULL) agree;
 * else rep says what is wrong (ok false, bad_seq, truncated or
 * rolled_back, reason naming the seqs).  *last and last_hmac get the
 * last record.  -1 when the database cannot be read.
 */
int	 audit_head_check(struct sqlite3 *, const uint8_t *key,
	    const struct audit_anchor *, struct ipam_audit_report *,
	    int64_t *last, uint8_t *last_hmac);
const char *store_db_path(const struct ipam_store *);
const char *store_dir(const struct ipam_store *);
const uint8_t *store_key(const struct ipam_store *);

#endif
