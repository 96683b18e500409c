/*
 * The fabric pool manager: life cycle, pool definitions, reconciliation
 * with the datastore, the timer, events to the daemon, and views.  See
 * fabric.h for the design; claims are in fabric_claim.c, loans in
 * fabric_loan.c.
 *
 * How this works: ipam_fabric_new() makes a struct fabric_pool for every
 * pool added with scope fabric.  ipam_fabric_start() records each one's
 * definition, then lists its blocks and loans and reconciles them with
 * what the store restored (FP_DEFINE -> FP_RECONCILE -> FP_OK); a
 * datastore error leaves the pool in its step, retried from the timer
 * with a back-off, while the blocks it owns keep serving.  Events for
 * the daemon are queued and delivered from a zero timer, never from
 * inside the call that caused them.
 */
#include "ipam/fabric_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"

const double ipam_fabric_latency_bounds[IPAM_FABRIC_LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
};

static void	fabric_define(struct fabric_pool *);
static void	fabric_reconcile(struct fabric_pool *);

/* Helpers */

int64_t
fabric_now(const struct ipam_fabric *fab)
{
	return ipam_now(fab->ipam);
}

bool
fabric_is_me(const struct fabric_pool *fp,
    const struct ipam_fabric_owner *o)
{
	return strcmp(o->router_id, fp->me.router_id) == 0;
}

void
fabric_error(struct fabric_pool *fp, const char *what,
    const struct ipam_fabric_result *res)
{
	struct ipam_fabric *fab = fp->fab;

	fab->st.errors++;
	snprintf(fab->st.last_error, sizeof(fab->st.last_error), "%s: %.180s",
	    what, res->error);
	log_warn("ipam: pool %s: %s: fabric datastore unreachable: %s",
	    fp->pool->name, what, res->error);
}

void
fabric_range_prefix(const struct fabric_pool *fp, int fam, u128 lo, u128 hi,
    struct prefix *out)
{
	unsigned len = fam == FAM_V4 ? 32 : 128;
	u128 n = hi - lo;	/* ranges are aligned powers of two */

	for (; n != 0; n >>= 1)
		len--;
	u128_to_ip(lo, fam, &out->addr);
	out->len = (uint8_t)len;
}

uint64_t
fabric_owned_free(const struct fabric_pool *fp, int fam)
{
	const struct fam *f = &fp->pool->f[fam];
	uint64_t n = 0;

	for (size_t i = 0; i < f->nrng; i++) {
		const struct fam_range *r = &f->rng[i];
		uint64_t held = r->used + r->quarantined + r->lent;

		n += r->size > held ? r->size - held : 0;
	}
	return n;
}

/* A quarter of a block, or what the demand hook expects, if more. */
uint64_t
fabric_low_water(struct fabric_pool *fp, int fam)
{
	struct ipam_fabric *fab = fp->fab;
	unsigned bits = fam == FAM_V4 ? 32 : 128;
	uint64_t lw = 1ULL << (bits - ipam_block_len(fp->pool, fam) - 2);
	uint64_t d = 0;

	if (fab->demand_cb != NULL)
		d = fab->demand_cb(fab->hook_arg, fp->pool->name);
	return d > lw ? d : lw;
}

bool
fabric_quarantine_pending(const struct fabric_pool *fp, int fam, size_t ri)
{
	const struct fam *f = &fp->pool->f[fam];
	const struct fam_range *r = &f->rng[ri];
	const struct addr_entry *e;
	int64_t now = fabric_now(fp->fab);

	if (r->quarantined == 0)
		return false;
	TAILQ_FOREACH(e, &f->quarantine, link)
		if (e->a >= r->lo && e->a <= r->hi && e->until > now)
			return true;
	return false;
}

/* Known blocks */

static ssize_t
known_find(const struct fabric_pool *fp, const struct prefix *p)
{
	for (size_t i = 0; i < fp->nknown; i++)
		if (prefix_cmp(&fp->known[i].prefix, p) == 0)
			return (ssize_t)i;
	return -1;
}

void
fabric_known_set(struct fabric_pool *fp, const struct ipam_fabric_block *b)
{
	ssize_t i = known_find(fp, &b->prefix);

	if (i < 0) {
		fp->known = xrealloc(fp->known, (fp->nknown + 1) *
		    sizeof(*fp->known));
		i = (ssize_t)fp->nknown++;
	}
	fp->known[i] = *b;
}

void
fabric_known_del(struct fabric_pool *fp, const struct prefix *p)
{
	ssize_t i = known_find(fp, p);

	if (i < 0)
		return;
	memmove(&fp->known[i], &fp->known[i + 1], (fp->nknown - (size_t)i -
	    1) * sizeof(*fp->known));
	fp->nknown--;
}

void
fabric_known_replace(struct fabric_pool *fp,
    const struct ipam_fabric_block *b, size_t n)
{
	free(fp->known);
	fp->known = xcalloc(n + 1, sizeof(*fp->known));
	memcpy(fp->known, b, n * sizeof(*b));
	fp->nknown = n;
}

/* Events */

static void
notes_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct ipam_fabric *fab = arg;
	struct fabric_note_list batch;
	struct fabric_note *n;

	TAILQ_INIT(&batch);
	TAILQ_CONCAT(&batch, &fab->notes, link);
	while ((n = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, n, link);
		if (!fab->stopped && fab->event_cb != NULL)
			fab->event_cb(fab->hook_arg, n->pool, n->ev, n->fam,
			    n->err, n->msg);
		free(n);
	}
}

void
fabric_note(struct fabric_pool *fp, enum ipam_fabric_event ev, int fam,
    int err, const char *fmt, ...)
{
	struct ipam_fabric *fab = fp->fab;
	struct fabric_note *n = xcalloc(1, sizeof(*n));
	struct timeval now = { 0, 0 };
	va_list ap;

	strlcpy_s(n->pool, fp->pool->name, sizeof(n->pool));
	n->ev = ev;
	n->fam = fam;
	n->err = err;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
		va_end(ap);
	}
	TAILQ_INSERT_TAIL(&fab->notes, n, link);
	if (fab->note_ev != NULL)
		event_add(fab->note_ev, &now);
}

/* The store */

void
fabric_store_range(struct fabric_pool *fp, bool add, const char *kind,
    const struct prefix *p, int64_t revision, int64_t claimed,
    ipam_done_cb cb, void *arg)
{
	struct ipam_block_rec rec;
	struct ipam_op op;

	memset(&rec, 0, sizeof(rec));
	rec.prefix = *p;
	strlcpy_s(rec.kind, kind, sizeof(rec.kind));
	rec.revision = revision;
	rec.claimed = claimed;
	ipam_op_block(&op, add, fp->pool->name, &rec);
	if (ipam_store_submit(fp->fab->store, &op, cb, arg) == -1) {
		log_warn("ipam: pool %s: cannot record a %s: %s",
		    fp->pool->name, kind, strerror(errno));
		if (cb != NULL)
			cb(-1, arg);
	}
}

/* Life cycle */

static const char *
pool_tenant(const struct ipam_pool *pool)
{
	return pool->tenant[0] != '\0' ? pool->tenant : "default";
}

static struct fabric_pool *
fabric_pool_new(struct ipam_fabric *fab, struct ipam_pool *pool)
{
	struct fabric_pool *fp = xcalloc(1, sizeof(*fp));

	fp->fab = fab;
	fp->pool = pool;
	strlcpy_s(fp->tenant, pool_tenant(pool), sizeof(fp->tenant));
	fp->key.tenant = fp->tenant;
	fp->key.pool = pool->name;
	fp->me = fab->me;
	fp->state = FP_DEFINE;
	pool->fp = fp;
	TAILQ_INSERT_TAIL(&fab->pools, fp, link);
	return fp;
}

static struct fabric_pool *
fabric_pool_find(const struct ipam_fabric *fab, const char *name)
{
	struct fabric_pool *fp;

	TAILQ_FOREACH(fp, &fab->pools, link)
		if (strcmp(fp->pool->name, name) == 0)
			return fp;
	return NULL;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	ipam_fabric_tick(arg);
}

struct ipam_fabric *
ipam_fabric_new(struct event_base *base, struct ipam *ipam,
    struct ipam_store *store, const struct ipam_fabric_ops *ops, void *ds,
    const struct ipam_fabric_owner *me)
{
	struct ipam_fabric *fab = xcalloc(1, sizeof(*fab));
	struct ipam_pool *pool;

	fab->base = base;
	fab->ipam = ipam;
	fab->store = store;
	fab->ops = ops;
	fab->ds = ds;
	fab->me = *me;
	TAILQ_INIT(&fab->pools);
	TAILQ_INIT(&fab->ends);
	TAILQ_INIT(&fab->notes);
	fab->note_ev = evtimer_new(base, notes_deliver, fab);
	TAILQ_FOREACH(pool, &ipam->pools, entry)
		if (pool->fabric)
			fabric_pool_new(fab, pool);
	return fab;
}

void
ipam_fabric_set_vtep(struct ipam_fabric *fab, const char *pool,
    const struct ipaddr *vtep)
{
	struct fabric_pool *fp = fabric_pool_find(fab, pool);

	if (fp != NULL)
		fp->me.vtep = *vtep;
}

void
ipam_fabric_set_hooks(struct ipam_fabric *fab, ipam_fabric_event_cb *ev,
    ipam_fabric_demand_cb *demand, void *arg)
{
	fab->event_cb = ev;
	fab->demand_cb = demand;
	fab->hook_arg = arg;
}

void
ipam_fabric_start(struct ipam_fabric *fab, unsigned tick_ms)
{
	struct timeval tv = { tick_ms / 1000, (tick_ms % 1000) * 1000 };
	struct fabric_pool *fp;

	TAILQ_FOREACH(fp, &fab->pools, link)
		fabric_define(fp);
	if (tick_ms > 0 && fab->tick_ev == NULL && (fab->tick_ev =
	    event_new(fab->base, -1, EV_PERSIST, tick_cb, fab)) != NULL)
		event_add(fab->tick_ev, &tv);
}

void
ipam_fabric_stop(struct ipam_fabric *fab)
{
	if (fab == NULL)
		return;
	fab->stopped = true;
	if (fab->tick_ev != NULL)
		event_del(fab->tick_ev);
}

void
ipam_fabric_free(struct ipam_fabric *fab)
{
	struct fabric_pool *fp;
	struct fabric_note *n;

	if (fab == NULL)
		return;
	fab->stopped = true;
	fabric_ends_drop(fab, NULL);
	fabric_reclaim_free(fab);
	while ((n = TAILQ_FIRST(&fab->notes)) != NULL) {
		TAILQ_REMOVE(&fab->notes, n, link);
		free(n);
	}
	while ((fp = TAILQ_FIRST(&fab->pools)) != NULL) {
		TAILQ_REMOVE(&fab->pools, fp, link);
		fp->pool->fp = NULL;
		free(fp->known);
		free(fp);
	}
	if (fab->tick_ev != NULL)
		event_free(fab->tick_ev);
	if (fab->note_ev != NULL)
		event_free(fab->note_ev);
	free(fab);
}

void
ipam_fabric_set_ready(struct ipam_fabric *fab)
{
	struct fabric_pool *fp;

	if (fab->ready)
		return;
	fab->ready = true;
	TAILQ_FOREACH(fp, &fab->pools, link)
		if (fp->state != FP_REFUSED)
			fabric_note(fp, IPAM_FABRIC_USABLE, -1, 0, NULL);
}

bool
ipam_fabric_ready(const struct ipam_fabric *fab)
{
	return fab->ready;
}

/* Definitions */

static void
def_of_pool(const struct fabric_pool *fp, struct ipam_fabric_def *def)
{
	const struct ipam_pool *pool = fp->pool;

	memset(def, 0, sizeof(*def));
	strlcpy_s(def->tenant, fp->tenant, sizeof(def->tenant));
	for (size_t i = 0; i < pool->nprefixes &&
	    i < IPAM_FABRIC_PREFIXES_MAX; i++) {
		def->prefixes[def->nprefixes] = pool->prefixes[i];
		prefix_mask(&def->prefixes[def->nprefixes++]);
	}
	def->block_size = pool->block_size;
	def->by = fp->me;
}

static bool
def_has_prefix(const struct ipam_fabric_def *d, const struct prefix *p)
{
	for (size_t i = 0; i < d->nprefixes; i++)
		if (prefix_cmp(&d->prefixes[i], p) == 0)
			return true;
	return false;
}

static void
def_prefixes_fmt(const struct ipam_fabric_def *d, char *buf, size_t len)
{
	char p[PREFIX_STRLEN];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->nprefixes && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
		    prefix_fmt(&d->prefixes[i], p, sizeof(p)));
}

/* What differs between ours and theirs, or "" when nothing does. */
static void
def_compare(const struct ipam_fabric_def *ours,
    const struct ipam_fabric_def *theirs, char *out, size_t len)
{
	char a[160], b[160];
	bool same = ours->nprefixes == theirs->nprefixes;
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; same && i < ours->nprefixes; i++)
		same = def_has_prefix(theirs, &ours->prefixes[i]);
	if (!same) {
		def_prefixes_fmt(ours, a, sizeof(a));
		def_prefixes_fmt(theirs, b, sizeof(b));
		n += (size_t)snprintf(out + n, len - n, "prefixes %s here, %s "
		    "in the datastore", a, b);
	}
	if (ours->block_size != theirs->block_size && n < len)
		n += (size_t)snprintf(out + n, len - n, "%sblock-size %u here, "
		    "%u in the datastore", n ? "; " : "", ours->block_size,
		    theirs->block_size);
	if (strcmp(ours->tenant, theirs->tenant) != 0 && n < len)
		snprintf(out + n, len - n, "%stenant %s here, %s in the "
		    "datastore", n ? "; " : "", ours->tenant, theirs->tenant);
}

/* Wants that came before the pool was reconciled: go on, or fail. */
static void
wants_settle(struct fabric_pool *fp, bool ok)
{
	for (int fam = 0; fam < 2; fam++) {
		if (!fp->f[fam].wanted || fp->f[fam].acquiring)
			continue;
		if (ok)
			fabric_acquire(fp, fam);
		else
			fabric_acquire_failed(fp, fam, fp->state == FP_REFUSED ?
			    EPERM : EHOSTUNREACH, fp->error);
	}
}

static void
fabric_retry_later(struct fabric_pool *fp)
{
	fp->backoff = fp->backoff ? fp->backoff * 2 : 1;
	if (fp->backoff > FABRIC_RETRY_MAX_S)
		fp->backoff = FABRIC_RETRY_MAX_S;
	fp->retry_at = fabric_now(fp->fab) + fp->backoff;
	wants_settle(fp, false);
}

static void
fabric_refuse(struct fabric_pool *fp)
{
	fp->state = FP_REFUSED;
	fp->fab->st.refused_pools++;
	log_warn("ipam: %s; the pool is refused", fp->error);
	wants_settle(fp, false);
}

static void
define_done(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_pool *fp = arg;
	struct ipam_fabric_def ours;
	char diff[IPAM_FABRIC_ERROR_MAX - 96], by[IPADDR_STRLEN];

	if (fp->fab->stopped)
		return;
	fp->busy = false;
	if (res->status != 0) {
		fabric_error(fp, "recording the pool definition", res);
		snprintf(fp->error, sizeof(fp->error), "fabric datastore "
		    "unreachable: %.180s", res->error);
		fabric_retry_later(fp);
		return;
	}
	def_of_pool(fp, &ours);
	if (!res->won && res->def == NULL) {
		/* Recorded, but not in a form we can compare: sharing the
		 * pool blind could hand out addresses twice. */
		snprintf(fp->error, sizeof(fp->error), "pool %s: the fabric "
		    "datastore's definition of the pool cannot be read",
		    fp->pool->name);
		fabric_refuse(fp);
		return;
	}
	if (!res->won) {
		def_compare(&ours, res->def, diff, sizeof(diff));
		if (diff[0] != '\0') {
			snprintf(fp->error, sizeof(fp->error), "pool %s differs "
			    "from the fabric datastore's definition (recorded "
			    "by %s): %s", fp->pool->name,
			    res->def->by.router_id[0] ? res->def->by.router_id :
			    ipaddr_fmt(&res->def->by.vtep, by, sizeof(by)),
			    diff);
			fabric_refuse(fp);
			return;
		}
	}
	fp->backoff = 0;
	fp->state = FP_RECONCILE;
	fabric_reconcile(fp);
}

static void
fabric_define(struct fabric_pool *fp)
{
	struct ipam_fabric_def def;

	def_of_pool(fp, &def);
	fp->busy = true;
	if (fp->fab->ops->define(fp->fab->ds, &fp->key, &def, define_done,
	    fp) == -1) {
		fp->busy = false;
		fabric_retry_later(fp);
	}
}

/* Reconciliation */

static bool
listed_mine(const struct fabric_pool *fp, const struct ipam_fabric_result *res,
    const struct prefix *p, const struct ipam_fabric_block **out)
{
	for (size_t i = 0; i < res->nblocks; i++) {
		if (prefix_cmp(&res->blocks[i].prefix, p) != 0)
			continue;
		*out = &res->blocks[i];
		return fabric_is_me(fp, &res->blocks[i].owner);
	}
	*out = NULL;
	return false;
}

struct fam_range *
fabric_block_join(struct fabric_pool *fp, int fam,
    const struct ipam_fabric_block *b)
{
	struct fam *f = &fp->pool->f[fam];
	u128 lo = ip_to_u128(&b->prefix.addr);
	int ri = fam_range_of(f, lo);
	struct fam_range *r;

	if (ri >= 0)
		return &f->rng[ri];
	r = fam_range_add(fp->pool, fam, lo, lo + (((u128)1 << ((fam ? 128 :
	    32) - b->prefix.len)) - 1), RANGE_BLOCK);
	r->revision = b->revision;
	r->claimed = b->claimed;
	r->idle_since = fabric_now(fp->fab);
	fabric_store_range(fp, true, "block", &b->prefix, b->revision,
	    b->claimed, NULL, NULL);
	return r;
}

/* A listed block of ours the allocator lacks, not being released. */
static bool
block_adoptable(const struct fabric_pool *fp,
    const struct ipam_fabric_block *b, int *famp)
{
	int fam = ip_fam(&b->prefix.addr);
	u128 lo;

	if (!fabric_is_me(fp, &b->owner) || fam < 0 ||
	    b->prefix.len != ipam_block_len(fp->pool, fam))
		return false;
	lo = ip_to_u128(&b->prefix.addr);
	if (fam_range_of(&fp->pool->f[fam], lo) >= 0 ||
	    fam_prefix_of(&fp->pool->f[fam], lo) < 0 ||
	    fabric_end_pending(fp, false, &b->prefix))
		return false;
	*famp = fam;
	return true;
}

/*
 * Our blocks in the datastore the allocator lacks: the store lost them
 * (kill -9 between the claim and its commit), or a claim was applied
 * but its answer lost (a timeout).  A listing read before a write of
 * ours may show a block we released since: only one at least as new as
 * our last write is believed; the next refresh reads again.
 */
void
fabric_adopt_listed(struct fabric_pool *fp,
    const struct ipam_fabric_result *res, bool check_loans)
{
	char buf[PREFIX_STRLEN];
	int fam;

	if (res->revision < fp->written_rev)
		return;
	for (size_t i = 0; i < res->nblocks; i++) {
		const struct ipam_fabric_block *b = &res->blocks[i];

		if (!block_adoptable(fp, b, &fam))
			continue;
		log_info("ipam: pool %s: block %s is ours in the datastore; "
		    "taken in", fp->pool->name, prefix_fmt(&b->prefix, buf,
		    sizeof(buf)));
		if (check_loans)
			fabric_adopt_block(fp, fam, b);
		else
			fabric_block_join(fp, fam, b);
	}
}

void
fabric_written(struct fabric_pool *fp, int64_t revision)
{
	if (revision > fp->written_rev)
		fp->written_rev = revision;
}

/*
 * Listings and writes go on different connections: a listing that read
 * the datastore before a write of ours was applied may answer after it,
 * and knows nothing of that key.  A revision above every write of this
 * run is from an earlier run: it counts as known to the listing (a
 * datastore rebuilt since counts its revisions from 1 again).
 */
bool
fabric_listing_predates(const struct fabric_pool *fp,
    const struct ipam_fabric_result *res, int64_t revision)
{
	return revision > res->revision && revision <= fp->written_rev;
}

/* Our blocks against a listing: ours (at its revision), absent (a
 * reclaim deleted it, while we were down or since: claim it again), or
 * held by another VTEP now (stop using it). */
void
fabric_blocks_check(struct fabric_pool *fp,
    const struct ipam_fabric_result *res)
{
	const struct ipam_fabric_block *b;
	struct prefix p;

	for (int fam = 0; fam < 2; fam++) {
		struct fam *f = &fp->pool->f[fam];

		for (size_t ri = 0; ri < f->nrng; ri++) {
			struct fam_range *r = &f->rng[ri];

			if (r->kind != RANGE_BLOCK ||
			    fabric_listing_predates(fp, res, r->revision))
				continue;
			fabric_range_prefix(fp, fam, r->lo, r->hi, &p);
			if (listed_mine(fp, res, &p, &b)) {
				if (b->revision != r->revision) {
					r->revision = b->revision;
					fabric_store_range(fp, true, "block",
					    &p, r->revision, r->claimed, NULL,
					    NULL);
				}
				continue;
			}
			if (b == NULL)
				fabric_reclaim_own(fp, fam, ri);
			else
				fabric_block_lost(fp, fam, ri--, &b->owner);
		}
	}
}

/*
 * Our block ri is another VTEP's in the datastore (reclaimed from us,
 * then claimed): it leaves the allocator.  What is allocated here in it
 * stays until released, and the holder may hand out the same addresses:
 * a conflict EVPN reports for each address the holder advertises.
 */
void
fabric_block_lost(struct fabric_pool *fp, int fam, size_t ri,
    const struct ipam_fabric_owner *holder)
{
	const struct fam_range *r = &fp->pool->f[fam].rng[ri];
	unsigned long long used = r->used;
	char buf[PREFIX_STRLEN];
	struct prefix p;

	fabric_range_prefix(fp, fam, r->lo, r->hi, &p);
	prefix_fmt(&p, buf, sizeof(buf));
	if (used > 0)
		log_err("ipam: pool %s: block %s is held by %s in the fabric "
		    "datastore; this VTEP no longer allocates there, and its "
		    "%llu allocations in the block stay until released, in "
		    "conflict with %s's", fp->pool->name, buf,
		    holder->router_id, used, holder->router_id);
	else
		log_warn("ipam: pool %s: block %s is held by %s in the fabric "
		    "datastore; this VTEP no longer allocates there",
		    fp->pool->name, buf, holder->router_id);
	fam_range_del(fp->fab->ipam, fp->pool, fam, ri);
	fabric_store_range(fp, false, "block", &p, 0, 0, NULL, NULL);
}

/*
 * Claiming a block of ours again got no answer (it may be applied or
 * not): until a listing says the block is ours, another VTEP may claim
 * it, so the pool reconciles again, from the timer.
 */
void
fabric_restore_failed(struct fabric_pool *fp, const char *why)
{
	if (fp->state == FP_REFUSED)
		return;
	snprintf(fp->error, sizeof(fp->error), "a block of this VTEP is "
	    "missing from the fabric datastore and claiming it again "
	    "failed: %.150s", why);
	fp->state = FP_RECONCILE;
	if (fp->busy)
		fp->restore_failed = true;	/* the reconcile retries */
	else
		fabric_retry_later(fp);
}

static void
reconcile_loans_done(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_pool *fp = arg;

	if (fp->fab->stopped)
		return;
	fp->busy = false;
	if (res->status != 0) {
		fabric_error(fp, "listing loans", res);
		fabric_retry_later(fp);
		return;
	}
	fabric_reconcile_loans(fp, res);
	fp->loans_listed_at = fabric_now(fp->fab);
	if (fp->restore_failed) {
		fp->restore_failed = false;
		fabric_retry_later(fp);
		return;
	}
	fp->state = FP_OK;
	fp->error[0] = '\0';
	fp->backoff = 0;
	log_info("ipam: pool %s: reconciled with the fabric datastore",
	    fp->pool->name);
	fabric_note(fp, IPAM_FABRIC_USABLE, -1, 0, NULL);
	wants_settle(fp, true);
}

static void
reconcile_blocks_done(const struct ipam_fabric_result *res, void *arg)
{
	struct fabric_pool *fp = arg;

	if (fp->fab->stopped)
		return;
	if (res->status != 0) {
		fp->busy = false;
		fabric_error(fp, "listing blocks", res);
		snprintf(fp->error, sizeof(fp->error), "fabric datastore "
		    "unreachable: %.180s", res->error);
		fabric_retry_later(fp);
		return;
	}
	fabric_known_replace(fp, res->blocks, res->nblocks);
	fp->blocks_listed_at = fabric_now(fp->fab);
	for (int fam = 0; fam < 2; fam++) {
		struct prefix p;

		fp->f[fam].full = !fabric_next_free_block(fp, fam, &p);
	}
	fabric_blocks_check(fp, res);
	fabric_adopt_listed(fp, res, false);
	if (fp->fab->ops->loan_list(fp->fab->ds, &fp->key,
	    reconcile_loans_done, fp) == -1) {
		fp->busy = false;
		fabric_retry_later(fp);
	}
}

static void
fabric_reconcile(struct fabric_pool *fp)
{
	fp->busy = true;
	fp->restore_failed = false;
	if (fp->fab->ops->block_list(fp->fab->ds, &fp->key,
	    reconcile_blocks_done, fp) == -1) {
		fp->busy = false;
		fabric_retry_later(fp);
	}
}

/* What the daemon calls */

int
ipam_fabric_usable(struct ipam_fabric *fab, const char *pool, char *why,
    size_t whylen)
{
	struct fabric_pool *fp = fabric_pool_find(fab, pool);

	if (fp == NULL)
		return 0;
	if (fp->state == FP_REFUSED) {
		snprintf(why, whylen, "%s", fp->error);
		errno = EPERM;
		return -1;
	}
	if (!fab->ready) {
		snprintf(why, whylen, "fabric pool %s is not in use yet: the "
		    "BGP sessions have not delivered their initial tables",
		    pool);
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

static void
want_family(struct fabric_pool *fp, int fam)
{
	struct fabric_fam *ff = &fp->f[fam];

	/* A dual request waits for both families: the one that has free
	 * addresses needs nothing. */
	if (fp->pool->f[fam].npfx == 0 || fabric_owned_free(fp, fam) > 0)
		return;
	if (fabric_now(fp->fab) < ff->fail_until) {
		fabric_note(fp, IPAM_FABRIC_FAILED, fam, ff->fail_err, "%s",
		    ff->fail_msg);
		return;
	}
	ff->wanted = true;
	if (fp->state != FP_OK) {
		/* The definition is not checked yet: try now, the answer
		 * (or its failure) decides. */
		if (!fp->busy && fp->state == FP_DEFINE)
			fabric_define(fp);
		else if (!fp->busy && fp->state == FP_RECONCILE)
			fabric_reconcile(fp);
		return;
	}
	fabric_acquire(fp, fam);
}

void
ipam_fabric_want(struct ipam_fabric *fab, const char *pool,
    enum ipam_family family)
{
	struct fabric_pool *fp = fabric_pool_find(fab, pool);

	if (fp == NULL || fp->state == FP_REFUSED || !fab->ready)
		return;
	if (family != IPAM_FAMILY_IPV6)
		want_family(fp, FAM_V4);
	if (family != IPAM_FAMILY_IPV4)
		want_family(fp, FAM_V6);
}

void
ipam_fabric_check(struct ipam_fabric *fab, const char *pool)
{
	struct fabric_pool *fp = fabric_pool_find(fab, pool);

	if (fp != NULL && fp->state == FP_OK && fab->ready)
		fabric_preclaim(fp);
}

static void
pool_tick(struct fabric_pool *fp)
{
	int64_t now = fabric_now(fp->fab);

	if ((fp->state == FP_DEFINE || fp->state == FP_RECONCILE) &&
	    !fp->busy && now >= fp->retry_at) {
		if (fp->state == FP_DEFINE)
			fabric_define(fp);
		else
			fabric_reconcile(fp);
	}
	if (fp->state != FP_OK || !fp->fab->ready)
		return;
	fabric_blocks_refresh(fp);
	fabric_preclaim(fp);
	fabric_idle_release(fp);
	fabric_return_borrowed(fp);
	fabric_loans_tick(fp);
}

void
ipam_fabric_tick(struct ipam_fabric *fab)
{
	struct fabric_pool *fp;

	if (fab->stopped)
		return;
	TAILQ_FOREACH(fp, &fab->pools, link)
		pool_tick(fp);
	fabric_ends_run(fab);
}

/* Views */

static void
view_own(const struct fabric_pool *fp, int fam, const struct fam_range *r,
    ipam_fabric_block_cb *cb, void *arg)
{
	struct ipam_fabric_block_view v;
	uint64_t held = r->used + r->quarantined + r->lent;

	memset(&v, 0, sizeof(v));
	v.pool = fp->pool->name;
	fabric_range_prefix(fp, fam, r->lo, r->hi, &v.prefix);
	v.kind = r->kind == RANGE_BORROWED ? "borrowed" : "block";
	v.mine = true;
	v.owner = fp->me;
	v.claimed = r->claimed;
	v.counted = true;
	v.used = r->used;
	v.lent = r->lent;
	v.free = r->size > held ? r->size - held : 0;
	cb(&v, arg);
}

static void
view_pool_blocks(const struct fabric_pool *fp, ipam_fabric_block_cb *cb,
    void *arg)
{
	struct ipam_fabric_block_view v;

	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < fp->pool->f[fam].nrng; i++)
			if (fp->pool->f[fam].rng[i].kind == RANGE_BLOCK)
				view_own(fp, fam, &fp->pool->f[fam].rng[i], cb,
				    arg);
	for (size_t i = 0; i < fp->nknown; i++) {
		if (fabric_is_me(fp, &fp->known[i].owner))
			continue;
		memset(&v, 0, sizeof(v));
		v.pool = fp->pool->name;
		v.prefix = fp->known[i].prefix;
		v.kind = "block";
		v.owner = fp->known[i].owner;
		v.claimed = fp->known[i].claimed;
		cb(&v, arg);
	}
	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < fp->pool->f[fam].nrng; i++)
			if (fp->pool->f[fam].rng[i].kind == RANGE_BORROWED)
				view_own(fp, fam, &fp->pool->f[fam].rng[i], cb,
				    arg);
}

void
ipam_fabric_blocks(struct ipam_fabric *fab, const char *pool,
    ipam_fabric_block_cb *cb, void *arg)
{
	struct fabric_pool *fp;

	TAILQ_FOREACH(fp, &fab->pools, link)
		if (pool == NULL || strcmp(pool, fp->pool->name) == 0)
			view_pool_blocks(fp, cb, arg);
}

static const char *
state_name(const struct fabric_pool *fp)
{
	switch (fp->state) {
	case FP_DEFINE:
		return "checking definition";
	case FP_RECONCILE:
		return "reconciling";
	case FP_OK:
		return fp->fab->ready ? "ready" : "waiting for BGP";
	case FP_REFUSED:
		return "refused";
	}
	return "?";
}

void
ipam_fabric_pools(struct ipam_fabric *fab,
    void (*cb)(const struct ipam_fabric_pool_view *, void *), void *arg)
{
	struct ipam_pool_stats st;
	struct ipam_fabric_pool_view v;
	struct fabric_pool *fp;

	TAILQ_FOREACH(fp, &fab->pools, link) {
		ipam_pool_stats(fp->pool, &st);
		memset(&v, 0, sizeof(v));
		v.pool = fp->pool->name;
		v.state = state_name(fp);
		v.error = fp->error;
		v.blocks = st.v4.blocks + st.v6.blocks;
		v.borrowed = st.v4.borrowed + st.v6.borrowed;
		v.lent = (size_t)(st.v4.lent + st.v6.lent);
		cb(&v, arg);
	}
}

void
ipam_fabric_stats(const struct ipam_fabric *fab, struct ipam_fabric_stats *st)
{
	const struct fabric_pool *fp;

	*st = fab->st;
	st->borrowed_now = 0;
	TAILQ_FOREACH(fp, &fab->pools, link)
		for (int fam = 0; fam < 2; fam++)
			for (size_t i = 0; i < fp->pool->f[fam].nrng; i++)
				if (fp->pool->f[fam].rng[i].kind ==
				    RANGE_BORROWED)
					st->borrowed_now++;
}

bool
ipam_fabric_ds_status(const struct ipam_fabric *fab,
    struct ipam_fabric_ds_status *st)
{
	memset(st, 0, sizeof(*st));
	if (fab->ops->status == NULL)
		return false;
	fab->ops->status(fab->ds, st);
	return true;
}

bool
ipam_pool_is_fabric(const struct ipam_pool *pool)
{
	return pool->fabric;
}
