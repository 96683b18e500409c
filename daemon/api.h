/*
 * The daemon's control API: HTTP/1.1 with JSON bodies on a Unix socket.
 *
 * How this works: evpnd.c owns the process state (struct evpnd: the
 * event base, the bgp instance, the running config, reload counters)
 * and hands it to api_create(), which opens the listening socket itself
 * (so it can refuse to steal the socket of a running evpnd) and gives
 * it to libevent's evhttp.  Every request goes through one generic
 * callback that looks the path up in a route table of
 * {method, path, handler}; a path that matches no row is a 404, a path
 * that matches only with another method is a 405.  Handlers build a
 * jansson object and answer with api_reply_json(); error bodies are
 * always {"error": "..."}.
 *
 * Adding an endpoint is adding a row to the table in api.c and a
 * handler, in the file of the part it shows (api_bgp.c for bgpd,
 * metrics.c for /metrics, later api_evpn.c, api_ipam.c).
 */
#ifndef DAEMON_API_H
#define DAEMON_API_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct evbuffer;
struct evhttp_request;
struct bgp;
struct bgp_rib;
struct config;
struct evpn;
struct dataplane;

#define API_MAX_BODY		(64 * 1024)
#define API_MAX_HEADERS		(16 * 1024)
#define API_CONN_TIMEOUT	30	/* seconds an idle client may hold on */

/* Process state shared by the main loop and the API handlers. */
struct evpnd {
	struct event_base	*base;
	struct bgp		*bgp;
	struct bgp_rib		*rib;
	struct evpn		*evpn;
	struct dataplane	*dp;		/* the kernel; may be NULL */
	struct config		*conf;		/* the running config */
	const char		*conf_path;
	const char		*sock_path;
	const char		*state_dir;
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
};

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

/* One request as handlers see it. */
struct api_req {
	struct evhttp_request	*req;
	struct evpnd		*d;
	const char		*path;	/* decoded path, no query */
	const char		*arg;	/* after a prefix route; "" if exact */
};

typedef void	 api_handler(struct api_req *);

/* Send obj (reference stolen) as the body with status code. */
void		 api_reply_json(struct api_req *, int code, json_t *obj);
/* Send {"error": "<formatted message>"} with status code. */
void		 api_reply_error(struct api_req *, int code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Send the buffer's contents as they are (drained) with content type. */
void		 api_reply_raw(struct api_req *, int code, const char *ctype,
		    struct evbuffer *body);

/* api_bgp.c */
api_handler	 api_bgp_summary;
api_handler	 api_bgp_neighbors;
api_handler	 api_bgp_neighbor;
api_handler	 api_config;
/* Build the JSON objects the handlers send (exposed for tests). */
json_t		*api_bgp_summary_json(struct evpnd *);
json_t		*api_bgp_neighbors_json(struct evpnd *);

/* api_evpn.c */
api_handler	 api_evpn_routes;
api_handler	 api_evpn_vnis;
api_handler	 api_evpn_vni_macs;
api_handler	 api_dataplane;

/* metrics.c */
api_handler	 api_metrics;
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/* Prometheus text exposition format 0.0.4 of the whole daemon. */
void		 metrics_render(struct evbuffer *, struct evpnd *);

#endif
