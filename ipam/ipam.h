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
 * per tenant (the tenant of the pool; pools without one share the
 * unnamed tenant): two tenants may both hold "pod-1", and allocating an
 * id again in its pool returns its existing allocation.
 *
 * Store.  ipam_store_open() checks STATE/ipam.db (PRAGMA quick_check,
 * the schema, the audit chain head and the anchor, below), loads it
 * into a struct ipam, then starts a writer thread.  The in-memory
 * allocator changes at once (two requests never get the same address);
 * the change is then submitted with ipam_store_submit().  The writer
 * takes everything queued, runs one transaction, commits it and posts
 * the completions back to the event loop through an eventfd; there a
 * failed change is first undone in the allocator (an allocation
 * dropped, a release put back, a claim renamed back), then the done
 * callback runs, and only then may the caller acknowledge.  Memory and
 * disk therefore agree once every callback has run.  Durability:
 * journal_mode=WAL with synchronous=FULL, so a commit has reached the
 * disk (fsync of the WAL) before any callback runs; kill -9 or power
 * loss loses nothing acknowledged.  Group commit pays one fsync per
 * batch.  The schema holds UNIQUE (pool, ip), (pool, ipv6) and (pool,
 * mac), so a change built on one that failed fails too.  State files
 * are 0600 and the state directory must not be writable by group or
 * others (fixed with a warning).
 *
 * Audit.  Each allocation, release, claim and reservation appends a
 * record to the audit table in the same transaction: hmac =
 * HMAC-SHA256(key, prev_hmac || canonical record bytes), key from
 * STATE/ipam.key (32 random bytes, 0600).  A record names its actor
 * (who asked: "local" for the Unix socket, a client's identity) and an
 * allocation's labels (schema 4; audit.c says how older records keep
 * their HMAC).  The chain head (last seq and hmac) is kept in the meta
 * table under its own HMAC tag, which ipam_store_open() checks against
 * the last record: records removed at the end refuse the IPAM instead
 * of being written over.  Copying back an older database, head and all,
 * is caught by the head published outside it: STATE/ipam.anchor (seq
 * and hmac of a recent head, HMAC-tagged, replaced atomically after
 * commits), a log line every IPAM_HEAD_PUBLISH_EVERY records and at
 * shutdown, and the "head published" hook (for a datastore); the
 * database must contain the anchored record.
 *
 * Pre-allocations (the shadow inventory) are ordinary allocations with
 * the preallocated flag set.
 *
 * Run-time pools.  A pool may be created, changed and deleted while
 * running (the daemon's API): its definition is opaque text to ipam/,
 * kept in the store's pools table (IPAM_OP_POOL_PUT, _DEL, audited) and
 * handed back to a loader before the allocations are restored.  A
 * change reshapes the pool in place (ipam_pool_change): allocations
 * keep their addresses, which must all fit the new definition
 * (ipam_pool_check counts those that would not); quarantined and
 * conflicting addresses outside it are forgotten; the cursor starts
 * over.  A pool with allocations cannot be removed.
 *
 * Requests.  A request may name the address it wants (granted when it
 * is in the pool and free: not allocated, reserved, quarantined or in
 * conflict) and carry labels (labels.c: bounded, one canonical text),
 * which are stored, audited and can be queried by key and value.
 *
 * Reserved MACs.  MACs the network itself uses (a router's or a
 * bridge's own MAC; the daemon says which) are never handed out, by
 * any pool, whatever its mac-prefix: an endpoint holding one would
 * take that router's traffic.  The set is counted (each reserve is
 * undone by one unreserve) and not part of any pool or of the store.
 * A local pool's counter skips these MACs as it skips MACs in use; a
 * fabric pool skips the addresses whose derived MAC is one while it is
 * reserved, and hands them out again once it is not; a request
 * naming one (or, in a fabric pool, an address deriving one) is
 * refused.  An allocation holding a MAC before it was reserved keeps
 * it, with a warning in the log.
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
#define IPAM_SCHEMA_VERSION	5	/* 2: audit actor, UNIQUE indexes;
					 * 3: names per tenant;
					 * 4: labels, run-time pools;
					 * 5: shadow inventory state */
#define IPAM_ACTOR_MAX		255	/* a TLS subject CN or DNS name */
#define IPAM_AUDIT_HASH_LEN	32	/* HMAC-SHA256 */
#define IPAM_HEAD_PUBLISH_EVERY	1000	/* records between head log lines */
#define IPAM_LABELS_MAX		16
#define IPAM_LABEL_KEY_MAX	63
#define IPAM_LABEL_VALUE_MAX	253	/* a DNS name */
#define IPAM_LABELS_TEXT_MAX	2047	/* the canonical text, at most */

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
	bool		 runtime;		/* made at run time (the store
						 * holds its definition) */
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
	const char	*tenant;		/* the pool's; "" for none */
	uint32_t	 vni;
	struct ipaddr	 ip;
	struct ipaddr	 ipv6;
	struct macaddr	 mac;
	bool		 preallocated;
	int64_t		 created;		/* unix seconds */
	uint64_t	 seq;			/* order of creation in this
						 * allocator, from 1 at start */
	/* Canonical label text (labels.c), NULL when none.  It points into
	 * the allocator: a copy kept past the next change keeps its own. */
	const char	*labels;
};

struct ipam_request {
	const char	*resource;
	enum ipam_family family;
	const struct macaddr *mac;		/* NULL = generate one */
	bool		 preallocated;
	struct ipaddr	 ip;			/* af 0 = any free IPv4 */
	struct ipaddr	 ipv6;			/* af 0 = any free IPv6 */
	const char	*labels;		/* canonical text or NULL */
};

/* Labels (labels.c) */

struct ipam_label {
	char		 key[IPAM_LABEL_KEY_MAX + 1];
	char		 value[IPAM_LABEL_VALUE_MAX + 1];
};

struct ipam_labels {
	size_t		 n;
	size_t		 text;		/* bytes of canonical text, with a
					 * separator per pair */
	struct ipam_label l[IPAM_LABELS_MAX];
};

/* Add one (start from a zeroed set): -1 with a message when the key or
 * value is not allowed, the key is there already, or the set is full
 * (IPAM_LABELS_MAX pairs, IPAM_LABELS_TEXT_MAX bytes of text). */
int		 ipam_labels_add(struct ipam_labels *, const char *key,
		    const char *value, char *err, size_t errlen);
/* Sort the set and write its canonical text ("" when empty); len at
 * least IPAM_LABELS_TEXT_MAX + 1. */
void		 ipam_labels_format(struct ipam_labels *, char *out,
		    size_t len);
/* Canonical (or any well-formed) text back into a set; -1 EINVAL. */
int		 ipam_labels_parse(const char *, struct ipam_labels *);
bool		 ipam_labels_canonical(const char *);
/* The value of key in canonical text labels (may be NULL): buf, or
 * NULL when absent. */
const char	*ipam_label_get(const char *labels, const char *key, char *buf,
		    size_t len);
/* labels hold key (with value, unless value is NULL). */
bool		 ipam_labels_match(const char *labels, const char *key,
		    const char *value);
/*
 * The shadow inventory's groups: allocations of a pool (NULL = all)
 * whose label key has value (NULL = any value), in creation order; and
 * each distinct value of key with how many allocations carry it, in
 * value order.  Either walk stops when cb returns non-zero.
 */
int		 ipam_foreach_label(const struct ipam *, const char *pool,
		    const char *key, const char *value,
		    int (*cb)(const struct ipam_alloc *, void *), void *);
int		 ipam_label_groups(const struct ipam *, const char *pool,
		    const char *key, int (*cb)(const char *value, size_t count,
		    void *), void *);

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
/* The gateway of family af (AF_INET, AF_INET6); false if none. */
bool		 ipam_pool_gateway(const struct ipam_pool *, int af,
		    struct ipaddr *);
bool		 ipam_pool_runtime(const struct ipam_pool *);
/* The order a pool was added in, from 1, never reused (pools removed at
 * run time leave gaps): the pool list is in this order. */
uint64_t	 ipam_pool_ord(const struct ipam_pool *);

/* Run-time pools (pool_change.c) */

/*
 * Could spec (of a new pool, or replacing the pool of its name) be
 * applied?  -1 with a message in err and errno EINVAL when the spec
 * itself is bad, EBUSY when *blocking (set either way) allocations of
 * the pool would not fit it (outside its prefixes, on its gateway, a
 * network address, excluded or reserved), or its VNI would change
 * under allocations.
 */
int		 ipam_pool_check(struct ipam *, const struct ipam_pool_spec *,
		    uint64_t *blocking, char *err, size_t errlen);
/* Replace the definition of the pool named by spec, in place (see the
 * top of this file); -1 as ipam_pool_check, nothing changed. */
int		 ipam_pool_change(struct ipam *, const struct ipam_pool_spec *,
		    char *err, size_t errlen);
/* Remove a pool: -1 and ENOENT, or EBUSY with *allocs (may be NULL)
 * set when it has allocations. */
int		 ipam_pool_remove(struct ipam *, const char *name,
		    uint64_t *allocs);

/*
 * Allocate in a pool.  The same resource in the same pool returns its
 * allocation with *existing set.  -1 and errno: ENOENT unknown pool,
 * EINVAL bad resource id, bad MAC, labels not canonical, an address
 * asked of a family not asked, or dual/ipv6 asked of a pool with no
 * IPv6 prefix (ipv4 of one without IPv4), EEXIST the resource is
 * allocated in another pool of the tenant or the MAC asked is in use or
 * reserved (ipam_mac_reserved tells which), ENOSPC
 * exhausted, EADDRNOTAVAIL an address asked that the pool never hands
 * out (outside it, excluded, its gateway or a network address),
 * EADDRINUSE one that is allocated, reserved, quarantined or in
 * conflict, or (fabric pools) whose derived MAC is reserved.
 *
 * The calls naming a resource take its tenant: NULL or "" for the pools
 * without one.
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
int		 ipam_claim(struct ipam *, const char *tenant,
		    const char *prealloc, const char *resource,
		    const struct ipam_alloc **);
/* Replace the labels of an allocation (canonical text or NULL); -1
 * ENOENT, EINVAL. */
int		 ipam_set_labels(struct ipam *, const char *tenant,
		    const char *resource, const char *labels);
int		 ipam_release(struct ipam *, const char *tenant,
		    const char *resource, struct ipam_alloc *out,
		    int64_t *until);
const struct ipam_alloc *ipam_find(const struct ipam *, const char *tenant,
		    const char *resource);
/* The allocation holding ip in pool (NULL: any pool holding it). */
const struct ipam_alloc *ipam_find_ip(const struct ipam *, const char *pool,
		    const struct ipaddr *);
/* Allocations of a pool (NULL = all) in creation order; stop on != 0. */
int		 ipam_foreach(const struct ipam *, const char *pool,
		    int (*cb)(const struct ipam_alloc *, void *), void *);
/* The same for one pool, from the first allocation whose seq is past
 * after: a listing in slices resumes there, whatever was released. */
int		 ipam_foreach_after(const struct ipam *, const char *pool,
		    uint64_t after, int (*cb)(const struct ipam_alloc *, void *),
		    void *);
/*
 * An address seen elsewhere (a type-2 route from another VTEP): while
 * marked it is never handed out.  Returns whether it is allocated here
 * (the conflict the daemon reports), -1 if no such pool or ip outside.
 */
int		 ipam_mark_conflict(struct ipam *, const char *pool,
		    const struct ipaddr *, bool on);
bool		 ipam_is_conflict(const struct ipam *, const char *pool,
		    const struct ipaddr *);
/* Would the pool hand ip out now: in a range it hands out (a fabric
 * pool: a block this VTEP holds), not its gateway, a network address or
 * excluded, and held by nothing (allocated, reserved, lent, in
 * conflict, quarantined)?  False for an unknown pool. */
bool		 ipam_addr_unused(const struct ipam *, const char *pool,
		    const struct ipaddr *);
/*
 * Reserved MACs (see the top of this file): reserve counts one more
 * holder of mac, unreserve one fewer (-1 and ENOENT when it has none).
 */
void		 ipam_mac_reserve(struct ipam *, const struct macaddr *);
int		 ipam_mac_unreserve(struct ipam *, const struct macaddr *);
bool		 ipam_mac_reserved(const struct ipam *, const struct macaddr *);
/* Distinct MACs reserved. */
size_t		 ipam_macs_reserved(const struct ipam *);
/* How many MACs the pool forms before mac (a local pool's counter; a
 * fabric pool's address offset), -1 if it never forms mac (another
 * mac-prefix, or a local pool's all-zero suffix). */
int64_t		 ipam_pool_mac_rank(const struct ipam_pool *,
		    const struct macaddr *);
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
	IPAM_OP_POOL_PUT,	/* pool: its definition, created or replaced */
	IPAM_OP_POOL_DEL,	/* pool: its definition removed */
	IPAM_OP_SHADOW_PUT,	/* pool: its shadow engine's state (not
				 * audited) */
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
	char		 actor[IPAM_ACTOR_MAX + 1];	/* for the audit record */
	struct ipam_block_rec block;
	/* Pool ops: the definition (copied by ipam_store_submit, like
	 * alloc.labels) and the audit record's op: "pool-create",
	 * "pool-update", "pool-delete", or "reserve"/"unreserve" naming
	 * .reservation. */
	const char	*definition;
	char		 audit_op[16];
	/* IPAM_OP_SHADOW_PUT: the blob (copied by ipam_store_submit) and
	 * when it was saved (unix seconds). */
	const void	*state;
	size_t		 state_len;
	int64_t		 saved;
};

/*
 * status 0: committed; -1: the transaction failed (logged) and the
 * change has been undone in the allocator given to ipam_store_open():
 * an allocation is gone (its addresses free again), a released
 * allocation is back (taking its name, addresses and MAC back from
 * anything allocated since, whose own commit fails for them), a claimed
 * pre-allocation has its old name back.
 */
typedef void	(*ipam_done_cb)(int status, void *arg);

/*
 * Open (creating) STATE/ipam.db, STATE/ipam.key and STATE/ipam.anchor,
 * check the database (quick_check, schema version, migration), check
 * the audit chain head against its tag and against the anchor, restore
 * allocations and quarantine into ipam (whose pools must already be
 * added; rows of unknown pools are kept on disk and skipped), and start
 * the writer.  Completions run from base.  NULL with a message in err;
 * errno EBADMSG when the state is there but cannot be trusted (corrupt,
 * audit records missing, rolled back to an older copy, an address held
 * twice): the caller should not start the IPAM on it.
 */
struct ipam_store *ipam_store_open(const char *state_dir,
		    struct event_base *base, struct ipam *ipam, char *err,
		    size_t errlen);
/*
 * The same, first handing each run-time pool's definition to load (in
 * creation order, before any allocation is restored), which adds the
 * pool to ipam (spec.runtime set) or returns -1 to leave it out (it
 * stays on disk, with its allocations).  load may be NULL.
 */
typedef int	(*ipam_pool_loader)(const char *name, const char *definition,
		    void *arg);
struct ipam_store *ipam_store_open_with(const char *state_dir,
		    struct event_base *base, struct ipam *ipam,
		    ipam_pool_loader load, void *load_arg, char *err,
		    size_t errlen);
/* Commit what is queued, run the remaining callbacks, publish the chain
 * head (log, anchor, hook), stop, free. */
void		 ipam_store_close(struct ipam_store *);
int		 ipam_store_submit(struct ipam_store *, const struct ipam_op *,
		    ipam_done_cb, void *);
/* Helpers that fill an op from an allocation record; actor may be NULL. */
void		 ipam_op_alloc(struct ipam_op *, const struct ipam_alloc *,
		    const char *actor);
void		 ipam_op_release(struct ipam_op *, const struct ipam_alloc *,
		    int64_t until, const char *actor);
/* a was taken from the pre-allocation named prev (ipam_claim). */
void		 ipam_op_claim(struct ipam_op *, const struct ipam_alloc *a,
		    const char *prev, const char *actor);
void		 ipam_op_block(struct ipam_op *, bool add, const char *pool,
		    const struct ipam_block_rec *);
/* A run-time pool's definition (NULL with IPAM_OP_POOL_DEL); audit_op
 * as struct ipam_op says. */
void		 ipam_op_pool(struct ipam_op *, enum ipam_op_kind,
		    const char *pool, const char *definition,
		    const char *audit_op, const char *actor);
/*
 * The shadow inventory's state per pool (schema 5; shadow.h says what
 * the blob holds): put submits it (a copy; it replaces the pool's row,
 * off the loop like every change, without an audit record) and keeps
 * it as the pool's latest; get gives the latest, loaded at open or put
 * since (the store's copy, valid until the next put for the pool): 0,
 * or -1 ENOENT.  A row that cannot be read at open is skipped with a
 * log line; it never stops the IPAM.  forget drops the pool's copy once
 * its deletion (IPAM_OP_POOL_DEL, which drops the row) has committed.
 */
int		 ipam_store_shadow_put(struct ipam_store *, const char *pool,
		    const void *state, size_t len, int64_t saved,
		    ipam_done_cb, void *);
int		 ipam_store_shadow_get(struct ipam_store *, const char *pool,
		    const void **state, size_t *len, int64_t *saved);
void		 ipam_store_shadow_forget(struct ipam_store *,
		    const char *pool);

/* Block until everything submitted is committed and its callback ran. */
void		 ipam_store_flush(struct ipam_store *);
/*
 * Record in the store (and the audit trail, actor "config") the pools'
 * configured reservations that it does not hold yet, and drop those no
 * longer configured.  Run-time pools are left out: their reservations
 * are part of their definition.  Returns the number of ops submitted.
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

/*
 * The audit chain head as published: seq 0 and a zero hash for an
 * empty chain; hex is the hash in lower-case hex.
 */
struct ipam_audit_head {
	int64_t		 seq;
	uint8_t		 hash[IPAM_AUDIT_HASH_LEN];
	char		 hex[2 * IPAM_AUDIT_HASH_LEN + 1];
	bool		 shutdown;	/* the last one, from ipam_store_close */
};
/*
 * "Head published": cb runs on the event loop each time the head is
 * published (every IPAM_HEAD_PUBLISH_EVERY records and at close), so
 * it can be kept outside this host (fabric mode: the datastore).  One
 * hook; NULL removes it.
 */
typedef void	(*ipam_head_cb)(const struct ipam_audit_head *, void *arg);
void		 ipam_store_set_head_hook(struct ipam_store *, ipam_head_cb,
		    void *arg);
/* The head as last committed (event loop side). */
void		 ipam_store_head(struct ipam_store *,
		    struct ipam_audit_head *);

/* Audit chain (audit.c) */

struct ipam_audit_report {
	bool		 ok;
	int64_t		 records;	/* verified before the first bad one */
	int64_t		 bad_seq;	/* first bad seq; 0 when ok */
	int64_t		 last_seq;	/* the last record present */
	int64_t		 head_seq;	/* what the tagged head names */
	int64_t		 anchor_seq;	/* what STATE/ipam.anchor names; 0 none */
	bool		 anchored;	/* an anchor file was there */
	bool		 truncated;	/* records removed at the end */
	bool		 rolled_back;	/* older than (or not) the anchored one */
	char		 reason[256];
};

/* Walk the chain on its own read connection and check its head and the
 * anchor.  -1: cannot read at all. */
int		 ipam_audit_verify(struct ipam_store *,
		    struct ipam_audit_report *);
/* The same on a state directory without an open store (an IPAM refused
 * at start). */
int		 ipam_audit_verify_dir(const char *state_dir,
		    struct ipam_audit_report *);

/* An audit record as listed; strings are "" when absent. */
struct ipam_audit_record {
	int64_t		 seq;
	int64_t		 time;
	const char	*op;
	const char	*actor;
	const char	*resource;
	const char	*pool;
	const char	*ip;
	const char	*ipv6;
	const char	*mac;
	const char	*labels;	/* canonical text; schema 4 */
	char		 prev_hex[2 * IPAM_AUDIT_HASH_LEN + 1];
	char		 hmac_hex[2 * IPAM_AUDIT_HASH_LEN + 1];
};
/*
 * Records with seq > since, in order, at most limit, on a read
 * connection of their own; cb stops the walk by returning non-zero.
 * Returns the number listed, -1 (message in err) when the table cannot
 * be read.
 */
int		 ipam_audit_records(struct ipam_store *, int64_t since,
		    size_t limit, int (*cb)(const struct ipam_audit_record *,
		    void *), void *arg, char *err, size_t errlen);

#endif
