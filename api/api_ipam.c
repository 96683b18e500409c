/*
 * /v1/ipam/...: pools, allocations, conflicts and the audit check.
 *
 *   GET    /v1/ipam/pools			{"pools": [POOL...]}
 *   GET    /v1/ipam/pools/NAME		POOL (per family "ipv4"/"ipv6":
 *					 counts and the "gateway" if any)
 *   POST   /v1/ipam/pools/NAME/allocations	201 ALLOC (200 if it existed)
 *   GET    /v1/ipam/allocations[?pool=NAME][&limit=L[&after=C]]
 *					{"allocations": [...], "total"}
 *					(streamed), or a page
 *   DELETE /v1/ipam/allocations/RESOURCE[?pool=NAME]	204
 *   GET    /v1/ipam/conflicts		evpn's conflict list
 *   GET    /v1/ipam/audit			walks the whole audit chain,
 *						checks its head and the anchor
 *						(api_audit.c: off the loop)
 *   GET    /v1/ipam/audit/records?since=SEQ[&limit=N]
 *					records after SEQ, oldest first
 *   GET    /v1/ipam/shadow			shadow inventory of every pool
 *   GET    /v1/ipam/alerts			{"alerts": [...], "total"}
 *   POST   /v1/ipam/pools/NAME/intent	{"count": N, "horizon": S}
 *
 * An allocation served by a pre-allocation of the shadow inventory
 * answers "preallocated": true (and "waitMs" when its route was still
 * converging); a fresh one false.
 *
 * How this works: a POST or DELETE changes the allocator at once and
 * does not answer; ipamd calls back on the event loop once the store
 * has committed, and only then does the reply go out (201/200/204, or
 * 503 when the commit failed and the change was undone).  Each change
 * names its actor in the audit trail: "local" over the Unix socket, the
 * client's certificate name over TLS.  The request stays valid until we
 * reply even if the client went away meanwhile:
 * libevent detaches an unfinished request from a failed connection
 * instead of freeing it, and evhttp_send_reply() on a detached request
 * just frees it.  The allocation stays either way: it is durable.  At
 * shutdown evpnd drains the store before freeing the HTTP server.
 *
 * Tenants: a client other than an admin sees only the pools of its
 * tenants (api_authz.c); listings leave the others out, and naming one
 * answers 403, the same as naming a pool that does not exist.
 *
 * Status codes: 400 malformed JSON, unknown field, bad resource id (1 to
 * 255 printable ASCII bytes, no space), bad family, bad MAC (not 6
 * bytes, multicast or zero), family the pool has no prefix for, or a
 * body over API_IPAM_MAX_BODY (a body over API_MAX_BODY never reaches
 * us: evhttp answers 413 itself); 403 a pool not of the client's
 * tenants (or none such), or a route beyond its role; 404 unknown pool
 * (admins) or resource; 409 pool exhausted, MAC already used in the
 * pool, or resource allocated in another pool; 503 the store failed
 * (busy, disk full: nothing changed) or no IPAM running (refused at
 * start: GET /v1/ipam/audit still examines the state directory and says
 * why).  Fabric pools (api_fabric.c, ipamd/fabricd.h) may hold the
 * answer until a block is claimed; they answer 409 when no block and no
 * offered address is left in the fabric, 503 when the datastore is
 * unreachable and this VTEP's blocks are full, when the pool is
 * refused, or when nothing came within the wait.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/addr.h"
#include "common/util.h"
#include "api/api.h"
#include "api/api_body.h"
#include "ipamd/ipamd.h"
#include "ipamd/shadowd.h"
#include "evpn/evpn.h"
#include "ipam/ipam.h"

#define AUDIT_LIST_DEFAULT	1000
#define AUDIT_LIST_MAX		10000

/* A request waiting for its commit. */
struct ipam_pending {
	struct evhttp_request	*req;
	struct evpnd		*d;
	struct api_conns	*conns;
};

static bool
ipam_ready(struct api_req *r)
{
	if (r->d->ipamd != NULL)
		return true;
	api_reply_error(r, 503, "IPAM is not running (when it was refused "
	    "at start, the log and GET /v1/ipam/audit say why)");
	return false;
}

/*
 * The pool a request names, if the client may see it; NULL after a
 * reply.  A client of some tenants gets the same 403 for another
 * tenant's pool as for a pool that does not exist: it learns nothing
 * of the others.
 */
static const struct ipam_pool *
visible_pool(struct api_req *r, const char *name)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(r->d->ipamd),
	    name);

	if (p != NULL && api_authz_pool(r, p))
		return p;
	if (api_authz_admin(r))
		api_reply_error(r, 404, "no such pool %.64s", name);
	else
		api_reply_error(r, 403, "pool %.64s is not one of your "
		    "tenants' pools", name);
	return NULL;
}

static bool
pool_name_visible(const struct api_req *r, const char *name)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(r->d->ipamd),
	    name);

	return p != NULL && api_authz_pool(r, p);
}

static const char *
pool_tenant_of(const struct api_req *r, const char *name)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(r->d->ipamd),
	    name);

	return p != NULL ? ipam_pool_tenant(p) : NULL;
}

/* A query parameter, malloc'd into *out (NULL when absent); -1 after a
 * 400 for a malformed query string. */
static int
query_text(struct api_req *r, const char *key, char **out)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL, *v;
	struct evkeyvalq q;

	*out = NULL;
	TAILQ_INIT(&q);
	if (qs == NULL)
		return 0;
	if (evhttp_parse_query_str(qs, &q) == -1) {
		api_reply_error(r, 400, "malformed query string");
		return -1;
	}
	if ((v = evhttp_find_header(&q, key)) != NULL)
		*out = xstrdup(v);
	evhttp_clear_headers(&q);
	return 0;
}

/* Drop the elements of a listing whose "pool" the client may not see. */
static void
filter_pools(const struct api_req *r, json_t *list)
{
	for (size_t i = json_array_size(list); !api_authz_admin(r) && i > 0;
	    i--) {
		const char *pool = json_string_value(json_object_get(
		    json_array_get(list, i - 1), "pool"));

		if (pool == NULL || !pool_name_visible(r, pool))
			json_array_remove(list, i - 1);
	}
}

/* A count that may exceed 2^53 (IPv6 pools): exact when it fits. */
static json_t *
json_count(double v)
{
	if (v < 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

/* One family's counts, and its gateway when the pool has one. */
static json_t *
family_json(const struct ipam_pool *p, int af,
    const struct ipam_family_stats *f)
{
	char buf[IPADDR_STRLEN];
	struct ipaddr gw;
	json_t *o = json_object();

	json_object_set_new(o, "size", json_count(f->size));
	json_object_set_new(o, "used", json_integer((json_int_t)f->used));
	json_object_set_new(o, "free", json_count(f->free));
	json_object_set_new(o, "quarantined", json_integer((json_int_t)
	    f->quarantined));
	json_object_set_new(o, "conflicts", json_integer((json_int_t)
	    f->conflicts));
	if (ipam_pool_gateway(p, af, &gw))
		json_object_set_new(o, "gateway", json_string(ipaddr_fmt(&gw,
		    buf, sizeof(buf))));
	return o;
}

json_t *
api_ipam_pool_json(const struct ipam_pool *p)
{
	const struct prefix *pfx;
	struct ipam_pool_stats st;
	const char *tenant = ipam_pool_tenant(p);
	char buf[PREFIX_STRLEN];
	json_t *o = json_object(), *l = json_array();
	size_t n = ipam_pool_prefixes(p, &pfx);

	ipam_pool_stats(p, &st);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(l, json_string(prefix_fmt(&pfx[i], buf,
		    sizeof(buf))));
	json_object_set_new(o, "name", json_string(ipam_pool_name(p)));
	json_object_set_new(o, "tenant", tenant ? json_string(tenant) :
	    json_null());
	json_object_set_new(o, "vni", json_integer(ipam_pool_vni(p)));
	json_object_set_new(o, "prefixes", l);
	json_object_set_new(o, "size", json_count(st.v4.size + st.v6.size));
	json_object_set_new(o, "used", json_integer((json_int_t)(st.v4.used +
	    st.v6.used)));
	json_object_set_new(o, "free", json_count(st.v4.free + st.v6.free));
	json_object_set_new(o, "allocations", json_integer((json_int_t)
	    st.allocations));
	json_object_set_new(o, "reserved", json_integer((json_int_t)
	    st.reserved));
	json_object_set_new(o, "preallocated", json_integer((json_int_t)
	    st.preallocated));
	json_object_set_new(o, "quarantined", json_integer((json_int_t)
	    (st.v4.quarantined + st.v6.quarantined)));
	json_object_set_new(o, "conflicts", json_integer((json_int_t)
	    (st.v4.conflicts + st.v6.conflicts)));
	json_object_set_new(o, "ipv4", family_json(p, AF_INET, &st.v4));
	json_object_set_new(o, "ipv6", family_json(p, AF_INET6, &st.v6));
	return o;
}

static json_t *
alloc_json(const struct ipam_alloc *a, bool preallocated)
{
	char buf[IPADDR_STRLEN];
	json_t *o = json_object();

	json_object_set_new(o, "resource", json_string(a->resource));
	json_object_set_new(o, "pool", json_string(a->pool));
	json_object_set_new(o, "vni", json_integer(a->vni));
	if (ipaddr_is_set(&a->ip))
		json_object_set_new(o, "ip", json_string(ipaddr_fmt(&a->ip,
		    buf, sizeof(buf))));
	if (ipaddr_is_set(&a->ipv6))
		json_object_set_new(o, "ipv6", json_string(ipaddr_fmt(&a->ipv6,
		    buf, sizeof(buf))));
	json_object_set_new(o, "mac", json_string(mac_fmt(&a->mac, buf,
	    sizeof(buf))));
	json_object_set_new(o, "preallocated", json_boolean(a->preallocated ||
	    preallocated));
	return o;
}

void
api_ipam_pools(struct api_req *r)
{
	const struct ipam *ipam;
	json_t *l;

	if (!ipam_ready(r))
		return;
	ipam = ipamd_ipam(r->d->ipamd);
	l = json_array();
	for (struct ipam_pool *p = ipam_pool_first(ipam); p;
	    p = ipam_pool_next(p))
		if (api_authz_pool(r, p))
			json_array_append_new(l, api_ipam_pool_json(p));
	api_reply_json(r, 200, json_pack("{s:o}", "pools", l));
}

void
api_ipam_pool(struct api_req *r)
{
	const struct ipam_pool *p;

	if (!ipam_ready(r) || (p = visible_pool(r, r->arg)) == NULL)
		return;
	api_reply_json(r, 200, api_ipam_pool_json(p));
}

/* ---- POST .../allocations ---- */

/* The request body, contiguous; not NUL-terminated. */
static const char *
body_of(struct api_req *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	const char *body;

	*len = evbuffer_get_length(in);
	body = (const char *)evbuffer_pullup(in, -1);
	return body != NULL ? body : "";
}

/*
 * A fabric pool's request that failed before anything was allocated:
 * exhausted is 409 as for local pools; an unreachable datastore, a
 * refused pool, no answer in time or a shutdown are 503.
 */
static void
fabric_error_reply(struct api_req *r, int err, const char *msg)
{
	api_reply_error(r, err == ENOSPC ? 409 : 503, "%s", msg != NULL ?
	    msg : strerror(err));
}

static void
allocate_done(const struct ipamd_result *res, void *arg)
{
	struct ipam_pending *pd = arg;
	struct api_req r = { .req = pd->req, .d = pd->d, .path = "",
	    .raw = "", .arg = "", .conns = pd->conns };

	if (res->err != 0)
		fabric_error_reply(&r, res->err, res->message);
	else if (res->status != 0 || res->alloc == NULL)
		api_reply_error(&r, 503, "the allocation could not be "
		    "committed (the IPAM store failed; nothing was "
		    "allocated)");
	else {
		json_t *o = alloc_json(res->alloc, res->preallocated);

		if (res->wait_s > 0)
			json_object_set_new(o, "waitMs", json_integer(
			    (json_int_t)(res->wait_s * 1000 + 0.5)));
		api_reply_json(&r, res->existing ? 200 : 201, o);
	}
	free(pd);
}

static void
allocate_error(struct api_req *r, int err, const char *pool,
    const struct ipam_request *req)
{
	const struct ipam_alloc *a;

	switch (err) {
	case ENOENT:
		api_reply_error(r, 404, "no such pool %.64s", pool);
		break;
	case ENOSPC:
		api_reply_error(r, 409, "pool %.64s is exhausted", pool);
		break;
	case EEXIST:
		/* Names are per tenant: one held elsewhere is held in
		 * another pool of the same tenant, which the client sees. */
		a = ipam_find(ipamd_ipam(r->d->ipamd), pool_tenant_of(r, pool),
		    req->resource);
		if (a != NULL)
			api_reply_error(r, 409, "resource %.64s is allocated "
			    "in pool %.64s%s", req->resource, a->pool,
			    strcmp(a->pool, pool) == 0 ? " with other "
			    "parameters (a repeated request must ask the "
			    "same)" : "");
		else
			api_reply_error(r, 409, "MAC already in use in pool "
			    "%.64s", pool);
		break;
	case EINVAL:
		api_reply_error(r, 400, "pool %.64s cannot serve this request "
		    "(bad MAC or address family not in the pool)", pool);
		break;
	case EIO:
		api_reply_error(r, 503, "the IPAM store does not take changes "
		    "now; nothing was allocated");
		break;
	default:
		api_reply_error(r, 500, "allocation failed: %s",
		    strerror(err));
		break;
	}
}

void
api_ipam_allocate(struct api_req *r)
{
	struct api_alloc_body b;
	struct ipam_request req;
	struct ipam_pending *pd;
	const char *body;
	char msg[256];
	size_t len;
	int code;

	if (!ipam_ready(r) || visible_pool(r, r->arg) == NULL)
		return;
	body = body_of(r, &len);
	if ((code = api_body_allocation(body, len, &b, msg, sizeof(msg))) !=
	    0) {
		api_reply_error(r, code, "%s", msg);
		return;
	}
	api_body_request(&b, &req);
	pd = xcalloc(1, sizeof(*pd));
	pd->req = r->req;
	pd->d = r->d;
	pd->conns = r->conns;
	if (ipamd_allocate(r->d->ipamd, r->arg, &req, r->who, allocate_done,
	    pd) == -1) {
		allocate_error(r, errno, r->arg, &req);
		free(pd);
	}
}

/* ---- DELETE /v1/ipam/allocations/RESOURCE ---- */

static void
release_done(const struct ipamd_result *res, void *arg)
{
	struct ipam_pending *pd = arg;
	struct api_req r = { .req = pd->req, .d = pd->d, .path = "",
	    .raw = "", .arg = "", .conns = pd->conns };

	if (res->status != 0)
		api_reply_error(&r, 503, "the release could not be committed "
		    "(the IPAM store failed; the allocation is kept)");
	else
		api_reply_empty(&r, 204);
	free(pd);
}

/*
 * The allocation a DELETE names: the resource in one of the pools the
 * client sees (the one ?pool= names, if given).  Names are per tenant,
 * so an admin, or a client of several tenants, may find it in more than
 * one: then it must say which with ?pool=.  NULL after a reply.
 */
static const struct ipam_alloc *
release_target(struct api_req *r, const char *pool)
{
	const struct ipam *ipam = ipamd_ipam(r->d->ipamd);
	const struct ipam_alloc *a, *found = NULL;
	char where[256] = "";
	size_t n = 0;

	if (pool != NULL && visible_pool(r, pool) == NULL)
		return NULL;
	for (const struct ipam_pool *p = ipam_pool_first(ipam); p != NULL;
	    p = ipam_pool_next(p)) {
		if ((pool != NULL && strcmp(pool, ipam_pool_name(p)) != 0) ||
		    !api_authz_pool(r, p) || (a = ipam_find(ipam,
		    ipam_pool_tenant(p), r->arg)) == NULL ||
		    strcmp(a->pool, ipam_pool_name(p)) != 0)
			continue;
		found = a;
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
		    "%s%s", n++ > 0 ? ", " : "", ipam_pool_name(p));
	}
	if (n == 1)
		return found;
	if (n == 0)
		api_reply_error(r, 404, "no allocation for %.64s", r->arg);
	else
		api_reply_error(r, 409, "%.64s is allocated in more than one "
		    "pool (%s): name it with ?pool=", r->arg, where);
	return NULL;
}

void
api_ipam_release(struct api_req *r)
{
	const struct ipam_alloc *a;
	struct ipam_pending *pd;
	char *pool;

	if (!ipam_ready(r))
		return;
	/* The names a client may not allocate it may not release either
	 * (the shadow inventory's own). */
	if (!api_resource_ok(r->arg)) {
		api_reply_error(r, 400, "'%.64s' is not a resource id a client "
		    "allocates", r->arg);
		return;
	}
	if (query_text(r, "pool", &pool) == -1)
		return;
	a = release_target(r, pool);
	free(pool);
	if (a == NULL)
		return;
	pd = xcalloc(1, sizeof(*pd));
	pd->req = r->req;
	pd->d = r->d;
	pd->conns = r->conns;
	if (ipamd_release(r->d->ipamd, a->tenant, r->arg, r->who, release_done,
	    pd) == -1) {
		if (errno == ENOENT)
			api_reply_error(r, 404, "no allocation for %.64s",
			    r->arg);
		else
			api_reply_error(r, 503, "release failed: %s",
			    strerror(errno));
		free(pd);
	}
}

/* ---- listings ---- */

/*
 * Where a listing of allocations is, between slices or pages: the pools
 * the client saw when it began (by index, pools only being appended),
 * the current one and the seq of the last allocation listed in it.
 */
struct allocs_walk {
	struct evpnd	*d;
	bool		*visible;	/* by pool index */
	size_t		 npools;
	size_t		 pool;		/* current index */
	uint64_t	 after;		/* seq listed last in it */
	size_t		 want;		/* this slice */
	json_t		*items;
};

static void
allocs_walk_free(void *arg)
{
	struct allocs_walk *w = arg;

	free(w->visible);
	free(w);
}

static int
allocs_walk_one(const struct ipam_alloc *a, void *arg)
{
	struct allocs_walk *w = arg;

	json_array_append_new(w->items, alloc_json(a, false));
	w->after = a->seq;
	return json_array_size(w->items) >= w->want;
}

/* Up to want allocations from where the walk is; true when done. */
static bool
allocs_walk_step(struct allocs_walk *w, json_t *items, size_t want)
{
	const struct ipam *ipam = ipamd_ipam(w->d->ipamd);
	const struct ipam_pool *p = ipam_pool_first(ipam);

	for (size_t i = 0; p != NULL && i < w->pool; i++)
		p = ipam_pool_next(p);
	w->items = items;
	w->want = want;
	while (p != NULL && w->pool < w->npools &&
	    json_array_size(items) < want) {
		if (!w->visible[w->pool] || ipam_foreach_after(ipam,
		    ipam_pool_name(p), w->after, allocs_walk_one, w) == 0) {
			w->pool++;
			w->after = 0;
			p = ipam_pool_next(p);
		}
	}
	return p == NULL || w->pool >= w->npools;
}

static bool
allocs_fill(void *arg, json_t *items)
{
	return allocs_walk_step(arg, items, API_STREAM_SLICE);
}

/* The pools a listing covers: those the client sees (and ?pool=). */
static struct allocs_walk *
allocs_walk_new(struct api_req *r, const char *only)
{
	const struct ipam *ipam = ipamd_ipam(r->d->ipamd);
	struct allocs_walk *w = xcalloc(1, sizeof(*w));
	const struct ipam_pool *p;
	size_t i = 0;

	w->d = r->d;
	for (p = ipam_pool_first(ipam); p != NULL; p = ipam_pool_next(p))
		w->npools++;
	w->visible = xcalloc(w->npools + 1, sizeof(*w->visible));
	for (p = ipam_pool_first(ipam); p != NULL; p = ipam_pool_next(p), i++)
		w->visible[i] = api_authz_pool(r, p) && (only == NULL ||
		    strcmp(only, ipam_pool_name(p)) == 0);
	return w;
}

/* "POOL:SEQ": the pool's index and the seq listed last in it. */
static int
cursor_parse(const char *s, size_t *pool, uint64_t *after)
{
	unsigned long long p, a;
	char tail;

	if (s == NULL || sscanf(s, "%llu:%llu%c", &p, &a, &tail) != 2)
		return -1;
	*pool = (size_t)p;
	*after = a;
	return 0;
}

/* One page of about limit allocations, and the cursor to go on from. */
static void
allocs_page(struct api_req *r, struct allocs_walk *w, uint64_t limit)
{
	json_t *list = json_array(), *o;
	char next[48];
	bool done;

	done = allocs_walk_step(w, list, (size_t)limit);
	o = json_pack("{s:o, s:I}", "allocations", list, "count",
	    (json_int_t)json_array_size(list));
	if (!done) {
		snprintf(next, sizeof(next), "%zu:%llu", w->pool,
		    (unsigned long long)w->after);
		json_object_set_new(o, "next", json_string(next));
	}
	api_reply_json(r, 200, o);
}

/*
 * GET /v1/ipam/allocations[?pool=NAME][&limit=L[&after=C]]: the
 * allocations of the pools the client sees, in creation order; without
 * a limit streamed in slices, with one a page and "next", the cursor
 * for after=.  Allocations made meanwhile may or may not be listed; one
 * released meanwhile is gone; none is listed twice or skipped.
 */
void
api_ipam_allocations(struct api_req *r)
{
	struct allocs_walk *w;
	char *pool = NULL, *limit_s = NULL, *after_s = NULL;
	uint64_t limit = 0;

	if (!ipam_ready(r))
		return;
	if (query_text(r, "pool", &pool) == -1 || query_text(r, "limit",
	    &limit_s) == -1 || query_text(r, "after", &after_s) == -1)
		goto out;
	if (pool != NULL && visible_pool(r, pool) == NULL)
		goto out;
	if (limit_s != NULL && parse_uint(limit_s, 1, API_PAGE_MAX,
	    &limit) == -1) {
		api_reply_error(r, 400, "'limit' must be from 1 to %d",
		    API_PAGE_MAX);
		goto out;
	}
	w = allocs_walk_new(r, pool);
	if (after_s != NULL && (limit == 0 || cursor_parse(after_s,
	    &w->pool, &w->after) == -1)) {
		api_reply_error(r, 400, "'after' must be the 'next' of a page, "
		    "with 'limit'");
		allocs_walk_free(w);
		goto out;
	}
	if (limit == 0)
		api_stream_start(r, "allocations", allocs_fill, w,
		    allocs_walk_free);
	else {
		allocs_page(r, w, limit);
		allocs_walk_free(w);
	}
out:
	free(pool);
	free(limit_s);
	free(after_s);
}

/* Conflicts name a VNI: a client sees those of its tenants' pools. */
void
api_ipam_conflicts(struct api_req *r)
{
	const struct ipam_pool *p;
	json_t *o, *l;

	if (r->d->evpn == NULL) {
		api_reply_error(r, 503, "EVPN is not running");
		return;
	}
	o = evpn_ipam_conflicts_json(r->d->evpn);
	l = json_object_get(o, "conflicts");
	if (!api_authz_admin(r)) {
		for (size_t i = json_array_size(l); i > 0; i--) {
			json_int_t vni = json_integer_value(json_object_get(
			    json_array_get(l, i - 1), "vni"));

			p = r->d->ipamd == NULL ? NULL : ipam_pool_by_vni(
			    ipamd_ipam(r->d->ipamd), (uint32_t)vni);
			if (p == NULL || !api_authz_pool(r, p))
				json_array_remove(l, i - 1);
		}
		json_object_set_new(o, "total", json_integer((json_int_t)
		    json_array_size(l)));
	}
	api_reply_json(r, 200, o);
}

static void
json_set_text(json_t *o, const char *key, const char *v)
{
	if (v != NULL && v[0] != '\0')
		json_object_set_new(o, key, json_string(v));
}

struct record_list {
	json_t		*records;
	size_t		 limit;
	int64_t		 next;
	bool		 more;
};

static int
record_append(const struct ipam_audit_record *rec, void *arg)
{
	struct record_list *rl = arg;
	json_t *o;

	if (json_array_size(rl->records) == rl->limit) {
		rl->more = true;
		return 1;
	}
	o = json_pack("{s:I, s:I, s:s}", "seq", (json_int_t)rec->seq, "time",
	    (json_int_t)rec->time, "op", rec->op);
	json_set_text(o, "actor", rec->actor);
	json_set_text(o, "resource", rec->resource);
	json_set_text(o, "pool", rec->pool);
	json_set_text(o, "ip", rec->ip);
	json_set_text(o, "ipv6", rec->ipv6);
	json_set_text(o, "mac", rec->mac);
	json_set_text(o, "prevHmac", rec->prev_hex);
	json_set_text(o, "hmac", rec->hmac_hex);
	json_array_append_new(rl->records, o);
	rl->next = rec->seq;
	return 0;
}

/* A non-negative integer query parameter of at most max; -1 after 400. */
static int
query_int(struct api_req *r, const struct evkeyvalq *q, const char *key,
    long long max, long long *out)
{
	const char *v = evhttp_find_header(q, key);
	char *end;

	if (v == NULL)
		return 0;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
	    *out > max) {
		api_reply_error(r, 400, "'%s' must be an integer from 0 to "
		    "%lld", key, max);
		return -1;
	}
	return 0;
}

/* Records after since, oldest first, so that a shipper can follow the
 * trail: it asks again with since = next while more is true. */
void
api_ipam_audit_records(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct record_list rl = { NULL, AUDIT_LIST_DEFAULT, 0, false };
	long long since = 0, limit = AUDIT_LIST_DEFAULT;
	struct evkeyvalq q;
	char err[256];

	if (!ipam_ready(r))
		return;
	TAILQ_INIT(&q);
	if (qs != NULL && evhttp_parse_query_str(qs, &q) == -1) {
		api_reply_error(r, 400, "malformed query string");
		return;
	}
	if (query_int(r, &q, "since", INT64_MAX, &since) == -1 ||
	    query_int(r, &q, "limit", AUDIT_LIST_MAX, &limit) == -1) {
		evhttp_clear_headers(&q);
		return;
	}
	evhttp_clear_headers(&q);
	if (limit == 0)
		limit = AUDIT_LIST_DEFAULT;
	rl.records = json_array();
	rl.limit = (size_t)limit;
	rl.next = since;
	if (ipam_audit_records(ipamd_store(r->d->ipamd), since,
	    (size_t)limit + 1, record_append, &rl, err, sizeof(err)) == -1) {
		json_decref(rl.records);
		api_reply_error(r, 500, "cannot read the audit trail: %s", err);
		return;
	}
	api_reply_json(r, 200, json_pack("{s:o, s:I, s:I, s:b}", "records",
	    rl.records, "count", (json_int_t)json_array_size(rl.records),
	    "next", (json_int_t)rl.next, "more", rl.more));
}

/* ---- shadow inventory ---- */

void
api_ipam_shadow(struct api_req *r)
{
	json_t *o;

	if (!ipam_ready(r))
		return;
	o = shadowd_json(ipamd_shadowd(r->d->ipamd));
	filter_pools(r, json_object_get(o, "pools"));
	api_reply_json(r, 200, o);
}

void
api_ipam_alerts(struct api_req *r)
{
	json_t *o, *l;

	if (!ipam_ready(r))
		return;
	o = shadowd_alerts_json(ipamd_shadowd(r->d->ipamd));
	l = json_object_get(o, "alerts");
	filter_pools(r, l);
	json_object_set_new(o, "total", json_integer((json_int_t)
	    json_array_size(l)));
	api_reply_json(r, 200, o);
}

/* A scheduler's intent: count endpoints within horizon seconds (default
 * the pool's shadow horizon).  404 unknown pool, 409 pool without a
 * shadow block. */
void
api_ipam_intent(struct api_req *r)
{
	struct shadowd *sd;
	struct shadowd_pool *sp;
	uint32_t count = 0, horizon;
	const char *body;
	char msg[256];
	size_t len;
	int code;

	if (!ipam_ready(r))
		return;
	sd = ipamd_shadowd(r->d->ipamd);
	if (visible_pool(r, r->arg) == NULL)
		return;
	if ((sp = shadowd_pool(sd, r->arg)) == NULL) {
		api_reply_error(r, 409, "pool %.64s has no shadow inventory",
		    r->arg);
		return;
	}
	horizon = shadowd_pool_horizon(sp);
	body = body_of(r, &len);
	if ((code = api_body_intent(body, len, &count, &horizon, msg,
	    sizeof(msg))) != 0) {
		api_reply_error(r, code, "%s", msg);
		return;
	}
	shadowd_intent(sd, r->arg, count, horizon);
	api_reply_json(r, 202, json_pack("{s:s, s:I, s:I}", "pool", r->arg,
	    "count", (json_int_t)count, "horizon", (json_int_t)horizon));
}
