/*
 * Pools made, changed and deleted at run time (the API's admin calls),
 * and their reservations.
 *
 * How this works: a definition is a struct config holding one "ipam
 * pool" block, parsed from text by conf/ exactly as the config file is,
 * so a pool made over the API obeys the same grammar and checks.  A
 * change is validated first (the block builds as an ipam pool, its
 * prefixes overlap no other pool of its tenant, its VNI is its own,
 * every live allocation fits it), then committed: the pool's canonical
 * text goes to the store's pools table with an audit record, and only
 * once that is durable does the allocator change (pool added, reshaped
 * or removed).  While a change of a pool commits, the pool takes no
 * allocation (ipamd_allocate answers EAGAIN), so what was validated is
 * still true when it is applied; releases go on (they only free).  A
 * failed commit changes nothing.  At start the store hands the stored
 * definitions back (rt_pool_load) before it restores allocations.
 *
 * Pools of the config file are read-only here: their definition is the
 * file's (EPERM; the API names the file and the line).
 */
#include "ipamd/ipamd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "ipamd/shadowd.h"

struct pool_op {
	struct ipamd		*im;
	struct rt_pool		*rp;
	ipamd_pool_cb		*cb;
	void			*arg;
};

/* Specs */

void
spec_from_conf(struct ipam_pool_spec *spec, const struct conf_ipam_pool *cp,
    bool runtime)
{
	const struct conf_prefix *pfx;
	const struct conf_ipam_range *r;
	const struct conf_ipam_reserve *res;
	struct prefix *prefixes;
	struct ipam_range *ranges;
	struct ipam_reservation *resv;
	size_t n[3] = { 0, 0, 0 };

	TAILQ_FOREACH(pfx, &cp->prefixes, entry)
		n[0]++;
	TAILQ_FOREACH(r, &cp->excludes, entry)
		n[1]++;
	TAILQ_FOREACH(res, &cp->reserves, entry)
		n[2]++;
	prefixes = xcalloc(n[0] + 1, sizeof(*prefixes));
	ranges = xcalloc(n[1] + 1, sizeof(*ranges));
	resv = xcalloc(n[2] + 1, sizeof(*resv));
	memset(spec, 0, sizeof(*spec));
	spec->name = cp->name;
	spec->tenant = cp->tenant;
	spec->vni = cp->vni;
	spec->gateway4 = cp->gateway4;
	spec->gateway6 = cp->gateway6;
	spec->quarantine = cp->quarantine;
	memcpy(spec->mac_prefix, cp->mac_prefix, cp->mac_prefix_len);
	spec->mac_prefix_len = cp->mac_prefix_len;
	spec->fabric = cp->scope == CONF_IPAM_SCOPE_FABRIC;
	spec->block_size = cp->block_size;
	spec->borrow = cp->borrow;
	spec->idle_release = cp->block_idle_release;
	spec->runtime = runtime;
	TAILQ_FOREACH(pfx, &cp->prefixes, entry)
		prefixes[spec->nprefixes++] = pfx->prefix;
	TAILQ_FOREACH(r, &cp->excludes, entry) {
		ranges[spec->nexcludes].lo = r->lo;
		ranges[spec->nexcludes++].hi = r->hi;
	}
	TAILQ_FOREACH(res, &cp->reserves, entry) {
		resv[spec->nreservations].ip = res->ip;
		strlcpy_s(resv[spec->nreservations++].name, res->name,
		    sizeof(resv[0].name));
	}
	spec->prefixes = prefixes;
	spec->excludes = ranges;
	spec->reservations = resv;
}

void
spec_free(struct ipam_pool_spec *spec)
{
	free((void *)spec->prefixes);
	free((void *)spec->excludes);
	free((void *)spec->reservations);
}

/* The one pool of a definition. */
static struct conf_ipam_pool *
def_pool(const struct config *def)
{
	return def != NULL ? TAILQ_FIRST(&def->ipam_pools) : NULL;
}

/* The one pool of a definition, named name when name is given; NULL
 * (EINVAL, err) when it holds anything else. */
static struct conf_ipam_pool *
def_single(const struct config *def, const char *name, char *err,
    size_t errlen)
{
	struct conf_ipam_pool *cp = def_pool(def);

	if (cp != NULL && TAILQ_NEXT(cp, entry) == NULL &&
	    (name == NULL || strcmp(cp->name, name) == 0))
		return cp;
	snprintf(err, errlen, "a definition holds one 'ipam pool' block%s%s",
	    name ? " named " : "", name ? name : "");
	errno = EINVAL;
	return NULL;
}

/* Parse a definition's text: one pool, named name when name is given. */
static struct config *
def_parse(const char *text, const char *name, char *err, size_t errlen)
{
	struct config *def = conf_parse_string(text, "definition", err,
	    errlen);

	if (def != NULL && def_single(def, name, err, errlen) == NULL) {
		conf_free(def);
		return NULL;
	}
	return def;
}

/* Lookups */

struct rt_pool *
rt_pool_find(const struct ipamd *im, const char *name)
{
	struct rt_pool *rp;

	TAILQ_FOREACH(rp, &im->rt_pools, entry)
		if (strcmp(rp->name, name) == 0)
			return rp;
	return NULL;
}

bool
rt_pool_busy(const struct ipamd *im, const char *name)
{
	const struct rt_pool *rp = rt_pool_find(im, name);

	return rp != NULL && rp->state != RT_POOL_READY;
}

const struct conf_ipam_pool *
ipamd_pool_definition(const struct ipamd *im, const char *name,
    bool *runtime)
{
	const struct rt_pool *rp = rt_pool_find(im, name);

	*runtime = rp != NULL;
	if (rp != NULL)
		return def_pool(rp->def);
	return im->conf != NULL ? conf_ipam_pool_find(im->conf, name) : NULL;
}

static void
rt_pool_free(struct rt_pool *rp)
{
	conf_free(rp->def);
	conf_free(rp->next);
	free(rp);
}

void
rt_pools_free(struct ipamd *im)
{
	struct rt_pool *rp;

	while ((rp = TAILQ_FIRST(&im->rt_pools)) != NULL) {
		TAILQ_REMOVE(&im->rt_pools, rp, entry);
		rt_pool_free(rp);
	}
}

/* Loading at start */

static int	conflicts(const struct ipamd *, const struct conf_ipam_pool *,
		    char *, size_t);

int
rt_pool_load(const char *name, const char *definition, void *arg)
{
	struct ipamd *im = arg;
	struct ipam_pool_spec spec;
	struct rt_pool *rp;
	struct config *def;
	char err[512];
	int rv;

	if (im->conf != NULL && conf_ipam_pool_find(im->conf, name) != NULL) {
		log_warn("ipam: pool %s is in the config file now; its "
		    "definition made at run time is ignored", name);
		return -1;
	}
	if ((def = def_parse(definition, name, err, sizeof(err))) == NULL) {
		log_warn("ipam: pool %s made at run time: %s", name, err);
		return -1;
	}
	/* The config file may have gained a pool that meets this one
	 * while evpnd was stopped: two pools must not hand out one
	 * address, and the file wins. */
	if (conflicts(im, def_pool(def), err, sizeof(err)) == -1)
		rv = -1;
	else {
		spec_from_conf(&spec, def_pool(def), true);
		rv = ipam_pool_add(im->ipam, &spec, err, sizeof(err));
		spec_free(&spec);
	}
	if (rv == -1) {
		log_warn("ipam: pool %s made at run time: %s", name, err);
		conf_free(def);
		return -1;
	}
	rp = xcalloc(1, sizeof(*rp));
	strlcpy_s(rp->name, name, sizeof(rp->name));
	rp->def = def;
	TAILQ_INSERT_TAIL(&im->rt_pools, rp, entry);
	return 0;
}

/* Checks against the other pools */

static const char *
tenant_of(const char *tenant)
{
	return tenant != NULL ? tenant : "default";
}

/* cp against one other pool: its VNI and, in one tenant, prefixes. */
static int
conflict_with(const struct conf_ipam_pool *cp, const char *name,
    const char *tenant, uint32_t vni, const struct prefix *pfx, size_t n,
    char *err, size_t errlen)
{
	const struct conf_prefix *c;
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	if (cp->vni != 0 && cp->vni == vni) {
		snprintf(err, errlen, "vni %u is already used by ipam pool %s",
		    vni, name);
		return -1;
	}
	if (strcmp(tenant_of(cp->tenant), tenant_of(tenant)) != 0)
		return 0;
	TAILQ_FOREACH(c, &cp->prefixes, entry) {
		for (size_t i = 0; i < n; i++) {
			if (!prefix_overlap(&c->prefix, &pfx[i]))
				continue;
			snprintf(err, errlen, "prefix %s overlaps prefix %s of "
			    "ipam pool %s (tenant %s)", prefix_fmt(&c->prefix,
			    a, sizeof(a)), prefix_fmt(&pfx[i], b, sizeof(b)),
			    name, tenant_of(tenant));
			return -1;
		}
	}
	return 0;
}

/* Pools in the allocator, and pools being created. */
static int
conflicts(const struct ipamd *im, const struct conf_ipam_pool *cp,
    char *err, size_t errlen)
{
	const struct ipam_pool *p;
	const struct rt_pool *rp;
	const struct prefix *pfx;
	struct ipam_pool_spec spec;
	size_t n;
	int rv = 0;

	for (p = ipam_pool_first(im->ipam); p && rv == 0;
	    p = ipam_pool_next(p)) {
		if (strcmp(ipam_pool_name(p), cp->name) == 0)
			continue;
		n = ipam_pool_prefixes(p, &pfx);
		rv = conflict_with(cp, ipam_pool_name(p), ipam_pool_tenant(p),
		    ipam_pool_vni(p), pfx, n, err, errlen);
	}
	TAILQ_FOREACH(rp, &im->rt_pools, entry) {
		if (rv != 0 || rp->state != RT_POOL_CREATING)
			continue;
		spec_from_conf(&spec, def_pool(rp->next), true);
		rv = conflict_with(cp, rp->name, spec.tenant, spec.vni,
		    spec.prefixes, spec.nprefixes, err, errlen);
		spec_free(&spec);
	}
	if (rv != 0)
		errno = EADDRINUSE;
	return rv;
}

/* A pool new in the config file against every pool made at run time,
 * settled or being changed: a reload must not let two pools share an
 * address or a VNI (the API refuses the same through conflicts()). */
int
rt_pools_conflict(const struct ipamd *im, const struct conf_ipam_pool *cp,
    char *err, size_t errlen)
{
	const struct rt_pool *rp;
	struct ipam_pool_spec spec;
	int rv = 0;

	TAILQ_FOREACH(rp, &im->rt_pools, entry) {
		const struct config *defs[2] = { rp->def, rp->next };

		for (size_t i = 0; i < 2 && rv == 0; i++) {
			if (defs[i] == NULL)
				continue;
			spec_from_conf(&spec, def_pool(defs[i]), true);
			rv = conflict_with(cp, rp->name, spec.tenant, spec.vni,
			    spec.prefixes, spec.nprefixes, err, errlen);
			spec_free(&spec);
		}
		if (rv != 0)
			return -1;
	}
	return 0;
}

/* The definition builds, fits the live allocations, meets no other. */
static int
def_check(struct ipamd *im, const struct conf_ipam_pool *cp, char *err,
    size_t errlen)
{
	struct ipam_pool_spec spec;
	uint64_t blocking;
	int rv;

	spec_from_conf(&spec, cp, true);
	rv = ipam_pool_check(im->ipam, &spec, &blocking, err, errlen);
	spec_free(&spec);
	if (rv == -1)
		return -1;
	return conflicts(im, cp, err, errlen);
}

/* Name taken by the config (EPERM) or by a run-time pool (EEXIST). */
static int
name_free(const struct ipamd *im, const char *name, char *err,
    size_t errlen)
{
	if (im->conf != NULL && conf_ipam_pool_find(im->conf, name) != NULL) {
		snprintf(err, errlen, "ipam pool %s is defined in the config "
		    "file", name);
		errno = EPERM;
		return -1;
	}
	if (rt_pool_find(im, name) != NULL ||
	    ipam_pool_find(im->ipam, name) != NULL) {
		snprintf(err, errlen, "ipam pool %s already exists", name);
		errno = EEXIST;
		return -1;
	}
	return 0;
}

/* A run-time pool ready for a change (EPERM, ENOENT, EAGAIN). */
static struct rt_pool *
rt_pool_ready(const struct ipamd *im, const char *name, char *err,
    size_t errlen)
{
	struct rt_pool *rp = rt_pool_find(im, name);

	if (rp == NULL && im->conf != NULL &&
	    conf_ipam_pool_find(im->conf, name) != NULL) {
		snprintf(err, errlen, "ipam pool %s is defined in the config "
		    "file", name);
		errno = EPERM;
	} else if (rp == NULL) {
		snprintf(err, errlen, "no such pool %s", name);
		errno = ENOENT;
	} else if (rp->state != RT_POOL_READY) {
		snprintf(err, errlen, "a change of ipam pool %s is being "
		    "committed; retry", name);
		errno = EAGAIN;
	} else
		return rp;
	return NULL;
}

/* Commit, then apply */

/* The shadow inventory as the pool's definition says (shadowd.h). */
void
rt_pool_shadow(struct ipamd *im, const struct rt_pool *rp)
{
	const struct conf_ipam_pool *cp = def_pool(rp->def);

	if (cp != NULL && shadowd_pool_set(im->shadowd, rp->name,
	    cp->has_shadow ? &cp->shadow : NULL) == -1)
		log_warn("ipam: pool %s: its shadow inventory is not on: %s",
		    rp->name, strerror(errno));
}

static void
pool_apply(struct ipamd *im, struct rt_pool *rp)
{
	struct ipam_pool_spec spec;
	char err[512];
	int rv = 0;

	switch (rp->state) {
	case RT_POOL_CREATING:
	case RT_POOL_UPDATING:
		spec_from_conf(&spec, def_pool(rp->next), true);
		rv = rp->state == RT_POOL_CREATING ? ipam_pool_add(im->ipam,
		    &spec, err, sizeof(err)) : ipam_pool_change(im->ipam,
		    &spec, err, sizeof(err));
		spec_free(&spec);
		conf_free(rp->def);
		rp->def = rp->next;
		rp->next = NULL;
		rp->state = RT_POOL_READY;
		dnsreg_pool(im, rp->name, &def_pool(rp->def)->dns);
		rt_pool_shadow(im, rp);
		break;
	case RT_POOL_DELETING:
		rv = ipam_pool_remove(im->ipam, rp->name, NULL);
		snprintf(err, sizeof(err), "%s", strerror(errno));
		dnsreg_pool_gone(im, rp->name);
		ipam_store_shadow_forget(im->store, rp->name);
		TAILQ_REMOVE(&im->rt_pools, rp, entry);
		rt_pool_free(rp);
		break;
	default:
		break;
	}
	/* Not expected: it was checked and nothing was allocated since. */
	if (rv == -1)
		log_warn("ipam: a committed change of a pool could not be "
		    "applied: %s", err);
}

static void
pool_op_done(int status, void *arg)
{
	struct pool_op *po = arg;
	struct ipamd *im = po->im;
	struct rt_pool *rp = po->rp;

	im->inflight--;
	if (status == 0)
		pool_apply(im, rp);
	else if (rp->state == RT_POOL_CREATING) {
		TAILQ_REMOVE(&im->rt_pools, rp, entry);
		rt_pool_free(rp);
	} else {
		/* A deletion turned the shadow inventory off first. */
		if (rp->state == RT_POOL_DELETING)
			rt_pool_shadow(im, rp);
		conf_free(rp->next);
		rp->next = NULL;
		rp->state = RT_POOL_READY;
	}
	if (status != 0)
		log_warn("ipam: a change of a pool was not committed; nothing "
		    "changed");
	if (po->cb != NULL)
		po->cb(status, po->arg);
	free(po);
}

/* Submit the pool's next definition (NULL: its deletion). */
static int
pool_submit(struct ipamd *im, struct rt_pool *rp, const char *audit_op,
    const struct ipam_reservation *res, const char *actor,
    ipamd_pool_cb *cb, void *arg)
{
	struct pool_op *po = xcalloc(1, sizeof(*po));
	struct ipam_op op;
	char *text = NULL;
	int rv;

	if (rp->next != NULL)
		text = conf_ipam_pool_text(def_pool(rp->next), false);
	ipam_op_pool(&op, text != NULL ? IPAM_OP_POOL_PUT : IPAM_OP_POOL_DEL,
	    rp->name, text, audit_op, actor);
	if (res != NULL)
		op.reservation = *res;
	po->im = im;
	po->rp = rp;
	po->cb = cb;
	po->arg = arg;
	rv = ipamd_submit(im, &op, pool_op_done, po);
	free(text);
	if (rv == -1)
		free(po);
	return rv;
}

int
ipamd_pool_create(struct ipamd *im, struct config *def, const char *actor,
    ipamd_pool_cb *cb, void *arg, char *err, size_t errlen)
{
	struct conf_ipam_pool *cp = def_single(def, NULL, err, errlen);
	struct rt_pool *rp;

	if (cp == NULL || name_free(im, cp->name, err, errlen) == -1 ||
	    def_check(im, cp, err, errlen) == -1)
		return -1;
	rp = xcalloc(1, sizeof(*rp));
	strlcpy_s(rp->name, cp->name, sizeof(rp->name));
	rp->next = def;
	rp->state = RT_POOL_CREATING;
	TAILQ_INSERT_TAIL(&im->rt_pools, rp, entry);
	if (pool_submit(im, rp, "pool-create", NULL, actor, cb, arg) == -1) {
		TAILQ_REMOVE(&im->rt_pools, rp, entry);
		rp->next = NULL;	/* the caller keeps it */
		rt_pool_free(rp);
		snprintf(err, errlen, "the IPAM store does not take changes "
		    "now");
		return -1;
	}
	return 0;
}

/* A new definition of a ready run-time pool, audited as audit_op. */
static int
pool_update(struct ipamd *im, struct rt_pool *rp, struct config *def,
    const char *audit_op, const struct ipam_reservation *res,
    const char *actor, ipamd_pool_cb *cb, void *arg, char *err,
    size_t errlen)
{
	if (def_check(im, def_pool(def), err, errlen) == -1)
		return -1;
	rp->next = def;
	rp->state = RT_POOL_UPDATING;
	if (pool_submit(im, rp, audit_op, res, actor, cb, arg) == -1) {
		rp->next = NULL;
		rp->state = RT_POOL_READY;
		snprintf(err, errlen, "the IPAM store does not take changes "
		    "now");
		return -1;
	}
	return 0;
}

int
ipamd_pool_update(struct ipamd *im, struct config *def, const char *actor,
    ipamd_pool_cb *cb, void *arg, char *err, size_t errlen)
{
	struct conf_ipam_pool *cp = def_single(def, NULL, err, errlen);
	struct rt_pool *rp;

	if (cp == NULL || (rp = rt_pool_ready(im, cp->name, err, errlen)) ==
	    NULL)
		return -1;
	return pool_update(im, rp, def, "pool-update", NULL, actor, cb, arg,
	    err, errlen);
}

/*
 * What stands in the way of deleting the pool: live allocations (EBUSY)
 * or pre-allocations still being committed (EAGAIN).  Unused
 * pre-allocations do not: the shadow inventory lets them go first.
 */
static int
delete_blocked(struct ipamd *im, const char *name, char *err,
    size_t errlen)
{
	const struct ipam_pool *p = ipam_pool_find(im->ipam, name);
	struct shadowd_pool *sp = shadowd_pool(im->shadowd, name);
	struct ipam_pool_stats st;
	uint64_t live;

	if (p == NULL)
		return 0;
	ipam_pool_stats(p, &st);
	live = st.allocations - st.preallocated;
	if (live > 0) {
		snprintf(err, errlen, "ipam pool %s has %llu live "
		    "allocation%s", name, (unsigned long long)live,
		    live == 1 ? "" : "s");
		errno = EBUSY;
		return -1;
	}
	if (sp != NULL && shadowd_pool_making(sp) > 0) {
		snprintf(err, errlen, "ipam pool %s: pre-allocations of its "
		    "shadow inventory are being committed; retry", name);
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

int
ipamd_pool_delete(struct ipamd *im, const char *name, const char *actor,
    ipamd_pool_cb *cb, void *arg, char *err, size_t errlen)
{
	struct rt_pool *rp;

	if ((rp = rt_pool_ready(im, name, err, errlen)) == NULL ||
	    delete_blocked(im, name, err, errlen) == -1)
		return -1;
	/* Its unused pre-allocations are released before it goes (the
	 * store commits in order); a failed deletion turns it on again. */
	shadowd_pool_set(im->shadowd, name, NULL);
	rp->state = RT_POOL_DELETING;
	if (pool_submit(im, rp, "pool-delete", NULL, actor, cb, arg) == -1) {
		rp->state = RT_POOL_READY;
		rt_pool_shadow(im, rp);
		snprintf(err, errlen, "the IPAM store does not take changes "
		    "now");
		return -1;
	}
	return 0;
}

/* Reservations */

/* The pool's definition again, with one line added before its end. */
static struct config *
def_with_line(const struct rt_pool *rp, const char *line, char *err,
    size_t errlen)
{
	char *text = conf_ipam_pool_text(def_pool(rp->def), false), *full;
	size_t len = strlen(text);
	struct config *def;

	/* The block ends with "!\n". */
	text[len - 2] = '\0';
	if (asprintf(&full, "%s%s\n!\n", text, line) == -1)
		fatalx("%s: out of memory", __func__);
	def = def_parse(full, rp->name, err, errlen);
	free(full);
	free(text);
	if (def == NULL)
		errno = EINVAL;
	return def;
}

/* A reservation name goes into a definition line: one word of the
 * config's name alphabet. */
static bool
reserve_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= IPAM_NAME_MAX && strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "._-") == len;
}

static const struct conf_ipam_reserve *
reserve_find(const struct conf_ipam_pool *cp, const struct ipaddr *ip,
    const char *name)
{
	const struct conf_ipam_reserve *r;

	TAILQ_FOREACH(r, &cp->reserves, entry)
		if ((ip != NULL && ipaddr_cmp(&r->ip, ip) == 0) ||
		    (name != NULL && strcmp(r->name, name) == 0))
			return r;
	return NULL;
}

int
ipamd_pool_reserve(struct ipamd *im, const char *pool,
    const struct ipaddr *ip, const char *name, const char *actor,
    ipamd_pool_cb *cb, void *arg, char *err, size_t errlen)
{
	struct ipam_reservation res;
	const struct ipam_alloc *a;
	struct rt_pool *rp;
	struct config *def;
	char line[128], buf[IPADDR_STRLEN];

	if (!reserve_name_ok(name)) {
		snprintf(err, errlen, "a reservation name is 1 to %d letters, "
		    "digits, '.', '_' or '-'", IPAM_NAME_MAX);
		errno = EINVAL;
		return -1;
	}
	if ((rp = rt_pool_ready(im, pool, err, errlen)) == NULL)
		return -1;
	ipaddr_fmt(ip, buf, sizeof(buf));
	if (reserve_find(def_pool(rp->def), ip, name) != NULL) {
		snprintf(err, errlen, "ipam pool %s already has a reservation "
		    "of %s or named %.64s", pool, buf, name);
		errno = EEXIST;
		return -1;
	}
	if ((a = ipam_find_ip(im->ipam, pool, ip)) != NULL) {
		snprintf(err, errlen, "%s is allocated to %.64s", buf,
		    a->resource);
		errno = EBUSY;
		return -1;
	}
	snprintf(line, sizeof(line), " reserve %s for %.64s", buf, name);
	if ((def = def_with_line(rp, line, err, errlen)) == NULL)
		return -1;
	memset(&res, 0, sizeof(res));
	res.ip = *ip;
	strlcpy_s(res.name, name, sizeof(res.name));
	if (pool_update(im, rp, def, "reserve", &res, actor, cb, arg, err,
	    errlen) == -1) {
		conf_free(def);
		return -1;
	}
	return 0;
}

int
ipamd_pool_unreserve(struct ipamd *im, const char *pool,
    const struct ipaddr *ip, const char *actor, ipamd_pool_cb *cb,
    void *arg, char *err, size_t errlen)
{
	struct conf_ipam_reserve *r;
	struct ipam_reservation res;
	struct rt_pool *rp;
	struct config *def;
	char buf[IPADDR_STRLEN];

	if ((rp = rt_pool_ready(im, pool, err, errlen)) == NULL)
		return -1;
	if ((def = def_with_line(rp, "", err, errlen)) == NULL)
		return -1;
	r = (struct conf_ipam_reserve *)reserve_find(def_pool(def), ip, NULL);
	if (r == NULL) {
		snprintf(err, errlen, "ipam pool %s has no reservation of %s",
		    pool, ipaddr_fmt(ip, buf, sizeof(buf)));
		conf_free(def);
		errno = ENOENT;
		return -1;
	}
	memset(&res, 0, sizeof(res));
	res.ip = r->ip;
	strlcpy_s(res.name, r->name, sizeof(res.name));
	TAILQ_REMOVE(&def_pool(def)->reserves, r, entry);
	free(r->name);
	free(r);
	if (pool_update(im, rp, def, "unreserve", &res, actor, cb, arg, err,
	    errlen) == -1) {
		conf_free(def);
		return -1;
	}
	return 0;
}
