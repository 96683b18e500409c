/*
 * /v1/evpn/...: EVPN routes, VNIs and MAC tables as JSON.
 *
 *   GET /v1/evpn/routes[?type=2|3|5][&vni=N]
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

void
api_evpn_routes(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;
	uint64_t type, vni;

	TAILQ_INIT(&q);
	if (qs && evhttp_parse_query_str(qs, &q) == -1) {
		api_reply_error(r, 400, "malformed query string");
		return;
	}
	if (query_uint(r, &q, "type", 1, 5, 0, &type) == 0 &&
	    query_uint(r, &q, "vni", 1, 0xffffff, 0, &vni) == 0)
		api_reply_json(r, 200, evpn_routes_json(r->d->evpn, (int)type,
		    (uint32_t)vni));
	evhttp_clear_headers(&q);
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
