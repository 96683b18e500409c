/*
 * /v1/ipam/...: pools, allocations, conflicts and the audit check.
 *
 *   GET    /v1/ipam/pools			{"pools": [POOL...]}
 *   GET    /v1/ipam/pools/NAME		POOL (per family "ipv4"/"ipv6":
 *					 counts and the "gateway" if any;
 *					 "reservations", "runtime", the
 *					 "definition" and, for a pool of the
 *					 config file, "config": file, line)
 *   POST   /v1/ipam/pools/NAME/allocations	201 ALLOC (200 if it existed)
 *					 {"resource", "family"?, "mac"?,
 *					 "ip"?, "ipv6"?, "labels"?: {K: V}}
 *   GET    /v1/ipam/allocations[?pool=NAME][&label=K[=V]...]
 *	    [&limit=L[&after=C]]	{"allocations": [...], "total"}
 *					(streamed), or a page
 *   GET    /v1/ipam/allocations/RESOURCE[?pool=NAME]	ALLOC
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
 * bytes, multicast or zero), family the pool has no prefix for, bad
 * labels (ipam.h's bounds), or a body over API_IPAM_MAX_BODY (a body
 * over API_MAX_BODY never reaches us: evhttp answers 413 itself); 403 a
 * pool not of the client's tenants (or none such), or a route beyond
 * its role; 404 unknown pool (admins) or resource; 409 pool exhausted,
 * MAC already used in the pool, resource allocated in another pool, or
 * an asked address that is not free or not the pool's; 503 the store
 * failed (busy, disk full: nothing changed), the pool is being changed
 * (retry), or no IPAM running (refused at start: GET /v1/ipam/audit
 * still examines the state directory and says why).  Pools and
 * reservations made at run time: api_ipam_pools.c.  Fabric pools
 * (api_fabric.c, ipamd/fabricd.h) may hold the answer until a block is
 * claimed; they answer 409 when no block and no offered address is left
 * in the fabric, 503 when the datastore is unreachable and this VTEP's
 * blocks are full, when the pool is refused, or when nothing came
 * within the wait.
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
#include "conf/conf.h"
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

bool
api_ipam_ready(struct api_req *r)
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

/* Canonical label text as {"key": "value", ...}. */
static json_t *
labels_json(const char *labels)
{
	struct ipam_labels ls;
	json_t *o = json_object();

	if (ipam_labels_parse(labels, &ls) == 0)
		for (size_t i = 0; i < ls.n; i++)
			json_object_set_new(o, ls.l[i].key,
			    json_string(ls.l[i].value));
	return o;
}

/* An allocation; "dns" and "dnsName" when its pool registers it. */
static json_t *
alloc_json(const struct ipamd *im, const struct ipam_alloc *a,
    bool preallocated)
{
	char dns[DNS_STATE_MAX];
	const char *state, *fqdn;
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
	json_object_set_new(o, "labels", labels_json(a->labels));
	if ((state = ipamd_dns_state(im, a->pool, a->resource, dns,
	    sizeof(dns), &fqdn)) != NULL) {
		json_object_set_new(o, "dnsName", json_string(fqdn));
		json_object_set_new(o, "dns", json_string(state));
	}
	return o;
}

/* Where a pool is defined: the config file (file and line, read-only
 * here) or the API ("runtime": true); its reservations and settings. */
json_t *
api_ipam_pool_full_json(struct api_req *r, const struct ipam_pool *p)
{
	const struct conf_ipam_pool *cp;
	const struct ipam_reservation *res;
	char buf[IPADDR_STRLEN];
	json_t *o = api_ipam_pool_json(p), *l = json_array();
	size_t n = ipam_pool_reservations(p, &res);
	bool runtime;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(l, json_pack("{s:s, s:s}", "ip",
		    ipaddr_fmt(&res[i].ip, buf, sizeof(buf)), "name",
		    res[i].name));
	json_object_set_new(o, "reservations", l);
	json_object_set_new(o, "runtime", json_boolean(ipam_pool_runtime(p)));
	cp = ipamd_pool_definition(r->d->ipamd, ipam_pool_name(p), &runtime);
	if (cp != NULL && !runtime && r->d->conf_path != NULL)
		json_object_set_new(o, "config", json_pack("{s:s, s:i}",
		    "file", r->d->conf_path, "line", (int)cp->line));
	if (cp != NULL)
		json_object_set_new(o, "definition",
		    api_ipam_definition_json(cp));
	return o;
}

void
api_ipam_pools(struct api_req *r)
{
	const struct ipam *ipam;
	json_t *l;

	if (!api_ipam_ready(r))
		return;
	ipam = ipamd_ipam(r->d->ipamd);
	l = json_array();
	for (struct ipam_pool *p = ipam_pool_first(ipam); p;
	    p = ipam_pool_next(p))
		if (api_authz_pool(r, p))
			json_array_append_new(l, api_ipam_pool_full_json(r,
			    p));
	api_reply_json(r, 200, json_pack("{s:o}", "pools", l));
}

void
api_ipam_pool(struct api_req *r)
{
	const struct ipam_pool *p;

	if (!api_ipam_ready(r) || (p = visible_pool(r, r->arg)) == NULL)
		return;
	api_reply_json(r, 200, api_ipam_pool_full_json(r, p));
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

json_t *
api_ipam_body(struct api_req *r)
{
	const char *body;
	char msg[256];
	size_t len;
	json_t *o;

	body = body_of(r, &len);
	if ((o = api_body_object(body, len, msg, sizeof(msg))) == NULL)
		api_reply_error(r, 400, "%s", msg);
	return o;
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
	    .raw = "", .arg = "", .arg2 = "", .conns = pd->conns };

	if (res->err != 0)
		fabric_error_reply(&r, res->err, res->message);
	else if (res->status != 0 || res->alloc == NULL)
		api_reply_error(&r, 503, "the allocation could not be "
		    "committed (the IPAM store failed; nothing was "
		    "allocated)");
	else {
		json_t *o = alloc_json(pd->d->ipamd, res->alloc,
		    res->preallocated);

		if (res->wait_s > 0)
			json_object_set_new(o, "waitMs", json_integer(
			    (json_int_t)(res->wait_s * 1000 + 0.5)));
		api_reply_json(&r, res->existing ? 200 : 201, o);
	}
	free(pd);
}

/* An asked address refused: why, and by whom when it is allocated. */
static void
asked_error(struct api_req *r, int err, const char *pool,
    const struct ipam_request *req)
{
	const struct ipaddr *ip = req->ip.af != 0 ? &req->ip : &req->ipv6;
	const struct ipam_alloc *a;
	char buf[IPADDR_STRLEN];

	/* With two asked, name the one that is taken. */
	if (req->ip.af != 0 && req->ipv6.af != 0 &&
	    ipam_find_ip(ipamd_ipam(r->d->ipamd), pool, &req->ip) == NULL &&
	    ipam_find_ip(ipamd_ipam(r->d->ipamd), pool, &req->ipv6) != NULL)
		ip = &req->ipv6;
	ipaddr_fmt(ip, buf, sizeof(buf));
	if (err == EADDRNOTAVAIL)
		api_reply_error(r, 409, "pool %.64s never hands out %s "
		    "(outside its prefixes, excluded, its gateway or a "
		    "network address)", pool, buf);
	else if ((a = ipam_find_ip(ipamd_ipam(r->d->ipamd), pool, ip)) !=
	    NULL)
		api_reply_error(r, 409, "%s is allocated to %.64s in pool "
		    "%.64s", buf, a->resource, pool);
	else
		api_reply_error(r, 409, "%s is not free in pool %.64s "
		    "(reserved, in quarantine or in conflict)", buf, pool);
}

static void
allocate_error(struct api_req *r, int err, const char *pool,
    const struct ipam_request *req)
{
	const struct ipam_alloc *a;
	char buf[MAC_STRLEN];

	switch (err) {
	case ENOENT:
		api_reply_error(r, 404, "no such pool %.64s", pool);
		break;
	case ENOSPC:
		api_reply_error(r, 409, "pool %.64s is exhausted", pool);
		break;
	case EADDRNOTAVAIL:
	case EADDRINUSE:
		asked_error(r, err, pool, req);
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
		else if (req->mac != NULL && ipam_mac_reserved(ipamd_ipam(
		    r->d->ipamd), req->mac))
			api_reply_error(r, 409, "MAC %s is reserved: it is a "
			    "VTEP's router or bridge MAC and is never handed "
			    "out", mac_fmt(req->mac, buf, sizeof(buf)));
		else
			api_reply_error(r, 409, "MAC already in use in pool "
			    "%.64s", pool);
		break;
	case EINVAL:
		api_reply_error(r, 400, "pool %.64s cannot serve this request "
		    "(bad MAC, an address family not in the pool, or an "
		    "address of a family not asked)", pool);
		break;
	case EAGAIN:
		api_reply_error(r, 503, "pool %.64s is being changed; retry",
		    pool);
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

	if (!api_ipam_ready(r) || visible_pool(r, r->arg) == NULL)
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
	    .raw = "", .arg = "", .arg2 = "", .conns = pd->conns };

	if (res->status != 0)
		api_reply_error(&r, 503, "the release could not be committed "
		    "(the IPAM store failed; the allocation is kept)");
	else
		api_reply_empty(&r, 204);
	free(pd);
}

/*
 * The allocation a GET or DELETE names: the resource in one of the
 * pools the client sees (the one ?pool= names, if given).  Names are
 * per tenant, so an admin, or a client of several tenants, may find it
 * in more than one: then it must say which with ?pool=.  NULL after a
 * reply.
 */
static const struct ipam_alloc *
named_alloc(struct api_req *r, const char *pool)
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

	if (!api_ipam_ready(r))
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
	a = named_alloc(r, pool);
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

/* label=KEY[=VALUE] terms of a listing, all of which must match. */
#define ALLOCS_TERMS_MAX	IPAM_LABELS_MAX
struct allocs_term {
	char		 key[IPAM_LABEL_KEY_MAX + 1];
	char		 value[IPAM_LABEL_VALUE_MAX + 1];
	bool		 any;		/* KEY alone: any value */
};

/*
 * Where a listing of allocations is, between slices or pages: the pools
 * the client saw when it began (by ipam_pool_ord(), which pools made or
 * deleted at run time do not disturb, with their tenant then), the
 * current one and the seq of the last allocation looked at in it.  A
 * pool gone meanwhile, or given to another tenant, is passed over.
 * With label terms a slice or page stops after looking at a bounded
 * number of allocations, listed or not.
 */
struct allocs_pool {
	uint64_t	 ord;
	char		 tenant[IPAM_NAME_MAX + 1];	/* "" for none */
};

struct allocs_walk {
	struct evpnd	*d;
	struct allocs_pool *visible;	/* in list order */
	size_t		 npools;
	size_t		 pool;		/* current index in visible */
	uint64_t	 after;		/* seq looked at last in it */
	size_t		 want;		/* this slice */
	size_t		 looked, budget;	/* this slice */
	json_t		*items;
	struct allocs_term terms[ALLOCS_TERMS_MAX];
	size_t		 nterms;
};

static void
allocs_walk_free(void *arg)
{
	struct allocs_walk *w = arg;

	free(w->visible);
	free(w);
}

static bool
allocs_match(const struct allocs_walk *w, const struct ipam_alloc *a)
{
	for (size_t i = 0; i < w->nterms; i++)
		if (!ipam_labels_match(a->labels, w->terms[i].key,
		    w->terms[i].any ? NULL : w->terms[i].value))
			return false;
	return true;
}

static int
allocs_walk_one(const struct ipam_alloc *a, void *arg)
{
	struct allocs_walk *w = arg;

	if (allocs_match(w, a))
		json_array_append_new(w->items, alloc_json(w->d->ipamd, a,
		    false));
	w->after = a->seq;
	return json_array_size(w->items) >= w->want ||
	    ++w->looked >= w->budget;
}

/* The pool at the walk's index, if it is still the one seen. */
static const struct ipam_pool *
allocs_walk_pool(const struct allocs_walk *w)
{
	const struct allocs_pool *ap = &w->visible[w->pool];
	const struct ipam_pool *p;
	const char *tenant;

	for (p = ipam_pool_first(ipamd_ipam(w->d->ipamd)); p != NULL &&
	    ipam_pool_ord(p) < ap->ord; p = ipam_pool_next(p))
		;
	if (p == NULL || ipam_pool_ord(p) != ap->ord)
		return NULL;
	tenant = ipam_pool_tenant(p);
	return strcmp(tenant != NULL ? tenant : "", ap->tenant) == 0 ? p :
	    NULL;
}

/* Up to want allocations from where the walk is, looking at no more
 * than budget; true when done. */
static bool
allocs_walk_step(struct allocs_walk *w, json_t *items, size_t want,
    size_t budget)
{
	const struct ipam *ipam = ipamd_ipam(w->d->ipamd);
	const struct ipam_pool *p;

	w->items = items;
	w->want = want;
	w->looked = 0;
	w->budget = budget;
	while (w->pool < w->npools && json_array_size(items) < want &&
	    w->looked < budget) {
		if ((p = allocs_walk_pool(w)) == NULL ||
		    ipam_foreach_after(ipam, ipam_pool_name(p), w->after,
		    allocs_walk_one, w) == 0) {
			w->pool++;
			w->after = 0;
		}
	}
	return w->pool >= w->npools;
}

static bool
allocs_fill(void *arg, json_t *items)
{
	return allocs_walk_step(arg, items, API_STREAM_SLICE,
	    API_STREAM_SLICE);
}

/* The pools a listing covers: those the client sees (and ?pool=). */
static struct allocs_walk *
allocs_walk_new(struct api_req *r, const char *only)
{
	const struct ipam *ipam = ipamd_ipam(r->d->ipamd);
	struct allocs_walk *w = xcalloc(1, sizeof(*w));
	const struct ipam_pool *p;
	size_t n = 0;

	w->d = r->d;
	for (p = ipam_pool_first(ipam); p != NULL; p = ipam_pool_next(p))
		n++;
	w->visible = xcalloc(n + 1, sizeof(*w->visible));
	for (p = ipam_pool_first(ipam); p != NULL; p = ipam_pool_next(p)) {
		struct allocs_pool *ap = &w->visible[w->npools];
		const char *tenant = ipam_pool_tenant(p);

		if (!api_authz_pool(r, p) || (only != NULL &&
		    strcmp(only, ipam_pool_name(p)) != 0))
			continue;
		ap->ord = ipam_pool_ord(p);
		strlcpy_s(ap->tenant, tenant != NULL ? tenant : "",
		    sizeof(ap->tenant));
		w->npools++;
	}
	return w;
}

/* The query's label=KEY[=VALUE] terms into w; -1 after a 400. */
static int
allocs_terms(struct api_req *r, struct allocs_walk *w)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	const struct evkeyval *kv;
	struct evkeyvalq q;
	int rc = 0;

	TAILQ_INIT(&q);
	if (qs == NULL || evhttp_parse_query_str(qs, &q) == -1)
		return 0;	/* query_text() has answered a bad one */
	TAILQ_FOREACH(kv, &q, next) {
		const char *eq = strchr(kv->value, '=');
		size_t klen = eq ? (size_t)(eq - kv->value) :
		    strlen(kv->value);
		struct allocs_term *t = &w->terms[w->nterms];

		if (strcmp(kv->key, "label") != 0)
			continue;
		if (w->nterms == ALLOCS_TERMS_MAX || klen == 0 ||
		    klen > IPAM_LABEL_KEY_MAX || (eq != NULL &&
		    strlen(eq + 1) > IPAM_LABEL_VALUE_MAX)) {
			api_reply_error(r, 400, "'label' is KEY or KEY=VALUE "
			    "(at most %d terms, keys of %d bytes, values of "
			    "%d)", ALLOCS_TERMS_MAX, IPAM_LABEL_KEY_MAX,
			    IPAM_LABEL_VALUE_MAX);
			rc = -1;
			break;
		}
		memcpy(t->key, kv->value, klen);
		t->key[klen] = '\0';
		t->any = eq == NULL;
		if (eq != NULL)
			strlcpy_s(t->value, eq + 1, sizeof(t->value));
		w->nterms++;
	}
	evhttp_clear_headers(&q);
	return rc;
}

/*
 * "ORD:SEQ": the pool (ipam_pool_ord()) and the seq looked at last in
 * it.  The walk goes on there, or at the next pool the client sees when
 * that one is gone.
 */
static int
cursor_parse(const char *s, struct allocs_walk *w)
{
	unsigned long long ord, seq;
	char tail;

	if (s == NULL || sscanf(s, "%llu:%llu%c", &ord, &seq, &tail) != 2)
		return -1;
	while (w->pool < w->npools && w->visible[w->pool].ord < ord)
		w->pool++;
	w->after = w->pool < w->npools && w->visible[w->pool].ord == ord ?
	    seq : 0;
	return 0;
}

/* One page of about limit allocations, and the cursor to go on from. */
static void
allocs_page(struct api_req *r, struct allocs_walk *w, uint64_t limit)
{
	json_t *list = json_array(), *o;
	char next[48];
	bool done;

	done = allocs_walk_step(w, list, (size_t)limit, API_PAGE_SCAN_MAX);
	o = json_pack("{s:o, s:I}", "allocations", list, "count",
	    (json_int_t)json_array_size(list));
	if (!done) {
		snprintf(next, sizeof(next), "%llu:%llu",
		    (unsigned long long)w->visible[w->pool].ord,
		    (unsigned long long)w->after);
		json_object_set_new(o, "next", json_string(next));
	}
	api_reply_json(r, 200, o);
}

/*
 * GET /v1/ipam/allocations[?pool=NAME][&label=K[=V]...][&limit=L
 * [&after=C]]: the allocations of the pools the client sees that carry
 * every label term, in creation order; without a limit streamed in
 * slices, with one a page and "next", the cursor for after= (a filtered
 * page may hold fewer than L, even none, and still have a next).
 * Allocations made meanwhile may or may not be listed; one released
 * meanwhile is gone; none is listed twice or skipped.
 */
void
api_ipam_allocations(struct api_req *r)
{
	struct allocs_walk *w;
	char *pool = NULL, *limit_s = NULL, *after_s = NULL;
	uint64_t limit = 0;

	if (!api_ipam_ready(r))
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
	if (allocs_terms(r, w) == -1) {
		allocs_walk_free(w);
		goto out;
	}
	if (after_s != NULL && (limit == 0 || cursor_parse(after_s, w) ==
	    -1)) {
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

void
api_ipam_allocation(struct api_req *r)
{
	const struct ipam_alloc *a;
	char *pool;

	if (!api_ipam_ready(r) || query_text(r, "pool", &pool) == -1)
		return;
	a = named_alloc(r, pool);
	free(pool);
	if (a != NULL)
		api_reply_json(r, 200, alloc_json(r->d->ipamd, a, false));
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
	if (rec->labels != NULL && rec->labels[0] != '\0')
		json_object_set_new(o, "labels", labels_json(rec->labels));
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

	if (!api_ipam_ready(r))
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

	if (!api_ipam_ready(r))
		return;
	o = shadowd_json(ipamd_shadowd(r->d->ipamd));
	filter_pools(r, json_object_get(o, "pools"));
	api_reply_json(r, 200, o);
}

void
api_ipam_alerts(struct api_req *r)
{
	json_t *o, *l;

	if (!api_ipam_ready(r))
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

	if (!api_ipam_ready(r))
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
