/*
 * The control API's transport: the Unix listening socket, evhttp, the
 * route table and the reply helpers.  See api.h for the overall shape.
 *
 * The socket is ours, not evhttp's: before binding we check whether the
 * path already holds a socket somebody answers on.  If so another evpnd
 * (same -S) is running and we refuse to start rather than unlink its
 * socket from under it; if the connect is refused the file is a leftover
 * of a crash and is removed.  Anything at the path that is not a socket
 * is never removed.
 *
 * An optional second evhttp serves the same table on TCP with TLS and
 * client certificates (api_tls.c); both end in api_request(), the Unix
 * socket's requests as the administrator's, TLS ones as their
 * certificate's.
 */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "ipamd/ipamd.h"

struct api {
	struct evpnd	*d;
	struct evhttp	*http;
	struct evhttp	*tls_http;	/* the TCP+TLS listener, if any */
	struct api_tls	*tls;
	struct api_conns *local_conns;
	struct api_conns *tls_conns;
	int		 fd;
	char		*path;
};

static const struct api_limits local_limits = {
	.max_conns = API_MAX_CONNS,
	.per_addr = 0,
	.deadline = API_REQUEST_DEADLINE,
};

static const struct api_limits tls_limits = {
	.max_conns = API_MAX_CONNS,
	.per_addr = API_MAX_CONNS_PER_ADDR,
	.deadline = API_REQUEST_DEADLINE,
};

enum route_match {
	ROUTE_EXACT,		/* the path is exactly the row's */
	ROUTE_PREFIX,		/* the row's path, then at least one byte */
	ROUTE_PATTERN,		/* each '*' stands for one non-empty path
				 * segment, matched on the raw path and
				 * decoded into arg, arg2 (so "a%2Fb" is
				 * "a/b") */
};

struct api_route {
	enum evhttp_cmd_type	 method;
	enum route_match	 match;
	const char		*path;
	api_handler		*handler;
	enum conf_api_role	 need;		/* the role it takes */
};

#define READ		CONF_API_READ
#define ALLOCATE	CONF_API_ALLOCATE
#define ADMIN		CONF_API_ADMIN

/*
 * Prefix rows end in '/' so "/v1/bgp/neighborsX" cannot hit them.  The
 * IPAM rows that a read or allocate client may use check the pool's
 * tenant in their handler; the config (every tenant's pools, secrets),
 * making, changing and deleting pools and reservations, the audit
 * trail, the fabric's blocks and datastore and clearing a BGP session
 * are for admins.
 */
static const struct api_route api_routes[] = {
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/bgp/summary", api_bgp_summary,
	    READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/bgp/neighbors", api_bgp_neighbors,
	    READ },
	{ EVHTTP_REQ_GET, ROUTE_PREFIX, "/v1/bgp/neighbors/", api_bgp_neighbor,
	    READ },
	{ EVHTTP_REQ_POST, ROUTE_PATTERN, "/v1/bgp/neighbors/*/clear",
	    api_bgp_neighbor_clear, ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/config", api_config, ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/evpn/routes", api_evpn_routes,
	    READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/evpn/vnis", api_evpn_vnis, READ },
	{ EVHTTP_REQ_GET, ROUTE_PREFIX, "/v1/evpn/vnis/", api_evpn_vni_macs,
	    READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/evpn/convergence",
	    api_evpn_convergence, READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/dataplane", api_dataplane, READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/pools", api_ipam_pools,
	    READ },
	{ EVHTTP_REQ_POST, ROUTE_EXACT, "/v1/ipam/pools",
	    api_ipam_pool_create, ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_PATTERN, "/v1/ipam/pools/*", api_ipam_pool,
	    READ },
	{ EVHTTP_REQ_PATCH, ROUTE_PATTERN, "/v1/ipam/pools/*",
	    api_ipam_pool_update, ADMIN },
	{ EVHTTP_REQ_DELETE, ROUTE_PATTERN, "/v1/ipam/pools/*",
	    api_ipam_pool_delete, ADMIN },
	{ EVHTTP_REQ_POST, ROUTE_PATTERN, "/v1/ipam/pools/*/reservations",
	    api_ipam_reserve, ADMIN },
	{ EVHTTP_REQ_DELETE, ROUTE_PATTERN, "/v1/ipam/pools/*/reservations/*",
	    api_ipam_unreserve, ADMIN },
	{ EVHTTP_REQ_POST, ROUTE_PATTERN, "/v1/ipam/pools/*/allocations",
	    api_ipam_allocate, ALLOCATE },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/allocations",
	    api_ipam_allocations, READ },
	{ EVHTTP_REQ_GET, ROUTE_PATTERN, "/v1/ipam/allocations/*",
	    api_ipam_allocation, READ },
	{ EVHTTP_REQ_DELETE, ROUTE_PATTERN, "/v1/ipam/allocations/*",
	    api_ipam_release, ALLOCATE },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/conflicts",
	    api_ipam_conflicts, READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/audit", api_ipam_audit,
	    ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/audit/records",
	    api_ipam_audit_records, ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/shadow", api_ipam_shadow,
	    READ },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/alerts", api_ipam_alerts,
	    READ },
	{ EVHTTP_REQ_POST, ROUTE_PATTERN, "/v1/ipam/pools/*/intent",
	    api_ipam_intent, ALLOCATE },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/blocks", api_ipam_blocks,
	    ADMIN },
	{ EVHTTP_REQ_POST, ROUTE_EXACT, "/v1/ipam/blocks/reclaim",
	    api_ipam_reclaim, ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/v1/ipam/datastore",
	    api_ipam_datastore, ADMIN },
	{ EVHTTP_REQ_GET, ROUTE_EXACT, "/metrics", api_metrics, READ },
};

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:	return "GET";
	case EVHTTP_REQ_POST:	return "POST";
	case EVHTTP_REQ_HEAD:	return "HEAD";
	case EVHTTP_REQ_PUT:	return "PUT";
	case EVHTTP_REQ_DELETE:	return "DELETE";
	case EVHTTP_REQ_PATCH:	return "PATCH";
	default:		return "OTHER";
	}
}

/* One raw segment decoded into a malloc'd string; NULL when it decodes
 * to nothing or holds a NUL. */
static char *
segment_decode(const char *raw, size_t len)
{
	char *seg = xmalloc(len + 1), *out;
	size_t outlen;

	memcpy(seg, raw, len);
	seg[len] = '\0';
	out = evhttp_uridecode(seg, 0, &outlen);
	free(seg);
	if (out == NULL || outlen == 0 || strlen(out) != outlen) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * Match a pattern row against the raw path: each '*' (at most
 * API_ROUTE_CAPTURES) stands for one non-empty segment, decoded into a
 * malloc'd capture[i].  -1 (captures freed) when it does not match.
 */
static int
pattern_match(const char *pat, const char *raw,
    char *capture[API_ROUTE_CAPTURES])
{
	const char *star, *seg_end;
	int n = 0;

	memset(capture, 0, API_ROUTE_CAPTURES * sizeof(*capture));
	while ((star = strchr(pat, '*')) != NULL) {
		size_t head = (size_t)(star - pat);

		if (n == API_ROUTE_CAPTURES || strncmp(raw, pat, head) != 0)
			goto fail;
		raw += head;
		if ((seg_end = strchr(raw, '/')) == NULL)
			seg_end = raw + strlen(raw);
		if (seg_end == raw || (capture[n++] = segment_decode(raw,
		    (size_t)(seg_end - raw))) == NULL)
			goto fail;
		raw = seg_end;
		pat = star + 1;
	}
	if (strcmp(raw, pat) == 0)
		return 0;
fail:
	for (int i = 0; i < API_ROUTE_CAPTURES; i++) {
		free(capture[i]);
		capture[i] = NULL;
	}
	return -1;
}

/*
 * Does row r take this request?  Returns the argument (the part after a
 * prefix row, the first decoded segment of a pattern row) or NULL when
 * it does not match; a pattern row's segments are malloc'd into owned.
 */
static const char *
route_match(const struct api_route *r, const struct api_req *ar,
    char *owned[API_ROUTE_CAPTURES])
{
	size_t n = strlen(r->path);
	const char *path = ar->path;

	memset(owned, 0, API_ROUTE_CAPTURES * sizeof(*owned));
	switch (r->match) {
	case ROUTE_EXACT:
		return strcmp(path, r->path) == 0 ? path + n : NULL;
	case ROUTE_PREFIX:
		if (strncmp(path, r->path, n) != 0 || path[n] == '\0')
			return NULL;
		return path + n;
	case ROUTE_PATTERN:
		return pattern_match(r->path, ar->raw, owned) == 0 ? owned[0] :
		    NULL;
	}
	return NULL;
}

static void
owned_free(char *owned[API_ROUTE_CAPTURES])
{
	for (int i = 0; i < API_ROUTE_CAPTURES; i++)
		free(owned[i]);
}

/* The reply goes out now: before evhttp may free a detached request. */
static void
reply_going(struct api_req *ar)
{
	api_conn_replied(ar->conns, ar->req);
}

void
api_reply_raw(struct api_req *ar, int code, const char *ctype,
    struct evbuffer *body)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(ar->req);
	const char *reason = NULL;

	evhttp_add_header(out, "Content-Type", ctype);
	evhttp_add_header(out, "Cache-Control", "no-store");
	switch (code) {
	case 200: reason = "OK"; break;
	case 201: reason = "Created"; break;
	case 204: reason = "No Content"; break;
	case 400: reason = "Bad Request"; break;
	case 403: reason = "Forbidden"; break;
	case 404: reason = "Not Found"; break;
	case 405: reason = "Method Not Allowed"; break;
	case 409: reason = "Conflict"; break;
	case 413: reason = "Payload Too Large"; break;
	case 500: reason = "Internal Server Error"; break;
	case 503: reason = "Service Unavailable"; break;
	}
	reply_going(ar);
	evhttp_send_reply(ar->req, code, reason, body);
}

void
api_reply_empty(struct api_req *ar, int code)
{
	evhttp_add_header(evhttp_request_get_output_headers(ar->req),
	    "Cache-Control", "no-store");
	reply_going(ar);
	evhttp_send_reply(ar->req, code, code == 204 ? "No Content" : NULL,
	    NULL);
}

void
api_reply_json(struct api_req *ar, int code, json_t *obj)
{
	struct evbuffer *body;
	char *text;

	/* A NULL obj is a json_pack() that failed (e.g. text that is not
	 * UTF-8 in the config): report it instead of sending nothing. */
	if (obj == NULL) {
		code = 500;
		obj = json_pack("{s:s}", "error", "cannot encode the reply");
	}
	/* Compact: serialising is a fifth of an allocation's cost at load;
	 * evpnctl indents what it prints. */
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (text == NULL)
		fatalx("api: cannot serialise a JSON reply");
	if ((body = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	evbuffer_add(body, text, strlen(text));
	evbuffer_add(body, "\n", 1);
	free(text);
	api_reply_raw(ar, code, "application/json", body);
	evbuffer_free(body);
}

void
api_reply_error(struct api_req *ar, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages echo request bytes; keep them printable ASCII so they
	 * are always valid JSON strings. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	api_reply_json(ar, code, json_pack("{s:s}", "error", msg));
}

/* Comma-separated methods the rows matching path accept, for Allow. */
static void
allowed_methods(const struct api_req *ar, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < nitems(api_routes); i++) {
		const char *m = method_name(api_routes[i].method);
		char *owned[API_ROUTE_CAPTURES];
		bool hit = route_match(&api_routes[i], ar, owned) != NULL;

		owned_free(owned);
		if (!hit || strstr(buf, m) != NULL)
			continue;
		if (buf[0] != '\0')
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, m, len - strlen(buf) - 1);
	}
}

static void
api_dispatch(struct api_req *ar)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(ar->req);
	char allow[64];

	for (size_t i = 0; i < nitems(api_routes); i++) {
		const struct api_route *r = &api_routes[i];
		const char *rest;
		char *owned[API_ROUTE_CAPTURES];

		if (r->method != method)
			continue;
		if ((rest = route_match(r, ar, owned)) == NULL)
			continue;
		ar->arg = rest;
		ar->arg2 = owned[1] != NULL ? owned[1] : "";
		if (api_authz_role(ar, r->need)) {
			if (method != EVHTTP_REQ_GET)
				log_info("api: %s %.200s by %s",
				    method_name(method), ar->raw, ar->who);
			r->handler(ar);
		}
		owned_free(owned);
		return;
	}
	allowed_methods(ar, allow, sizeof(allow));
	if (allow[0] == '\0') {
		api_reply_error(ar, 404, "no such path %s", ar->path);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(ar->req), "Allow",
	    allow);
	api_reply_error(ar, 405, "method %s not allowed on %s (allowed: %s)",
	    method_name(method), ar->path, allow);
}

static void
api_request(struct api_req *ar)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ar->req);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	char *path;

	if (raw == NULL || raw[0] == '\0')
		raw = "/";
	if ((path = evhttp_uridecode(raw, 0, NULL)) == NULL) {
		api_reply_error(ar, 400, "bad request path");
		return;
	}
	ar->path = path;
	ar->raw = raw;
	log_debug("api: %s %.200s by %s",
	    method_name(evhttp_request_get_command(ar->req)), raw, ar->who);
	api_dispatch(ar);
	free(path);
}

/* The Unix socket: the administrator. */
static void
api_request_local_cb(struct evhttp_request *req, void *arg)
{
	struct api *api = arg;
	struct api_req ar = { .req = req, .d = api->d, .path = "", .raw = "",
	    .arg = "", .arg2 = "", .local = true, .who = IPAMD_ACTOR_LOCAL,
	    .conns = api->local_conns, .api = api };

	api_conn_request(ar.conns, req);
	api_request(&ar);
}

/* TLS: whoever the certificate names; nobody may do anything else. */
static void
api_request_tls_cb(struct evhttp_request *req, void *arg)
{
	struct api *api = arg;
	struct api_req ar = { .req = req, .d = api->d, .path = "", .raw = "",
	    .arg = "", .arg2 = "", .conns = api->tls_conns, .api = api };
	char who[CONF_API_CLIENT_NAME_MAX + 1];

	api_conn_request(ar.conns, req);
	ar.client = api_tls_identify(req, api->d->conf, who, sizeof(who));
	ar.who = who[0] != '\0' ? who : "(no usable name)";
	if (ar.client == NULL) {
		log_info("api: refused a client whose certificate names %s",
		    ar.who);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		api_authz_role(&ar, CONF_API_READ);
		return;
	}
	api_request(&ar);
}

/*
 * Decide what to do with whatever is at path: 0 when the path is free
 * (or held a stale socket we removed), -1 with err filled otherwise.
 */
static int
api_socket_clear_stale(const char *path, const struct sockaddr_un *sun,
    char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "another evpnd is already running on %s",
		    path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "%s: cannot check existing socket: %s",
		    path, strerror(errno));
		return -1;
	}
	log_info("api: removing stale socket %s", path);
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* mkdir -p of the directory part of path. */
static int
mkdir_parents(const char *path, mode_t mode, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *p;
	int rc = 0;

	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, mode) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
			    strerror(errno));
			rc = -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

static int
api_socket_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (mkdir_parents(path, 0755, err, errlen) == -1 ||
	    api_socket_clear_stale(path, &sun, err, errlen) == -1)
		return -1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Bind under a umask so the file is never wider than 0660. */
	old_umask = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc == -1 || chmod(path, 0660) == -1 || listen(fd, 64) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (rc == 0)
			unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

/* An evhttp with our limits, serving the route table. */
static struct evhttp *
api_http_new(struct api *api, void (*cb)(struct evhttp_request *, void *))
{
	struct evhttp *http;

	if ((http = evhttp_new(api->d->base)) == NULL)
		fatalx("api: evhttp_new failed");
	evhttp_set_max_body_size(http, API_MAX_BODY);
	/* A body over the limit is read and discarded before the 413, so
	 * a client still sending it gets the answer, not a reset. */
	evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_max_headers_size(http, API_MAX_HEADERS);
	evhttp_set_timeout(http, API_CONN_TIMEOUT);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, cb, api);
	return http;
}

/* The Unix socket's connections: a plain socket bufferevent, counted. */
static struct bufferevent *
local_bev_new(struct event_base *base, void *arg)
{
	struct api *api = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL)
		fatalx("api: out of memory for a connection");
	api_conn_track(api->local_conns, bev);
	return bev;
}

void
api_listener_stats(const struct api *api, struct api_conn_stats st[2],
    bool present[2])
{
	api_conns_stats(api->local_conns, &st[0]);
	api_conns_stats(api->tls_conns, &st[1]);
	present[0] = true;
	present[1] = api->tls_conns != NULL;
}

void
api_set_limits(struct api *api, const struct api_limits *lim)
{
	api_conns_set_limits(api->local_conns, lim);
	if (api->tls_conns != NULL)
		api_conns_set_limits(api->tls_conns, lim);
}

int
api_listen_tls(struct api *api, const struct conf_api_listen *l, char *err,
    size_t errlen)
{
	struct evhttp *http = api_http_new(api, api_request_tls_cb);
	struct api_tls *tls;

	api->tls_conns = api_conns_new(api->d->base, "tls", &tls_limits);
	if ((tls = api_tls_create(http, api->d, api->tls_conns, l, err,
	    errlen)) == NULL) {
		evhttp_free(http);
		api_conns_free(api->tls_conns);
		api->tls_conns = NULL;
		return -1;
	}
	api->tls_http = http;
	api->tls = tls;
	return 0;
}

static bool
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

int
api_reload_check(const struct config *running, const struct config *next,
    char *err, size_t errlen)
{
	const struct conf_api_listen *a = &running->api_listen;
	const struct conf_api_listen *b = &next->api_listen;

	if (a->enabled != b->enabled || (a->enabled &&
	    (ipaddr_cmp(&a->addr, &b->addr) != 0 || a->port != b->port))) {
		snprintf(err, errlen, "api listen address or port changed: "
		    "restart evpnd to apply");
		return -1;
	}
	if (!b->enabled)
		return 0;
	/* Unchanged names may still hold new files: check them too. */
	if (api_tls_check(b, err, errlen) == -1)
		return -1;
	if (str_differs(a->cert, b->cert) || str_differs(a->key, b->key) ||
	    str_differs(a->client_ca, b->client_ca) ||
	    str_differs(a->crl, b->crl))
		log_info("api: TLS files changed; they apply to new "
		    "connections");
	return 0;
}

struct api *
api_create(struct evpnd *d, const char *path, char *err, size_t errlen)
{
	struct api *api;
	int fd;

	if ((fd = api_socket_open(path, err, errlen)) == -1)
		return NULL;
	api = xcalloc(1, sizeof(*api));
	api->d = d;
	api->fd = fd;
	api->path = xstrdup(path);
	api->local_conns = api_conns_new(d->base, "unix socket",
	    &local_limits);
	api->http = api_http_new(api, api_request_local_cb);
	evhttp_set_bevcb(api->http, local_bev_new, api);
	if (evhttp_accept_socket_with_handle(api->http, fd) == NULL) {
		snprintf(err, errlen, "%s: cannot serve HTTP on the socket",
		    path);
		api_free(api);
		return NULL;
	}
	api->fd = -1;		/* evhttp's listener owns and closes it now */
	log_info("api: listening on %s", path);
	return api;
}

void
api_free(struct api *api)
{
	if (api == NULL)
		return;
	if (api->http != NULL)
		evhttp_free(api->http);
	if (api->tls_http != NULL)
		evhttp_free(api->tls_http);
	api_tls_free(api->tls);
	api_conns_free(api->local_conns);
	api_conns_free(api->tls_conns);
	if (api->fd != -1)
		close(api->fd);
	if (unlink(api->path) == -1 && errno != ENOENT)
		log_warn("api: unlink %s: %s", api->path, strerror(errno));
	free(api->path);
	free(api);
}
