/*
 * One hash table for the whole daemon, and the hash function it needs.
 *
 * How this works: a table is an array of 2^k chain heads.  Objects
 * embed a struct hash_node (one pointer) and the table links those, so
 * it allocates nothing per object and one object can sit in several
 * tables.  The owner describes its objects with a struct hash_ops: the
 * hash of a stored object (needed to move it when the table grows;
 * usually a field the object caches) and whether it matches a lookup
 * key, whatever the owner chooses a key to be.  The table doubles when
 * it holds as many objects as buckets (load 1) and does not shrink,
 * except that a table created with 0 buckets frees its array when it
 * empties and allocates a small one again on the next insert.
 *
 * Keys that come from outside (NLRI, attributes, learned MACs, names an
 * API client chose) are hashed with hash_bytes_keyed(): SipHash-1-3
 * under a key drawn from getrandom() once per process.  Who does not
 * know the key cannot choose many keys that fall into one chain, which
 * with a public hash like FNV turns every lookup into a walk of the
 * whole table (hash flooding).  Keys are packed into bytes first.
 * Every table in the tree is keyed by such data (Adj-RIB-Out rows reuse
 * their RIB entry's hash), so there is no second, unkeyed hash.
 *
 * Iterating: hash_iter_next() has already stepped past the node it
 * returns, so the caller may remove that node (and only that node).
 * An iteration may also pause at a bucket boundary
 * (hash_iter_at_boundary()) and continue on a later event-loop turn,
 * when the table may have changed: it holds no pointer into the table
 * there, and if the table was resized meanwhile it starts over from
 * the first bucket, so callers must not mind meeting an object twice.
 */
#ifndef COMMON_HASH_H
#define COMMON_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_node {
	struct hash_node *next;
};

struct hash_ops {
	/* The hash of a stored object: what hash_find() is given for it. */
	uint32_t (*hash)(const struct hash_node *);
	/* Whether a stored object matches a lookup key. */
	bool	 (*equal)(const struct hash_node *, const void *key);
};

struct hash_table {
	struct hash_node **buckets;
	size_t		 nbuckets;	/* power of two, or 0 */
	size_t		 count;
	size_t		 min_buckets;	/* 0: free the array when empty */
	uint32_t	 generation;	/* bumped when the array changes */
	const struct hash_ops *ops;
};

struct hash_iter {
	const struct hash_table *t;
	struct hash_node *next;
	size_t		 bucket;
	uint32_t	 generation;
};

/* The object a node is embedded in. */
#define hash_entry(node, type, member)					\
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* min_buckets is rounded up to a power of two. */
void	 hash_init(struct hash_table *, const struct hash_ops *,
	    size_t min_buckets);
/* Frees the bucket array; the objects are the caller's. */
void	 hash_free(struct hash_table *);
/* Links node (no check for an equal one: find first). */
void	 hash_insert(struct hash_table *, struct hash_node *);
/* Unlinks node; it must be in the table. */
void	 hash_remove(struct hash_table *, struct hash_node *);
/* The first object matching key, whose hash is hash; NULL if none. */
struct hash_node *hash_find(const struct hash_table *, uint32_t hash,
	    const void *key);
/* The next object after node matching the same key (tables holding
 * several objects per key). */
struct hash_node *hash_find_next(const struct hash_table *,
	    const struct hash_node *, const void *key);
size_t	 hash_count(const struct hash_table *);
/* Bytes of the bucket array. */
size_t	 hash_memory(const struct hash_table *);

void	 hash_iter_init(struct hash_iter *, const struct hash_table *);
struct hash_node *hash_iter_next(struct hash_iter *);
bool	 hash_iter_at_boundary(const struct hash_iter *);

#define HASH_FOREACH(node, it, table)					\
	for (hash_iter_init((it), (table));				\
	    ((node) = hash_iter_next(it)) != NULL;)

/* Start loading the chain head of hash: lookups batched ahead of use
 * (a table of a million routes misses the cache on every lookup). */
static inline void
hash_prefetch(const struct hash_table *t, uint32_t hash)
{
	if (t->nbuckets > 0)
		__builtin_prefetch(&t->buckets[hash & (t->nbuckets - 1)]);
}

/* SipHash-1-3 of data under this process's random key, for tables. */
uint32_t hash_bytes_keyed(const void *, size_t);
/* len bytes from the kernel's random source (getrandom); the source of
 * that key and of any other secret a hash is keyed with. */
void	 random_fill(void *, size_t);

/* SipHash-c-d (Aumasson, Bernstein: "SipHash: a fast short-input PRF",
 * 2012) under a caller's 128-bit key; 64-bit output. */
uint64_t siphash24(const uint8_t key[16], const void *, size_t);
uint64_t siphash13(const uint8_t key[16], const void *, size_t);

#endif
