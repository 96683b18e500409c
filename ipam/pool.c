/*
 * Pools: building a pool from its spec, the tables every allocator
 * operation uses, and statistics.
 *
 * How this works: a spec's prefixes are split per family into
 * fam_prefix entries holding their first and last address as 128-bit
 * integers; excluded ranges are sorted and merged so "is this address
 * excluded, and where does the exclusion end" is one binary search.
 * Reservations are entries in the pool's address table flagged
 * AE_RESERVED, so the cursor skips them like allocated addresses.  The
 * size of a family is computed once: addresses in its prefixes less
 * network/broadcast/anycast, gateway, exclusions and reservations.
 */
#include "ipam/ipam_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

/* Addresses as integers */

int
ip_fam(const struct ipaddr *ip)
{
	if (ip->af == AF_INET)
		return FAM_V4;
	if (ip->af == AF_INET6)
		return FAM_V6;
	return -1;
}

u128
ip_to_u128(const struct ipaddr *ip)
{
	size_t len = ip->af == AF_INET ? 4 : 16;
	u128 v = 0;

	for (size_t i = 0; i < len; i++)
		v = (v << 8) | ip->u.b[i];
	return v;
}

void
u128_to_ip(u128 v, int fam, struct ipaddr *ip)
{
	size_t len = fam == FAM_V4 ? 4 : 16;

	memset(ip, 0, sizeof(*ip));
	ip->af = fam == FAM_V4 ? AF_INET : AF_INET6;
	for (size_t i = len; i > 0; i--) {
		ip->u.b[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

/* The pool's address table */

/* Addresses come from API clients and the network: a keyed hash. */
static uint32_t
addr_hash(int fam, u128 a)
{
	uint8_t key[17];

	key[0] = (uint8_t)fam;
	memcpy(key + 1, &a, sizeof(a));
	return hash_bytes_keyed(key, sizeof(key));
}

struct addr_key {
	int		 fam;
	u128		 a;
};

static uint32_t
addr_node_hash(const struct hash_node *n)
{
	return hash_entry(n, struct addr_entry, hn)->hash;
}

static bool
addr_node_equal(const struct hash_node *n, const void *key)
{
	const struct addr_entry *e = hash_entry(n, struct addr_entry, hn);
	const struct addr_key *k = key;

	return e->fam == k->fam && e->a == k->a;
}

static const struct hash_ops addr_ops = { addr_node_hash, addr_node_equal };

struct addr_entry *
pool_addr_find(const struct ipam_pool *pool, int fam, u128 a)
{
	struct addr_key k = { fam, a };
	struct hash_node *n = hash_find(&pool->addrs, addr_hash(fam, a), &k);

	return n ? hash_entry(n, struct addr_entry, hn) : NULL;
}

/* Find or create (with no flags yet). */
struct addr_entry *
pool_addr_get(struct ipam *ipam, struct ipam_pool *pool, int fam, u128 a)
{
	struct addr_entry *e = pool_addr_find(pool, fam, a);

	if (e != NULL)
		return e;
	e = xcalloc(1, sizeof(*e));
	e->fam = (uint8_t)fam;
	e->a = a;
	e->hash = addr_hash(fam, a);
	hash_insert(&pool->addrs, &e->hn);
	ipam->nentries++;
	return e;
}

/* Which counter an entry counts in: one at most. */
uint64_t *
fam_counter(struct fam *f, uint8_t flags)
{
	if (flags & AE_RESERVED)
		return NULL;
	if (flags & AE_ALLOCATED)
		return &f->used;
	if (flags & AE_LENT)
		return &f->lent;
	if (flags & AE_QUARANTINED)
		return &f->quarantined;
	if (flags & AE_CONFLICT)
		return &f->conflicts;
	return NULL;
}

void
pool_addr_set(struct ipam *ipam, struct ipam_pool *pool, struct addr_entry *e,
    uint8_t flags)
{
	struct fam *f = &pool->f[e->fam];
	uint64_t *before = fam_counter(f, e->flags);
	uint64_t *after = fam_counter(f, flags);

	if (before != NULL)
		(*before)--;
	if (after != NULL)
		(*after)++;
	fam_range_account(ipam, f, e, e->flags, flags);
	e->flags = flags;
	if (flags == 0) {
		hash_remove(&pool->addrs, &e->hn);
		ipam->nentries--;
		free(e);
	}
}

/* Families */

int
fam_prefix_of(const struct fam *f, u128 a)
{
	for (size_t i = 0; i < f->npfx; i++)
		if (a >= f->pfx[i].first && a <= f->pfx[i].last)
			return (int)i;
	return -1;
}

/*
 * Network and broadcast (IPv4 up to /30; RFC 3021 makes both addresses
 * of a /31 usable), the subnet-router anycast address (IPv6 up to /126,
 * RFC 4291 §2.6.1; RFC 6164 for /127), and the gateway.
 */
int
fam_range_of(const struct fam *f, u128 a)
{
	size_t lo = 0, hi = f->nrng;

	if (!f->rng_sorted) {
		for (size_t i = 0; i < f->nrng; i++)
			if (a >= f->rng[i].lo && a <= f->rng[i].hi)
				return (int)i;
		return -1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a < f->rng[mid].lo)
			hi = mid;
		else if (a > f->rng[mid].hi)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

bool
fam_is_special(const struct fam *f, size_t pi, u128 a)
{
	const struct fam_prefix *fp = &f->pfx[pi];

	if (f->has_gateway && a == f->gateway)
		return true;
	if (fp->p.addr.af == AF_INET)
		return fp->p.len <= 30 && (a == fp->first || a == fp->last);
	return fp->p.len <= 126 && a == fp->first;
}

const struct u128_range *
fam_excluded(const struct fam *f, u128 a)
{
	size_t lo = 0, hi = f->nexcl;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a < f->excl[mid].lo)
			hi = mid;
		else if (a > f->excl[mid].hi)
			lo = mid + 1;
		else
			return &f->excl[mid];
	}
	return NULL;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct u128_range *ra = a, *rb = b;

	return ra->lo < rb->lo ? -1 : ra->lo > rb->lo;
}

static void
fam_merge_excludes(struct fam *f)
{
	size_t out = 0;

	if (f->nexcl == 0)
		return;
	qsort(f->excl, f->nexcl, sizeof(*f->excl), range_cmp);
	for (size_t i = 0; i < f->nexcl; i++) {
		if (out > 0 && (f->excl[i].lo <= f->excl[out - 1].hi ||
		    f->excl[i].lo == f->excl[out - 1].hi + 1)) {
			if (f->excl[i].hi > f->excl[out - 1].hi)
				f->excl[out - 1].hi = f->excl[i].hi;
			continue;
		}
		f->excl[out++] = f->excl[i];
	}
	f->nexcl = out;
}

static double
u128_to_double(u128 v)
{
	return ldexp((double)(uint64_t)(v >> 64), 64) + (double)(uint64_t)v;
}

/* Never-handed-out single addresses of one prefix, each once. */
static size_t
prefix_specials(const struct fam *f, size_t pi, u128 out[3])
{
	const struct fam_prefix *fp = &f->pfx[pi];
	size_t n = 0;

	if (fp->p.addr.af == AF_INET ? fp->p.len <= 30 : fp->p.len <= 126)
		out[n++] = fp->first;
	if (fp->p.addr.af == AF_INET && fp->p.len <= 30)
		out[n++] = fp->last;
	if (f->has_gateway && f->gateway >= fp->first &&
	    f->gateway <= fp->last && (n == 0 || (out[0] != f->gateway &&
	    out[n - 1] != f->gateway)))
		out[n++] = f->gateway;
	return n;
}

/* Addresses of the family that can ever be handed out (reservations
 * are subtracted when they are added). */
static double
fam_size(const struct fam *f)
{
	double size = 0;

	for (size_t i = 0; i < f->npfx; i++) {
		const struct fam_prefix *fp = &f->pfx[i];
		u128 sp[3];
		size_t nsp = prefix_specials(f, i, sp);

		size += u128_to_double(fp->last - fp->first) + 1;
		for (size_t x = 0; x < f->nexcl; x++) {
			u128 lo = f->excl[x].lo > fp->first ? f->excl[x].lo :
			    fp->first;
			u128 hi = f->excl[x].hi < fp->last ? f->excl[x].hi :
			    fp->last;

			if (lo <= hi)
				size -= u128_to_double(hi - lo) + 1;
		}
		for (size_t c = 0; c < nsp; c++)
			if (fam_excluded(f, sp[c]) == NULL)
				size -= 1;
	}
	return size;
}

/* Building a pool */

static int
spec_prefixes(struct ipam_pool *pool, const struct ipam_pool_spec *spec,
    char *err, size_t errlen)
{
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < spec->nprefixes; i++) {
		const struct prefix *p = &spec->prefixes[i];
		int fam = ip_fam(&p->addr);
		unsigned bits = fam == FAM_V4 ? 32 : 128;
		struct fam *f;
		struct fam_prefix *fp;

		if (fam < 0 || p->len == 0 || p->len > bits) {
			snprintf(err, errlen, "pool %s: prefix %s is not "
			    "usable", spec->name, prefix_fmt(p, buf,
			    sizeof(buf)));
			return -1;
		}
		f = &pool->f[fam];
		f->pfx = xrealloc(f->pfx, (f->npfx + 1) * sizeof(*f->pfx));
		fp = &f->pfx[f->npfx];
		fp->p = *p;
		prefix_mask(&fp->p);
		fp->first = ip_to_u128(&fp->p.addr);
		fp->last = fp->first | ((((u128)1) << (bits - p->len)) - 1);
		for (size_t j = 0; j < f->npfx; j++) {
			if (fp->first <= f->pfx[j].last &&
			    f->pfx[j].first <= fp->last) {
				snprintf(err, errlen, "pool %s: prefix %s "
				    "overlaps another prefix of the pool",
				    spec->name, prefix_fmt(p, buf,
				    sizeof(buf)));
				return -1;
			}
		}
		f->npfx++;
	}
	if (spec->nprefixes == 0) {
		snprintf(err, errlen, "pool %s: no prefix", spec->name);
		return -1;
	}
	pool->prefixes = xcalloc(spec->nprefixes, sizeof(*pool->prefixes));
	memcpy(pool->prefixes, spec->prefixes,
	    spec->nprefixes * sizeof(*pool->prefixes));
	pool->nprefixes = spec->nprefixes;
	return 0;
}

/* An address of the spec must sit inside one of the family's prefixes. */
static int
spec_addr_inside(const struct ipam_pool *pool, const struct ipaddr *ip,
    const char *what, char *err, size_t errlen)
{
	char buf[IPADDR_STRLEN];
	int fam = ip_fam(ip);

	if (fam >= 0 && fam_prefix_of(&pool->f[fam], ip_to_u128(ip)) >= 0)
		return 0;
	snprintf(err, errlen, "pool %s: %s %s is outside the pool's prefixes",
	    pool->name, what, ipaddr_fmt(ip, buf, sizeof(buf)));
	return -1;
}

static int
spec_gateways(struct ipam_pool *pool, const struct ipam_pool_spec *spec,
    char *err, size_t errlen)
{
	const struct ipaddr *gw[2] = { &spec->gateway4, &spec->gateway6 };

	for (int fam = 0; fam < 2; fam++) {
		if (gw[fam]->af == 0)
			continue;
		if (ip_fam(gw[fam]) != fam) {
			snprintf(err, errlen, "pool %s: gateway of the wrong "
			    "family", pool->name);
			return -1;
		}
		if (spec_addr_inside(pool, gw[fam], "gateway", err, errlen)
		    == -1)
			return -1;
		pool->f[fam].has_gateway = true;
		pool->f[fam].gateway = ip_to_u128(gw[fam]);
	}
	return 0;
}

static int
spec_excludes(struct ipam_pool *pool, const struct ipam_pool_spec *spec,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < spec->nexcludes; i++) {
		const struct ipam_range *r = &spec->excludes[i];
		int fam = ip_fam(&r->lo);
		struct fam *f;

		if (fam < 0 || ip_fam(&r->hi) != fam ||
		    ip_to_u128(&r->lo) > ip_to_u128(&r->hi)) {
			snprintf(err, errlen, "pool %s: bad exclude range",
			    pool->name);
			return -1;
		}
		if (spec_addr_inside(pool, &r->lo, "exclude", err, errlen) ==
		    -1 || spec_addr_inside(pool, &r->hi, "exclude", err,
		    errlen) == -1)
			return -1;
		f = &pool->f[fam];
		f->excl = xrealloc(f->excl, (f->nexcl + 1) * sizeof(*f->excl));
		f->excl[f->nexcl].lo = ip_to_u128(&r->lo);
		f->excl[f->nexcl].hi = ip_to_u128(&r->hi);
		f->nexcl++;
	}
	fam_merge_excludes(&pool->f[FAM_V4]);
	fam_merge_excludes(&pool->f[FAM_V6]);
	return 0;
}

static int
spec_reservations(struct ipam *ipam, struct ipam_pool *pool,
    const struct ipam_pool_spec *spec, char *err, size_t errlen)
{
	char buf[IPADDR_STRLEN];

	pool->res = xcalloc(spec->nreservations + 1, sizeof(*pool->res));
	for (size_t i = 0; i < spec->nreservations; i++) {
		const struct ipaddr *ip = &spec->reservations[i].ip;
		int fam = ip_fam(ip), pi;
		u128 a = ip_to_u128(ip);
		struct addr_entry *e;

		if (spec_addr_inside(pool, ip, "reserve", err, errlen) == -1)
			return -1;
		pi = fam_prefix_of(&pool->f[fam], a);
		if (fam_is_special(&pool->f[fam], (size_t)pi, a) ||
		    fam_excluded(&pool->f[fam], a) != NULL ||
		    pool_addr_find(pool, fam, a) != NULL) {
			snprintf(err, errlen, "pool %s: reserve %s is never "
			    "handed out anyway (gateway, network, excluded or "
			    "reserved twice)", pool->name,
			    ipaddr_fmt(ip, buf, sizeof(buf)));
			return -1;
		}
		e = pool_addr_get(ipam, pool, fam, a);
		pool_addr_set(ipam, pool, e, AE_RESERVED);
		pool->res[pool->nres++] = spec->reservations[i];
		pool->f[fam].size -= 1;
	}
	return 0;
}

static int
spec_mac_prefix(struct ipam_pool *pool, const struct ipam_pool_spec *spec,
    char *err, size_t errlen)
{
	if (spec->mac_prefix_len == 0) {
		pool->mac_prefix[0] = 0x02;
		pool->mac_prefix_len = 1;
		return 0;
	}
	/* IEEE 802: locally administered (0x02) unicast (0x01 clear). */
	if (spec->mac_prefix_len > IPAM_MAC_PREFIX_MAX ||
	    (spec->mac_prefix[0] & 0x03) != 0x02) {
		snprintf(err, errlen, "pool %s: mac-prefix must be 1-5 bytes, "
		    "locally administered unicast", pool->name);
		return -1;
	}
	memcpy(pool->mac_prefix, spec->mac_prefix, spec->mac_prefix_len);
	pool->mac_prefix_len = spec->mac_prefix_len;
	return 0;
}

static struct ipam_pool *
pool_new(const struct ipam_pool_spec *spec)
{
	struct ipam_pool *pool = xcalloc(1, sizeof(*pool));

	strlcpy_s(pool->name, spec->name, sizeof(pool->name));
	if (spec->tenant != NULL)
		strlcpy_s(pool->tenant, spec->tenant, sizeof(pool->tenant));
	pool->vni = spec->vni;
	pool->quarantine = spec->quarantine;
	pool->fabric = spec->fabric;
	pool->block_size = spec->block_size;
	pool->borrow = spec->borrow;
	pool->idle_release = spec->idle_release;
	pool->runtime = spec->runtime;
	hash_init(&pool->addrs, &addr_ops, 16);
	hash_init(&pool->macs, &alloc_mac_ops, 16);
	TAILQ_INIT(&pool->allocs);
	for (int fam = 0; fam < 2; fam++) {
		TAILQ_INIT(&pool->f[fam].quarantine);
		TAILQ_INIT(&pool->f[fam].freelist);
	}
	return pool;
}

struct ipam_pool *
pool_build(struct ipam *ipam, const struct ipam_pool_spec *spec, char *err,
    size_t errlen)
{
	struct ipam_pool *pool;

	if (spec->name == NULL || spec->name[0] == '\0' ||
	    strlen(spec->name) > IPAM_NAME_MAX || (spec->tenant != NULL &&
	    strlen(spec->tenant) > IPAM_NAME_MAX)) {
		snprintf(err, errlen, "pool name or tenant missing or longer "
		    "than %d characters", IPAM_NAME_MAX);
		return NULL;
	}
	pool = pool_new(spec);
	if (spec_prefixes(pool, spec, err, errlen) == -1 ||
	    spec_gateways(pool, spec, err, errlen) == -1 ||
	    spec_excludes(pool, spec, err, errlen) == -1 ||
	    spec_mac_prefix(pool, spec, err, errlen) == -1)
		goto fail;
	if (pool->fabric && pool_fabric_check(pool, err, errlen) == -1)
		goto fail;
	for (int fam = 0; fam < 2; fam++) {
		struct fam *f = &pool->f[fam];

		f->size = fam_size(f);
		/* A local pool hands out its prefixes in file order; a
		 * fabric pool only the blocks it will own. */
		for (size_t i = 0; i < f->npfx && !pool->fabric; i++)
			fam_range_add(pool, fam, f->pfx[i].first,
			    f->pfx[i].last, RANGE_PREFIX);
	}
	if (spec_reservations(ipam, pool, spec, err, errlen) == -1)
		goto fail;
	return pool;
fail:
	pool_discard(ipam, pool);
	return NULL;
}

void
pool_discard(struct ipam *ipam, struct ipam_pool *pool)
{
	ipam->nentries -= hash_count(&pool->addrs);
	pool_free(pool);
}

int
ipam_pool_add(struct ipam *ipam, const struct ipam_pool_spec *spec,
    char *err, size_t errlen)
{
	struct ipam_pool *pool;

	if (spec->name != NULL && ipam_pool_find(ipam, spec->name) != NULL) {
		snprintf(err, errlen, "pool %s already exists", spec->name);
		return -1;
	}
	if ((pool = pool_build(ipam, spec, err, errlen)) == NULL)
		return -1;
	pool->ord = ++ipam->last_pool_ord;
	TAILQ_INSERT_TAIL(&ipam->pools, pool, entry);
	return 0;
}

void
pool_free(struct ipam_pool *pool)
{
	struct alloc_node *an, *next;
	struct hash_iter it;
	struct hash_node *n;

	TAILQ_FOREACH_SAFE(an, &pool->allocs, link, next) {
		free(an->labels);
		free(an);
	}
	HASH_FOREACH(n, &it, &pool->addrs)
		free(hash_entry(n, struct addr_entry, hn));
	hash_free(&pool->addrs);
	hash_free(&pool->macs);
	for (int fam = 0; fam < 2; fam++) {
		free(pool->f[fam].pfx);
		free(pool->f[fam].rng);
		free(pool->f[fam].excl);
	}
	free(pool->loans);
	free(pool->prefixes);
	free(pool->res);
	free(pool);
}

/* The ipam handle */

static int64_t
wall_clock(void *arg)
{
	return (int64_t)time(NULL);
}

struct ipam *
ipam_new(void)
{
	struct ipam *ipam = xcalloc(1, sizeof(*ipam));

	TAILQ_INIT(&ipam->pools);
	hash_init(&ipam->by_resource, &alloc_resource_ops, 16);
	macset_init(&ipam->reserved_macs);
	ipam->now = wall_clock;
	return ipam;
}

void
ipam_free(struct ipam *ipam)
{
	struct ipam_pool *pool, *next;

	if (ipam == NULL)
		return;
	TAILQ_FOREACH_SAFE(pool, &ipam->pools, entry, next) {
		TAILQ_REMOVE(&ipam->pools, pool, entry);
		pool_free(pool);
	}
	hash_free(&ipam->by_resource);
	macset_free(&ipam->reserved_macs);
	free(ipam);
}

void
ipam_set_clock(struct ipam *ipam, int64_t (*now)(void *), void *arg)
{
	ipam->now = now != NULL ? now : wall_clock;
	ipam->now_arg = arg;
}

int64_t
ipam_now(const struct ipam *ipam)
{
	return ipam->now(ipam->now_arg);
}

size_t
ipam_memory(const struct ipam *ipam)
{
	const struct ipam_pool *pool;
	size_t bytes = hash_memory(&ipam->by_resource) +
	    ipam->nentries * sizeof(struct addr_entry);

	TAILQ_FOREACH(pool, &ipam->pools, entry)
		bytes += hash_memory(&pool->addrs) + hash_memory(&pool->macs) +
		    pool->nallocs * sizeof(struct alloc_node);
	return bytes;
}

/* Lookups and statistics */

struct ipam_pool *
ipam_pool_find(const struct ipam *ipam, const char *name)
{
	struct ipam_pool *pool;

	TAILQ_FOREACH(pool, &ipam->pools, entry)
		if (strcmp(pool->name, name) == 0)
			return pool;
	return NULL;
}

struct ipam_pool *
ipam_pool_by_vni(const struct ipam *ipam, uint32_t vni)
{
	struct ipam_pool *pool;

	TAILQ_FOREACH(pool, &ipam->pools, entry)
		if (vni != 0 && pool->vni == vni)
			return pool;
	return NULL;
}

struct ipam_pool *
ipam_pool_first(const struct ipam *ipam)
{
	return TAILQ_FIRST(&ipam->pools);
}

struct ipam_pool *
ipam_pool_next(const struct ipam_pool *pool)
{
	return TAILQ_NEXT(pool, entry);
}

const char *
ipam_pool_name(const struct ipam_pool *pool)
{
	return pool->name;
}

const char *
ipam_pool_tenant(const struct ipam_pool *pool)
{
	return pool->tenant[0] != '\0' ? pool->tenant : NULL;
}

uint32_t
ipam_pool_vni(const struct ipam_pool *pool)
{
	return pool->vni;
}

size_t
ipam_pool_prefixes(const struct ipam_pool *pool, const struct prefix **out)
{
	*out = pool->prefixes;
	return pool->nprefixes;
}

size_t
ipam_pool_reservations(const struct ipam_pool *pool,
    const struct ipam_reservation **out)
{
	*out = pool->res;
	return pool->nres;
}

bool
ipam_pool_runtime(const struct ipam_pool *pool)
{
	return pool->runtime;
}

uint64_t
ipam_pool_ord(const struct ipam_pool *pool)
{
	return pool->ord;
}

bool
ipam_pool_gateway(const struct ipam_pool *pool, int af, struct ipaddr *out)
{
	int fam = af == AF_INET ? FAM_V4 : FAM_V6;

	if (!pool->f[fam].has_gateway)
		return false;
	u128_to_ip(pool->f[fam].gateway, fam, out);
	return true;
}

static void
fam_stats(const struct fam *f, struct ipam_family_stats *st)
{
	st->size = f->size;
	st->used = f->used;
	st->quarantined = f->quarantined;
	st->conflicts = f->conflicts;
	st->lent = f->lent;
	st->free = f->size - (double)(f->used + f->quarantined +
	    f->conflicts + f->lent);
	if (st->free < 0)
		st->free = 0;
	st->prefixes = f->npfx;
	for (size_t i = 0; i < f->nrng; i++) {
		const struct fam_range *r = &f->rng[i];

		st->owned += (double)r->size;
		st->owned_free += (double)r->size - (double)(r->used +
		    r->quarantined + r->lent);
		if (r->kind == RANGE_BLOCK)
			st->blocks++;
		else if (r->kind == RANGE_BORROWED)
			st->borrowed++;
	}
}

void
ipam_pool_stats(const struct ipam_pool *pool, struct ipam_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->allocations = pool->nallocs;
	st->preallocated = pool->nprealloc;
	st->reserved = pool->nres;
	fam_stats(&pool->f[FAM_V4], &st->v4);
	fam_stats(&pool->f[FAM_V6], &st->v6);
}
