/*
 * apiclient: the one HTTP client of evpnd's control API, shared by
 * evpnctl and evpnd-cni.  It uses common/ (nothing else of ours),
 * libevent and jansson.
 *
 * How this works: a request is one connection (HTTP/1.1 with
 * "Connection: close") to the Unix socket, driven by a private event
 * loop: a bufferevent writes the request and collects the answer until
 * the daemon closes, an overall deadline timer bounds the exchange, and
 * the collected bytes are then split into status line, headers
 * (evkeyvalq, libevent's own header list) and a body framed by
 * Content-Length and decoded with jansson.
 *
 * Why not evhttp_connection: libevent 2.1 (Debian 12) cannot make one
 * talk over a Unix socket.  Its first request always resets the
 * connection, closing any socket it was given, and reconnects by host
 * name over TCP; AF_UNIX client connections arrived only in 2.2
 * (evhttp_connection_base_bufferevent_unix_new).
 *
 * Errors a caller can act on: the daemon is not running (ENOENT: no
 * socket; ECONNREFUSED: a socket nobody listens on), ETIMEDOUT, EBADMSG
 * (not HTTP, or a 2xx answer whose body is not JSON), EMSGSIZE.  Each
 * comes with a one-line message.
 */
#ifndef CLI_APICLIENT_H
#define CLI_APICLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define APICLIENT_DEFAULT_TIMEOUT_MS	30000
#define APICLIENT_MAX_REPLY		(64u * 1024 * 1024)

struct apiclient {
	const char	*socket;	/* path of evpnd's Unix socket */
	int		 timeout_ms;	/* the whole exchange; 0: the default */
};

struct apiclient_reply {
	int		 status;	/* the HTTP status */
	json_t		*json;		/* the body; NULL when empty, or not
					 * JSON on a status that is not 2xx
					 * (libevent's own error pages) */
};

/*
 * One request; body (JSON text) may be NULL.  0 once an answer came,
 * whatever its status; -1 with errno and a message in err otherwise.
 * The reply is cleared first; release it with apiclient_reply_clear.
 */
int		 apiclient_request(const struct apiclient *, const char *method,
		    const char *path, const char *body,
		    struct apiclient_reply *, char *err, size_t errlen);
void		 apiclient_reply_clear(struct apiclient_reply *);
/* The API's {"error": "..."} message, or NULL. */
const char	*apiclient_reply_error(const struct apiclient_reply *);
/* errno of a failed request that means "evpnd is not running". */
bool		 apiclient_not_running(int err);
/* A path segment percent-encoded (all but RFC 3986 unreserved
 * characters), so "a/b" stays one segment; malloc'd. */
char		*apiclient_escape(const char *segment);
/* fmt with its one %s replaced by segment, escaped; malloc'd. */
char		*apiclient_path(const char *fmt, const char *segment);

#endif
