/*
 * Fabric pools: acquiring space (claims, then borrowing), pre-claims
 * below the low-water mark, releasing idle blocks, and reclaiming the
 * blocks of a VTEP that is gone.
 *
 * How this works: one acquisition at a time per pool and family.  It
 * claims the lowest block that neither the last listing nor our own
 * claims name; a lost claim records the holder and tries the next; when
 * the known blocks are all held it lists the pool once, and if that
 * finds none free either it borrows (fabric_loan.c) or fails with
 * ENOSPC.  A won claim first lists the pool's loans: an address of the
 * block that a borrower still holds (the block was reclaimed from a
 * VTEP that had lent it) becomes our loan, so it is never handed out
 * here.  Only then does the block join the allocator.  A claim applied
 * but answered with an error (a timeout) leaves a block of ours the
 * allocator lacks: the refresh of the block list every few seconds
 * finds it and takes it in the same way, loans first.
 *
 * Releases and returns leave the allocator at once and are recorded as
 * a struct fabric_end until the datastore confirms the delete; a failed
 * delete is retried from the timer, never undone, since it may have been
 * applied.
 */
#include "ipam/fabric_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

struct claim_ctx {
	struct fabric_pool *fp;
	int		 fam;
	bool		 restored;	/* re-claiming a block the store had */
	bool		 adopting;	/* ours, found by a listing */
	struct ipam_fabric_block blk;
	uint64_t	 t0;
};


/* Acquisition outcome */

void
fabric_acquire_failed(struct fabric_pool *fp, int fam, int err,
    const char *msg)
{
	struct fabric_fam *ff = &fp->f[fam];

	ff->acquiring = false;
	ff->wanted = false;
	ff->fail_err = err;
	ff->fail_until = fabric_now(fp->fab) + (err == ENOSPC ?
	    FABRIC_EXHAUSTED_HOLD_S : FABRIC_FAIL_HOLD_S);
	if (err == ENOSPC)
		snprintf(ff->fail_msg, sizeof(ff->fail_msg), "pool %s is "
		    "exhausted: %.160s", fp->pool->name, msg);
	else
		strlcpy_s(ff->fail_msg, msg, sizeof(ff->fail_msg));
	msg = ff->fail_msg;
	fabric_note(fp, IPAM_FABRIC_FAILED, fam, err, "%s", msg);
}

void
fabric_acquired(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];

	ff->acquiring = false;
	ff->wanted = false;
	ff->fail_until = 0;
	fabric_note(fp, IPAM_FABRIC_SPACE, fam, 0, NULL);
}

void
fabric_datastore_failed(struct fabric_pool *fp, int fam,
    const struct ipam_fabric_result *res)
{
	char msg[IPAM_FABRIC_ERROR_MAX];

	snprintf(msg, sizeof(msg), "no free address in this VTEP's blocks "
	    "of pool %s and the fabric datastore unreachable: %.100s",
	    fp->pool->name, res->error);
	fabric_acquire_failed(fp, fam, EHOSTUNREACH, msg);
}

/* Choosing a block */

static int
u128_cmp(const void *a, const void *b)
{
	const u128 *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* The lowest block of fam nobody is known to hold. */
bool
fabric_next_free_block(const struct fabric_pool *fp, int fam, struct prefix *out)
{
	const struct fam *f = &fp->pool->f[fam];
	u128 *held = xcalloc(fp->nknown + f->nrng + 1, sizeof(*held));
	u128 idx, want = 0;
	size_t n = 0;
	bool found;

	for (size_t i = 0; i < fp->nknown; i++)
		if (ipam_block_index(fp->pool, &fp->known[i].prefix, &idx) ==
		    0 && ip_fam(&fp->known[i].prefix.addr) == fam)
			held[n++] = idx;
	for (size_t i = 0; i < f->nrng; i++) {
		struct prefix p;

		fabric_range_prefix(fp, fam, f->rng[i].lo, f->rng[i].hi, &p);
		if (f->rng[i].kind == RANGE_BLOCK &&
		    ipam_block_index(fp->pool, &p, &idx) == 0)
			held[n++] = idx;
	}
	qsort(held, n, sizeof(*held), u128_cmp);
	for (size_t i = 0; i < n && held[i] <= want; i++)
		if (held[i] == want)
			want++;
	found = ipam_block_nth(fp->pool, fam, want, out) == 0;
	free(held);
	return found;
}

/* Claims */

static void
latency_record(struct ipam_fabric *fab, uint64_t t0)
{
	double s = (double)(mono_msec() - t0) / 1000.0;

	for (int i = 0; i < IPAM_FABRIC_LATENCY_BUCKETS; i++)
		if (s <= ipam_fabric_latency_bounds[i])
			fab->st.latency_count[i]++;
	fab->st.latency_total++;
	fab->st.latency_sum += s;
}

static u128
prefix_last(const struct prefix *p)
{
	unsigned bits = p->addr.af == AF_INET ? 32 : 128;

	return ip_to_u128(&p->addr) | ((((u128)1) << (bits - p->len)) - 1);
}

/*
 * Loans inside a block just won (or adopted) become ours (see the top
 * comment).  The block may have joined the allocator meanwhile, adopted
 * by a refresh that listed it before this claim's answer came.
 */
static void
claim_loans_done(const struct ipam_fabric_result *res, void *arg)
{
	struct claim_ctx *c = arg;
	struct fabric_pool *fp = c->fp;
	struct ipam_fabric *fab = fp->fab;
	u128 lo = ip_to_u128(&c->blk.prefix.addr);
	u128 hi = prefix_last(&c->blk.prefix);

	if (fab->stopped) {
		free(c);
		return;
	}
	if (res->status != 0) {
		fabric_error(fp, "listing loans of a new block", res);
		/* The block is ours: release it (a won claim), or let the
		 * next refresh find it again (adopted). */
		if (!c->adopting) {
			fabric_end_add(fp, false, &c->blk.prefix,
			    c->blk.revision);
			fabric_datastore_failed(fp, c->fam, res);
		}
		free(c);
		return;
	}
	fabric_block_join(fp, c->fam, &c->blk);
	for (size_t i = 0; i < res->nloans; i++) {
		u128 a = ip_to_u128(&res->loans[i].ip);

		if (ip_fam(&res->loans[i].ip) == c->fam && a >= lo && a <= hi)
			fabric_lend_mark(fp, &res->loans[i], res);
	}
	if (c->adopting) {
		fabric_note(fp, IPAM_FABRIC_SPACE, c->fam, 0, NULL);
		free(c);
		return;
	}
	fab->st.claims++;
	latency_record(fab, c->t0);
	fp->f[c->fam].full = !fabric_next_free_block(fp, c->fam, &c->blk.prefix);
	fabric_acquired(fp, c->fam);
	free(c);
}

static void
restored_claim_done(struct claim_ctx *c, const struct ipam_fabric_result *res)
{
	struct fabric_pool *fp = c->fp;
	struct fam *f = &fp->pool->f[c->fam];
	int ri = fam_range_of(f, ip_to_u128(&c->blk.prefix.addr));

	if (ri < 0 || f->rng[ri].kind != RANGE_BLOCK)
		return;
	if (res->won || fabric_is_me(fp, &res->blocks[0].owner)) {
		f->rng[ri].revision = res->won ? res->revision :
		    res->blocks[0].revision;
		fabric_written(fp, f->rng[ri].revision);
		fabric_store_range(fp, true, "block", &c->blk.prefix,
		    f->rng[ri].revision, f->rng[ri].claimed, NULL, NULL);
		return;
	}
	fabric_block_lost(fp, c->fam, (size_t)ri, &res->blocks[0].owner);
}

static void
claim_done(const struct ipam_fabric_result *res, void *arg)
{
	struct claim_ctx *c = arg;
	struct fabric_pool *fp = c->fp;
	struct ipam_fabric *fab = fp->fab;
	bool mine;

	if (fab->stopped)
		goto out;
	if (res->status != 0) {
		fab->st.claim_errors++;
		fabric_error(fp, "claiming a block", res);
		if (c->restored)
			fabric_restore_failed(fp, res->error);
		else
			fabric_datastore_failed(fp, c->fam, res);
		goto out;
	}
	mine = res->won || (res->nblocks > 0 &&
	    fabric_is_me(fp, &res->blocks[0].owner));
	if (res->nblocks > 0)
		fabric_known_set(fp, &res->blocks[0]);
	if (c->restored) {
		if (res->won || res->nblocks > 0)
			restored_claim_done(c, res);
		goto out;
	}
	if (mine) {
		c->blk.revision = res->won ? res->revision :
		    res->blocks[0].revision;
		fabric_written(fp, c->blk.revision);
		fabric_known_set(fp, &c->blk);
		if (fab->ops->loan_list(fab->ds, &fp->key, claim_loans_done,
		    c) == 0)
			return;
		fabric_end_add(fp, false, &c->blk.prefix, c->blk.revision);
		fabric_acquire_failed(fp, c->fam, EIO, "cannot list loans");
		goto out;
	}
	fab->st.claims_lost++;
	if (++fp->f[c->fam].attempts > FABRIC_CLAIM_ATTEMPTS)
		fabric_acquire_failed(fp, c->fam, ENOSPC, "too many lost "
		    "claims");
	else
		fabric_claim_next(fp, c->fam);
out:
	free(c);
}

static void
claim_issue(struct fabric_pool *fp, int fam, const struct prefix *p,
    bool restored)
{
	struct ipam_fabric *fab = fp->fab;
	struct claim_ctx *c = xcalloc(1, sizeof(*c));

	c->fp = fp;
	c->fam = fam;
	c->restored = restored;
	c->blk.prefix = *p;
	c->blk.owner = fp->me;
	c->blk.claimed = fabric_now(fab);
	c->t0 = mono_msec();
	if (fab->ops->block_claim(fab->ds, &fp->key, &c->blk, claim_done,
	    c) == 0)
		return;
	free(c);
	if (restored)
		fabric_restore_failed(fp, "cannot send a claim");
	else
		fabric_acquire_failed(fp, fam, EIO, "cannot send a claim");
}

static void
list_done(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_pool *fp = arg;
	int fam;

	if (fp->fab->stopped)
		return;
	/* Both families may have asked: go on with each that waits. */
	for (fam = 0; fam < 2; fam++) {
		if (!fp->f[fam].listing)
			continue;
		fp->f[fam].listing = false;
		if (res->status != 0) {
			fabric_error(fp, "listing blocks", res);
			fabric_datastore_failed(fp, fam, res);
			continue;
		}
		fabric_known_replace(fp, res->blocks, res->nblocks);
		fabric_claim_next(fp, fam);
	}
}

void
fabric_claim_next(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];
	struct prefix p;

	if (fabric_next_free_block(fp, fam, &p)) {
		claim_issue(fp, fam, &p, false);
		return;
	}
	if (!ff->listed) {
		ff->listed = true;
		ff->listing = true;
		if (fp->fab->ops->block_list(fp->fab->ds, &fp->key, list_done,
		    fp) == -1) {
			ff->listing = false;
			fabric_acquire_failed(fp, fam, EIO, "cannot list "
			    "blocks");
		}
		return;
	}
	ff->full = true;
	if (!ff->wanted) {
		ff->acquiring = false;	/* a pre-claim: nothing to do */
		return;
	}
	if (fp->pool->borrow) {
		fabric_borrow(fp, fam);
		return;
	}
	fabric_acquire_failed(fp, fam, ENOSPC, "no free block left and "
	    "borrowing is off");
}

void
fabric_acquire(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];

	if (ff->acquiring)
		return;
	ff->acquiring = true;
	ff->listed = false;
	ff->attempts = 0;
	ff->started_ms = mono_msec();
	if (fabric_revoke_offers(fp, fam) > 0)
		return;
	fabric_claim_next(fp, fam);
}

/* Every few seconds: what blocks exist, are ours still ours, and is one
 * still free? */
static void
blocks_refreshed(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_pool *fp = arg;
	struct prefix p;

	if (fp->fab->stopped)
		return;
	fp->block_listing = false;
	fp->blocks_listed_at = fabric_now(fp->fab);
	if (res->status != 0) {
		fabric_error(fp, "listing blocks", res);
		return;
	}
	fabric_known_replace(fp, res->blocks, res->nblocks);
	if (fp->state == FP_OK) {
		fabric_blocks_check(fp, res);
		fabric_adopt_listed(fp, res, true);
	}
	for (int fam = 0; fam < 2; fam++)
		if (!fp->f[fam].acquiring)
			fp->f[fam].full = !fabric_next_free_block(fp, fam, &p);
}

void
fabric_blocks_refresh(struct fabric_pool *fp)
{
	if (fp->block_listing || fabric_now(fp->fab) - fp->blocks_listed_at <
	    FABRIC_BLOCK_LIST_S)
		return;
	fp->block_listing = true;
	if (fp->fab->ops->block_list(fp->fab->ds, &fp->key, blocks_refreshed,
	    fp) == -1)
		fp->block_listing = false;
}

/* A block of ours the datastore does not have: claim it back. */
void
fabric_reclaim_own(struct fabric_pool *fp, int fam, size_t ri)
{
	const struct fam_range *r = &fp->pool->f[fam].rng[ri];
	struct prefix p;

	fabric_range_prefix(fp, fam, r->lo, r->hi, &p);
	claim_issue(fp, fam, &p, true);
}

void
fabric_adopt_block(struct fabric_pool *fp, int fam,
    const struct ipam_fabric_block *b)
{
	struct ipam_fabric *fab = fp->fab;
	struct claim_ctx *c = xcalloc(1, sizeof(*c));

	c->fp = fp;
	c->fam = fam;
	c->adopting = true;
	c->blk = *b;
	c->t0 = mono_msec();
	if (fab->ops->loan_list(fab->ds, &fp->key, claim_loans_done, c) == -1)
		free(c);
}

/* Claiming ahead, releasing idle blocks */

void
fabric_preclaim(struct fabric_pool *fp)
{
	int64_t now = fabric_now(fp->fab);

	for (int fam = 0; fam < 2; fam++) {
		struct fabric_fam *ff = &fp->f[fam];

		if (fp->pool->f[fam].npfx == 0 || ff->acquiring || ff->full ||
		    now < ff->fail_until)
			continue;
		/* Only a family in use here keeps space ahead. */
		if (fp->pool->f[fam].used == 0 && !ff->wanted)
			continue;
		if (fabric_owned_free(fp, fam) < fabric_low_water(fp, fam))
			fabric_acquire(fp, fam);
	}
}

static bool
block_idle(struct fabric_pool *fp, int fam, size_t ri, int64_t now)
{
	const struct fam_range *r = &fp->pool->f[fam].rng[ri];
	uint64_t lw, held, mine;

	if (r->kind != RANGE_BLOCK || r->used != 0 || r->lent != 0 ||
	    r->idle_since == 0 || fp->pool->idle_release == 0 ||
	    now - r->idle_since < (int64_t)fp->pool->idle_release ||
	    fabric_quarantine_pending(fp, fam, ri))
		return false;
	/* The other ranges keep what the low-water mark asks of a pool in
	 * use. */
	lw = fp->pool->f[fam].used > 0 ? fabric_low_water(fp, fam) : 0;
	held = r->used + r->quarantined + r->lent;
	mine = r->size > held ? r->size - held : 0;
	return fabric_owned_free(fp, fam) - mine >= lw;
}

void
fabric_idle_release(struct fabric_pool *fp)
{
	int64_t now = fabric_now(fp->fab);
	char buf[PREFIX_STRLEN];
	struct prefix p;

	for (int fam = 0; fam < 2; fam++) {
		struct fam *f = &fp->pool->f[fam];

		for (size_t ri = 0; ri < f->nrng; ri++) {
			int64_t rev = f->rng[ri].revision;

			if (!block_idle(fp, fam, ri, now))
				continue;
			fabric_range_prefix(fp, fam, f->rng[ri].lo,
			    f->rng[ri].hi, &p);
			log_info("ipam: pool %s: releasing block %s, empty for "
			    "%us", fp->pool->name, prefix_fmt(&p, buf,
			    sizeof(buf)), fp->pool->idle_release);
			fam_range_del(fp->fab->ipam, fp->pool, fam, ri--);
			fabric_store_range(fp, false, "block", &p, 0, 0, NULL,
			    NULL);
			fabric_end_add(fp, false, &p, rev);
		}
	}
}

/* Releases and returns until the datastore confirms them */

static void
end_free(struct ipam_fabric *fab, struct fabric_end *e)
{
	TAILQ_REMOVE(&fab->ends, e, link);
	free(e);
}

static void
end_done(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_end *e = arg;
	struct fabric_pool *fp = e->fp;
	struct ipam_fabric *fab = fp->fab;

	if (fab->stopped)
		return;
	e->busy = false;
	if (res->status != 0) {
		fabric_error(fp, e->loan ? "returning a borrowed address" :
		    "releasing a block", res);
		return;
	}
	/* A listing older than this delete may still show the key. */
	fabric_written(fp, res->revision);
	/* Lost: already gone or rewritten, not ours either way. */
	if (res->won) {
		if (e->loan)
			fab->st.returns++;
		else
			fab->st.releases++;
	}
	if (!e->loan)
		fabric_known_del(fp, &e->prefix);
	end_free(fab, e);
}

static void
end_issue(struct fabric_end *e)
{
	struct fabric_pool *fp = e->fp;
	struct ipam_fabric *fab = fp->fab;
	int rc;

	e->busy = true;
	if (e->loan)
		rc = fab->ops->loan_end(fab->ds, &fp->key, &e->prefix.addr,
		    e->revision, end_done, e);
	else
		rc = fab->ops->block_release(fab->ds, &fp->key, &e->prefix,
		    e->revision, end_done, e);
	if (rc == -1)
		e->busy = false;
}

void
fabric_end_add(struct fabric_pool *fp, bool loan, const struct prefix *p,
    int64_t revision)
{
	struct fabric_end *e = xcalloc(1, sizeof(*e));

	e->fp = fp;
	e->loan = loan;
	e->prefix = *p;
	e->revision = revision;
	TAILQ_INSERT_TAIL(&fp->fab->ends, e, link);
	end_issue(e);
}

bool
fabric_end_pending(const struct fabric_pool *fp, bool loan,
    const struct prefix *p)
{
	const struct fabric_end *e;

	TAILQ_FOREACH(e, &fp->fab->ends, link)
		if (e->fp == fp && e->loan == loan &&
		    prefix_cmp(&e->prefix, p) == 0)
			return true;
	return false;
}

void
fabric_ends_run(struct ipam_fabric *fab)
{
	struct fabric_end *e;

	TAILQ_FOREACH(e, &fab->ends, link)
		if (!e->busy)
			end_issue(e);
}

void
fabric_ends_drop(struct ipam_fabric *fab, const struct fabric_pool *fp)
{
	struct fabric_end *e, *next;

	TAILQ_FOREACH_SAFE(e, &fab->ends, link, next)
		if (fp == NULL || e->fp == fp)
			end_free(fab, e);
}

/* Reclaiming a gone VTEP's blocks and loans */

struct fabric_reclaim {
	struct ipam_fabric *fab;
	struct ipaddr	 vtep;
	size_t		 pending;
	struct ipam_fabric_reclaim out;
	ipam_fabric_reclaim_cb *cb;
	void		*arg;
};

struct reclaim_req {
	struct fabric_reclaim *rc;
	struct fabric_pool *fp;
	struct prefix	 prefix;
	bool		 loan;
};

static void
reclaim_step_done(struct fabric_reclaim *rc)
{
	struct ipam_fabric *fab = rc->fab;

	if (--rc->pending > 0)
		return;
	if (!fab->stopped && rc->cb != NULL)
		rc->cb(&rc->out, rc->arg);
	if (fab->reclaim == rc)
		fab->reclaim = NULL;
	free(rc);
}

static void
reclaim_failed(struct fabric_reclaim *rc, const struct ipam_fabric_result *r)
{
	rc->out.status = -1;
	snprintf(rc->out.error, sizeof(rc->out.error), "fabric datastore "
	    "unreachable: %.180s", r->error);
}

static void
reclaim_del_done(const struct ipam_fabric_result *res, void *arg)
{
	struct reclaim_req *q = arg;
	struct fabric_reclaim *rc = q->rc;

	if (res->status != 0)
		reclaim_failed(rc, res);
	else if (res->won && q->loan)
		rc->out.loans++;
	else if (res->won) {
		rc->out.blocks++;
		if (!rc->fab->stopped)
			fabric_known_del(q->fp, &q->prefix);
	}
	free(q);
	reclaim_step_done(rc);
}

static void
reclaim_del(struct fabric_reclaim *rc, struct fabric_pool *fp, bool loan,
    const struct prefix *p, int64_t revision)
{
	struct ipam_fabric *fab = rc->fab;
	struct reclaim_req *q = xcalloc(1, sizeof(*q));
	int rv;

	q->rc = rc;
	q->fp = fp;
	q->prefix = *p;
	q->loan = loan;
	rc->pending++;
	rv = loan ? fab->ops->loan_end(fab->ds, &fp->key, &p->addr, revision,
	    reclaim_del_done, q) : fab->ops->block_release(fab->ds, &fp->key,
	    p, revision, reclaim_del_done, q);
	if (rv == -1) {
		free(q);
		rc->pending--;
	}
}

static void
reclaim_blocks_done(const struct ipam_fabric_result *res, void *arg)
{
	struct reclaim_req *q = arg;
	struct fabric_reclaim *rc = q->rc;

	if (res->status != 0)
		reclaim_failed(rc, res);
	for (size_t i = 0; res->status == 0 && i < res->nblocks; i++) {
		const struct ipam_fabric_block *b = &res->blocks[i];

		if (ipaddr_cmp(&b->owner.vtep, &rc->vtep) == 0 &&
		    !fabric_is_me(q->fp, &b->owner))
			reclaim_del(rc, q->fp, false, &b->prefix, b->revision);
	}
	free(q);
	reclaim_step_done(rc);
}

static void
reclaim_loans_done(const struct ipam_fabric_result *res, void *arg)
{
	struct reclaim_req *q = arg;
	struct fabric_reclaim *rc = q->rc;
	struct prefix p;

	if (res->status != 0)
		reclaim_failed(rc, res);
	for (size_t i = 0; res->status == 0 && i < res->nloans; i++) {
		const struct ipam_fabric_loan *l = &res->loans[i];

		/* An offer of the gone VTEP nobody took, or an address it
		 * borrowed; what it lent and a live VTEP holds stays. */
		if ((!l->taken && ipaddr_cmp(&l->owner.vtep, &rc->vtep) == 0) ||
		    (l->taken && ipaddr_cmp(&l->borrower.vtep, &rc->vtep) ==
		    0)) {
			p.addr = l->ip;
			p.len = l->ip.af == AF_INET ? 32 : 128;
			reclaim_del(rc, q->fp, true, &p, l->revision);
		}
	}
	free(q);
	reclaim_step_done(rc);
}

static void
reclaim_list(struct fabric_reclaim *rc, struct fabric_pool *fp, bool loans)
{
	struct ipam_fabric *fab = rc->fab;
	struct reclaim_req *q = xcalloc(1, sizeof(*q));
	int rv;

	q->rc = rc;
	q->fp = fp;
	rc->pending++;
	rv = loans ? fab->ops->loan_list(fab->ds, &fp->key,
	    reclaim_loans_done, q) : fab->ops->block_list(fab->ds, &fp->key,
	    reclaim_blocks_done, q);
	if (rv == -1) {
		free(q);
		rc->pending--;
	}
}

int
ipam_fabric_reclaim(struct ipam_fabric *fab, const struct ipaddr *vtep,
    ipam_fabric_reclaim_cb *cb, void *arg)
{
	struct fabric_reclaim *rc;
	struct fabric_pool *fp;

	if (fab->reclaim != NULL) {
		errno = EBUSY;
		return -1;
	}
	TAILQ_FOREACH(fp, &fab->pools, link) {
		if (ipaddr_cmp(&fp->me.vtep, vtep) == 0) {
			errno = EINVAL;
			return -1;
		}
	}
	rc = xcalloc(1, sizeof(*rc));
	rc->fab = fab;
	rc->vtep = *vtep;
	rc->cb = cb;
	rc->arg = arg;
	rc->pending = 1;	/* held until every list is under way */
	fab->reclaim = rc;
	TAILQ_FOREACH(fp, &fab->pools, link) {
		reclaim_list(rc, fp, false);
		reclaim_list(rc, fp, true);
	}
	reclaim_step_done(rc);
	return 0;
}

void
fabric_reclaim_free(struct ipam_fabric *fab)
{
	/* Its requests own it; they run (and free it) when the datastore
	 * is closed.  Only forget it here. */
	fab->reclaim = NULL;
}
