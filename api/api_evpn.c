/*
 * /v1/evpn/...: EVPN routes, VNIs and MAC tables as JSON.
 *
 *   GET /v1/evpn/routes[?type=2|3|5][&vni=N][&limit=L[&after=C]]
 *   GET /v1/evpn/vnis
 *   GET /v1/evpn/vnis/N/macs
 *   GET /v1/evpn/convergence	measured route convergence
 *   GET /v1/dataplane		kernel entries, requests, overruns, devices
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/addr.h"
#include "common/util.h"
#include "api/api.h"
#include "evpn/evpn.h"

/* A query parameter as an integer in [min, max]; dflt when absent.
 * Returns -1 (and replies 400) when present but malformed. */
static int
query_uint(struct api_req *r, const struct evkeyvalq *q, const char *name,
    uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out)
{
	const char *v = evhttp_find_header(q, name);

	*out = dflt;
	if (v == NULL)
		return 0;
	if (parse_uint(v, min, max, out) == -1) {
		api_reply_error(r, 400, "bad value for %s: '%s'", name, v);
		return -1;
	}
	return 0;
}

/* Where a walk of the routes is, between slices or pages. */
struct routes_walk {
	struct evpn	*evpn;
	int		 type;
	uint32_t	 vni;
	uint64_t	 cursor;
};

static bool
routes_fill(void *arg, json_t *items)
{
	struct routes_walk *w = arg;

	w->cursor = evpn_routes_scan(w->evpn, w->type, w->vni, w->cursor,
	    API_STREAM_SLICE, items);
	return w->cursor == 0;
}

/* One page: about limit routes from the cursor, and the next cursor. */
static void
routes_page(struct api_req *r, struct routes_walk *w, uint64_t limit)
{
	json_t *list = json_array(), *o;
	uint64_t looked = 0;
	char next[24];

	do {
		w->cursor = evpn_routes_scan(w->evpn, w->type, w->vni,
		    w->cursor, (size_t)limit, list);
		looked += limit;
	} while (w->cursor != 0 && json_array_size(list) < limit &&
	    looked < API_PAGE_SCAN_MAX);
	o = json_pack("{s:o, s:I}", "routes", list, "count",
	    (json_int_t)json_array_size(list));
	if (w->cursor != 0) {
		snprintf(next, sizeof(next), "%llu",
		    (unsigned long long)w->cursor);
		json_object_set_new(o, "next", json_string(next));
	}
	api_reply_json(r, 200, o);
}

/*
 * GET /v1/evpn/routes[?type=T][&vni=N][&limit=L[&after=C]]: the whole
 * table streamed in slices, or with limit one page of about L routes
 * and "next", the cursor to ask the following page with (after=);
 * absent on the last page.  The table may change between pages: a route
 * there all along is listed once, one added or withdrawn meanwhile may
 * or may not be.
 */
void
api_evpn_routes(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct routes_walk *w;
	struct evkeyvalq q;
	uint64_t type, vni, limit, after;

	if (r->d->evpn == NULL) {
		api_reply_error(r, 503, "EVPN is not running");
		return;
	}
	TAILQ_INIT(&q);
	if (qs && evhttp_parse_query_str(qs, &q) == -1) {
		api_reply_error(r, 400, "malformed query string");
		return;
	}
	if (query_uint(r, &q, "type", 1, 5, 0, &type) == -1 ||
	    query_uint(r, &q, "vni", 1, 0xffffff, 0, &vni) == -1 ||
	    query_uint(r, &q, "limit", 1, API_PAGE_MAX, 0, &limit) == -1 ||
	    query_uint(r, &q, "after", 1, UINT64_MAX, 0, &after) == -1) {
		evhttp_clear_headers(&q);
		return;
	}
	evhttp_clear_headers(&q);
	if (after != 0 && limit == 0) {
		api_reply_error(r, 400, "'after' goes with 'limit'");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->evpn = r->d->evpn;
	w->type = (int)type;
	w->vni = (uint32_t)vni;
	w->cursor = after;
	if (limit == 0) {
		api_stream_start(r, "routes", routes_fill, w, free);
		return;
	}
	routes_page(r, w, limit);
	free(w);
}

void
api_evpn_vnis(struct api_req *r)
{
	api_reply_json(r, 200, evpn_vni_json(r->d->evpn));
}

/* arg is "N/macs" after the "/v1/evpn/vnis/" prefix. */
void
api_evpn_vni_macs(struct api_req *r)
{
	char num[16];
	const char *slash = strchr(r->arg, '/');
	uint64_t vni;
	json_t *o;
	size_t n;

	if (slash == NULL || strcmp(slash, "/macs") != 0 ||
	    (n = (size_t)(slash - r->arg)) >= sizeof(num)) {
		api_reply_error(r, 404, "no such resource %s", r->path);
		return;
	}
	memcpy(num, r->arg, n);
	num[n] = '\0';
	if (parse_uint(num, 1, 0xffffff, &vni) == -1) {
		api_reply_error(r, 400, "bad VNI '%s'", num);
		return;
	}
	if ((o = evpn_mac_json(r->d->evpn, (uint32_t)vni)) == NULL) {
		api_reply_error(r, 404, "no such L2 VNI %llu",
		    (unsigned long long)vni);
		return;
	}
	api_reply_json(r, 200, o);
}

void
api_evpn_convergence(struct api_req *r)
{
	api_reply_json(r, 200, evpn_convergence_json(r->d->evpn));
}
