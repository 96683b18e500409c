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

struct alloc_node;

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

struct fam {
	struct fam_prefix *pfx;
	size_t		 npfx;
	struct u128_range *excl;	/* sorted, merged */
	size_t		 nexcl;
	bool		 has_gateway;
	u128		 gateway;
	/* the "next fresh" cursor */
	size_t		 cur_pi;
	u128		 cur;
	struct addr_list quarantine;	/* in expiry order */
	struct addr_list freelist;
	double		 size;
	uint64_t	 used;
	uint64_t	 quarantined;
	uint64_t	 conflicts;
};

struct alloc_node {
	struct ipam_alloc a;
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
};
TAILQ_HEAD(ipam_pool_list, ipam_pool);

struct ipam {
	struct ipam_pool_list pools;
	struct hash_table by_resource;	/* of alloc_nodes */
	int64_t		(*now)(void *);
	void		*now_arg;
	size_t		 nentries;
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
bool	 fam_is_special(const struct fam *, size_t pi, u128);
const struct u128_range *fam_excluded(const struct fam *, u128);
void	 pool_free(struct ipam_pool *);

/* alloc.c: restoring what the store holds. */
int	 ipam_restore_alloc(struct ipam *, const struct ipam_alloc *,
	    char *err, size_t errlen);
int	 ipam_restore_quarantine(struct ipam *, const char *pool,
	    const struct ipaddr *, int64_t until);

/* audit.c: the chain's arithmetic, shared with store.c. */
#define AUDIT_KEY_LEN	32
#define AUDIT_HMAC_LEN	32

struct sqlite3;

struct audit_rec {
	int64_t		 seq;
	int64_t		 time;
	const char	*op;
	const char	*resource;
	const char	*pool;
	const char	*ip;
	const char	*ipv6;
	const char	*mac;
};

void	 audit_hmac(const uint8_t *key, const uint8_t *prev,
	    const struct audit_rec *, uint8_t *out);
/* The tag that vouches for the chain head (seq, hmac). */
void	 audit_head_tag(const uint8_t *key, int64_t seq, const uint8_t *hmac,
	    uint8_t *out);
/* Read STATE/ipam.key, creating it (0600, RAND_bytes) when allowed. */
int	 audit_key_load(const char *dir, bool create, uint8_t *key,
	    char *err, size_t errlen);
int	 audit_verify_db(struct sqlite3 *, const uint8_t *key,
	    struct ipam_audit_report *);
const char *store_db_path(const struct ipam_store *);
const uint8_t *store_key(const struct ipam_store *);

#endif
