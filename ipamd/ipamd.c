/*
 * IPAM in the daemon: config to pools, the store, EVPN advertisement and
 * durable completions.  See ipamd.h for the shape.
 *
 * Ordering: the store commits ops in submission order (one writer, one
 * queue), so a release submitted after an allocation commits after it,
 * and a SYNC completes after everything submitted before it.  The
 * inflight count is what lets an idempotent repeat answer at once when
 * nothing at all is pending.
 */
#include "ipamd/ipamd_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "ipamd/fabricd.h"
#include "ipamd/shadowd.h"
#include "evpn/evpn.h"

/* One submitted change waiting for its commit. */
struct ipamd_op {
	struct ipamd		*im;
	enum ipam_op_kind	 kind;
	struct ipam_alloc	 rec;		/* what was changed; its labels
						 * point to ours: */
	char			*labels;
	char			 prev[IPAM_RESOURCE_MAX + 1]; /* claim */
	bool			 existing;
	double			 wait_s;	/* claim: still converging */
	ipamd_cb		*cb;
	void			*arg;
};

int
ipamd_pool_from_conf(struct ipam *ipam, const struct conf_ipam_pool *cp,
    char *err, size_t errlen)
{
	struct ipam_pool_spec spec;
	int rv;

	spec_from_conf(&spec, cp, false);
	rv = ipam_pool_add(ipam, &spec, err, errlen);
	spec_free(&spec);
	return rv;
}

/* The op keeps the allocation as it was, labels included. */
static struct ipamd_op *
op_new(struct ipamd *im, enum ipam_op_kind kind, const struct ipam_alloc *a)
{
	struct ipamd_op *op = xcalloc(1, sizeof(*op));

	op->im = im;
	op->kind = kind;
	if (a != NULL) {
		op->rec = *a;
		if (a->labels != NULL)
			op->labels = xstrdup(a->labels);
		op->rec.labels = op->labels;
	}
	return op;
}

static void
op_free(struct ipamd_op *op)
{
	free(op->labels);
	free(op);
}

int
ipamd_submit(struct ipamd *im, const struct ipam_op *iop, ipam_done_cb cb,
    void *arg)
{
	if (ipam_store_submit(im->store, iop, cb, arg) == -1) {
		log_warn("ipam: store submission failed: %s", strerror(errno));
		errno = EIO;
		return -1;
	}
	im->inflight++;
	return 0;
}

/* The tenant whose names a pool's allocations take (NULL: none). */
static const char *
pool_tenant(const struct ipamd *im, const char *pool)
{
	const struct ipam_pool *p = ipam_pool_find(im->ipam, pool);

	return p != NULL ? ipam_pool_tenant(p) : NULL;
}

/* ---- completions ---- */

static void
reservation_done(int status, void *arg)
{
	struct ipamd *im = arg;

	im->inflight--;
	if (status != 0)
		log_warn("ipam: recording a configured reservation failed");
}

static void
sync_reservations(struct ipamd *im)
{
	im->inflight += (uint64_t)ipam_store_sync_reservations(im->store,
	    im->ipam, reservation_done, im);
}

/*
 * The claim commit failed: the store has renamed the allocation back to
 * the pre-allocation it was, which the shadow inventory no longer
 * lists; give it back to the pool rather than leak it.
 */
static void
claim_failed(struct ipamd *im, const struct ipamd_op *op)
{
	log_warn("ipam: commit of the claim of pre-allocation %s by %s "
	    "failed", op->prev, op->rec.resource);
	if (ipam_find(im->ipam, op->rec.tenant, op->prev) != NULL &&
	    ipamd_release(im, op->rec.tenant, op->prev, IPAMD_ACTOR_SHADOW,
	    NULL, NULL) == -1)
		log_warn("ipam: releasing %s: %s", op->prev, strerror(errno));
}

static bool
same_alloc(const struct ipam_alloc *a, const struct ipam_alloc *b)
{
	return a != NULL && ipaddr_cmp(&a->ip, &b->ip) == 0 &&
	    ipaddr_cmp(&a->ipv6, &b->ipv6) == 0 && mac_cmp(&a->mac, &b->mac) == 0;
}

static void
op_done(int status, void *arg)
{
	struct ipamd_op *op = arg;
	struct ipamd *im = op->im;
	struct ipamd_result res = { .status = status,
	    .existing = op->existing };

	im->inflight--;
	switch (op->kind) {
	case IPAM_OP_ALLOC:
		/* A failed one is gone from memory already (the store). */
		if (status != 0)
			break;
		/* Answer with what was committed; advertise it only if it
		 * is still what the name holds (it may have been released,
		 * even re-allocated, while the commit was under way). */
		res.alloc = &op->rec;
		if (same_alloc(ipam_find(im->ipam, op->rec.tenant,
		    op->rec.resource), &op->rec)) {
			evpn_ipam_advertise(im->evpn, &op->rec);
			dnsreg_alloc(im, &op->rec);
		}
		break;
	case IPAM_OP_CLAIM:
		/* Same MAC and addresses: the route is already out. */
		if (status != 0) {
			claim_failed(im, op);
			break;
		}
		res.alloc = ipam_find(im->ipam, op->rec.tenant,
		    op->rec.resource);
		res.preallocated = true;
		res.wait_s = op->wait_s;
		if (res.alloc != NULL)
			dnsreg_alloc(im, res.alloc);
		break;
	case IPAM_OP_SYNC:
		/* The first commit of an existing allocation was pending:
		 * it is durable now unless it failed and was undone. */
		res.alloc = ipam_find(im->ipam, op->rec.tenant,
		    op->rec.resource);
		if (status == 0 && res.alloc == NULL)
			res.status = -1;
		break;
	case IPAM_OP_RELEASE:
		/* A failed one is allocated again (the store): its route
		 * was never withdrawn. */
		res.released = &op->rec;
		if (status == 0) {
			evpn_ipam_withdraw(im->evpn, &op->rec);
			dnsreg_release(im, op->rec.pool, op->rec.resource);
		}
		break;
	default:
		break;
	}
	if (op->cb != NULL)
		op->cb(&res, op->arg);
	op_free(op);
}

static int
op_submit(struct ipamd *im, struct ipamd_op *op, const struct ipam_op *iop)
{
	if (ipamd_submit(im, iop, op_done, op) == -1) {
		op_free(op);
		return -1;
	}
	return 0;
}

static int
allocate_plain(struct ipamd *im, const char *pool,
    const struct ipam_request *req, const char *actor, ipamd_cb *cb,
    void *arg)
{
	const struct ipam_alloc *a;
	struct ipamd_op *op;
	struct ipam_op iop;
	bool existing = false;

	if (ipam_allocate(im->ipam, pool, req, &a, &existing) == -1)
		return -1;
	if (existing && im->inflight == 0) {
		struct ipamd_result res = { .status = 0, .existing = true,
		    .alloc = a };

		cb(&res, arg);
		return 0;
	}
	op = op_new(im, IPAM_OP_ALLOC, a);
	op->existing = existing;
	op->cb = cb;
	op->arg = arg;
	memset(&iop, 0, sizeof(iop));
	if (existing) {
		op->kind = iop.kind = IPAM_OP_SYNC;
	} else {
		op->kind = IPAM_OP_ALLOC;
		ipam_op_alloc(&iop, a, actor);
	}
	if (op_submit(im, op, &iop) == -1) {
		if (!existing)
			ipam_release(im->ipam, a->tenant, req->resource, NULL,
			    NULL);
		return -1;
	}
	return 0;
}

/* a was just claimed from the pre-allocation prev: commit the rename. */
static int
claim_submit(struct ipamd *im, const struct ipam_alloc *a, const char *prev,
    double wait_s, const char *actor, ipamd_cb *cb, void *arg)
{
	struct ipamd_op *op = op_new(im, IPAM_OP_CLAIM, a);
	struct ipam_op iop;

	strlcpy_s(op->prev, prev, sizeof(op->prev));
	op->wait_s = wait_s;
	op->cb = cb;
	op->arg = arg;
	ipam_op_claim(&iop, a, prev, actor);
	if (op_submit(im, op, &iop) == -1) {
		ipam_release(im->ipam, a->tenant, a->resource, NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * A new request in a pool with a shadow inventory: take a
 * pre-allocation when one fits (the shadow issue §3), else allocate
 * fresh; either way tell the engine how the request was served.
 */
static int
allocate_shadow(struct ipamd *im, struct shadowd_pool *sp, const char *pool,
    const struct ipam_request *req, const char *actor, ipamd_cb *cb,
    void *arg)
{
	char prev[IPAM_RESOURCE_MAX + 1];
	const char *tenant = pool_tenant(im, pool);
	const struct ipam_alloc *a;
	double wait_s;

	if (shadowd_take(sp, req, prev, sizeof(prev), &wait_s)) {
		if (ipam_claim(im->ipam, tenant, prev, req->resource, &a) ==
		    0) {
			/* Canonical (checked): this cannot fail. */
			ipam_set_labels(im->ipam, tenant, req->resource,
			    req->labels);
			shadowd_served(sp, true, wait_s);
			return claim_submit(im, a, prev, wait_s, actor, cb,
			    arg);
		}
		/* Not expected (it left the list with its allocation):
		 * give it back to the pool rather than leak it. */
		log_warn("ipam: cannot claim pre-allocation %s: %s", prev,
		    strerror(errno));
		ipamd_release(im, tenant, prev, IPAMD_ACTOR_SHADOW, NULL,
		    NULL);
	}
	if (allocate_plain(im, pool, req, actor, cb, arg) == -1)
		return -1;
	shadowd_served(sp, false, shadowd_lead_s(sp));
	return 0;
}

static bool
labels_same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Would this request, repeated, get this allocation?  (Idempotent only
 * for the same question.) */
static bool
repeat_matches(const struct ipam_alloc *a, const struct ipam_request *req)
{
	bool v4 = ipaddr_is_set(&a->ip), v6 = ipaddr_is_set(&a->ipv6);

	if (a->preallocated != req->preallocated)
		return false;	/* a client cannot name a pre-allocation */
	if (req->mac != NULL && mac_cmp(req->mac, &a->mac) != 0)
		return false;
	if ((req->ip.af != 0 && ipaddr_cmp(&req->ip, &a->ip) != 0) ||
	    (req->ipv6.af != 0 && ipaddr_cmp(&req->ipv6, &a->ipv6) != 0) ||
	    !labels_same(req->labels, a->labels))
		return false;
	switch (req->family) {
	case IPAM_FAMILY_IPV4:
		return v4 && !v6;
	case IPAM_FAMILY_IPV6:
		return v6 && !v4;
	case IPAM_FAMILY_DUAL:
		return v4 && v6;
	}
	return false;
}

int
ipamd_allocate_fresh(struct ipamd *im, const char *pool,
    const struct ipam_request *req, const char *actor, ipamd_cb *cb,
    void *arg)
{
	const struct ipam_alloc *ex = ipam_find(im->ipam, pool_tenant(im, pool),
	    req->resource);
	struct shadowd_pool *sp;

	/* A pre-allocation has its own addresses: not for one asking. */
	if (!req->preallocated && ex == NULL && req->ip.af == 0 &&
	    req->ipv6.af == 0 &&
	    (sp = shadowd_pool(im->shadowd, pool)) != NULL)
		return allocate_shadow(im, sp, pool, req, actor, cb, arg);
	return allocate_plain(im, pool, req, actor, cb, arg);
}

int
ipamd_allocate(struct ipamd *im, const char *pool,
    const struct ipam_request *req, const char *actor, ipamd_cb *cb,
    void *arg)
{
	const struct ipam_alloc *ex = ipam_find(im->ipam, pool_tenant(im, pool),
	    req->resource);

	if (ex != NULL && !repeat_matches(ex, req)) {
		errno = EEXIST;
		return -1;
	}
	if (rt_pool_busy(im, pool)) {
		errno = EAGAIN;
		return -1;
	}
	if (!ipam_labels_canonical(req->labels)) {
		errno = EINVAL;
		return -1;
	}
	/* A new resource of a fabric pool may have to wait for a block. */
	if (ex == NULL && fabricd_handles(im->fabricd, pool))
		return fabricd_allocate(im->fabricd, pool, req, actor, cb,
		    arg);
	return ipamd_allocate_fresh(im, pool, req, actor, cb, arg);
}

int
ipamd_release(struct ipamd *im, const char *tenant, const char *resource,
    const char *actor, ipamd_cb *cb, void *arg)
{
	struct ipamd_op *op = op_new(im, IPAM_OP_RELEASE, NULL);
	const struct ipam_alloc *ex = ipam_find(im->ipam, tenant, resource);
	char *labels = ex != NULL && ex->labels != NULL ?
	    xstrdup(ex->labels) : NULL;
	struct ipam_op iop;
	int64_t until;

	if (ipam_release(im->ipam, tenant, resource, &op->rec, &until) ==
	    -1) {
		free(labels);
		op_free(op);
		return -1;
	}
	if (op->rec.preallocated)
		shadowd_forget(im->shadowd, resource);
	else {
		/* The shadow groups go by the labels the release freed. */
		op->rec.labels = labels;
		shadowd_on_release(im->shadowd, &op->rec);
		op->rec.labels = NULL;
	}
	free(labels);
	op->cb = cb;
	op->arg = arg;
	ipam_op_release(&iop, &op->rec, until, actor);
	return op_submit(im, op, &iop);
}

/* ---- life cycle ---- */

static int
restore_advertise(const struct ipam_alloc *a, void *arg)
{
	struct ipamd *im = arg;

	evpn_ipam_advertise(im->evpn, a);
	return 0;
}

/* DNS settings of the config's pools and the run-time ones (their
 * allocations are registered again: an update replaces). */
static void
dns_pools(struct ipamd *im, const struct config *conf)
{
	const struct conf_ipam_pool *cp;
	const struct rt_pool *rp;

	TAILQ_FOREACH(cp, &conf->ipam_pools, entry)
		dnsreg_pool(im, cp->name, &cp->dns);
	TAILQ_FOREACH(rp, &im->rt_pools, entry)
		if (rp->def != NULL)	/* not one still being created */
			dnsreg_pool(im, rp->name,
			    &TAILQ_FIRST(&rp->def->ipam_pools)->dns);
}

static void
churn_hook(void *arg, uint32_t vni, enum evpn_churn kind)
{
	struct ipamd *im = arg;

	shadowd_churn(im->shadowd, vni, (int)kind);
}

/*
 * A pool whose mac-prefix forms one of this VTEP's router or bridge MACs
 * among its first IPAMD_RMAC_WARN_RANK MACs: not an error (the allocator
 * never hands such a MAC out), but the operator likely meant another
 * prefix (02:00:0a next to router id 10.0.0.11 forms it 11th).  A short
 * prefix such as the default 02 forms it only after billions and is not
 * worth a warning.  Said at each config load.
 */
#define IPAMD_RMAC_WARN_RANK	65536

static void
router_mac_warn(const struct ipamd *im)
{
	const struct macaddr *own;
	size_t n = evpn_own_macs(im->evpn, &own);
	char m[MAC_STRLEN];
	int64_t rank;

	for (struct ipam_pool *p = ipam_pool_first(im->ipam); p;
	    p = ipam_pool_next(p)) {
		for (size_t i = 0; i < n; i++) {
			rank = ipam_pool_mac_rank(p, &own[i]);
			if (rank < 0 || rank >= IPAMD_RMAC_WARN_RANK)
				continue;
			log_warn("ipam pool %s: its mac-prefix forms %s, the "
			    "router MAC of this VTEP, as its MAC number "
			    "%lld; that MAC is never handed out",
			    ipam_pool_name(p), mac_fmt(&own[i], m, sizeof(m)),
			    (long long)rank + 1);
		}
	}
}

static int
pools_add(struct ipam *ipam, const struct config *conf,
    const struct config *skip, char *err, size_t errlen)
{
	const struct conf_ipam_pool *cp;
	char perr[256];

	TAILQ_FOREACH(cp, &conf->ipam_pools, entry) {
		if (skip != NULL && conf_ipam_pool_find(skip, cp->name))
			continue;
		if (ipamd_pool_from_conf(ipam, cp, perr, sizeof(perr)) == -1) {
			snprintf(err, errlen, "ipam pool %s: %s", cp->name,
			    perr);
			return -1;
		}
	}
	return 0;
}

struct ipamd *
ipamd_create(struct event_base *base, struct evpn *evpn,
    const struct config *conf, const char *state_dir, char *err,
    size_t errlen)
{
	struct ipamd *im = xcalloc(1, sizeof(*im));
	const struct rt_pool *rp;
	size_t n = 0;
	int saved = EINVAL;

	im->base = base;
	im->evpn = evpn;
	im->conf = conf;
	im->ipam = ipam_new();
	TAILQ_INIT(&im->rt_pools);
	if (pools_add(im->ipam, conf, NULL, err, errlen) == -1)
		goto fail;
	if ((im->store = ipam_store_open_with(state_dir, base, im->ipam,
	    rt_pool_load, im, err, errlen)) == NULL) {
		saved = errno;
		goto fail;
	}
	sync_reservations(im);
	evpn_set_ipam(evpn, im->ipam);
	router_mac_warn(im);
	ipam_foreach(im->ipam, NULL, restore_advertise, im);
	im->dns = dnsreg_create(base);
	dns_pools(im, conf);
	im->shadowd = shadowd_create(base, im, conf);
	TAILQ_FOREACH(rp, &im->rt_pools, entry)
		rt_pool_shadow(im, rp);
	evpn_set_churn_hook(evpn, churn_hook, im);
	for (struct ipam_pool *p = ipam_pool_first(im->ipam); p;
	    p = ipam_pool_next(p))
		n++;
	log_info("ipam: %zu pools, store %s", n, ipam_store_path(im->store));
	return im;
fail:
	rt_pools_free(im);
	ipam_free(im->ipam);
	free(im);
	errno = saved;
	return NULL;
}

void
ipamd_drain(struct ipamd *im)
{
	if (im == NULL)
		return;
	fabricd_stop(im->fabricd);
	ipam_store_flush(im->store);
}

void
ipamd_free(struct ipamd *im)
{
	if (im == NULL)
		return;
	/* Closing runs the callbacks still queued: shadowd and the fabric
	 * manager ignore them. */
	shadowd_stop(im->shadowd);
	fabricd_stop(im->fabricd);
	ipam_store_close(im->store);
	fabricd_free(im->fabricd);
	shadowd_free(im->shadowd);
	dnsreg_free(im->dns);
	rt_pools_free(im);
	ipam_free(im->ipam);
	free(im);
}

void
ipamd_fabric_attach(struct ipamd *im, struct event_base *base,
    const struct config *conf, const struct ipam_fabric_ops *ops, void *ds,
    const struct ipam_fabric_owner *me)
{
	im->fabricd = fabricd_create(im, base, conf, ops, ds, me);
}

void
ipamd_fabric_ready(struct ipamd *im)
{
	if (im != NULL && im->fabricd != NULL)
		ipam_fabric_set_ready(fabricd_fabric(im->fabricd));
}

struct ipam_fabric *
ipamd_fabric(const struct ipamd *im)
{
	return im != NULL ? fabricd_fabric(im->fabricd) : NULL;
}

struct ipam *
ipamd_ipam(const struct ipamd *im)
{
	return im->ipam;
}

struct ipam_store *
ipamd_store(const struct ipamd *im)
{
	return im->store;
}

struct shadowd *
ipamd_shadowd(const struct ipamd *im)
{
	return im->shadowd;
}

/* ---- reload ---- */

static bool
prefixes_differ(const struct conf_prefix_list *a,
    const struct conf_prefix_list *b)
{
	const struct conf_prefix *x = TAILQ_FIRST(a), *y = TAILQ_FIRST(b);

	for (; x && y; x = TAILQ_NEXT(x, entry), y = TAILQ_NEXT(y, entry))
		if (prefix_cmp(&x->prefix, &y->prefix) != 0)
			return true;
	return x != y;
}

static bool
ranges_differ(const struct conf_ipam_range_list *a,
    const struct conf_ipam_range_list *b)
{
	const struct conf_ipam_range *x = TAILQ_FIRST(a), *y = TAILQ_FIRST(b);

	for (; x && y; x = TAILQ_NEXT(x, entry), y = TAILQ_NEXT(y, entry))
		if (ipaddr_cmp(&x->lo, &y->lo) != 0 ||
		    ipaddr_cmp(&x->hi, &y->hi) != 0)
			return true;
	return x != y;
}

static bool
reserves_differ(const struct conf_ipam_reserve_list *a,
    const struct conf_ipam_reserve_list *b)
{
	const struct conf_ipam_reserve *x = TAILQ_FIRST(a);
	const struct conf_ipam_reserve *y = TAILQ_FIRST(b);

	for (; x && y; x = TAILQ_NEXT(x, entry), y = TAILQ_NEXT(y, entry))
		if (ipaddr_cmp(&x->ip, &y->ip) != 0 ||
		    strcmp(x->name, y->name) != 0)
			return true;
	return x != y;
}

static bool
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* What changed in a pool, or NULL when nothing the allocator uses did. */
static const char *
pool_change(const struct conf_ipam_pool *a, const struct conf_ipam_pool *b)
{
	if (str_differ(a->tenant, b->tenant))
		return "tenant";
	if (a->vni != b->vni)
		return "vni";
	if (prefixes_differ(&a->prefixes, &b->prefixes))
		return "prefixes";
	if (ipaddr_cmp(&a->gateway4, &b->gateway4) != 0 ||
	    ipaddr_cmp(&a->gateway6, &b->gateway6) != 0)
		return "gateway";
	if (ranges_differ(&a->excludes, &b->excludes))
		return "excludes";
	if (a->quarantine != b->quarantine)
		return "quarantine";
	if (a->mac_prefix_len != b->mac_prefix_len ||
	    memcmp(a->mac_prefix, b->mac_prefix, a->mac_prefix_len) != 0)
		return "mac-prefix";
	/* The allocator has no way to drop a reservation it holds. */
	if (reserves_differ(&a->reserves, &b->reserves))
		return "reservations";
	return NULL;
}

int
ipamd_reload_check(const struct ipamd *im, const struct config *running,
    const struct config *next, char *err, size_t errlen)
{
	const struct conf_ipam_pool *cp, *np;
	const char *what;
	struct ipam *scratch;
	char why[256];
	int rc;

	TAILQ_FOREACH(np, &next->ipam_pools, entry) {
		if (im == NULL || conf_ipam_pool_find(running, np->name))
			continue;
		if (rt_pool_find(im, np->name) != NULL) {
			snprintf(err, errlen, "ipam pool %s was made at run "
			    "time: delete it over the API first", np->name);
			return -1;
		}
		if (rt_pools_conflict(im, np, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "ipam pool %s: %s", np->name,
			    why);
			return -1;
		}
	}
	if (fabricd_reload_check(running, next, err, errlen) == -1)
		return -1;
	TAILQ_FOREACH(cp, &running->ipam_pools, entry) {
		if ((np = conf_ipam_pool_find(next, cp->name)) == NULL) {
			snprintf(err, errlen, "ipam pool %s removed: restart "
			    "evpnd to apply", cp->name);
			return -1;
		}
		if ((what = pool_change(cp, np)) != NULL) {
			snprintf(err, errlen, "ipam pool %s changed (%s): "
			    "restart evpnd to apply", cp->name, what);
			return -1;
		}
	}
	/* The new pools must build; trying them all on a scratch allocator
	 * catches what ipam_pool_add() refuses before anything changes. */
	scratch = ipam_new();
	rc = pools_add(scratch, next, NULL, err, errlen);
	ipam_free(scratch);
	return rc;
}

void
ipamd_reload_apply(struct ipamd *im, const struct config *running,
    const struct config *next)
{
	char err[512];

	if (pools_add(im->ipam, next, running, err, sizeof(err)) == -1)
		fatalx("ipam: %s after its check", err);
	im->conf = next;
	dns_pools(im, next);
	sync_reservations(im);
	router_mac_warn(im);
	shadowd_reload(im->shadowd, next);
}
