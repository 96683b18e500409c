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
 * Who may do what (api_authz.c): the Unix socket (mode 0660) is the
 * administrator's door and may do everything.  A TLS client is known by
 * its certificate (subject CN, else a SAN DNS name) and may do what its
 * "api client" line says: each row of the table names the role it needs
 * (read, allocate, admin), handlers of tenant data check the tenant of
 * the pool they touch, and listings leave out what the client may not
 * see.  A certificate no "api client" line names gets 403 for every
 * request; so does anything beyond its role or its tenants, with an
 * error that names nothing of another tenant.  Mutating requests are
 * logged with the client's name, and that name is the actor of the
 * IPAM's audit records.
 *
 * One client cannot take the daemon down (api_conn.c): each listener
 * holds at most API_MAX_CONNS connections, the TLS one at most
 * API_MAX_CONNS_PER_ADDR from one address, and a request (with the TLS
 * handshake, for the first one) must arrive whole within
 * API_REQUEST_DEADLINE seconds; headers and bodies are capped
 * (API_MAX_HEADERS: evhttp answers 400; API_MAX_BODY: 413).
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
/* Connections (api_conn.c): per listener, per source address (TLS), and
 * the seconds a request may take to arrive (TLS handshake included). */
#define API_MAX_CONNS		256
#define API_MAX_CONNS_PER_ADDR	32
#define API_REQUEST_DEADLINE	10

struct api_limits {
	size_t		 max_conns;
	size_t		 per_addr;	/* 0: no cap per address */
	int		 deadline;	/* seconds */
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
/*
 * Also serve the same routes on a TCP socket, TLS only, with client
 * certificates required (api_tls.c).  -1 with err filled when the
 * certificate, key or CA cannot be loaded or the socket bound.
 */
int		 api_listen_tls(struct api *, const struct conf_api_listen *,
		    char *err, size_t errlen);
/*
 * Reload: -1 with err when next cannot be applied live (the TCP
 * listener added, removed, or moved to another address or port, or its
 * files do not load).  Once d->conf is next and d->reloads_ok counted
 * it, the next TLS connection builds a new context from its files
 * (renewed certificates, a new CRL); the clients' roles apply at once.
 */
int		 api_reload_check(const struct config *running,
		    const struct config *next, char *err, size_t errlen);
/* Other limits than the defaults (tests); both listeners. */
void		 api_set_limits(struct api *, const struct api_limits *);

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
	bool			 local;	/* the Unix socket: admin */
	const struct conf_api_client *client;	/* TLS: its line, if any */
	const char		*who;	/* IPAMD_ACTOR_LOCAL or the
					 * certificate's name, for logs and
					 * the audit records */
	struct api_conns	*conns;	/* its listener's connections */
	struct api		*api;	/* NULL in a deferred answer */
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

/* api_authz.c: what the client of a request may do. */
enum conf_api_role;
struct ipam_pool;
/* May it use a route that needs role?  (Replies 403 when not.) */
bool		 api_authz_role(struct api_req *, enum conf_api_role need);
/* Does it see pools of tenant (NULL: pools without one)? */
bool		 api_authz_tenant(const struct api_req *, const char *tenant);
bool		 api_authz_pool(const struct api_req *,
		    const struct ipam_pool *);
/* Is it an admin (the Unix socket, or an admin client)? */
bool		 api_authz_admin(const struct api_req *);

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

/* api_conn.c: connection caps and request deadlines. */
struct bufferevent;
struct api_conns;
struct api_conn_stats {
	size_t		 open;
	uint64_t	 refused;	/* over a cap */
	uint64_t	 cut;		/* a request not complete in time */
};
struct api_conns *api_conns_new(struct event_base *, const char *name,
		    const struct api_limits *);
void		 api_conns_set_limits(struct api_conns *,
		    const struct api_limits *);
void		 api_conns_free(struct api_conns *);
void		 api_conns_stats(const struct api_conns *,
		    struct api_conn_stats *);
/* Both listeners' (api.c): [0] the Unix socket, [1] TLS; false for a
 * listener that is not there. */
void		 api_listener_stats(const struct api *,
		    struct api_conn_stats st[2], bool present[2]);
/* For evhttp_set_bevcb(): count and watch the connection of bev. */
void		 api_conn_track(struct api_conns *, struct bufferevent *);
/* A request arrived complete; its answer is about to go out. */
void		 api_conn_request(struct api_conns *, struct evhttp_request *);
void		 api_conn_replied(struct api_conns *, struct evhttp_request *);

/*
 * api_stream.c: answer {"KEY": [...], "total": N} in slices; fill appends
 * the next items to the array it is given and returns true after the
 * last.  free_arg (may be NULL) frees arg when the stream ends, however
 * it ends.  The handler returns at once; the reply is the stream's.
 */
typedef bool	 api_stream_fill(void *arg, json_t *items);
void		 api_stream_start(struct api_req *, const char *key,
		    api_stream_fill *, void *arg, void (*free_arg)(void *));
#define API_STREAM_SLICE	2000	/* entries a slice looks at */
#define API_PAGE_MAX		10000	/* ?limit= at most */
#define API_PAGE_SCAN_MAX	100000	/* entries one page may look at */

/* api_fabric.c: fabric pools' blocks, datastore, reclaim */
api_handler	 api_ipam_blocks;
api_handler	 api_ipam_datastore;
api_handler	 api_ipam_reclaim;

/* api_tls.c: the TLS side of api_listen_tls(). */
struct evhttp;
struct api_tls;
struct api_tls	*api_tls_create(struct evhttp *, struct evpnd *,
		    struct api_conns *, const struct conf_api_listen *,
		    char *err, size_t errlen);
void		 api_tls_free(struct api_tls *);
/* Can a context be built from these files?  (-1 with err when not.) */
int		 api_tls_check(const struct conf_api_listen *, char *err,
		    size_t errlen);
#define API_TLS_SID_CTX	"evpnd-api"
/*
 * The api client line of the request's certificate: its subject CN, or
 * else the first of its SAN DNS names, that one names.  who gets that
 * name, or when none matches the certificate's CN (for the refusal);
 * NULL when none matches.
 */
const struct conf_api_client *api_tls_identify(struct evhttp_request *,
		    const struct config *, char *who, size_t wholen);

/* metrics.c */
api_handler	 api_metrics;
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/* Prometheus text exposition format 0.0.4 of the whole daemon. */
void		 metrics_render(struct evbuffer *, struct evpnd *);

#endif
