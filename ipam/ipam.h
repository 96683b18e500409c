/*
 * IPAM: multi-tenant address pools, an allocator, a durable SQLite store
 * with group commit on a writer thread, and an HMAC-chained audit trail.
 *
 * How this works:
 *
 * Pools.  A pool is built from a struct ipam_pool_spec (the daemon fills
 * it from the config; ipam/ knows nothing of conf/).  It has IPv4 and
 * IPv6 prefixes, a gateway per family, excluded ranges and named
 * reservations.  Never handed out: the IPv4 network and broadcast
 * addresses of prefixes up to /30 (a /31 has both addresses usable,
 * RFC 3021 §2; a /32 its one address), the IPv6 subnet-router anycast
 * address of prefixes up to /126 (RFC 4291 §2.6.1; /127 has both
 * usable, RFC 6164 §5; /128 its one address), gateways, excluded
 * ranges, reservations, quarantined addresses and addresses marked as
 * in conflict.
 *
 * Allocation.  Memory grows with what is allocated, never with pool
 * size: per family a "next fresh" cursor walks the prefixes in order,
 * jumping over excluded ranges (a sorted, merged interval array, binary
 * searched) and over addresses present in the pool's address table (a
 * hash of allocated, quarantined, reserved and conflicting addresses).
 * A release puts the address in a quarantine FIFO stamped with its
 * expiry; fresh addresses are preferred, then expired quarantined ones.
 * Every operation is O(1) amortised (each address is skipped at most once
 * per cursor pass), so /8 and /64 pools are fine.  Resource ids are
 * global: allocating an id again returns its existing allocation.
 *
 * Store.  ipam_store_open() loads the SQLite database (WAL) under the
 * state directory into a struct ipam, then starts a writer thread.  The
 * in-memory allocator changes at once (two requests never get the same
 * address); the change is then submitted with ipam_store_submit().  The
 * writer takes everything queued, runs one transaction, commits it and
 * posts the completions back to the event loop through an eventfd; the
 * done callback runs there, and only then may the caller acknowledge.
 * Durability: journal_mode=WAL with synchronous=FULL, so a commit has
 * reached the disk (fsync of the WAL) before any callback runs; kill -9
 * or power loss loses nothing acknowledged.  Group commit pays one fsync
 * per batch.
 *
 * Audit.  Each allocation, release and reservation appends a record to
 * the audit table in the same transaction: hmac = HMAC-SHA256(key,
 * prev_hmac || canonical record bytes), key from STATE/ipam.key (32
 * random bytes, 0600).  The chain head (last seq and hmac) is kept in
 * the meta table under its own HMAC tag, so removing the newest records
 * is detected as well as edits, gaps and reordering.
 *
 * Pre-allocations (the shadow inventory) are ordinary allocations with
 * the preallocated flag set.
 */
#ifndef IPAM_IPAM_H
#define IPAM_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define IPAM_NAME_MAX		63	/* pool, tenant, reservation names */
#define IPAM_RESOURCE_MAX	255
#define IPAM_MAC_PREFIX_MAX	5
#define IPAM_DEFAULT_QUARANTINE	30	/* seconds; AWS VPC CNI's cooldown */
#define IPAM_SCHEMA_VERSION	1

struct event_base;
struct ipam;
struct ipam_pool;
struct ipam_store;

/* An inclusive range of one family; lo == hi for a single address. */
struct ipam_range {
	struct ipaddr	 lo;
	struct ipaddr	 hi;
};

struct ipam_reservation {
	struct ipaddr	 ip;
	char		 name[IPAM_NAME_MAX + 1];
};

/* A pool as configured.  Arrays are copied by ipam_pool_add(). */
struct ipam_pool_spec {
	const char	*name;
	const char	*tenant;		/* NULL = the default tenant */
	uint32_t	 vni;			/* 0 = none */
	const struct prefix *prefixes;
	size_t		 nprefixes;
	struct ipaddr	 gateway4;		/* af 0 = none */
	struct ipaddr	 gateway6;
	const struct ipam_range *excludes;
	size_t		 nexcludes;
	const struct ipam_reservation *reservations;
	size_t		 nreservations;
	uint32_t	 quarantine;		/* seconds */
	uint8_t		 mac_prefix[IPAM_MAC_PREFIX_MAX];
	uint8_t		 mac_prefix_len;	/* 0 = 02 (one byte) */
	/* scope fabric (fabric.h): hand out only owned blocks */
	bool		 fabric;
	uint8_t		 block_size;		/* IPv4 block prefix length */
	bool		 borrow;
	uint32_t	 idle_release;		/* seconds; 0 = never */
};

enum ipam_family {
	IPAM_FAMILY_IPV4,
	IPAM_FAMILY_IPV6,
	IPAM_FAMILY_DUAL,
};

/* An allocation.  ip or ipv6 has af 0 when that family was not asked. */
struct ipam_alloc {
	char		 resource[IPAM_RESOURCE_MAX + 1];
	const char	*pool;			/* the pool's name */
	uint32_t	 vni;
	struct ipaddr	 ip;
	struct ipaddr	 ipv6;
	struct macaddr	 mac;
	bool		 preallocated;
	int64_t		 created;		/* unix seconds */
};

struct ipam_request {
	const char	*resource;
	enum ipam_family family;
	const struct macaddr *mac;		/* NULL = generate one */
	bool		 preallocated;
};

struct ipam_family_stats {
	double		 size;		/* addresses that can ever be given */
	uint64_t	 used;
	uint64_t	 quarantined;
	uint64_t	 conflicts;	/* marked and not allocated */
	double		 free;		/* size - used - quarantined - conflicts */
	size_t		 prefixes;
	/* fabric pools: what this VTEP holds (blocks and borrowed) */
	double		 owned;		/* addresses it may hand out */
	double		 owned_free;	/* ... not used, quarantined, lent */
	uint64_t	 lent;		/* of its blocks, offered or borrowed */
	size_t		 blocks;
	size_t		 borrowed;
};

struct ipam_pool_stats {
	uint64_t	 allocations;
	uint64_t	 preallocated;
	uint64_t	 reserved;
	struct ipam_family_stats v4;
	struct ipam_family_stats v6;
};

/* Pools and the allocator (pool.c, alloc.c) */

struct ipam	*ipam_new(void);
void		 ipam_free(struct ipam *);
/* The clock for created times and quarantine (unix seconds). */
void		 ipam_set_clock(struct ipam *, int64_t (*now)(void *), void *);
int64_t		 ipam_now(const struct ipam *);
/* -1 with a message in err: bad prefix, gateway outside, duplicate. */
int		 ipam_pool_add(struct ipam *, const struct ipam_pool_spec *,
		    char *err, size_t errlen);
struct ipam_pool *ipam_pool_find(const struct ipam *, const char *name);
struct ipam_pool *ipam_pool_by_vni(const struct ipam *, uint32_t vni);
const char	*ipam_pool_name(const struct ipam_pool *);
const char	*ipam_pool_tenant(const struct ipam_pool *);
uint32_t	 ipam_pool_vni(const struct ipam_pool *);
void		 ipam_pool_stats(const struct ipam_pool *,
		    struct ipam_pool_stats *);
/* Pools in the order added. */
struct ipam_pool *ipam_pool_first(const struct ipam *);
struct ipam_pool *ipam_pool_next(const struct ipam_pool *);
/* The pool's prefixes and its reservations, for listing. */
size_t		 ipam_pool_prefixes(const struct ipam_pool *,
		    const struct prefix **);
size_t		 ipam_pool_reservations(const struct ipam_pool *,
		    const struct ipam_reservation **);

/*
 * Allocate in a pool.  The same resource in the same pool returns its
 * allocation with *existing set.  -1 and errno: ENOENT unknown pool,
 * EINVAL bad resource id, bad MAC, or dual/ipv6 asked of a pool with no
 * IPv6 prefix (ipv4 of one without IPv4), EEXIST the resource is
 * allocated in another pool or the MAC is in use, ENOSPC exhausted.
 */
int		 ipam_allocate(struct ipam *, const char *pool,
		    const struct ipam_request *, const struct ipam_alloc **,
		    bool *existing);
/*
 * Release: the addresses go into quarantine.  *out gets a copy of the
 * record and *until the end of its quarantine (either may be NULL).
 * -1 and ENOENT when the resource holds nothing.
 */
/* Hand the pre-allocation named prealloc to resource (errno ENOENT: no
 * such pre-allocation; EEXIST: resource exists; EINVAL: bad name). */
int		 ipam_claim(struct ipam *, const char *prealloc,
		    const char *resource, const struct ipam_alloc **);
int		 ipam_release(struct ipam *, const char *resource,
		    struct ipam_alloc *out, int64_t *until);
const struct ipam_alloc *ipam_find(const struct ipam *, const char *resource);
/* The allocation holding ip in pool (NULL: any pool holding it). */
const struct ipam_alloc *ipam_find_ip(const struct ipam *, const char *pool,
		    const struct ipaddr *);
/* Allocations of a pool (NULL = all) in creation order; stop on != 0. */
int		 ipam_foreach(const struct ipam *, const char *pool,
		    int (*cb)(const struct ipam_alloc *, void *), void *);
/*
 * An address seen elsewhere (a type-2 route from another VTEP): while
 * marked it is never handed out.  Returns whether it is allocated here
 * (the conflict the daemon reports), -1 if no such pool or ip outside.
 */
int		 ipam_mark_conflict(struct ipam *, const char *pool,
		    const struct ipaddr *, bool on);
bool		 ipam_is_conflict(const struct ipam *, const char *pool,
		    const struct ipaddr *);
/* Bytes held by allocator tables (for the memory tests). */
size_t		 ipam_memory(const struct ipam *);

/* Durable store (store.c) */

enum ipam_op_kind {
	IPAM_OP_ALLOC,		/* alloc record */
	IPAM_OP_RELEASE,	/* alloc record; quarantine until .until */
	IPAM_OP_RESERVE,	/* pool, ip, name */
	IPAM_OP_UNRESERVE,	/* pool, ip */
	IPAM_OP_SYNC,		/* nothing: completes after all before it */
	IPAM_OP_CLAIM,		/* alloc record renamed from .prev_resource */
	IPAM_OP_BLOCK_ADD,	/* block: held by this VTEP (fabric pools) */
	IPAM_OP_BLOCK_DEL,	/* block: no longer */
};

/*
 * What a VTEP holds of a fabric pool (fabric.h): kind "block" (a block
 * it owns), "borrowed" (one address of another's block) or "lent" (one
 * address of its own block, offered or lent out).
 */
struct ipam_block_rec {
	struct prefix	 prefix;
	char		 kind[12];
	int64_t		 revision;	/* the datastore's token */
	int64_t		 claimed;	/* unix seconds */
};

struct ipam_op {
	enum ipam_op_kind kind;
	struct ipam_alloc alloc;	/* resource, pool, ip, ipv6, mac, ... */
	char		 pool[IPAM_NAME_MAX + 1];
	int64_t		 until;		/* release: end of quarantine */
	struct ipam_reservation reservation;
	char		 prev_resource[IPAM_RESOURCE_MAX + 1];	/* claim */
	struct ipam_block_rec block;
};

/* status 0: committed; -1: the transaction failed (logged). */
typedef void	(*ipam_done_cb)(int status, void *arg);

/*
 * Open (creating) STATE/ipam.db and STATE/ipam.key, check the schema
 * version, restore allocations and quarantine into ipam (whose pools
 * must already be added; rows of unknown pools are kept on disk and
 * skipped), and start the writer.  Completions run from base.
 */
struct ipam_store *ipam_store_open(const char *state_dir,
		    struct event_base *base, struct ipam *ipam, char *err,
		    size_t errlen);
/* Commit what is queued, run the remaining callbacks, stop, free. */
void		 ipam_store_close(struct ipam_store *);
int		 ipam_store_submit(struct ipam_store *, const struct ipam_op *,
		    ipam_done_cb, void *);
/* Helpers that fill an op from an allocation record. */
void		 ipam_op_alloc(struct ipam_op *, const struct ipam_alloc *);
void		 ipam_op_release(struct ipam_op *, const struct ipam_alloc *,
		    int64_t until);
/* a was taken from the pre-allocation named prev (ipam_claim). */
void		 ipam_op_claim(struct ipam_op *, const struct ipam_alloc *a,
		    const char *prev);
void		 ipam_op_block(struct ipam_op *, bool add, const char *pool,
		    const struct ipam_block_rec *);
/* Block until everything submitted is committed and its callback ran. */
void		 ipam_store_flush(struct ipam_store *);
/*
 * Record in the store (and the audit trail) the pools' configured
 * reservations that it does not hold yet, and drop those no longer
 * configured.  Returns the number of ops submitted.
 */
int		 ipam_store_sync_reservations(struct ipam_store *,
		    const struct ipam *, ipam_done_cb, void *);

struct ipam_store_stats {
	uint64_t	 ops;
	uint64_t	 batches;
	uint64_t	 max_batch;
	uint64_t	 failed;
};
void		 ipam_store_stats(struct ipam_store *, struct ipam_store_stats *);
const char	*ipam_store_path(const struct ipam_store *);

/* Audit chain (audit.c) */

struct ipam_audit_report {
	bool		 ok;
	int64_t		 records;	/* verified before the first bad one */
	int64_t		 bad_seq;	/* first bad seq; 0 when ok */
	char		 reason[160];
};

/* Walk the chain on its own read connection.  -1: cannot read at all. */
int		 ipam_audit_verify(struct ipam_store *,
		    struct ipam_audit_report *);
/* The same on a state directory without an open store (evpnctl). */
int		 ipam_audit_verify_dir(const char *state_dir,
		    struct ipam_audit_report *);

#endif
