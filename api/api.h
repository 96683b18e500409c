/*
 * The daemon's control API: HTTP/1.1 with JSON bodies on a Unix socket
 * and, optionally, over TLS on TCP; /metrics.
 *
 * Dependencies: api/ reads every part (bgpd/, evpn/, ipam/ and the
 * daemon-side glue in ipamd/ and dataplane/) through their public
 * headers and the struct evpnd that daemon/evpnd.h declares; nothing
 * but daemon/ and the tests calls into api/.
 *
 * How this works: daemon/evpnd.c owns the process state (struct evpnd: the
 * event base, the bgp instance, the running config, reload counters)
 * and hands it to api_create(), which opens the listening socket itself
 * (so it can refuse to steal the socket of a running evpnd) and gives
 * it to libevent's evhttp.  Every request goes through one generic
 * callback that looks the path up in a route table of
 * {method, match, path, handler}; a row matches the path exactly, as a
 * prefix, or as a pattern whose '*' is one path segment (decoded into
 * the handler's arg, a second one into arg2:
 * /v1/ipam/pools/NAME/reservations/IP).  A path that
 * matches no row is a 404, a path that matches only with another method
 * is a 405.  A handler may answer later (POST/DELETE of api_ipam.c
 * answer once the store committed) by keeping the evhttp_request.  Handlers build a
 * jansson object and answer with api_reply_json(); error bodies are
 * always {"error": "..."}.
 *
 * Adding an endpoint is adding a row to the table in api.c and a
 * handler, in the file of the part it shows (api_bgp.c for bgpd,
 * metrics.c for /metrics, later api_evpn.c, api_ipam.c).
 */
#ifndef API_API_H
#define API_API_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/evpnd.h"

struct event_base;
struct evbuffer;
struct evhttp_request;
struct bgp;
struct bgp_rib;
struct config;
struct evpn;
struct dataplane;
struct ipamd;
struct conf_api_listen;

#define API_MAX_BODY		(64 * 1024)
#define API_MAX_HEADERS		(16 * 1024)
#define API_CONN_TIMEOUT	30	/* seconds an idle client may hold on */

struct api;

/*
 * Open the listening socket at path (creating its parent directory,
 * removing a stale socket file nobody listens on) and serve the API on
 * d->base.  Returns NULL with err filled when another process listens
 * on path or the socket cannot be made.
 */
struct api	*api_create(struct evpnd *d, const char *path, char *err,
		    size_t errlen);
/* Stop serving, close the socket and remove its file. */
void		 api_free(struct api *);
/*
 * Also serve the same routes on a TCP socket, TLS only, with client
 * certificates required (api_tls.c).  -1 with err filled when the
 * certificate, key or CA cannot be loaded or the socket bound.
 */
int		 api_listen_tls(struct api *, const struct conf_api_listen *,
		    char *err, size_t errlen);

/* One request as handlers see it. */
struct api_req {
	struct evhttp_request	*req;
	struct evpnd		*d;
	const char		*path;	/* decoded path, no query */
	const char		*raw;	/* the path as sent, no query */
	const char		*arg;	/* after a prefix route, or the
					 * decoded '*' segment of a pattern
					 * route; "" if exact */
	const char		*arg2;	/* a pattern's second '*'; "" */
};
#define API_ROUTE_CAPTURES	2	/* '*' segments in a route */

typedef void	 api_handler(struct api_req *);

/* Send obj (reference stolen) as the body with status code. */
void		 api_reply_json(struct api_req *, int code, json_t *obj);
/* Send {"error": "<formatted message>"} with status code. */
void		 api_reply_error(struct api_req *, int code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* A reply without a body (204). */
void		 api_reply_empty(struct api_req *, int code);
/* Send the buffer's contents as they are (drained) with content type. */
void		 api_reply_raw(struct api_req *, int code, const char *ctype,
		    struct evbuffer *body);

/* api_bgp.c */
api_handler	 api_bgp_summary;
api_handler	 api_bgp_neighbors;
api_handler	 api_bgp_neighbor;
api_handler	 api_bgp_neighbor_clear;
api_handler	 api_config;
/* Build the JSON objects the handlers send (exposed for tests). */
json_t		*api_bgp_summary_json(struct evpnd *);
json_t		*api_bgp_neighbors_json(struct evpnd *);

/* api_evpn.c */
api_handler	 api_evpn_routes;
api_handler	 api_evpn_vnis;
api_handler	 api_evpn_vni_macs;
api_handler	 api_evpn_convergence;

/* api_dataplane.c */
api_handler	 api_dataplane;
json_t		*api_dataplane_json(struct dataplane *);

/* api_ipam.c */
#define API_IPAM_MAX_BODY	4096	/* an allocation request, as JSON */
api_handler	 api_ipam_pools;
api_handler	 api_ipam_pool;
api_handler	 api_ipam_allocate;
api_handler	 api_ipam_allocations;
api_handler	 api_ipam_allocation;
api_handler	 api_ipam_release;
api_handler	 api_ipam_conflicts;
api_handler	 api_ipam_audit;
api_handler	 api_ipam_audit_records;
api_handler	 api_ipam_shadow;
api_handler	 api_ipam_alerts;
api_handler	 api_ipam_intent;
/* A pool as GET /v1/ipam/pools/NAME shows it (exposed for tests). */
struct ipam_pool;
json_t		*api_ipam_pool_json(const struct ipam_pool *);
/* The body, NUL-terminated and malloc'd, parsed; NULL after a 400. */
json_t		*api_ipam_body(struct api_req *);
/* Who asks, for the audit trail: "local" on the Unix socket. */
void		 api_ipam_actor(struct api_req *, char *, size_t);
/* A 503 unless the IPAM runs. */
bool		 api_ipam_ready(struct api_req *);

/* api_ipam_pools.c: pools and reservations made at run time (admin). */
api_handler	 api_ipam_pool_create;
api_handler	 api_ipam_pool_update;
api_handler	 api_ipam_pool_delete;
api_handler	 api_ipam_reserve;
api_handler	 api_ipam_unreserve;
/* The same with where it is defined and its definition (api_ipam.c). */
json_t		*api_ipam_pool_full_json(struct api_req *,
		    const struct ipam_pool *);
/* A pool's definition as JSON (the TSIG secret left out). */
struct conf_ipam_pool;
json_t		*api_ipam_definition_json(const struct conf_ipam_pool *);

/* api_fabric.c: fabric pools' blocks, datastore, reclaim */
api_handler	 api_ipam_blocks;
api_handler	 api_ipam_datastore;
api_handler	 api_ipam_reclaim;

/* api_tls.c: the TLS side of api_listen_tls(). */
struct evhttp;
struct api_tls;
struct api_tls	*api_tls_create(struct evhttp *, const struct conf_api_listen *,
		    char *err, size_t errlen);
void		 api_tls_free(struct api_tls *);

/* metrics.c */
api_handler	 api_metrics;
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/* Prometheus text exposition format 0.0.4 of the whole daemon. */
void		 metrics_render(struct evbuffer *, struct evpnd *);

#endif
