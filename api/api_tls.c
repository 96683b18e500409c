/*
 * The API's optional TCP listener: TLS only, client certificates
 * required ("api listen ADDR PORT tls cert FILE key FILE client-ca FILE").
 *
 * How this works: api.c makes a second evhttp with the same limits and
 * the same request callback; here its connections are given a
 * bufferevent_openssl in accepting state (evhttp_set_bevcb), each with
 * an SSL from one SSL_CTX: TLS 1.2 or later, our certificate chain and
 * key, and SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT against the
 * client-ca file.  A client without a certificate, or with one that does
 * not chain to that CA, fails the handshake and never reaches a handler.
 * Everything is loaded and checked at start, so a bad file refuses the
 * start with a message naming it.
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
#include <openssl/ssl.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"

struct api_tls {
	SSL_CTX		*ctx;
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
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* evhttp asks for each accepted connection's bufferevent here. */
static struct bufferevent *
tls_bev_new(struct event_base *base, void *arg)
{
	struct api_tls *tls = arg;
	SSL *ssl = SSL_new(tls->ctx);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
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
api_tls_create(struct evhttp *http, const struct conf_api_listen *l,
    char *err, size_t errlen)
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

void
api_tls_free(struct api_tls *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls);
}
