/*
 * The API's optional TCP listener: TLS only, client certificates
 * required ("api listen ADDR PORT tls cert FILE key FILE client-ca FILE").
 *
 * How this works: api.c makes a second evhttp with the same limits and
 * the same request callback; here its connections are given a
 * bufferevent_openssl in accepting state (evhttp_set_bevcb), each with
 * an SSL from one SSL_CTX: TLS 1.2 or later, our certificate chain and
 * key, and SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT against the
 * client-ca file, and against the crl file when one is given
 * (X509_V_FLAG_CRL_CHECK: the client's own certificate must not be
 * revoked, and the file must hold a current CRL of its issuer, or every
 * client is refused).  A client without a certificate, with one that
 * does not chain to that CA or with a revoked one fails the handshake
 * and never reaches a handler; the refusal is logged with OpenSSL's
 * reason.  The context has a session id context, which OpenSSL needs
 * to resume sessions of clients that authenticated with a certificate
 * (without one every resumption attempt fails the handshake); a resumed
 * session keeps its client certificate, so api_tls_identify() works the
 * same.  Everything is loaded and checked at start, so a bad file
 * refuses the start with a message naming it; a reload builds a new
 * context from the files (renewed certificates, a new CRL) for the
 * connections that follow.
 *
 * Who the client is: api_tls_identify() reads the verified certificate
 * of a request's connection: the last subject CN, then the SAN DNS
 * names, the first one an "api client" line names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"

struct api_tls {
	SSL_CTX		*ctx;
	struct api_conns *conns;
	struct evpnd	*d;
	uint64_t	 reloads;	/* d->reloads_ok the ctx was built at */
};

/* The first queued OpenSSL error, for messages. */
static const char *
ssl_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* Log why a client certificate was refused; OpenSSL decides. */
static int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	X509 *cert = X509_STORE_CTX_get_current_cert(xs);
	char subject[256] = "?";

	if (ok)
		return ok;
	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), subject,
		    sizeof(subject));
	log_info("api: client certificate refused: %s (%s, depth %d)",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)),
	    subject, X509_STORE_CTX_get_error_depth(xs));
	return ok;
}

/* Every CRL of the file into the context's store, and CRL checks on. */
static int
tls_load_crl(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *in = BIO_new_file(path, "r");
	X509_CRL *crl;
	char ebuf[256];
	int n = 0;

	if (in == NULL) {
		snprintf(err, errlen, "api listen crl %s: %s", path,
		    ssl_error(ebuf, sizeof(ebuf)));
		return -1;
	}
	while ((crl = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL)) != NULL) {
		if (X509_cmp_current_time(X509_CRL_get0_nextUpdate(crl)) < 0)
			log_warn("api listen crl %s: a CRL is past its next "
			    "update: clients of its CA will be refused", path);
		if (X509_STORE_add_crl(store, crl) != 1)
			n = -1;
		X509_CRL_free(crl);
		if (n < 0)
			break;
		n++;
	}
	ERR_clear_error();	/* the end of the file reads as an error */
	BIO_free(in);
	if (n <= 0) {
		snprintf(err, errlen, "api listen crl %s: no CRL could be "
		    "read from it", path);
		return -1;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}

static SSL_CTX *
tls_ctx_new(const struct conf_api_listen *l, char *err, size_t errlen)
{
	STACK_OF(X509_NAME) *names;
	char ebuf[256];
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "TLS: %s", ssl_error(ebuf,
		    sizeof(ebuf)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, l->cert) != 1) {
		snprintf(err, errlen, "api listen cert %s: %s", l->cert,
		    ssl_error(ebuf, sizeof(ebuf)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, l->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "api listen key %s: %s", l->key,
		    ssl_error(ebuf, sizeof(ebuf)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "api listen key %s does not match cert "
		    "%s", l->key, l->cert);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, l->client_ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(l->client_ca)) == NULL) {
		snprintf(err, errlen, "api listen client-ca %s: %s",
		    l->client_ca, ssl_error(ebuf, sizeof(ebuf)));
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (l->crl != NULL && tls_load_crl(ctx, l->crl, err, errlen) == -1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify_cb);
	if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)
	    API_TLS_SID_CTX, sizeof(API_TLS_SID_CTX) - 1) != 1) {
		snprintf(err, errlen, "TLS: cannot set the session id context");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
api_tls_check(const struct conf_api_listen *l, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_ctx_new(l, err, errlen);

	SSL_CTX_free(ctx);
	return ctx != NULL ? 0 : -1;
}

/*
 * After a reload, a new context from the files.  Connections under way
 * keep the old one (SSL_new took a reference).  The files were checked
 * by api_reload_check(); if they changed since and no longer load, the
 * old context stays.
 */
static void
tls_reload(struct api_tls *tls)
{
	char err[512];
	SSL_CTX *ctx;

	tls->reloads = tls->d->reloads_ok;
	if ((ctx = tls_ctx_new(&tls->d->conf->api_listen, err,
	    sizeof(err))) == NULL) {
		log_err("api: %s; keeping the TLS files loaded before", err);
		return;
	}
	SSL_CTX_free(tls->ctx);
	tls->ctx = ctx;
	log_info("api: TLS certificate, key, CA and CRL files reloaded");
}

/*
 * evhttp asks for each accepted connection's bufferevent here.  It must
 * not get NULL: it would then serve the connection in plain HTTP.
 */
static struct bufferevent *
tls_bev_new(struct event_base *base, void *arg)
{
	struct api_tls *tls = arg;
	struct bufferevent *bev;
	SSL *ssl;

	if (tls->reloads != tls->d->reloads_ok)
		tls_reload(tls);
	if ((ssl = SSL_new(tls->ctx)) == NULL || (bev =
	    bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("api: out of memory for a TLS connection");
	api_conn_track(tls->conns, bev);
	return bev;
}

/*
 * Our own listening socket: evhttp_bind_socket() resolves with
 * AI_ADDRCONFIG, which refuses 127.0.0.1 on a host (or namespace)
 * whose only addresses are loopback ones.
 */
static int
tls_socket_open(const struct ipaddr *addr, uint16_t port, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	struct ipaddr any;
	char a[IPADDR_STRLEN];
	socklen_t len;
	int fd, on = 1;

	if (!ipaddr_is_set(addr)) {
		ipaddr_from_v4(&any, 0);
		addr = &any;
	}
	len = (socklen_t)ipaddr_to_sockaddr(addr, port, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1 || bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1) {
		snprintf(err, errlen, "api listen %s port %u: %s",
		    ipaddr_fmt(addr, a, sizeof(a)), port, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

struct api_tls *
api_tls_create(struct evhttp *http, struct evpnd *d, struct api_conns *conns,
    const struct conf_api_listen *l, char *err, size_t errlen)
{
	struct api_tls *tls;
	char addr[IPADDR_STRLEN];
	int fd;

	if (l->cert == NULL || l->key == NULL || l->client_ca == NULL) {
		snprintf(err, errlen, "api listen needs cert, key and "
		    "client-ca");
		return NULL;
	}
	tls = xcalloc(1, sizeof(*tls));
	tls->d = d;
	tls->conns = conns;
	tls->reloads = d->reloads_ok;
	if ((tls->ctx = tls_ctx_new(l, err, errlen)) == NULL) {
		free(tls);
		return NULL;
	}
	if ((fd = tls_socket_open(&l->addr, l->port, err, errlen)) == -1) {
		api_tls_free(tls);
		return NULL;
	}
	evhttp_set_bevcb(http, tls_bev_new, tls);
	if (evhttp_accept_socket_with_handle(http, fd) == NULL) {
		snprintf(err, errlen, "api listen port %u: cannot serve HTTP",
		    l->port);
		close(fd);
		api_tls_free(tls);
		return NULL;
	}
	if (ipaddr_is_set(&l->addr))
		ipaddr_fmt(&l->addr, addr, sizeof(addr));
	else
		snprintf(addr, sizeof(addr), "*");
	log_info("api: listening on %s port %u (TLS, client certificates "
	    "required)", addr, l->port);
	return tls;
}

/* ---- who the client is ---- */

/*
 * Copy a certificate string into buf if it is a name an api client line
 * can hold: no NUL inside (a CA could be made to sign "admin\0.x"), no
 * space or control byte, and not longer than a DNS name.
 */
static bool
cert_name(const unsigned char *s, int len, char *buf, size_t buflen)
{
	if (len <= 0 || len > CONF_API_CLIENT_NAME_MAX || (size_t)len >= buflen)
		return false;
	for (int i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	memcpy(buf, s, (size_t)len);
	buf[len] = '\0';
	return true;
}

/* The subject's most specific (last) CN; false when it has none usable. */
static bool
cert_cn(X509 *cert, char *buf, size_t len)
{
	X509_NAME *subj = X509_get_subject_name(cert);
	int i = -1, last = -1;
	unsigned char *utf8;
	int n;
	bool ok;

	while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0)
		last = i;
	if (last < 0 || (n = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last)))) < 0)
		return false;
	ok = cert_name(utf8, n, buf, len);
	OPENSSL_free(utf8);
	return ok;
}

static const struct conf_api_client *
match_cn(X509 *cert, const struct config *conf, char *who, size_t len)
{
	char name[CONF_API_CLIENT_NAME_MAX + 1];

	if (!cert_cn(cert, name, sizeof(name)))
		return NULL;
	snprintf(who, len, "%s", name);
	return conf_api_client_find(conf, name);
}

static const struct conf_api_client *
match_san(X509 *cert, const struct config *conf, char *who, size_t len)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	const struct conf_api_client *c = NULL;
	char name[CONF_API_CLIENT_NAME_MAX + 1];

	for (int i = 0; c == NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

		if (gn->type != GEN_DNS || !cert_name(ASN1_STRING_get0_data(
		    gn->d.dNSName), ASN1_STRING_length(gn->d.dNSName), name,
		    sizeof(name)))
			continue;
		if (who[0] == '\0')
			snprintf(who, len, "%s", name);
		if ((c = conf_api_client_find(conf, name)) != NULL)
			snprintf(who, len, "%s", name);
	}
	GENERAL_NAMES_free(sans);
	return c;
}

/* The SSL under a request's connection (under a filter, if any). */
static SSL *
request_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	SSL *ssl;

	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(evcon))
	    == NULL)
		return NULL;
	while ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL &&
	    (bev = bufferevent_get_underlying(bev)) != NULL)
		continue;
	return ssl;
}

const struct conf_api_client *
api_tls_identify(struct evhttp_request *req, const struct config *conf,
    char *who, size_t wholen)
{
	const struct conf_api_client *c;
	SSL *ssl = request_ssl(req);
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;

	snprintf(who, wholen, "%s", "");
	if (cert == NULL)
		return NULL;
	if ((c = match_cn(cert, conf, who, wholen)) != NULL)
		return c;
	return match_san(cert, conf, who, wholen);
}

void
api_tls_free(struct api_tls *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls);
}
