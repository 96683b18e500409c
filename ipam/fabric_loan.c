/*
 * Fabric pools: borrowing single addresses when no block is free.
 *
 * How this works (why the two sides never hand out one address twice is
 * in fabric.h): an owner whose family has no free block left, and who
 * waits for nothing itself, keeps up to FABRIC_OFFERS_MAX offers out,
 * at most half of its free addresses.  An offer is made in three steps:
 * the address is taken from the allocator flagged AE_LENT, the loan is
 * committed to the store, and only then is its key created; a loan
 * whose key is not confirmed yet has revision 0 and is offered again
 * from the timer.  A borrower lists the offers and rewrites the first it
 * can at the revision it read; the address becomes a one-address range
 * (RANGE_BORROWED) of its allocator and a row of its store.  Once the
 * borrower no longer holds the address (released, quarantine over) it
 * deletes the key; the owner, listing its loans every few seconds, sees
 * the key gone and frees the address.  An owner that needs addresses
 * itself takes back its untaken offers by deleting their keys at the
 * revision it wrote.
 */
#include "ipam/fabric_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define FABRIC_RETURN_HOLD_S	2	/* a new borrowed address waits */

struct borrow_ctx {
	struct fabric_pool *fp;
	int		 fam;
	struct ipam_fabric_loan *offers;
	size_t		 n;
	size_t		 next;
};

/* One loan of ours, named by address (the array moves). */
struct loan_ctx {
	struct fabric_pool *fp;
	int		 fam;
	u128		 a;
	bool		 acquiring;	/* a revoke of fabric_revoke_offers */
};

static void
addr_prefix(int fam, u128 a, struct prefix *p)
{
	u128_to_ip(a, fam, &p->addr);
	p->len = fam == FAM_V4 ? 32 : 128;
}

/* Borrowing */

static void	take_next(struct borrow_ctx *);

static void
borrow_end(struct borrow_ctx *b)
{
	free(b->offers);
	free(b);
}

static void
borrowed_add(struct fabric_pool *fp, int fam, u128 a, int64_t revision)
{
	struct fam_range *r;
	struct prefix p;

	if (fam_range_of(&fp->pool->f[fam], a) >= 0)
		return;
	r = fam_range_add(fp->pool, fam, a, a, RANGE_BORROWED);
	r->revision = revision;
	r->claimed = fabric_now(fp->fab);
	r->idle_since = r->claimed;
	addr_prefix(fam, a, &p);
	fabric_store_range(fp, true, "borrowed", &p, revision, r->claimed,
	    NULL, NULL);
}

static void
take_done(const struct ipam_fabric_result *res, void *arg)
{
	struct borrow_ctx *b = arg;
	struct fabric_pool *fp = b->fp;
	const struct ipam_fabric_loan *l = &b->offers[b->next - 1];
	int64_t rev;

	if (fp->fab->stopped) {
		borrow_end(b);
		return;
	}
	if (res->status != 0) {
		/* It may have been applied: the loans timer looks. */
		fp->take_unsure = true;
		fabric_error(fp, "borrowing an address", res);
		fabric_datastore_failed(fp, b->fam, res);
		borrow_end(b);
		return;
	}
	/* Lost, but ours: our own earlier attempt was applied. */
	if (!res->won && !(res->nloans > 0 && res->loans[0].taken &&
	    fabric_is_me(fp, &res->loans[0].borrower))) {
		take_next(b);
		return;
	}
	rev = res->won ? res->revision : res->loans[0].revision;
	borrowed_add(fp, b->fam, ip_to_u128(&l->ip), rev);
	fp->fab->st.borrows++;
	fabric_acquired(fp, b->fam);
	borrow_end(b);
}

static void
take_next(struct borrow_ctx *b)
{
	struct fabric_pool *fp = b->fp;
	struct ipam_fabric_loan l;

	if (b->next == b->n) {
		fabric_acquire_failed(fp, b->fam, ENOSPC, "no free block left "
		    "and no address offered by another VTEP");
		borrow_end(b);
		return;
	}
	l = b->offers[b->next++];
	l.taken = true;
	l.borrower = fp->me;
	if (fp->fab->ops->loan_take(fp->fab->ds, &fp->key, &l, take_done,
	    b) == -1) {
		fabric_acquire_failed(fp, b->fam, EIO, "cannot send a take");
		borrow_end(b);
	}
}

static void
offers_listed(const struct ipam_fabric_result *res, void *arg)
{
	struct borrow_ctx *b = arg;
	struct fabric_pool *fp = b->fp;

	if (fp->fab->stopped) {
		borrow_end(b);
		return;
	}
	if (res->status != 0) {
		fabric_error(fp, "listing offers", res);
		fabric_datastore_failed(fp, b->fam, res);
		borrow_end(b);
		return;
	}
	b->offers = xcalloc(res->nloans + 1, sizeof(*b->offers));
	for (size_t i = 0; i < res->nloans; i++) {
		const struct ipam_fabric_loan *l = &res->loans[i];

		if (!l->taken && !fabric_is_me(fp, &l->owner) &&
		    ip_fam(&l->ip) == b->fam && fam_prefix_of(&fp->pool->f[
		    b->fam], ip_to_u128(&l->ip)) >= 0)
			b->offers[b->n++] = *l;
	}
	take_next(b);
}

void
fabric_borrow(struct fabric_pool *fp, int fam)
{
	struct borrow_ctx *b = xcalloc(1, sizeof(*b));

	b->fp = fp;
	b->fam = fam;
	if (fp->fab->ops->loan_list(fp->fab->ds, &fp->key, offers_listed,
	    b) == -1) {
		free(b);
		fabric_acquire_failed(fp, fam, EIO, "cannot list offers");
	}
}

/* Returning what we borrowed */

void
fabric_return_borrowed(struct fabric_pool *fp)
{
	int64_t now = fabric_now(fp->fab);
	struct prefix p;

	for (int fam = 0; fam < 2; fam++) {
		struct fam *f = &fp->pool->f[fam];

		for (size_t ri = 0; ri < f->nrng; ri++) {
			struct fam_range *r = &f->rng[ri];
			int64_t rev = r->revision;

			if (r->kind != RANGE_BORROWED || r->used != 0 ||
			    r->idle_since == 0 ||
			    now - r->idle_since < FABRIC_RETURN_HOLD_S ||
			    fabric_quarantine_pending(fp, fam, ri))
				continue;
			addr_prefix(fam, r->lo, &p);
			fam_range_del(fp->fab->ipam, fp->pool, fam, ri--);
			fabric_store_range(fp, false, "borrowed", &p, 0, 0,
			    NULL, NULL);
			fabric_end_add(fp, true, &p, rev);
		}
	}
}

/* Our loans */

/* A loan a listing shows: what it says of a loan we know, unless we
 * wrote that loan's key after the listing read it. */
static void
loan_listed(struct fabric_pool *fp, struct pool_loan *pl,
    const struct ipam_fabric_loan *l, const struct ipam_fabric_result *res)
{
	if (fabric_listing_predates(fp, res, pl->revision))
		return;
	pl->taken = l->taken;
	pl->revision = l->revision;
}

void
fabric_lend_mark(struct fabric_pool *fp, const struct ipam_fabric_loan *l,
    const struct ipam_fabric_result *listing)
{
	struct ipam_pool *pool = fp->pool;
	int fam = ip_fam(&l->ip);
	u128 a = ip_to_u128(&l->ip);
	struct pool_loan *pl;
	char buf[IPADDR_STRLEN];
	struct prefix p;

	if ((pl = pool_loan_find(pool, fam, a)) != NULL) {
		loan_listed(fp, pl, l, listing);
		return;
	}
	if (pool_addr_lend(fp->fab->ipam, pool, fam, a, l->revision,
	    l->taken) == -1) {
		log_warn("ipam: pool %s: %s is allocated here and lent in the "
		    "datastore", pool->name, ipaddr_fmt(&l->ip, buf,
		    sizeof(buf)));
		return;
	}
	addr_prefix(fam, a, &p);
	fabric_store_range(fp, true, "lent", &p, l->revision,
	    fabric_now(fp->fab), NULL, NULL);
}

void
fabric_unlend(struct fabric_pool *fp, int fam, u128 a)
{
	struct pool_loan *pl = pool_loan_find(fp->pool, fam, a);
	struct addr_entry *e = pool_addr_find(fp->pool, fam, a);
	struct prefix p;

	if (pl != NULL)
		pool_loan_del(fp->pool, pl);
	if (e != NULL && (e->flags & AE_LENT))
		addr_now_free(fp->fab->ipam, fp->pool, e, AE_LENT);
	addr_prefix(fam, a, &p);
	fabric_store_range(fp, false, "lent", &p, 0, 0, NULL, NULL);
}

/* The context of a store request about the loan of address a. */
static struct loan_ctx *
loan_ctx_new(struct fabric_pool *fp, int fam, u128 a)
{
	struct loan_ctx *c = xcalloc(1, sizeof(*c));

	c->fp = fp;
	c->fam = fam;
	c->a = a;
	return c;
}

/* The loan an answer is about, no longer busy; NULL (and c freed) when
 * it went meanwhile or we are stopping. */
static struct pool_loan *
loan_of_ctx(struct loan_ctx *c)
{
	struct pool_loan *pl;

	if (c->fp->fab->stopped || (pl = pool_loan_find(c->fp->pool, c->fam,
	    c->a)) == NULL) {
		free(c);
		return NULL;
	}
	pl->busy = false;
	return pl;
}

static void
offer_done(const struct ipam_fabric_result *res, void *arg)
{
	struct loan_ctx *c = arg;
	struct fabric_pool *fp = c->fp;
	struct pool_loan *pl;

	if ((pl = loan_of_ctx(c)) == NULL)
		return;
	if (res->status != 0)
		fabric_error(fp, "offering an address", res);
	else if (res->won) {
		pl->revision = res->revision;
		fp->fab->st.offers++;
	} else if (res->nloans > 0) {
		pl->revision = res->loans[0].revision;
		pl->taken = res->loans[0].taken;
	}
	if (res->status == 0)
		fabric_written(fp, pl->revision);
	free(c);
}

static void
offer_send(struct fabric_pool *fp, struct pool_loan *pl)
{
	struct loan_ctx *c = loan_ctx_new(fp, pl->fam, pl->a);
	struct ipam_fabric_loan l;

	memset(&l, 0, sizeof(l));
	u128_to_ip(pl->a, pl->fam, &l.ip);
	l.owner = fp->me;
	pl->busy = true;
	if (fp->fab->ops->loan_offer(fp->fab->ds, &fp->key, &l, offer_done,
	    c) == -1) {
		pl->busy = false;
		free(c);
	}
}

/* The loan is in the store: now it may be offered. */
static void
offer_committed(int status, void *arg)
{
	struct loan_ctx *c = arg;
	struct fabric_pool *fp = c->fp;
	struct pool_loan *pl;

	if ((pl = loan_of_ctx(c)) == NULL)
		return;
	if (status != 0)
		fabric_unlend(fp, c->fam, c->a);
	else
		offer_send(fp, pl);
	free(c);
}

static int
offer_one(struct fabric_pool *fp, int fam)
{
	struct ipam *ipam = fp->fab->ipam;
	struct fam *f = &fp->pool->f[fam];
	struct addr_entry *e;
	struct loan_ctx *c;
	struct prefix p;
	int ri;

	if ((e = fam_take(ipam, fp->pool, fam, fabric_now(fp->fab),
	    AE_LENT)) == NULL)
		return -1;
	if ((ri = fam_range_of(f, e->a)) < 0 ||
	    f->rng[ri].kind != RANGE_BLOCK) {
		addr_now_free(ipam, fp->pool, e, AE_LENT);
		return -1;
	}
	pool_loan_add(fp->pool, fam, e->a, 0, false);
	pool_loan_find(fp->pool, fam, e->a)->busy = true;
	c = loan_ctx_new(fp, fam, e->a);
	addr_prefix(fam, e->a, &p);
	fabric_store_range(fp, true, "lent", &p, 0, fabric_now(fp->fab),
	    offer_committed, c);
	return 0;
}

static void
revokes_settled(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];

	if (--ff->revoking > 0 || !ff->acquiring)
		return;
	if (ff->revoked)
		fabric_acquired(fp, fam);
	else
		fabric_claim_next(fp, fam);
}

static void
revoke_done(const struct ipam_fabric_result *res, void *arg)
{
	struct loan_ctx *c = arg;
	struct fabric_pool *fp = c->fp;
	struct pool_loan *pl;

	if ((pl = loan_of_ctx(c)) == NULL)
		return;
	if (res->status != 0)
		fabric_error(fp, "taking an offer back", res);
	else if (res->won || res->nloans == 0) {
		/* Lost to nobody: the key is gone, deleted by an attempt of
		 * ours whose answer was lost (or taken and returned). */
		fabric_unlend(fp, c->fam, c->a);
		fp->fab->st.revokes++;
		fp->f[c->fam].revoked = true;
	} else
		pl->taken = true;	/* a borrower was first */
	if (c->acquiring)
		revokes_settled(fp, c->fam);
	free(c);
}

static bool
revoke(struct fabric_pool *fp, struct pool_loan *pl, bool acquiring)
{
	struct loan_ctx *c = loan_ctx_new(fp, pl->fam, pl->a);
	struct ipaddr ip;

	c->acquiring = acquiring;
	u128_to_ip(pl->a, pl->fam, &ip);
	pl->busy = true;
	if (fp->fab->ops->loan_end(fp->fab->ds, &fp->key, &ip, pl->revision,
	    revoke_done, c) == -1) {
		pl->busy = false;
		free(c);
		return false;
	}
	return true;
}

/*
 * An acquisition starts by taking back our own untaken offers: the
 * cheapest addresses there are.  Returns how many are under way; when
 * the last answers, the acquisition ends if any came back, else goes on
 * to claims.
 */
int
fabric_revoke_offers(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];

	ff->revoked = false;
	ff->revoking = 0;
	for (size_t i = 0; i < fp->pool->nloans; i++) {
		struct pool_loan *pl = &fp->pool->loans[i];

		if (pl->fam == fam && !pl->taken && !pl->busy &&
		    pl->revision != 0 && revoke(fp, pl, true))
			ff->revoking++;
	}
	return ff->revoking;
}

/* Offer, or offer again what is not confirmed yet, per family. */
static void
loans_family(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];
	size_t untaken = 0, target;

	for (size_t i = 0; i < fp->pool->nloans; i++) {
		struct pool_loan *pl = &fp->pool->loans[i];

		if (pl->fam != fam || pl->taken)
			continue;
		untaken++;
		if (!pl->busy && pl->revision == 0)
			offer_send(fp, pl);
	}
	/* Only with no free block left, and nothing wanted here. */
	if (!ff->full || ff->wanted || ff->acquiring || !fp->pool->borrow)
		return;
	target = (size_t)(fabric_owned_free(fp, fam) / 2);
	if (target > FABRIC_OFFERS_MAX)
		target = FABRIC_OFFERS_MAX;
	while (untaken < target && offer_one(fp, fam) == 0)
		untaken++;
}

static bool
listed_loan(const struct ipam_fabric_result *res, int fam, u128 a,
    const struct ipam_fabric_loan **out)
{
	for (size_t i = 0; i < res->nloans; i++)
		if (ip_fam(&res->loans[i].ip) == fam &&
		    ip_to_u128(&res->loans[i].ip) == a) {
			*out = &res->loans[i];
			return true;
		}
	return false;
}

/* Loans of ours whose key is gone were returned (or taken back); one
 * offered after the listing read the datastore is not gone, only new. */
static void
returns_found(struct fabric_pool *fp, const struct ipam_fabric_result *res)
{
	const struct ipam_fabric_loan *l;

	for (size_t i = fp->pool->nloans; i > 0; i--) {
		struct pool_loan *pl = &fp->pool->loans[i - 1];

		if (pl->revision == 0 || pl->busy ||
		    fabric_listing_predates(fp, res, pl->revision))
			continue;
		if (listed_loan(res, pl->fam, pl->a, &l))
			loan_listed(fp, pl, l, res);
		else
			fabric_unlend(fp, pl->fam, pl->a);
	}
}

static void	borrowed_listed(struct fabric_pool *,
		    const struct ipam_fabric_loan *);

/*
 * Offers taken by us that we do not hold: a take applied whose answer
 * was lost.  Not one being returned, nor from a listing older than our
 * last write (it may show a return since confirmed): that waits for
 * the next listing.
 */
static void
taken_adopt(struct fabric_pool *fp, const struct ipam_fabric_result *res)
{
	char buf[IPADDR_STRLEN];
	struct prefix p;

	if (res->revision < fp->written_rev) {
		fp->take_unsure = true;
		return;
	}
	for (size_t i = 0; i < res->nloans; i++) {
		const struct ipam_fabric_loan *l = &res->loans[i];
		int fam = ip_fam(&l->ip);
		u128 a = ip_to_u128(&l->ip);

		if (!l->taken || !fabric_is_me(fp, &l->borrower) || fam < 0 ||
		    fam_prefix_of(&fp->pool->f[fam], a) < 0 ||
		    fam_range_of(&fp->pool->f[fam], a) >= 0)
			continue;
		addr_prefix(fam, a, &p);
		if (fabric_end_pending(fp, true, &p))
			continue;
		log_info("ipam: pool %s: %s is borrowed by this VTEP in the "
		    "datastore; taken in", fp->pool->name, ipaddr_fmt(&l->ip,
		    buf, sizeof(buf)));
		borrowed_listed(fp, l);
		fabric_note(fp, IPAM_FABRIC_SPACE, fam, 0, NULL);
	}
}

static void
loans_listed(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_pool *fp = arg;
	bool takes = fp->take_listing;

	if (fp->fab->stopped)
		return;
	fp->loan_listing = false;
	fp->take_listing = false;
	fp->loans_listed_at = fabric_now(fp->fab);
	if (res->status != 0) {
		fabric_error(fp, "listing loans", res);
		fp->take_unsure = fp->take_unsure || takes;
		return;
	}
	returns_found(fp, res);
	if (takes)
		taken_adopt(fp, res);
}

void
fabric_loans_tick(struct fabric_pool *fp)
{
	bool offered = false;

	for (int fam = 0; fam < 2; fam++)
		if (fp->pool->f[fam].npfx > 0)
			loans_family(fp, fam);
	for (size_t i = 0; i < fp->pool->nloans; i++)
		offered = offered || fp->pool->loans[i].revision != 0;
	if ((!offered && !fp->take_unsure) || fp->loan_listing ||
	    fabric_now(fp->fab) - fp->loans_listed_at < FABRIC_LOAN_LIST_S)
		return;
	fp->loan_listing = true;
	fp->take_listing = fp->take_unsure;
	fp->take_unsure = false;
	if (fp->fab->ops->loan_list(fp->fab->ds, &fp->key, loans_listed,
	    fp) == -1) {
		fp->loan_listing = false;
		fp->take_unsure = fp->take_listing;
		fp->take_listing = false;
	}
}

/* Reconciliation at start */

static void
borrowed_listed(struct fabric_pool *fp, const struct ipam_fabric_loan *l)
{
	int fam = ip_fam(&l->ip);
	u128 a = ip_to_u128(&l->ip);
	struct fam *f = &fp->pool->f[fam];
	int ri = fam_range_of(f, a);
	struct prefix p;

	if (ri < 0) {
		borrowed_add(fp, fam, a, l->revision);
		return;
	}
	if (f->rng[ri].kind == RANGE_BORROWED &&
	    f->rng[ri].revision != l->revision) {
		f->rng[ri].revision = l->revision;
		addr_prefix(fam, a, &p);
		fabric_store_range(fp, true, "borrowed", &p, l->revision,
		    f->rng[ri].claimed, NULL, NULL);
	}
}

/* Borrowed ranges the datastore no longer gives us. */
static void
borrowed_lost(struct fabric_pool *fp, const struct ipam_fabric_result *res)
{
	const struct ipam_fabric_loan *l;
	char buf[IPADDR_STRLEN];
	struct prefix p;

	for (int fam = 0; fam < 2; fam++) {
		struct fam *f = &fp->pool->f[fam];

		for (size_t ri = 0; ri < f->nrng; ri++) {
			if (f->rng[ri].kind != RANGE_BORROWED)
				continue;
			if (listed_loan(res, fam, f->rng[ri].lo, &l) &&
			    l->taken && fabric_is_me(fp, &l->borrower))
				continue;
			addr_prefix(fam, f->rng[ri].lo, &p);
			log_warn("ipam: pool %s: borrowed %s is no longer ours "
			    "in the datastore", fp->pool->name,
			    ipaddr_fmt(&p.addr, buf, sizeof(buf)));
			fam_range_del(fp->fab->ipam, fp->pool, fam, ri--);
			fabric_store_range(fp, false, "borrowed", &p, 0, 0,
			    NULL, NULL);
		}
	}
}

void
fabric_reconcile_loans(struct fabric_pool *fp,
    const struct ipam_fabric_result *res)
{
	for (size_t i = 0; i < res->nloans; i++) {
		const struct ipam_fabric_loan *l = &res->loans[i];
		int fam = ip_fam(&l->ip);
		int ri;

		if (fam < 0 || fam_prefix_of(&fp->pool->f[fam],
		    ip_to_u128(&l->ip)) < 0)
			continue;
		ri = fam_range_of(&fp->pool->f[fam], ip_to_u128(&l->ip));
		if (l->taken && fabric_is_me(fp, &l->borrower))
			borrowed_listed(fp, l);
		else if (fabric_is_me(fp, &l->owner) || (ri >= 0 &&
		    fp->pool->f[fam].rng[ri].kind == RANGE_BLOCK))
			fabric_lend_mark(fp, l, res);
	}
	returns_found(fp, res);
	borrowed_lost(fp, res);
}
