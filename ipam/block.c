/*
 * Blocks of fabric pools: their arithmetic, the ranges the allocator
 * walks, addresses lent to other VTEPs, and MACs derived from addresses.
 *
 * How this works: a fabric pool's prefixes are cut into aligned blocks,
 * IPv4 blocks of block-size bits of prefix and IPv6 blocks holding the
 * same number of addresses (prefix length 96 + block-size).  Blocks are
 * numbered per family across the configured prefixes in file order, so
 * "the lowest free block" is a number every VTEP computes alike.  A
 * block this VTEP owns, or a single address it borrowed, is a range of
 * struct fam (ipam_int.h): the allocator's cursor walks only ranges, so
 * nothing outside them is ever handed out.  Each range counts what it
 * holds (allocated, quarantined, lent) as entries change flags, which is
 * what "used/free" and "empty for the idle time" are read from.
 *
 * MACs: the MAC of an allocation is mac-prefix, then one bit for the
 * family of the address it is derived from (0 IPv4, 1 IPv6), then that
 * address's offset in the pool's family space (prefixes in file order).
 * Addresses are unique across the fabric, so these MACs are too, with
 * no counter to coordinate.  IPv6 blocks are used only as far as their
 * offsets fit those bits (with the default one-byte prefix: 2^39
 * addresses, which no VTEP reaches); the config check makes sure every
 * IPv4 address fits.
 */
#include "ipam/ipam_int.h"
#include "ipam/fabric.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* Arithmetic */

unsigned
ipam_block_len(const struct ipam_pool *pool, int fam)
{
	return fam == FAM_V4 ? pool->block_size : 96U + pool->block_size;
}

static unsigned
fam_bits(int fam)
{
	return fam == FAM_V4 ? 32 : 128;
}

static u128
prefix_nblocks(const struct ipam_pool *pool, int fam, size_t pi)
{
	return (u128)1 << (ipam_block_len(pool, fam) -
	    pool->f[fam].pfx[pi].p.len);
}

static u128
block_addrs(const struct ipam_pool *pool, int fam)
{
	return (u128)1 << (fam_bits(fam) - ipam_block_len(pool, fam));
}

/* Bits of a derived MAC left for the offset (one goes to the family). */
unsigned
pool_mac_offset_bits(const struct ipam_pool *pool)
{
	return 8U * (6U - pool->mac_prefix_len) - 1;
}

/* Offset of a in the family space, or -1 outside the prefixes. */
static int
fam_offset(const struct ipam_pool *pool, int fam, u128 a, u128 *off)
{
	const struct fam *f = &pool->f[fam];
	u128 base = 0;

	for (size_t i = 0; i < f->npfx; i++) {
		if (a >= f->pfx[i].first && a <= f->pfx[i].last) {
			*off = base + (a - f->pfx[i].first);
			return 0;
		}
		base += f->pfx[i].last - f->pfx[i].first + 1;
	}
	return -1;
}

u128
ipam_block_count(const struct ipam_pool *pool, int fam)
{
	const struct fam *f = &pool->f[fam];
	u128 n = 0, cap;

	for (size_t i = 0; i < f->npfx; i++)
		n += prefix_nblocks(pool, fam, i);
	/* Only blocks whose every address has a derivable MAC. */
	cap = ((u128)1 << pool_mac_offset_bits(pool)) /
	    block_addrs(pool, fam);
	return n < cap ? n : cap;
}

int
ipam_block_nth(const struct ipam_pool *pool, int fam, u128 idx,
    struct prefix *out)
{
	const struct fam *f = &pool->f[fam];

	if (idx >= ipam_block_count(pool, fam))
		return -1;
	for (size_t i = 0; i < f->npfx; i++) {
		u128 n = prefix_nblocks(pool, fam, i);

		if (idx < n) {
			u128_to_ip(f->pfx[i].first + idx * block_addrs(pool,
			    fam), fam, &out->addr);
			out->len = (uint8_t)ipam_block_len(pool, fam);
			return 0;
		}
		idx -= n;
	}
	return -1;
}

int
ipam_block_index(const struct ipam_pool *pool, const struct prefix *blk,
    u128 *idx)
{
	int fam = ip_fam(&blk->addr);
	u128 a, off;

	if (fam < 0 || blk->len != ipam_block_len(pool, fam))
		return -1;
	a = ip_to_u128(&blk->addr);
	if ((a & (block_addrs(pool, fam) - 1)) != 0 ||
	    fam_offset(pool, fam, a, &off) == -1)
		return -1;
	/* Prefixes hold whole blocks, so offsets divide evenly. */
	*idx = off / block_addrs(pool, fam);
	return *idx < ipam_block_count(pool, fam) ? 0 : -1;
}

int
pool_mac_derive(const struct ipam_pool *pool, int fam, u128 a,
    struct macaddr *mac)
{
	unsigned bits = pool_mac_offset_bits(pool);
	uint64_t suffix;
	u128 off;

	if (fam_offset(pool, fam, a, &off) == -1 || off >> bits != 0)
		return -1;
	suffix = (uint64_t)off | ((uint64_t)(fam == FAM_V6) << bits);
	memcpy(mac->b, pool->mac_prefix, pool->mac_prefix_len);
	for (int i = 5; i >= pool->mac_prefix_len; i--) {
		mac->b[i] = (uint8_t)suffix;
		suffix >>= 8;
	}
	return 0;
}

int
pool_fabric_check(const struct ipam_pool *pool, char *err, size_t errlen)
{
	char buf[PREFIX_STRLEN];

	if (pool->block_size < 8 || pool->block_size > 32) {
		snprintf(err, errlen, "pool %s: block size /%u is not usable",
		    pool->name, pool->block_size);
		return -1;
	}
	for (int fam = 0; fam < 2; fam++) {
		const struct fam *f = &pool->f[fam];

		for (size_t i = 0; i < f->npfx; i++) {
			if (f->pfx[i].p.len <= ipam_block_len(pool, fam))
				continue;
			snprintf(err, errlen, "pool %s: prefix %s is smaller "
			    "than a block (/%u)", pool->name,
			    prefix_fmt(&f->pfx[i].p, buf, sizeof(buf)),
			    ipam_block_len(pool, fam));
			return -1;
		}
	}
	for (size_t i = 0, base = 0; i < pool->f[FAM_V4].npfx; i++) {
		const struct fam_prefix *fp = &pool->f[FAM_V4].pfx[i];

		base += (size_t)(fp->last - fp->first + 1);
		if ((u128)base > (u128)1 << pool_mac_offset_bits(pool)) {
			snprintf(err, errlen, "pool %s: the mac-prefix leaves "
			    "too few bits to derive a MAC from every IPv4 "
			    "address", pool->name);
			return -1;
		}
	}
	return 0;
}

/* Ranges */

/* Addresses of [lo, hi] the pool can ever hand out. */
static uint64_t
range_size(const struct ipam_pool *pool, int fam, size_t pi, u128 lo,
    u128 hi)
{
	const struct fam *f = &pool->f[fam];
	u128 n = hi - lo + 1, sp[3] = { f->pfx[pi].first, f->pfx[pi].last,
	    f->gateway };
	int nsp = f->has_gateway ? 3 : 2;

	for (size_t x = 0; x < f->nexcl; x++) {
		u128 a = f->excl[x].lo > lo ? f->excl[x].lo : lo;
		u128 b = f->excl[x].hi < hi ? f->excl[x].hi : hi;

		if (a <= b)
			n -= b - a + 1;
	}
	for (int i = 0; i < nsp; i++) {
		bool dup = false;

		for (int j = 0; j < i; j++)
			dup = dup || sp[j] == sp[i];
		if (!dup && sp[i] >= lo && sp[i] <= hi &&
		    fam_is_special(f, pi, sp[i]) && fam_excluded(f, sp[i]) ==
		    NULL)
			n--;
	}
	for (size_t i = 0; i < pool->nres; i++) {
		u128 a = ip_to_u128(&pool->res[i].ip);

		if (ip_fam(&pool->res[i].ip) == fam && a >= lo && a <= hi)
			n--;
	}
	return (uint64_t)n;
}

struct fam_range *
fam_range_add(struct ipam_pool *pool, int fam, u128 lo, u128 hi,
    enum range_kind kind)
{
	struct fam *f = &pool->f[fam];
	struct fam_range *r;
	size_t k = f->nrng;
	int pi = fam_prefix_of(f, lo);

	if (pi < 0 || fam_prefix_of(f, hi) != pi)
		fatalx("%s: range outside the prefixes", __func__);
	if (kind != RANGE_PREFIX) {
		f->rng_sorted = true;
		for (k = 0; k < f->nrng && f->rng[k].lo < lo; k++)
			;
	}
	f->rng = xrealloc(f->rng, (f->nrng + 1) * sizeof(*f->rng));
	memmove(&f->rng[k + 1], &f->rng[k], (f->nrng - k) * sizeof(*f->rng));
	f->nrng++;
	r = &f->rng[k];
	memset(r, 0, sizeof(*r));
	r->lo = lo;
	r->hi = hi;
	r->pi = (size_t)pi;
	r->kind = (uint8_t)kind;
	r->size = range_size(pool, fam, (size_t)pi, lo, hi);
	/* The cursor goes back to a range added before it: what it passed
	 * is all held or listed, so walking again only skips. */
	if (k <= f->cur_ri) {
		f->cur_ri = k;
		f->cur = lo;
	}
	return r;
}

void
fam_range_del(struct ipam *ipam, struct ipam_pool *pool, int fam, size_t ri)
{
	struct fam *f = &pool->f[fam];

	memmove(&f->rng[ri], &f->rng[ri + 1], (f->nrng - ri - 1) *
	    sizeof(*f->rng));
	f->nrng--;
	if (ri < f->cur_ri)
		f->cur_ri--;
	else if (ri == f->cur_ri && ri < f->nrng)
		f->cur = f->rng[ri].lo;
}

static void
range_count(struct fam_range *r, uint8_t flags, int d)
{
	if (flags & AE_ALLOCATED)
		r->used += (uint64_t)d;
	else if (flags & AE_LENT)
		r->lent += (uint64_t)d;
	else if (flags & AE_QUARANTINED)
		r->quarantined += (uint64_t)d;
}

void
fam_range_account(struct ipam *ipam, struct fam *f,
    const struct addr_entry *e, uint8_t old_flags, uint8_t new_flags)
{
	const uint8_t held = AE_ALLOCATED | AE_LENT | AE_QUARANTINED;
	struct fam_range *r;
	bool was, is;
	int ri;

	if (((old_flags ^ new_flags) & held) == 0 ||
	    (ri = fam_range_of(f, e->a)) < 0)
		return;
	r = &f->rng[ri];
	was = r->used + r->lent > 0;
	range_count(r, old_flags, -1);
	range_count(r, new_flags, 1);
	is = r->used + r->lent > 0;
	if (was && !is)
		r->idle_since = ipam_now(ipam);
	else if (is)
		r->idle_since = 0;
}

/* Loans: addresses of owned blocks offered to other VTEPs */

struct pool_loan *
pool_loan_find(const struct ipam_pool *pool, int fam, u128 a)
{
	for (size_t i = 0; i < pool->nloans; i++)
		if (pool->loans[i].fam == fam && pool->loans[i].a == a)
			return &pool->loans[i];
	return NULL;
}

void
pool_loan_add(struct ipam_pool *pool, int fam, u128 a, int64_t revision,
    bool taken)
{
	struct pool_loan *l;

	pool->loans = xrealloc(pool->loans, (pool->nloans + 1) *
	    sizeof(*pool->loans));
	l = &pool->loans[pool->nloans++];
	l->a = a;
	l->fam = (uint8_t)fam;
	l->revision = revision;
	l->taken = taken;
}

void
pool_loan_del(struct ipam_pool *pool, struct pool_loan *l)
{
	size_t i = (size_t)(l - pool->loans);

	memmove(l, l + 1, (pool->nloans - i - 1) * sizeof(*l));
	pool->nloans--;
}

/* Restoring the store's rows */

int
pool_addr_lend(struct ipam *ipam, struct ipam_pool *pool, int fam, u128 a,
    int64_t revision, bool taken)
{
	struct addr_entry *e = pool_addr_get(ipam, pool, fam, a);

	if (e->flags & AE_ALLOCATED) {
		pool_addr_set(ipam, pool, e, e->flags);
		return -1;
	}
	addr_unlist(ipam, pool, e, AE_LENT);
	pool_loan_add(pool, fam, a, revision, taken);
	return 0;
}

static int
restore_lent(struct ipam *ipam, struct ipam_pool *pool, int fam, u128 a,
    const struct ipam_block_rec *rec)
{
	if (pool_loan_find(pool, fam, a) != NULL)
		return 0;
	/* Taken or not is for the datastore to say when it answers. */
	pool_addr_lend(ipam, pool, fam, a, rec->revision, rec->revision != 0);
	return 0;
}

int
ipam_restore_block(struct ipam *ipam, const char *poolname,
    const struct ipam_block_rec *rec, char *err, size_t errlen)
{
	struct ipam_pool *pool = ipam_pool_find(ipam, poolname);
	char buf[PREFIX_STRLEN];
	struct fam_range *r;
	enum range_kind kind;
	int fam;
	u128 lo, hi;

	if (pool == NULL || !pool->fabric)
		return 1;
	fam = ip_fam(&rec->prefix.addr);
	if (fam < 0 || rec->prefix.len > fam_bits(fam))
		goto bad;
	lo = ip_to_u128(&rec->prefix.addr);
	hi = lo | ((((u128)1) << (fam_bits(fam) - rec->prefix.len)) - 1);
	if (fam_prefix_of(&pool->f[fam], lo) < 0 ||
	    fam_prefix_of(&pool->f[fam], hi) < 0)
		goto bad;
	if (strcmp(rec->kind, "lent") == 0 && lo == hi)
		return restore_lent(ipam, pool, fam, lo, rec);
	if (strcmp(rec->kind, "block") == 0 &&
	    rec->prefix.len == ipam_block_len(pool, fam))
		kind = RANGE_BLOCK;
	else if (strcmp(rec->kind, "borrowed") == 0 && lo == hi)
		kind = RANGE_BORROWED;
	else
		goto bad;
	if (fam_range_of(&pool->f[fam], lo) >= 0 ||
	    fam_range_of(&pool->f[fam], hi) >= 0)
		goto bad;
	r = fam_range_add(pool, fam, lo, hi, kind);
	r->revision = rec->revision;
	r->claimed = rec->claimed;
	r->idle_since = ipam_now(ipam);
	return 0;
bad:
	snprintf(err, errlen, "pool %s: %s %s does not fit the pool (block "
	    "size, prefixes or an overlap)", poolname, rec->kind,
	    prefix_fmt(&rec->prefix, buf, sizeof(buf)));
	return -1;
}
