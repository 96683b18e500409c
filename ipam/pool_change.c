/*
 * Run-time pools: checking, reshaping and removing a pool while it has
 * allocations.
 *
 * How this works: a new definition is first built as a scratch pool
 * (pool_build: the same checks as a pool added at start).  Every
 * allocation of the live pool must fit the scratch pool: inside one of
 * its prefixes, not special there (network, broadcast, anycast,
 * gateway), not excluded, not reserved.  A change then moves the
 * scratch pool's definition (prefixes, exclusions, gateways, sizes,
 * reservations, settings) into the live pool, which keeps its identity
 * (its name string is what allocation records point to), its
 * allocations and its MAC table, and rebuilds its address table:
 * quarantined addresses stay in expiry order when they still lie in a
 * usable place, conflicts stay when inside, the free list is dropped
 * and the cursor starts over on the new ranges (it skips what is in the
 * table, so no address is handed out twice and memory still follows
 * allocations).  Fabric pools, whose ranges are blocks the datastore
 * hands out, are not changed or removed here.
 */
#include "ipam/ipam_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Could a be handed out by pool (ignoring what its table holds)? */
static bool
addr_usable(const struct ipam_pool *pool, int fam, u128 a)
{
	const struct fam *f = &pool->f[fam];
	int pi = fam_prefix_of(f, a);

	return pi >= 0 && !fam_is_special(f, (size_t)pi, a) &&
	    fam_excluded(f, a) == NULL;
}

static bool
addr_reserved(const struct ipam_pool *pool, int fam, u128 a)
{
	const struct addr_entry *e = pool_addr_find(pool, fam, a);

	return e != NULL && (e->flags & AE_RESERVED) != 0;
}

/* Allocations of live that would not fit next. */
static uint64_t
allocs_blocking(const struct ipam_pool *live, const struct ipam_pool *next)
{
	const struct alloc_node *an;
	uint64_t n = 0;

	TAILQ_FOREACH(an, &live->allocs, link) {
		for (int fam = 0; fam < 2; fam++) {
			const struct addr_entry *e = an->e[fam];

			if (e != NULL && (!addr_usable(next, fam, e->a) ||
			    addr_reserved(next, fam, e->a))) {
				n++;
				break;
			}
		}
	}
	return n;
}

/* Build spec as a scratch pool and count what it would block. */
static struct ipam_pool *
check_build(struct ipam *ipam, const struct ipam_pool_spec *spec,
    uint64_t *blocking, char *err, size_t errlen)
{
	struct ipam_pool *live, *next;

	*blocking = 0;
	live = ipam_pool_find(ipam, spec->name);
	if (spec->fabric || (live != NULL && live->fabric)) {
		snprintf(err, errlen, "pool %s: a fabric pool is not changed "
		    "at run time", spec->name);
		errno = EINVAL;
		return NULL;
	}
	if ((next = pool_build(ipam, spec, err, errlen)) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (live == NULL || live->nallocs == 0)
		return next;
	if (live->vni != next->vni) {
		*blocking = live->nallocs;
		snprintf(err, errlen, "pool %s: the VNI cannot change under "
		    "%llu live allocations", spec->name,
		    (unsigned long long)live->nallocs);
	} else if (strcmp(live->tenant, next->tenant) != 0) {
		/* Names are per tenant: they would move to another's. */
		*blocking = live->nallocs;
		snprintf(err, errlen, "pool %s: the tenant cannot change under "
		    "%llu live allocations", spec->name,
		    (unsigned long long)live->nallocs);
	} else if ((*blocking = allocs_blocking(live, next)) > 0)
		snprintf(err, errlen, "pool %s: %llu live allocations would "
		    "fall outside the new definition (outside its prefixes, "
		    "excluded, reserved, or a gateway or network address)",
		    spec->name, (unsigned long long)*blocking);
	if (*blocking == 0)
		return next;
	pool_discard(ipam, next);
	errno = EBUSY;
	return NULL;
}

int
ipam_pool_check(struct ipam *ipam, const struct ipam_pool_spec *spec,
    uint64_t *blocking, char *err, size_t errlen)
{
	struct ipam_pool *next = check_build(ipam, spec, blocking, err,
	    errlen);

	if (next == NULL)
		return -1;
	pool_discard(ipam, next);
	return 0;
}

#define SWAP(a, b) do {							\
	__typeof__(a) swap_tmp_ = (a);					\
	(a) = (b);							\
	(b) = swap_tmp_;						\
} while (0)

/* The definition moves into live; live's old arrays go with next. */
static void
definition_move(struct ipam_pool *live, struct ipam_pool *next)
{
	for (int fam = 0; fam < 2; fam++) {
		struct fam *lf = &live->f[fam], *nf = &next->f[fam];

		SWAP(lf->pfx, nf->pfx);
		SWAP(lf->npfx, nf->npfx);
		SWAP(lf->excl, nf->excl);
		SWAP(lf->nexcl, nf->nexcl);
		SWAP(lf->rng, nf->rng);
		SWAP(lf->nrng, nf->nrng);
		lf->rng_sorted = nf->rng_sorted;
		lf->has_gateway = nf->has_gateway;
		lf->gateway = nf->gateway;
		lf->size = nf->size;
		lf->cur_ri = 0;
		lf->cur = lf->nrng > 0 ? lf->rng[0].lo : 0;
	}
	SWAP(live->prefixes, next->prefixes);
	SWAP(live->nprefixes, next->nprefixes);
	SWAP(live->res, next->res);
	SWAP(live->nres, next->nres);
	memcpy(live->tenant, next->tenant, sizeof(live->tenant));
	live->vni = next->vni;
	live->quarantine = next->quarantine;
	live->runtime = next->runtime;
	if (live->mac_prefix_len != next->mac_prefix_len ||
	    memcmp(live->mac_prefix, next->mac_prefix,
	    next->mac_prefix_len) != 0)
		live->mac_counter = 0;
	memcpy(live->mac_prefix, next->mac_prefix, sizeof(live->mac_prefix));
	live->mac_prefix_len = next->mac_prefix_len;
}

/* The quarantine FIFO keeps its order, less what can no longer be
 * handed out or is now reserved (reserved: the definition's list). */
static void
quarantine_keep(struct ipam_pool *live, const struct ipam_pool *next,
    int fam)
{
	struct addr_list old;
	struct addr_entry *e;

	TAILQ_INIT(&old);
	TAILQ_CONCAT(&old, &live->f[fam].quarantine, link);
	while ((e = TAILQ_FIRST(&old)) != NULL) {
		TAILQ_REMOVE(&old, e, link);
		if (addr_usable(live, fam, e->a) &&
		    !addr_reserved(next, fam, e->a))
			TAILQ_INSERT_TAIL(&live->f[fam].quarantine, e, link);
		else
			e->flags &= (uint8_t)~AE_QUARANTINED;
	}
	while ((e = TAILQ_FIRST(&live->f[fam].freelist)) != NULL) {
		TAILQ_REMOVE(&live->f[fam].freelist, e, link);
		e->flags &= (uint8_t)~AE_FREELISTED;
	}
}

/* Entry flags under the new definition (quarantine already sorted). */
static void
entries_rebuild(struct ipam *ipam, struct ipam_pool *live,
    const struct ipam_pool *next)
{
	struct hash_iter it;
	struct hash_node *n;

	/* The iterator is past n: n may go. */
	HASH_FOREACH(n, &it, &live->addrs) {
		struct addr_entry *e = hash_entry(n, struct addr_entry, hn);

		e->flags &= (uint8_t)~AE_RESERVED;
		if (addr_reserved(next, e->fam, e->a))
			e->flags |= AE_RESERVED;
		if (!addr_usable(live, e->fam, e->a))
			e->flags &= (uint8_t)~AE_CONFLICT;
		if (e->flags != 0)
			continue;
		hash_remove(&live->addrs, n);
		ipam->nentries--;
		free(e);
	}
}

/* Reservations the table does not hold yet, and every counter. */
static void
counters_rebuild(struct ipam *ipam, struct ipam_pool *live)
{
	struct hash_iter it;
	struct hash_node *n;

	for (size_t i = 0; i < live->nres; i++) {
		const struct ipaddr *ip = &live->res[i].ip;
		struct addr_entry *e = pool_addr_get(ipam, live, ip_fam(ip),
		    ip_to_u128(ip));

		e->flags |= AE_RESERVED;
	}
	for (int fam = 0; fam < 2; fam++) {
		struct fam *f = &live->f[fam];

		f->used = f->quarantined = f->conflicts = f->lent = 0;
		for (size_t i = 0; i < f->nrng; i++)
			f->rng[i].used = f->rng[i].lent =
			    f->rng[i].quarantined = 0;
	}
	HASH_FOREACH(n, &it, &live->addrs) {
		struct addr_entry *e = hash_entry(n, struct addr_entry, hn);
		struct fam *f = &live->f[e->fam];
		uint64_t *c = fam_counter(f, e->flags);

		if (c != NULL)
			(*c)++;
		fam_range_account(ipam, f, e, 0, e->flags);
	}
}

int
ipam_pool_change(struct ipam *ipam, const struct ipam_pool_spec *spec,
    char *err, size_t errlen)
{
	struct ipam_pool *live, *next;
	uint64_t blocking;

	if ((live = ipam_pool_find(ipam, spec->name)) == NULL) {
		snprintf(err, errlen, "no pool %s", spec->name);
		errno = ENOENT;
		return -1;
	}
	if ((next = check_build(ipam, spec, &blocking, err, errlen)) == NULL)
		return -1;
	definition_move(live, next);
	for (int fam = 0; fam < 2; fam++)
		quarantine_keep(live, next, fam);
	entries_rebuild(ipam, live, next);
	counters_rebuild(ipam, live);
	pool_discard(ipam, next);
	return 0;
}

int
ipam_pool_remove(struct ipam *ipam, const char *name, uint64_t *allocs)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, name);

	if (allocs != NULL)
		*allocs = pool != NULL ? pool->nallocs : 0;
	if (pool == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (pool->nallocs > 0) {
		errno = EBUSY;
		return -1;
	}
	if (pool->fabric) {
		errno = EINVAL;
		return -1;
	}
	TAILQ_REMOVE(&ipam->pools, pool, entry);
	pool_discard(ipam, pool);
	return 0;
}
