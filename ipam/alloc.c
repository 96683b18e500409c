/*
 * The allocator: allocate, release, conflicts, lookups, restore.
 *
 * How this works: per family, an address comes from (1) the "next
 * fresh" cursor, which walks the prefixes in order and never goes back;
 * then (2) the free list, addresses behind the cursor that became free
 * without a quarantine (a conflict cleared, an allocation rolled back);
 * then (3) the head of the quarantine FIFO once its quarantine is over.
 * Everything behind the cursor is therefore allocated, quarantined,
 * free-listed, conflicting, reserved, excluded or special, and only
 * addresses in one of those states have an entry in the pool's table:
 * memory follows allocations, not the pool size.
 *
 * MACs: mac-prefix followed by a per-pool counter, skipping MACs in use
 * in the pool (generated or asked for) and reserved MACs (a router's or
 * a bridge's, ipam.h), so they are unique per pool and the same order
 * of requests gives the same MACs.  A fabric pool derives the MAC from
 * the address instead, so it skips the addresses whose MAC is reserved
 * but keeps them on the free list: a reservation is a peer's router
 * MAC, and the address must come back when the peer withdraws it.
 */
#include "ipam/ipam_int.h"
#include "ipam/fabric.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* Resource and MAC tables: names and MACs come from API clients, so
 * they hash with the process's secret key.  Names are per tenant: the
 * resource table's key is (the pool's tenant, the resource). */

struct res_key {
	const char	*tenant;
	const char	*resource;
};

static uint32_t
resource_hash(const char *tenant, const char *resource)
{
	return hash_bytes_keyed(resource, strlen(resource)) ^
	    (hash_bytes_keyed(tenant, strlen(tenant)) * 0x9e3779b9u);
}

static uint32_t
mac_hash(const struct macaddr *mac)
{
	return hash_bytes_keyed(mac->b, sizeof(mac->b));
}

static uint32_t
res_node_hash(const struct hash_node *n)
{
	return hash_entry(n, struct alloc_node, hn_res)->res_hash;
}

static bool
res_node_equal(const struct hash_node *n, const void *key)
{
	const struct alloc_node *an = hash_entry(n, struct alloc_node, hn_res);
	const struct res_key *k = key;

	return strcmp(an->a.resource, k->resource) == 0 &&
	    strcmp(an->pool->tenant, k->tenant) == 0;
}

static uint32_t
mac_node_hash(const struct hash_node *n)
{
	return hash_entry(n, struct alloc_node, hn_mac)->mac_hash;
}

static bool
mac_node_equal(const struct hash_node *n, const void *mac)
{
	return mac_cmp(&hash_entry(n, struct alloc_node, hn_mac)->a.mac,
	    mac) == 0;
}

const struct hash_ops alloc_resource_ops = { res_node_hash, res_node_equal };
const struct hash_ops alloc_mac_ops = { mac_node_hash, mac_node_equal };

static struct alloc_node *
resource_find(const struct ipam *ipam, const char *tenant,
    const char *resource)
{
	struct res_key k = { tenant != NULL ? tenant : "", resource };
	struct hash_node *n = hash_find(&ipam->by_resource,
	    resource_hash(k.tenant, resource), &k);

	return n ? hash_entry(n, struct alloc_node, hn_res) : NULL;
}

static void
resource_link(struct ipam *ipam, struct alloc_node *an)
{
	an->res_hash = resource_hash(an->pool->tenant, an->a.resource);
	hash_insert(&ipam->by_resource, &an->hn_res);
}

/* The tenant a stored record's name belongs to. */
static const char *
rec_tenant(const struct ipam *ipam, const struct ipam_alloc *rec)
{
	const struct ipam_pool *pool = ipam_pool_find(ipam, rec->pool);

	return pool != NULL ? pool->tenant : "";
}

static struct alloc_node *
mac_find(const struct ipam_pool *pool, const struct macaddr *mac)
{
	struct hash_node *n = hash_find(&pool->macs, mac_hash(mac), mac);

	return n ? hash_entry(n, struct alloc_node, hn_mac) : NULL;
}

/* An allocation takes another name: its place in by_resource moves. */
static void
resource_rename(struct ipam *ipam, struct alloc_node *an, const char *name)
{
	hash_remove(&ipam->by_resource, &an->hn_res);
	strlcpy_s(an->a.resource, name, sizeof(an->a.resource));
	resource_link(ipam, an);
}

/* Printable ASCII without spaces: ids travel in URLs and logs. */
static bool
resource_valid(const char *resource)
{
	size_t len;

	if (resource == NULL || (len = strlen(resource)) == 0 ||
	    len > IPAM_RESOURCE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (resource[i] <= 0x20 || resource[i] >= 0x7f)
			return false;
	return true;
}

static bool
mac_requestable(const struct macaddr *mac)
{
	return !mac_is_zero(mac) && (mac->b[0] & 0x01) == 0;
}

static uint64_t
mac_space(const struct ipam_pool *pool)
{
	return 1ULL << (8 * (6 - pool->mac_prefix_len));
}

static void
mac_from_counter(const struct ipam_pool *pool, uint64_t c,
    struct macaddr *mac)
{
	memcpy(mac->b, pool->mac_prefix, pool->mac_prefix_len);
	for (int i = 5; i >= pool->mac_prefix_len; i--) {
		mac->b[i] = (uint8_t)c;
		c >>= 8;
	}
}

/* The counter value of a MAC under the pool's prefix, or -1. */
static int64_t
mac_counter_of(const struct ipam_pool *pool, const struct macaddr *mac)
{
	uint64_t c = 0;

	if (memcmp(mac->b, pool->mac_prefix, pool->mac_prefix_len) != 0)
		return -1;
	for (int i = pool->mac_prefix_len; i < 6; i++)
		c = (c << 8) | mac->b[i];
	return (int64_t)c;
}

/* Reserved MACs (ipam.h) */

void
ipam_mac_reserve(struct ipam *ipam, const struct macaddr *mac)
{
	const struct ipam_pool *pool;
	const struct alloc_node *an;
	char m[MAC_STRLEN];

	if (macset_add(&ipam->reserved_macs, mac) != 1)
		return;
	TAILQ_FOREACH(pool, &ipam->pools, entry)
		if ((an = mac_find(pool, mac)) != NULL)
			log_warn("ipam: MAC %s, a router or bridge MAC, is "
			    "allocated to %s in pool %s: release it",
			    mac_fmt(mac, m, sizeof(m)), an->a.resource,
			    pool->name);
}

int
ipam_mac_unreserve(struct ipam *ipam, const struct macaddr *mac)
{
	return macset_del(&ipam->reserved_macs, mac) == -1 ? -1 : 0;
}

bool
ipam_mac_reserved(const struct ipam *ipam, const struct macaddr *mac)
{
	return macset_refs(&ipam->reserved_macs, mac) > 0;
}

size_t
ipam_macs_reserved(const struct ipam *ipam)
{
	return macset_count(&ipam->reserved_macs);
}

int64_t
ipam_pool_mac_rank(const struct ipam_pool *pool, const struct macaddr *mac)
{
	int64_t c = mac_counter_of(pool, mac);

	if (pool->fabric)	/* the family bit off: the offset */
		return c < 0 ? -1 : c & (((int64_t)1 <<
		    pool_mac_offset_bits(pool)) - 1);
	return c > 0 ? c - 1 : -1;
}

/* Would a fabric pool derive a reserved MAC from a? */
static bool
fabric_mac_reserved(const struct ipam *ipam, const struct ipam_pool *pool,
    int fam, u128 a)
{
	struct macaddr mac;

	if (!pool->fabric || macset_count(&ipam->reserved_macs) == 0)
		return false;
	return pool_mac_derive(pool, fam, a, &mac) == 0 &&
	    ipam_mac_reserved(ipam, &mac);
}

/*
 * A fabric pool derives the MAC from the allocation's first address
 * (pool_mac_derive): addresses are unique across the fabric, so the
 * MACs are too, with no counter to share.
 */
static int
mac_generate(struct ipam *ipam, struct ipam_pool *pool,
    struct addr_entry *const *e, struct macaddr *mac)
{
	uint64_t space = mac_space(pool);
	uint64_t bound = hash_count(&pool->macs) +
	    macset_count(&ipam->reserved_macs) + 1;
	const struct addr_entry *first = e[FAM_V4] ? e[FAM_V4] : e[FAM_V6];

	if (pool->fabric) {
		if (pool_mac_derive(pool, first->fam, first->a, mac) == -1 ||
		    mac_find(pool, mac) != NULL) {
			errno = EEXIST;
			return -1;
		}
		if (ipam_mac_reserved(ipam, mac)) {
			errno = EADDRINUSE;	/* only an address asked */
			return -1;
		}
		return 0;
	}

	/* Counter 0 (all-zero suffix) is skipped: it looks unset. */
	for (uint64_t tries = 0; tries <= bound; tries++) {
		uint64_t c = pool->mac_counter++ % space;

		if (c == 0)
			continue;
		mac_from_counter(pool, c, mac);
		if (mac_find(pool, mac) == NULL &&
		    !ipam_mac_reserved(ipam, mac))
			return 0;
	}
	errno = ENOSPC;
	return -1;
}

/* The cursor and reuse */

static void
cursor_next_range(struct fam *f)
{
	f->cur_ri++;
	if (f->cur_ri < f->nrng)
		f->cur = f->rng[f->cur_ri].lo;
}

/* A fresh address the cursor passes only for its reserved MAC waits
 * on the free list for the reservation to go. */
static void
fam_freelist_add(struct ipam *ipam, struct ipam_pool *pool, struct fam *f,
    int fam, u128 a)
{
	struct addr_entry *e = pool_addr_get(ipam, pool, fam, a);

	TAILQ_INSERT_TAIL(&f->freelist, e, link);
	pool_addr_set(ipam, pool, e, AE_FREELISTED);
}

/* The next fresh address at the cursor; false when none remain. */
static bool
fam_next_fresh(struct ipam *ipam, struct ipam_pool *pool, struct fam *f,
    int fam, u128 *out)
{
	while (f->cur_ri < f->nrng) {
		const struct fam_range *r = &f->rng[f->cur_ri];
		const struct u128_range *x;
		u128 a = f->cur;

		if ((x = fam_excluded(f, a)) != NULL) {
			if (x->hi >= r->hi)
				cursor_next_range(f);
			else
				f->cur = x->hi + 1;
			continue;
		}
		if (a == r->hi)
			cursor_next_range(f);
		else
			f->cur = a + 1;
		if (fam_is_special(f, r->pi, a) ||
		    pool_addr_find(pool, fam, a) != NULL)
			continue;
		if (fabric_mac_reserved(ipam, pool, fam, a)) {
			fam_freelist_add(ipam, pool, f, fam, a);
			continue;
		}
		*out = a;
		return true;
	}
	return false;
}

static bool
fam_behind_cursor(const struct fam *f, size_t ri, u128 a)
{
	if (ri != f->cur_ri)
		return ri < f->cur_ri;
	return a < f->cur;
}

/*
 * An entry stops being allocated, quarantined or lent (and loses the
 * flags in clear): keep it while a conflict or reservation holds it,
 * put it on the free list if the cursor has passed it, else forget it
 * (the cursor will find it; outside every range nobody hands it out).
 * The counters move from the entry's old flags.
 */
void
addr_now_free(struct ipam *ipam, struct ipam_pool *pool,
    struct addr_entry *e, uint8_t clear)
{
	struct fam *f = &pool->f[e->fam];
	uint8_t rest = e->flags & ~(AE_ALLOCATED | AE_QUARANTINED | AE_LENT |
	    clear);
	int ri = fam_range_of(f, e->a);

	e->owner = NULL;
	if ((rest & (AE_CONFLICT | AE_RESERVED | AE_FREELISTED)) != 0) {
		pool_addr_set(ipam, pool, e, rest);
		return;
	}
	if (ri >= 0 && fam_behind_cursor(f, (size_t)ri, e->a) &&
	    !fam_is_special(f, f->rng[ri].pi, e->a) &&
	    fam_excluded(f, e->a) == NULL) {
		TAILQ_INSERT_TAIL(&f->freelist, e, link);
		pool_addr_set(ipam, pool, e, AE_FREELISTED);
		return;
	}
	pool_addr_set(ipam, pool, e, 0);
}

/* What a free-listed or expired quarantined address is good for. */
enum reuse {
	REUSE_TAKE,
	REUSE_WAIT,	/* (fabric) its derived MAC is reserved for now */
	REUSE_DROP,	/* in conflict, or (fabric) of a block given up */
};

static enum reuse
reuse_of(const struct ipam *ipam, const struct ipam_pool *pool,
    const struct fam *f, const struct addr_entry *e)
{
	if ((e->flags & AE_CONFLICT) ||
	    (pool->fabric && fam_range_of(f, e->a) < 0))
		return REUSE_DROP;
	if (fabric_mac_reserved(ipam, pool, e->fam, e->a))
		return REUSE_WAIT;
	return REUSE_TAKE;
}

/*
 * A free-listed or expired quarantined address.  Conflicts and
 * addresses of blocks given up leave the lists; an address waiting for
 * its MAC's reservation to go stays on (or moves to) the free list.
 * Each reserved MAC holds at most one address of a family, so the walk
 * passes at most that many.
 */
static struct addr_entry *
fam_take_reusable(struct ipam *ipam, struct ipam_pool *pool, struct fam *f,
    int64_t now)
{
	struct addr_entry *e, *next;
	enum reuse r;

	TAILQ_FOREACH_SAFE(e, &f->freelist, link, next) {
		if ((r = reuse_of(ipam, pool, f, e)) == REUSE_WAIT)
			continue;
		TAILQ_REMOVE(&f->freelist, e, link);
		if (r == REUSE_TAKE)
			return e;
		pool_addr_set(ipam, pool, e, e->flags & ~AE_FREELISTED);
	}
	while ((e = TAILQ_FIRST(&f->quarantine)) != NULL && e->until <= now) {
		TAILQ_REMOVE(&f->quarantine, e, link);
		if (reuse_of(ipam, pool, f, e) == REUSE_TAKE)
			return e;
		addr_now_free(ipam, pool, e, 0);
	}
	return NULL;
}

/*
 * The address a request names: in a range the pool hands out (for a
 * fabric pool, a block this VTEP holds), never special or excluded
 * (else EADDRNOTAVAIL), and free: not allocated, reserved, lent, in
 * conflict, or quarantined until later (else EADDRINUSE).
 */
static struct addr_entry *
fam_take_asked(struct ipam *ipam, struct ipam_pool *pool,
    const struct ipaddr *ip, int64_t now)
{
	int fam = ip_fam(ip), ri;
	struct fam *f = &pool->f[fam];
	struct addr_entry *e;
	u128 a = ip_to_u128(ip);

	if ((ri = fam_range_of(f, a)) < 0 ||
	    fam_is_special(f, f->rng[ri].pi, a) ||
	    fam_excluded(f, a) != NULL) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	if ((e = pool_addr_find(pool, fam, a)) == NULL)
		e = pool_addr_get(ipam, pool, fam, a);
	else if ((e->flags & (AE_ALLOCATED | AE_RESERVED | AE_CONFLICT |
	    AE_LENT)) || ((e->flags & AE_QUARANTINED) && e->until > now)) {
		errno = EADDRINUSE;
		return NULL;
	}
	if (e->flags & AE_QUARANTINED)
		TAILQ_REMOVE(&f->quarantine, e, link);
	if (e->flags & AE_FREELISTED)
		TAILQ_REMOVE(&f->freelist, e, link);
	pool_addr_set(ipam, pool, e, (e->flags &
	    ~(AE_FREELISTED | AE_QUARANTINED)) | AE_ALLOCATED);
	return e;
}

struct addr_entry *
fam_take(struct ipam *ipam, struct ipam_pool *pool, int fam, int64_t now,
    uint8_t flag)
{
	struct fam *f = &pool->f[fam];
	struct addr_entry *e;
	u128 a;

	if (fam_next_fresh(ipam, pool, f, fam, &a))
		e = pool_addr_get(ipam, pool, fam, a);
	else if ((e = fam_take_reusable(ipam, pool, f, now)) == NULL)
		return NULL;
	pool_addr_set(ipam, pool, e, (e->flags &
	    ~(AE_FREELISTED | AE_QUARANTINED)) | flag);
	return e;
}

/* Allocation records */

static struct alloc_node *
alloc_node_link(struct ipam *ipam, struct ipam_pool *pool,
    const char *resource, const struct macaddr *mac, int64_t created)
{
	struct alloc_node *an = xcalloc(1, sizeof(*an));

	strlcpy_s(an->a.resource, resource, sizeof(an->a.resource));
	an->a.pool = pool->name;
	an->a.tenant = pool->tenant;
	an->a.vni = pool->vni;
	an->a.mac = *mac;
	an->a.created = created;
	an->a.seq = ++ipam->last_seq;
	an->pool = pool;
	an->mac_hash = mac_hash(mac);
	resource_link(ipam, an);
	hash_insert(&pool->macs, &an->hn_mac);
	TAILQ_INSERT_TAIL(&pool->allocs, an, link);
	pool->nallocs++;
	return an;
}

static void
alloc_node_set_addr(struct alloc_node *an, struct addr_entry *e)
{
	e->owner = an;
	an->e[e->fam] = e;
	u128_to_ip(e->a, e->fam, e->fam == FAM_V4 ? &an->a.ip : &an->a.ipv6);
}

/* The families asked, each in the pool; an address asked of each only
 * when that family is asked.  Labels in canonical form. */
static int
request_check(const struct ipam_pool *pool, const struct ipam_request *req,
    bool want[2])
{
	enum ipam_family family = req->family;

	want[FAM_V4] = family == IPAM_FAMILY_IPV4 || family == IPAM_FAMILY_DUAL;
	want[FAM_V6] = family == IPAM_FAMILY_IPV6 || family == IPAM_FAMILY_DUAL;
	if ((!want[FAM_V4] && !want[FAM_V6]) ||
	    (want[FAM_V4] && pool->f[FAM_V4].npfx == 0) ||
	    (want[FAM_V6] && pool->f[FAM_V6].npfx == 0) ||
	    (req->ip.af != 0 && (req->ip.af != AF_INET || !want[FAM_V4])) ||
	    (req->ipv6.af != 0 && (req->ipv6.af != AF_INET6 ||
	    !want[FAM_V6])) || !ipam_labels_canonical(req->labels)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
alloc_node_set_labels(struct alloc_node *an, const char *labels)
{
	free(an->labels);
	an->labels = labels != NULL && labels[0] != '\0' ?
	    xstrdup(labels) : NULL;
	an->a.labels = an->labels;
}

/* A MAC asked for must be unicast, free in the pool and not reserved. */
static int
request_mac_check(const struct ipam *ipam, const struct ipam_pool *pool,
    const struct ipam_request *req)
{
	if (req->mac == NULL)
		return 0;
	if (!mac_requestable(req->mac) || (pool->fabric &&
	    mac_counter_of(pool, req->mac) >= 0)) {
		errno = EINVAL;
		return -1;
	}
	if (mac_find(pool, req->mac) != NULL ||
	    ipam_mac_reserved(ipam, req->mac)) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

/*
 * Undo the addresses taken for an allocation that could not complete:
 * the cursor goes back where it was, so a fresh address is not lost to
 * the free list.
 */
static void
alloc_undo(struct ipam *ipam, struct ipam_pool *pool, struct addr_entry **e,
    const size_t *cur_ri, const u128 *cur)
{
	int saved = errno;

	for (int fam = 0; fam < 2; fam++) {
		if (e[fam] == NULL)
			continue;
		pool->f[fam].cur_ri = cur_ri[fam];
		pool->f[fam].cur = cur[fam];
		addr_now_free(ipam, pool, e[fam], 0);
	}
	errno = saved;
}

int
ipam_allocate(struct ipam *ipam, const char *poolname,
    const struct ipam_request *req, const struct ipam_alloc **out,
    bool *existing)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	struct addr_entry *e[2] = { NULL, NULL };
	struct alloc_node *an;
	struct macaddr mac;
	int64_t now = ipam_now(ipam);
	size_t cur_ri[2];
	u128 cur[2];
	bool want[2];

	*existing = false;
	if (pool == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (!resource_valid(req->resource)) {
		errno = EINVAL;
		return -1;
	}
	if ((an = resource_find(ipam, pool->tenant, req->resource)) != NULL) {
		if (an->pool != pool) {
			errno = EEXIST;
			return -1;
		}
		*existing = true;
		*out = &an->a;
		return 0;
	}
	if (request_check(pool, req, want) == -1 ||
	    request_mac_check(ipam, pool, req) == -1)
		return -1;
	for (int fam = 0; fam < 2; fam++) {
		const struct ipaddr *asked = fam == FAM_V4 ? &req->ip :
		    &req->ipv6;

		cur_ri[fam] = pool->f[fam].cur_ri;
		cur[fam] = pool->f[fam].cur;
		if (!want[fam])
			continue;
		if (asked->af != 0) {
			if ((e[fam] = fam_take_asked(ipam, pool, asked, now)) ==
			    NULL)
				goto undo;
		} else if ((e[fam] = fam_take(ipam, pool, fam, now,
		    AE_ALLOCATED)) == NULL) {
			errno = ENOSPC;
			goto undo;
		}
	}
	if (req->mac != NULL)
		mac = *req->mac;
	else if (mac_generate(ipam, pool, e, &mac) == -1)
		goto undo;
	an = alloc_node_link(ipam, pool, req->resource, &mac, now);
	alloc_node_set_labels(an, req->labels);
	an->a.preallocated = req->preallocated;
	if (req->preallocated)
		pool->nprealloc++;
	for (int fam = 0; fam < 2; fam++)
		if (e[fam] != NULL)
			alloc_node_set_addr(an, e[fam]);
	*out = &an->a;
	return 0;
undo:
	alloc_undo(ipam, pool, e, cur_ri, cur);
	return -1;
}

static void
alloc_node_unlink(struct ipam *ipam, struct alloc_node *an)
{
	struct ipam_pool *pool = an->pool;

	hash_remove(&ipam->by_resource, &an->hn_res);
	hash_remove(&pool->macs, &an->hn_mac);
	TAILQ_REMOVE(&pool->allocs, an, link);
	pool->nallocs--;
	if (an->a.preallocated)
		pool->nprealloc--;
	free(an->labels);
	free(an);
}

int
ipam_release(struct ipam *ipam, const char *tenant, const char *resource,
    struct ipam_alloc *out, int64_t *untilp)
{
	struct alloc_node *an;
	struct ipam_pool *pool;
	int64_t until;

	if (resource == NULL ||
	    (an = resource_find(ipam, tenant, resource)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	pool = an->pool;
	until = ipam_now(ipam) + pool->quarantine;
	for (int fam = 0; fam < 2; fam++) {
		struct addr_entry *e = an->e[fam];

		if (e == NULL)
			continue;
		e->owner = NULL;
		e->until = until;
		TAILQ_INSERT_TAIL(&pool->f[fam].quarantine, e, link);
		pool_addr_set(ipam, pool, e, (e->flags & ~AE_ALLOCATED) |
		    AE_QUARANTINED);
	}
	if (out != NULL) {
		*out = an->a;
		out->labels = NULL;	/* freed with the node */
	}
	if (untilp != NULL)
		*untilp = until;
	alloc_node_unlink(ipam, an);
	return 0;
}

/*
 * A request takes a pre-allocation: the allocation is handed to the new
 * resource as it is (same addresses, MAC and route), no longer marked
 * preallocated.  The caller persists it with ipam_op_claim().
 */
int
ipam_claim(struct ipam *ipam, const char *tenant, const char *prealloc,
    const char *resource, const struct ipam_alloc **out)
{
	struct alloc_node *an;

	if (prealloc == NULL || resource == NULL || resource[0] == '\0' ||
	    strlen(resource) > IPAM_RESOURCE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((an = resource_find(ipam, tenant, prealloc)) == NULL ||
	    !an->a.preallocated) {
		errno = ENOENT;
		return -1;
	}
	if (resource_find(ipam, tenant, resource) != NULL) {
		errno = EEXIST;
		return -1;
	}
	resource_rename(ipam, an, resource);
	an->a.preallocated = false;
	an->pool->nprealloc--;
	*out = &an->a;
	return 0;
}

int
ipam_set_labels(struct ipam *ipam, const char *tenant, const char *resource,
    const char *labels)
{
	struct alloc_node *an;

	if (resource == NULL ||
	    (an = resource_find(ipam, tenant, resource)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (!ipam_labels_canonical(labels)) {
		errno = EINVAL;
		return -1;
	}
	alloc_node_set_labels(an, labels);
	return 0;
}

/* Lookups */

const struct ipam_alloc *
ipam_find(const struct ipam *ipam, const char *tenant, const char *resource)
{
	struct alloc_node *an = resource_find(ipam, tenant, resource);

	return an != NULL ? &an->a : NULL;
}

const struct ipam_alloc *
ipam_find_mac(const struct ipam *ipam, const char *poolname,
    const struct macaddr *mac)
{
	const struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	const struct alloc_node *an;

	if (pool == NULL || (an = mac_find(pool, mac)) == NULL)
		return NULL;
	return &an->a;
}

static const struct ipam_alloc *
pool_find_ip(const struct ipam_pool *pool, const struct ipaddr *ip)
{
	struct addr_entry *e;
	int fam = ip_fam(ip);

	if (fam < 0 || (e = pool_addr_find(pool, fam, ip_to_u128(ip))) == NULL
	    || e->owner == NULL)
		return NULL;
	return &e->owner->a;
}

const struct ipam_alloc *
ipam_find_ip(const struct ipam *ipam, const char *poolname,
    const struct ipaddr *ip)
{
	const struct ipam_pool *pool;
	const struct ipam_alloc *a;

	TAILQ_FOREACH(pool, &ipam->pools, entry) {
		if (poolname != NULL && strcmp(pool->name, poolname) != 0)
			continue;
		if ((a = pool_find_ip(pool, ip)) != NULL)
			return a;
	}
	return NULL;
}

int
ipam_foreach(const struct ipam *ipam, const char *poolname,
    int (*cb)(const struct ipam_alloc *, void *), void *arg)
{
	const struct ipam_pool *pool;
	const struct alloc_node *an;
	int rv;

	TAILQ_FOREACH(pool, &ipam->pools, entry) {
		if (poolname != NULL && strcmp(pool->name, poolname) != 0)
			continue;
		TAILQ_FOREACH(an, &pool->allocs, link)
			if ((rv = cb(&an->a, arg)) != 0)
				return rv;
	}
	return 0;
}

int
ipam_foreach_after(const struct ipam *ipam, const char *poolname,
    uint64_t after, int (*cb)(const struct ipam_alloc *, void *), void *arg)
{
	const struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	const struct alloc_node *an;
	int rv;

	if (pool == NULL)
		return 0;
	/* A pool's list is in seq order: it is appended to. */
	TAILQ_FOREACH(an, &pool->allocs, link)
		if (an->a.seq > after && (rv = cb(&an->a, arg)) != 0)
			return rv;
	return 0;
}

/* Conflicts */

int
ipam_mark_conflict(struct ipam *ipam, const char *poolname,
    const struct ipaddr *ip, bool on)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	struct addr_entry *e;
	int fam = ip_fam(ip), allocated;
	u128 a;

	if (pool == NULL || fam < 0 ||
	    fam_prefix_of(&pool->f[fam], a = ip_to_u128(ip)) < 0) {
		errno = ENOENT;
		return -1;
	}
	/* A fabric pool hands out only what it owns: an address elsewhere
	 * is another VTEP's business, and no entry is kept for it. */
	if (pool->fabric && fam_range_of(&pool->f[fam], a) < 0 &&
	    pool_addr_find(pool, fam, a) == NULL)
		return 0;
	e = on ? pool_addr_get(ipam, pool, fam, a) :
	    pool_addr_find(pool, fam, a);
	if (e == NULL)
		return 0;
	allocated = (e->flags & AE_ALLOCATED) != 0;
	if (on) {
		pool_addr_set(ipam, pool, e, e->flags | AE_CONFLICT);
		return allocated;
	}
	if ((e->flags & AE_CONFLICT) == 0)
		return allocated;
	if (allocated || (e->flags & AE_QUARANTINED) != 0)
		pool_addr_set(ipam, pool, e, e->flags & ~AE_CONFLICT);
	else
		addr_now_free(ipam, pool, e, AE_CONFLICT);
	return allocated;
}

bool
ipam_is_conflict(const struct ipam *ipam, const char *poolname,
    const struct ipaddr *ip)
{
	const struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	const struct addr_entry *e;
	int fam = ip_fam(ip);

	if (pool == NULL || fam < 0)
		return false;
	e = pool_addr_find(pool, fam, ip_to_u128(ip));
	return e != NULL && (e->flags & AE_CONFLICT) != 0;
}

/*
 * The test fam_take_asked() makes, without taking: in a range the pool
 * hands out, not special nor excluded, and held by nothing (allocated,
 * reserved, lent, in conflict, quarantined).
 */
bool
ipam_addr_unused(const struct ipam *ipam, const char *poolname,
    const struct ipaddr *ip)
{
	const struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	const struct addr_entry *e;
	const struct fam *f;
	int fam = ip_fam(ip), ri;
	u128 a;

	if (pool == NULL || fam < 0)
		return false;
	f = &pool->f[fam];
	a = ip_to_u128(ip);
	if ((ri = fam_range_of(f, a)) < 0 ||
	    fam_is_special(f, f->rng[ri].pi, a) || fam_excluded(f, a) != NULL)
		return false;
	if ((e = pool_addr_find(pool, fam, a)) == NULL)
		return true;
	if (e->flags & (AE_ALLOCATED | AE_RESERVED | AE_CONFLICT | AE_LENT))
		return false;
	return !(e->flags & AE_QUARANTINED) || e->until <= ipam_now(ipam);
}

/* Restoring the store's state */

void
addr_unlist(struct ipam *ipam, struct ipam_pool *pool, struct addr_entry *e,
    uint8_t flag)
{
	if (e->flags & AE_QUARANTINED)
		TAILQ_REMOVE(&pool->f[e->fam].quarantine, e, link);
	if (e->flags & AE_FREELISTED)
		TAILQ_REMOVE(&pool->f[e->fam].freelist, e, link);
	pool_addr_set(ipam, pool, e, (e->flags & ~(AE_QUARANTINED |
	    AE_FREELISTED)) | flag);
}

static int
restore_addr(struct ipam *ipam, struct ipam_pool *pool,
    const struct ipaddr *ip, struct alloc_node *an, char *err, size_t errlen)
{
	char buf[IPADDR_STRLEN];
	struct addr_entry *e;
	int fam = ip_fam(ip);

	if (fam < 0)
		return 0;
	e = pool_addr_get(ipam, pool, fam, ip_to_u128(ip));
	if (e->flags & AE_ALLOCATED) {
		snprintf(err, errlen, "pool %s: %s is allocated to both %s and "
		    "%s", pool->name, ipaddr_fmt(ip, buf, sizeof(buf)),
		    e->owner->a.resource, an->a.resource);
		return -1;
	}
	addr_unlist(ipam, pool, e, AE_ALLOCATED);
	alloc_node_set_addr(an, e);
	return 0;
}

/* 1: the pool is not configured (the caller skips the row). */
int
ipam_restore_alloc(struct ipam *ipam, const struct ipam_alloc *rec,
    char *err, size_t errlen)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, rec->pool);
	struct alloc_node *an;
	int64_t c;

	if (pool == NULL)
		return 1;
	if (!resource_valid(rec->resource) ||
	    resource_find(ipam, pool->tenant, rec->resource) != NULL ||
	    mac_find(pool, &rec->mac) != NULL) {
		snprintf(err, errlen, "pool %s: resource %s: bad, duplicate "
		    "or MAC in use", pool->name, rec->resource);
		return -1;
	}
	an = alloc_node_link(ipam, pool, rec->resource, &rec->mac,
	    rec->created);
	alloc_node_set_labels(an, rec->labels);
	an->a.preallocated = rec->preallocated;
	if (rec->preallocated)
		pool->nprealloc++;
	if (restore_addr(ipam, pool, &rec->ip, an, err, errlen) == -1 ||
	    restore_addr(ipam, pool, &rec->ipv6, an, err, errlen) == -1)
		return -1;
	if ((c = mac_counter_of(pool, &rec->mac)) >= 0 &&
	    (uint64_t)c >= pool->mac_counter)
		pool->mac_counter = (uint64_t)c + 1;
	return 0;
}

/* Rows come in expiry order, so appending keeps the FIFO sorted. */
int
ipam_restore_quarantine(struct ipam *ipam, const char *poolname,
    const struct ipaddr *ip, int64_t until)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	struct addr_entry *e;
	int fam = ip_fam(ip), pi;
	u128 a;

	if (pool == NULL || fam < 0)
		return 1;
	/* The pool may have shrunk since: only what it may hand out. */
	a = ip_to_u128(ip);
	if ((pi = fam_prefix_of(&pool->f[fam], a)) < 0 ||
	    fam_is_special(&pool->f[fam], (size_t)pi, a) ||
	    fam_excluded(&pool->f[fam], a) != NULL)
		return 0;
	e = pool_addr_get(ipam, pool, fam, a);
	if (e->flags & (AE_ALLOCATED | AE_QUARANTINED | AE_RESERVED)) {
		pool_addr_set(ipam, pool, e, e->flags);
		return 0;
	}
	if (e->flags & AE_FREELISTED)
		TAILQ_REMOVE(&pool->f[fam].freelist, e, link);
	e->until = until;
	TAILQ_INSERT_TAIL(&pool->f[fam].quarantine, e, link);
	pool_addr_set(ipam, pool, e, (e->flags & ~AE_FREELISTED) |
	    AE_QUARANTINED);
	return 0;
}

/* Undoing a change whose commit failed */

static bool
alloc_same(const struct alloc_node *an, const struct ipam_alloc *rec)
{
	return ipaddr_cmp(&an->a.ip, &rec->ip) == 0 &&
	    ipaddr_cmp(&an->a.ipv6, &rec->ipv6) == 0 &&
	    mac_cmp(&an->a.mac, &rec->mac) == 0 &&
	    an->a.created == rec->created &&
	    strcmp(an->pool->name, rec->pool) == 0;
}

/* Forget an allocation that never reached the disk: its addresses are
 * free at once (no quarantine: nobody was told about them). */
static void
alloc_forget(struct ipam *ipam, struct alloc_node *an)
{
	for (int fam = 0; fam < 2; fam++)
		if (an->e[fam] != NULL)
			addr_now_free(ipam, an->pool, an->e[fam], 0);
	alloc_node_unlink(ipam, an);
}

/* The allocation commit of rec failed: drop it if it is still there. */
bool
alloc_drop(struct ipam *ipam, const struct ipam_alloc *rec)
{
	struct alloc_node *an = resource_find(ipam, rec_tenant(ipam, rec),
	    rec->resource);

	if (an == NULL || !alloc_same(an, rec))
		return false;
	alloc_forget(ipam, an);
	return true;
}

static void
evict(struct ipam *ipam, struct alloc_node *an, const char *why)
{
	if (an == NULL)
		return;
	log_warn("ipam: %s (pool %s) gives way to %s: the store still "
	    "holds that", an->a.resource, an->pool->name, why);
	alloc_forget(ipam, an);
}

static struct alloc_node *
addr_owner(const struct ipam_pool *pool, const struct ipaddr *ip)
{
	struct addr_entry *e;
	int fam = ip_fam(ip);

	if (fam < 0 || (e = pool_addr_find(pool, fam, ip_to_u128(ip))) == NULL)
		return NULL;
	return e->owner;
}

/*
 * The release commit of rec failed: the store still holds rec, so put
 * it back.  Whatever took its name, addresses or MAC since was
 * allocated after the release and is still uncommitted; the schema's
 * UNIQUE constraints fail its commit, so it goes from memory now.
 */
int
alloc_reinstate(struct ipam *ipam, const struct ipam_alloc *rec)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, rec->pool);
	char err[256];

	if (pool == NULL) {
		errno = ENOENT;
		return -1;
	}
	evict(ipam, resource_find(ipam, pool->tenant, rec->resource),
	    "its name");
	evict(ipam, mac_find(pool, &rec->mac), "its MAC");
	evict(ipam, addr_owner(pool, &rec->ip), "its address");
	evict(ipam, addr_owner(pool, &rec->ipv6), "its address");
	if (ipam_restore_alloc(ipam, rec, err, sizeof(err)) != 0) {
		log_warn("ipam: cannot put %s back: %s", rec->resource, err);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * The claim commit of rec (taken from the pre-allocation prev) failed:
 * the store still holds prev.  Rename it back; if rec is gone already
 * (released meanwhile), put prev back as the store holds it.
 */
int
alloc_unclaim(struct ipam *ipam, const struct ipam_alloc *rec,
    const char *prev)
{
	const char *tenant = rec_tenant(ipam, rec);
	struct alloc_node *an = resource_find(ipam, tenant, rec->resource);
	struct ipam_alloc back;

	if (an != NULL && alloc_same(an, rec) && !an->a.preallocated &&
	    resource_find(ipam, tenant, prev) == NULL) {
		resource_rename(ipam, an, prev);
		an->a.preallocated = true;
		an->pool->nprealloc++;
		alloc_node_set_labels(an, NULL);
		return 0;
	}
	back = *rec;
	strlcpy_s(back.resource, prev, sizeof(back.resource));
	back.preallocated = true;
	back.labels = NULL;
	return alloc_reinstate(ipam, &back);
}
