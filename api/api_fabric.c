/*
 * /v1/ipam/blocks and /v1/ipam/datastore: fabric pools (the fabric IPAM
 * issue).
 *
 *   GET  /v1/ipam/blocks[?pool=NAME]	{"pools": [...], "blocks": [...],
 *					 "total"}
 *   GET  /v1/ipam/datastore		the datastore and the manager's counts
 *   POST /v1/ipam/blocks/reclaim	{"vtep": "ADDR"}: delete the blocks
 *					and loans of a VTEP gone for good
 *
 * Blocks list this VTEP's own blocks with used/free/lent, then the other
 * VTEPs' blocks the last listing saw (owner, claimed at), then the
 * addresses this VTEP borrowed.  Reclaim answers 409 while any route
 * with that VTEP as next hop is in the RIB (it may still be
 * allocating), 400 for a bad body or this VTEP's own address, 503 when
 * no datastore is wired or it does not answer, 200 {"vtep", "blocks",
 * "loans"} when done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/api.h"
#include "common/util.h"
#include "evpn/evpn.h"
#include "ipam/fabric.h"
#include "ipamd/ipamd.h"

static struct ipam_fabric *
fabric_ready(struct api_req *r)
{
	struct ipam_fabric *fab;

	if (r->d->ipamd == NULL || (fab = ipamd_fabric(r->d->ipamd)) ==
	    NULL) {
		api_reply_error(r, 503, "no fabric datastore: no 'ipam "
		    "datastore' block or no fabric pool");
		return NULL;
	}
	return fab;
}

static json_t *
owner_json(const struct ipam_fabric_owner *o)
{
	char buf[IPADDR_STRLEN];

	return json_pack("{s:s, s:s}", "routerId", o->router_id, "vtep",
	    ipaddr_fmt(&o->vtep, buf, sizeof(buf)));
}

static void
block_append(const struct ipam_fabric_block_view *v, void *arg)
{
	char buf[PREFIX_STRLEN];
	json_t *o = json_object();

	json_object_set_new(o, "pool", json_string(v->pool));
	json_object_set_new(o, "block", json_string(prefix_fmt(&v->prefix,
	    buf, sizeof(buf))));
	json_object_set_new(o, "kind", json_string(v->kind));
	json_object_set_new(o, "mine", json_boolean(v->mine));
	json_object_set_new(o, "owner", owner_json(&v->owner));
	json_object_set_new(o, "claimedAt", json_integer(v->claimed));
	if (v->counted) {
		json_object_set_new(o, "used", json_integer((json_int_t)
		    v->used));
		json_object_set_new(o, "free", json_integer((json_int_t)
		    v->free));
		json_object_set_new(o, "lent", json_integer((json_int_t)
		    v->lent));
	}
	json_array_append_new(arg, o);
}

static void
pool_append(const struct ipam_fabric_pool_view *v, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
	    "pool", v->pool, "state", v->state, "error", v->error, "blocks",
	    (json_int_t)v->blocks, "borrowed", (json_int_t)v->borrowed,
	    "lent", (json_int_t)v->lent));
}

void
api_ipam_blocks(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL, *pool;
	const struct ipam_pool *p;
	struct ipam_fabric *fab;
	struct evkeyvalq q;
	json_t *blocks, *pools;

	if ((fab = fabric_ready(r)) == NULL)
		return;
	TAILQ_INIT(&q);
	if (qs && evhttp_parse_query_str(qs, &q) == -1) {
		api_reply_error(r, 400, "malformed query string");
		return;
	}
	pool = evhttp_find_header(&q, "pool");
	if (pool != NULL && ((p = ipam_pool_find(ipamd_ipam(r->d->ipamd),
	    pool)) == NULL || !ipam_pool_is_fabric(p))) {
		api_reply_error(r, 404, "no fabric pool %.64s", pool);
		evhttp_clear_headers(&q);
		return;
	}
	blocks = json_array();
	pools = json_array();
	ipam_fabric_blocks(fab, pool, block_append, blocks);
	ipam_fabric_pools(fab, pool_append, pools);
	api_reply_json(r, 200, json_pack("{s:o, s:o, s:I}", "pools", pools,
	    "blocks", blocks, "total", (json_int_t)json_array_size(blocks)));
	evhttp_clear_headers(&q);
}

static json_t *
datastore_json(const struct ipam_fabric_ds_status *ds)
{
	json_t *o = json_object(), *eps = json_array();

	for (size_t i = 0; i < ds->nendpoints; i++)
		json_array_append_new(eps, json_pack("{s:s, s:b}", "url",
		    ds->endpoints[i] ? ds->endpoints[i] : "?", "current",
		    i == ds->current));
	json_object_set_new(o, "kind", json_string(ds->kind));
	json_object_set_new(o, "keyPrefix", json_string(ds->key_prefix ?
	    ds->key_prefix : ""));
	json_object_set_new(o, "endpoints", eps);
	json_object_set_new(o, "answering", ds->answered &&
	    ds->current < ds->nendpoints && ds->endpoints[ds->current] ?
	    json_string(ds->endpoints[ds->current]) : json_null());
	json_object_set_new(o, "revision", json_integer(ds->revision));
	json_object_set_new(o, "requests", json_integer((json_int_t)
	    ds->requests));
	json_object_set_new(o, "errors", json_integer((json_int_t)ds->errors));
	json_object_set_new(o, "failovers", json_integer((json_int_t)
	    ds->failovers));
	json_object_set_new(o, "lastError", json_string(ds->last_error));
	return o;
}

void
api_ipam_datastore(struct api_req *r)
{
	struct ipam_fabric_ds_status ds;
	struct ipam_fabric_stats st;
	struct ipam_fabric *fab;
	json_t *o, *pools;

	if ((fab = fabric_ready(r)) == NULL)
		return;
	if (!ipam_fabric_ds_status(fab, &ds))
		ds.kind = "?";
	ipam_fabric_stats(fab, &st);
	o = datastore_json(&ds);
	pools = json_array();
	ipam_fabric_pools(fab, pool_append, pools);
	json_object_set_new(o, "ready", json_boolean(ipam_fabric_ready(fab)));
	json_object_set_new(o, "pools", pools);
	json_object_set_new(o, "counts", json_pack("{s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I}",
	    "claims", (json_int_t)st.claims,
	    "claimsLost", (json_int_t)st.claims_lost,
	    "claimErrors", (json_int_t)st.claim_errors,
	    "releases", (json_int_t)st.releases,
	    "borrows", (json_int_t)st.borrows,
	    "returns", (json_int_t)st.returns,
	    "offers", (json_int_t)st.offers,
	    "revokes", (json_int_t)st.revokes,
	    "borrowedNow", (json_int_t)st.borrowed_now,
	    "errors", (json_int_t)st.errors));
	json_object_set_new(o, "managerLastError",
	    json_string(st.last_error));
	api_reply_json(r, 200, o);
}

/* ---- POST /v1/ipam/blocks/reclaim ---- */

struct reclaim_pending {
	struct evhttp_request	*req;
	struct evpnd		*d;
	char			 vtep[IPADDR_STRLEN];
};

static void
reclaim_done(const struct ipam_fabric_reclaim *res, void *arg)
{
	struct reclaim_pending *pd = arg;
	struct api_req r = { .req = pd->req, .d = pd->d, .path = "",
	    .raw = "", .arg = "" };

	if (res->status != 0)
		api_reply_error(&r, 503, "reclaim of %s incomplete (%zu blocks, "
		    "%zu loans deleted): %s", pd->vtep, res->blocks,
		    res->loans, res->error);
	else
		api_reply_json(&r, 200, json_pack("{s:s, s:I, s:I}", "vtep",
		    pd->vtep, "blocks", (json_int_t)res->blocks, "loans",
		    (json_int_t)res->loans));
	free(pd);
}

/* The body's "vtep"; -1 after a 400. */
static int
reclaim_vtep(struct api_req *r, struct ipaddr *vtep)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *k, *s = NULL;
	json_error_t jerr;
	json_t *o, *v;
	char text[512];

	if (len >= sizeof(text)) {
		api_reply_error(r, 400, "request body too large");
		return -1;
	}
	evbuffer_copyout(in, text, len);
	text[len] = '\0';
	if ((o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(o)) {
		api_reply_error(r, 400, "the body must be a JSON object");
		json_decref(o);
		return -1;
	}
	json_object_foreach(o, k, v)
		if (strcmp(k, "vtep") != 0 || !json_is_string(v))
			s = "";
	if (s == NULL)
		s = json_string_value(json_object_get(o, "vtep"));
	if (s == NULL || ipaddr_parse(s, vtep) == -1) {
		api_reply_error(r, 400, "expected {\"vtep\": \"ADDRESS\"}");
		json_decref(o);
		return -1;
	}
	json_decref(o);
	return 0;
}

void
api_ipam_reclaim(struct api_req *r)
{
	struct reclaim_pending *pd;
	struct ipam_fabric *fab;
	struct ipaddr vtep;
	size_t n;

	if ((fab = fabric_ready(r)) == NULL || reclaim_vtep(r, &vtep) == -1)
		return;
	pd = xcalloc(1, sizeof(*pd));
	ipaddr_fmt(&vtep, pd->vtep, sizeof(pd->vtep));
	if (r->d->evpn != NULL && (n = evpn_routes_from_vtep(r->d->evpn,
	    &vtep)) > 0) {
		api_reply_error(r, 409, "VTEP %s still has %zu routes in the "
		    "fabric; it may still be allocating: reclaim refused",
		    pd->vtep, n);
		free(pd);
		return;
	}
	pd->req = r->req;
	pd->d = r->d;
	if (ipam_fabric_reclaim(fab, &vtep, reclaim_done, pd) == -1) {
		if (errno == EINVAL)
			api_reply_error(r, 400, "%s is this VTEP", pd->vtep);
		else
			api_reply_error(r, 409, "a reclaim is already running");
		free(pd);
	}
}
