/*
 * The client object (etcd.h): endpoints from the config, TLS, HTTP
 * connections, the "kick" that runs deferred work on the next loop
 * turn, and teardown.  The request lifecycle is in etcd_request.c, the
 * watches in etcd_watch.c.
 *
 * Why a kick: libevent's evhttp calls us from deep inside its own
 * connection code, where freeing that connection (or calling back a
 * user who might free the whole client) is unsafe.  So completions are
 * only recorded there; freeing dead connections, starting queued
 * requests and running callbacks happen from the kick, an event of our
 * own made active when there is work.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "datastore/etcd_int.h"

static void	ds_free_now(struct ds_etcd *);

/* ---- endpoints ---------------------------------------------------- */

static bool
is_numeric_host(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

static int
endpoint_parse(struct ds_endpoint *ep, const char *url, char *err,
    size_t errlen)
{
	struct evhttp_uri *uri;
	const char *scheme, *host, *path;
	int port;
	char buf[300];

	uri = evhttp_uri_parse(url);
	if (uri == NULL) {
		snprintf(err, errlen, "endpoint %s: not a URL", url);
		return -1;
	}
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	path = evhttp_uri_get_path(uri);
	port = evhttp_uri_get_port(uri);
	if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0) || host == NULL || host[0] == '\0' ||
	    (path != NULL && path[0] != '\0' && strcmp(path, "/") != 0) ||
	    evhttp_uri_get_query(uri) != NULL || port == 0 || port > 65535) {
		snprintf(err, errlen, "endpoint %s: want http://HOST:PORT or "
		    "https://HOST:PORT", url);
		evhttp_uri_free(uri);
		return -1;
	}
	ep->url = xstrdup(url);
	ep->host = xstrdup(host);
	ep->tls = strcmp(scheme, "https") == 0;
	ep->port = port > 0 ? (uint16_t)port : 2379;
	ep->numeric = is_numeric_host(host);
	snprintf(buf, sizeof(buf), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
	    host, ep->port);
	ep->host_header = xstrdup(buf);
	TAILQ_INIT(&ep->conns);
	evhttp_uri_free(uri);
	return 0;
}

const char *
ds_etcd_endpoint(const struct ds_etcd *ds, size_t i)
{
	return i < ds->nep ? ds->ep[i].url : NULL;
}

/* ---- TLS ---------------------------------------------------------- */

static int
tls_error(char *err, size_t errlen, const char *what, const char *file)
{
	char ossl[160];

	ERR_error_string_n(ERR_get_error(), ossl, sizeof(ossl));
	snprintf(err, errlen, "tls %s %s: %s", what, file, ossl);
	ERR_clear_error();
	return -1;
}

static int
tls_setup(struct ds_etcd *ds, const struct ds_etcd_config *cfg, char *err,
    size_t errlen)
{
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		snprintf(err, errlen, "tls: cert and key go together");
		return -1;
	}
	if (cfg->tls_ca == NULL) {
		snprintf(err, errlen, "https endpoints need a tls ca");
		return -1;
	}
	ds->ssl = SSL_CTX_new(TLS_client_method());
	if (ds->ssl == NULL)
		return tls_error(err, errlen, "context", "");
	SSL_CTX_set_min_proto_version(ds->ssl, TLS1_2_VERSION);
	if (cfg->tls_cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ds->ssl,
		    cfg->tls_cert) != 1)
			return tls_error(err, errlen, "cert", cfg->tls_cert);
		if (SSL_CTX_use_PrivateKey_file(ds->ssl, cfg->tls_key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ds->ssl) != 1)
			return tls_error(err, errlen, "key", cfg->tls_key);
	}
	if (SSL_CTX_load_verify_locations(ds->ssl, cfg->tls_ca, NULL) != 1)
		return tls_error(err, errlen, "ca", cfg->tls_ca);
	SSL_CTX_set_verify(ds->ssl, SSL_VERIFY_PEER, NULL);
	return 0;
}

/* The server's certificate must name the host we dialled. */
static SSL *
tls_session(struct ds_etcd *ds, const struct ds_endpoint *ep)
{
	SSL *ssl = SSL_new(ds->ssl);

	if (ssl == NULL)
		return NULL;
	if (ep->numeric) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    ep->host) != 1)
			goto fail;
	} else if (SSL_set1_host(ssl, ep->host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, ep->host) != 1)
		goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

struct evhttp_connection *
ds_connect(struct ds_etcd *ds, struct ds_endpoint *ep)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	SSL *ssl;

	if (!ep->numeric && ds->dns == NULL)
		ds->dns = evdns_base_new(ds->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!ep->tls)
		return evhttp_connection_base_new(ds->base,
		    ep->numeric ? NULL : ds->dns, ep->host, ep->port);
	if ((ssl = tls_session(ds, ep)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(ds->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* etcd (Go) may close without a TLS close_notify */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	evcon = evhttp_connection_base_bufferevent_new(ds->base,
	    ep->numeric ? NULL : ds->dns, bev, ep->host, ep->port);
	if (evcon == NULL)
		bufferevent_free(bev);
	return evcon;
}

/*
 * Small requests go out at once.  Over TLS the HTTP header and body
 * leave as two records; with Nagle the second waits for the ACK of the
 * first, which the server delays: 40 ms per request.  libevent makes
 * the socket when it connects, so this runs after each
 * evhttp_make_request(), when the socket exists (connecting or reused).
 */
void
ds_conn_nodelay(struct evhttp_connection *evcon)
{
	evutil_socket_t fd;
	int on = 1;

	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* ---- bookkeeping -------------------------------------------------- */

void
ds_endpoint_failed(struct ds_etcd *ds, size_t ep, const char *why)
{
	ds->stats.attempts_failed++;
	snprintf(ds->stats.last_error, sizeof(ds->stats.last_error),
	    "%s: %s", ds->ep[ep].url, why);
	if (ds->current == ep && ds->nep > 1) {
		ds->current = (ep + 1) % ds->nep;
		ds->stats.failovers++;
		ds->stats.answered = false;
	}
}

void
ds_note_revision(struct ds_etcd *ds, int64_t rev)
{
	if (rev > ds->stats.revision)
		ds->stats.revision = rev;
}

void
ds_etcd_get_stats(const struct ds_etcd *ds, struct ds_etcd_stats *st)
{
	*st = ds->stats;
	st->nendpoints = ds->nep;
	st->current = ds->current;
}

struct timeval
ds_timeval(uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

void
ds_timer_arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = ds_timeval(ms);

	evtimer_add(ev, &tv);
}

/* ---- kick --------------------------------------------------------- */

static void
conn_free(struct ds_conn *conn)
{
	if (conn->evcon != NULL) {
		evhttp_connection_set_closecb(conn->evcon, NULL, NULL);
		evhttp_connection_free(conn->evcon);
	}
	free(conn);
}

void
ds_conn_bury(struct ds_etcd *ds, struct ds_conn *conn)
{
	conn->dead = true;
	conn->req = NULL;
	conn->watch = NULL;
	TAILQ_INSERT_TAIL(&ds->dead, conn, entry);
	ds_kick(ds);
}

static void
conn_list_free(struct ds_conn_list *list)
{
	struct ds_conn *conn;

	while ((conn = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, conn, entry);
		conn_free(conn);
	}
}

static void
reap(struct ds_etcd *ds)
{
	conn_list_free(&ds->dead);
	ds_watch_reap(ds);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_etcd *ds = arg;

	if (ds->free_pending) {
		ds_free_now(ds);
		return;
	}
	reap(ds);
	ds_request_dispatch(ds);
	ds_request_run_done(ds);
	if (ds->free_pending && ds->in_callback == 0)
		ds_free_now(ds);
}

void
ds_kick(struct ds_etcd *ds)
{
	event_active(ds->kick, EV_TIMEOUT, 0);
}

/* ---- create and free ---------------------------------------------- */

static int
config_apply(struct ds_etcd *ds, const struct ds_etcd_config *cfg,
    char *err, size_t errlen)
{
	size_t i;
	bool tls = false;

	if (cfg->nendpoints == 0 || cfg->nendpoints > DS_ENDPOINTS_MAX) {
		snprintf(err, errlen, "etcd: between 1 and %d endpoints",
		    DS_ENDPOINTS_MAX);
		return -1;
	}
	for (i = 0; i < cfg->nendpoints; i++) {
		if (cfg->endpoints[i] == NULL || endpoint_parse(&ds->ep[i],
		    cfg->endpoints[i], err, errlen) == -1)
			return -1;
		ds->nep++;
		tls |= ds->ep[i].tls;
	}
	if (tls && tls_setup(ds, cfg, err, errlen) == -1)
		return -1;
	ds->request_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms :
	    DS_DEFAULT_REQUEST_MS;
	ds->attempt_ms = cfg->attempt_timeout_ms ? cfg->attempt_timeout_ms :
	    DS_DEFAULT_ATTEMPT_MS;
	if (ds->attempt_ms > ds->request_ms)
		ds->attempt_ms = ds->request_ms;
	ds->conns_per_ep = cfg->conns_per_endpoint ? cfg->conns_per_endpoint :
	    DS_DEFAULT_CONNS;
	ds->max_response = cfg->max_response ? cfg->max_response :
	    DS_DEFAULT_RESPONSE_MAX;
	if (ds->max_response > DS_RESPONSE_MAX)
		ds->max_response = DS_RESPONSE_MAX;
	return 0;
}

struct ds_etcd *
ds_etcd_create(struct event_base *base, const struct ds_etcd_config *cfg,
    char *err, size_t errlen)
{
	struct ds_etcd *ds;

	ds = xcalloc(1, sizeof(*ds));
	ds->base = base;
	TAILQ_INIT(&ds->reqs);
	TAILQ_INIT(&ds->done);
	TAILQ_INIT(&ds->dead);
	TAILQ_INIT(&ds->watches);
	TAILQ_INIT(&ds->dead_watches);
	ds->kick = event_new(base, -1, 0, kick_cb, ds);
	if (ds->kick == NULL) {
		snprintf(err, errlen, "etcd: cannot create an event");
		ds_free_now(ds);
		return NULL;
	}
	if (config_apply(ds, cfg, err, errlen) == -1) {
		ds_free_now(ds);
		return NULL;
	}
	return ds;
}

static void
endpoint_free(struct ds_endpoint *ep)
{
	conn_list_free(&ep->conns);
	free(ep->url);
	free(ep->host);
	free(ep->host_header);
}

static void
ds_free_now(struct ds_etcd *ds)
{
	size_t i;

	ds->closing = true;
	ds->free_pending = false;
	ds_watch_free_all(ds);
	ds_request_cancel_all(ds);
	for (i = 0; i < ds->nep; i++)
		endpoint_free(&ds->ep[i]);
	reap(ds);
	/* callbacks last: they see a client that takes no more work */
	ds->in_callback++;
	ds_request_run_done(ds);
	if (ds->kick != NULL)
		event_free(ds->kick);
	if (ds->dns != NULL)
		evdns_base_free(ds->dns, 0);
	if (ds->ssl != NULL)
		SSL_CTX_free(ds->ssl);
	free(ds);
}

void
ds_etcd_free(struct ds_etcd *ds)
{
	if (ds == NULL || ds->free_pending)
		return;
	if (ds->closing && ds->in_callback > 0)
		return;		/* from a callback run by ds_free_now */
	if (ds->in_callback > 0) {
		/* from a callback: finish once it has returned */
		ds->closing = true;
		ds->free_pending = true;
		ds_kick(ds);
		return;
	}
	ds_free_now(ds);
}
