/*
 * apiclient: one HTTP/1.1 exchange with evpnd over its Unix socket.  See
 * apiclient.h for the shape and for why this is not evhttp_connection.
 */
#include "cli/apiclient.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "common/log.h"
#include "common/queue.h"

/* One exchange on its own event loop. */
struct exchange {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct event		*deadline;
	int			 err;		/* errno once failed, else 0 */
	bool			 closed;	/* the daemon closed: complete */
};

bool
apiclient_not_running(int err)
{
	return err == ENOENT || err == ECONNREFUSED;
}

char *
apiclient_escape(const char *segment)
{
	char *enc = evhttp_uriencode(segment, -1, 0);

	if (enc == NULL)
		fatalx("apiclient: out of memory");
	return enc;
}

char *
apiclient_path(const char *fmt, const char *segment)
{
	char *enc = apiclient_escape(segment), *path;

	if (asprintf(&path, fmt, enc) == -1)
		fatalx("apiclient: out of memory");
	free(enc);
	return path;
}

void
apiclient_reply_clear(struct apiclient_reply *r)
{
	json_decref(r->json);
	r->json = NULL;
	r->status = 0;
}

const char *
apiclient_reply_error(const struct apiclient_reply *r)
{
	const json_t *msg = json_object_get(r->json, "error");

	return json_is_string(msg) ? json_string_value(msg) : NULL;
}

static int
timeout_ms(const struct apiclient *c)
{
	return c->timeout_ms > 0 ? c->timeout_ms : APICLIENT_DEFAULT_TIMEOUT_MS;
}

/* ---- connecting ---- */

/*
 * A blocking connect bounded by the timeout (a Unix connect waits only
 * when the daemon's backlog is full), then non-blocking for the loop.
 */
static int
client_connect(const struct apiclient *c, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms(c) / 1000,
	    .tv_usec = (timeout_ms(c) % 1000) * 1000 };
	size_t len = strlen(c->socket);
	int fd, saved;

	if (len >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", c->socket);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, c->socket, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT :
		    errno;
		snprintf(err, errlen, "cannot connect to evpnd at %s: %s "
		    "(is evpnd running?)", c->socket, strerror(saved));
		if (fd != -1)
			close(fd);
		errno = saved;
		return -1;
	}
	if (evutil_make_socket_nonblocking(fd) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot connect to evpnd at %s: %s",
		    c->socket, strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* ---- the exchange ---- */

static void
exchange_read_cb(struct bufferevent *bev, void *arg)
{
	struct exchange *x = arg;

	if (evbuffer_get_length(bufferevent_get_input(bev)) >
	    APICLIENT_MAX_REPLY) {
		x->err = EMSGSIZE;
		event_base_loopbreak(x->base);
	}
}

static void
exchange_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct exchange *x = arg;

	if (what & BEV_EVENT_EOF)
		x->closed = true;
	else if (what & BEV_EVENT_ERROR)
		x->err = EVUTIL_SOCKET_ERROR() != 0 ? EVUTIL_SOCKET_ERROR() :
		    EIO;
	else
		return;
	event_base_loopbreak(x->base);
}

static void
exchange_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exchange *x = arg;

	x->err = ETIMEDOUT;
	event_base_loopbreak(x->base);
}

/* A request target we send verbatim: absolute, printable, no spaces. */
static bool
path_ok(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const char *p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static int
exchange_start(struct exchange *x, const struct apiclient *c, int fd,
    const char *method, const char *path, const char *body)
{
	struct timeval tv = { .tv_sec = timeout_ms(c) / 1000,
	    .tv_usec = (timeout_ms(c) % 1000) * 1000 };
	size_t blen = body != NULL ? strlen(body) : 0;
	struct evbuffer *out;

	if ((x->base = event_base_new()) == NULL ||
	    (x->bev = bufferevent_socket_new(x->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (x->deadline = evtimer_new(x->base, exchange_deadline_cb, x)) ==
	    NULL) {
		if (x->bev == NULL)
			close(fd);
		errno = ENOMEM;
		return -1;
	}
	out = bufferevent_get_output(x->bev);
	if (evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nHost: evpnd\r\n"
	    "Accept: application/json\r\nConnection: close\r\n%s"
	    "Content-Length: %zu\r\n\r\n", method, path, body != NULL ?
	    "Content-Type: application/json\r\n" : "", blen) < 0 ||
	    evbuffer_add(out, body != NULL ? body : "", blen) == -1) {
		errno = ENOMEM;
		return -1;
	}
	bufferevent_setcb(x->bev, exchange_read_cb, NULL, exchange_event_cb,
	    x);
	if (bufferevent_enable(x->bev, EV_READ | EV_WRITE) == -1 ||
	    evtimer_add(x->deadline, &tv) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void
exchange_free(struct exchange *x)
{
	if (x->deadline != NULL)
		event_free(x->deadline);
	if (x->bev != NULL)
		bufferevent_free(x->bev);
	if (x->base != NULL)
		event_base_free(x->base);
}

/* ---- parsing the answer ---- */

/* "HTTP/1.x NNN[ reason]" */
static int
status_line_parse(const char *line, size_t len, int *status)
{
	if (len != strlen(line) || len < 12 ||
	    strncmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) ||
	    (line[12] != ' ' && line[12] != '\0'))
		return -1;
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	return *status >= 100 ? 0 : -1;
}

/* "Name: value" into hdrs; -1 if it is no header line. */
static int
header_line_parse(char *line, size_t len, struct evkeyvalq *hdrs)
{
	char *colon = strchr(line, ':'), *v, *end;

	if (len != strlen(line) || colon == NULL || colon == line)
		return -1;
	for (char *p = line; p < colon; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	*colon = '\0';
	v = colon + 1 + strspn(colon + 1, " \t");
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return evhttp_add_header(hdrs, line, v);
}

/* Status line and headers off the front of in; the body stays. */
static int
head_parse(struct evbuffer *in, int *status, struct evkeyvalq *hdrs)
{
	size_t len;
	char *line;
	int rc;

	line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF_STRICT);
	if (line == NULL)
		return -1;
	rc = status_line_parse(line, len, status);
	free(line);
	while (rc == 0) {
		if ((line = evbuffer_readln(in, &len,
		    EVBUFFER_EOL_CRLF_STRICT)) == NULL)
			return -1;
		if (len == 0) {
			free(line);
			return 0;
		}
		rc = header_line_parse(line, len, hdrs);
		free(line);
	}
	return -1;
}

/*
 * A chunked body (RFC 9112 §7.1), as evpnd streams large views: the
 * chunks' data off the front of in, joined into out.  Extensions and
 * trailers are refused: evpnd sends neither.  -1 when malformed or cut.
 */
static int
body_dechunk(struct evbuffer *in, struct evbuffer *out)
{
	for (;;) {
		size_t len;
		char *line = evbuffer_readln(in, &len,
		    EVBUFFER_EOL_CRLF_STRICT), *end;
		unsigned long long n;

		if (line == NULL)
			return -1;
		errno = 0;
		n = strtoull(line, &end, 16);
		if (len == 0 || len > 16 || !isxdigit((unsigned char)line[0]) ||
		    *end != '\0' || errno != 0 ||
		    n > evbuffer_get_length(in)) {
			free(line);
			return -1;
		}
		free(line);
		if (n > 0 && evbuffer_remove_buffer(in, out, (size_t)n) !=
		    (int)n)
			return -1;
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF_STRICT);
		free(line);
		if (line == NULL || len != 0)
			return -1;
		if (n == 0)
			return 0;
	}
}

/* The body's length: Content-Length, else up to the close; 1 when it is
 * chunked. */
static int
body_length(const struct evkeyvalq *hdrs, size_t avail, size_t *len)
{
	const char *te, *cl;
	char *end;
	unsigned long long n;

	te = evhttp_find_header(hdrs, "Transfer-Encoding");
	if (te != NULL && strcasecmp(te, "chunked") == 0)
		return evhttp_find_header(hdrs, "Content-Length") ? -1 : 1;
	if (te != NULL && strcasecmp(te, "identity") != 0)
		return -1;
	if ((cl = evhttp_find_header(hdrs, "Content-Length")) == NULL) {
		*len = avail;
		return 0;
	}
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (!isdigit((unsigned char)cl[0]) || *end != '\0' || errno != 0 ||
	    n > avail)
		return -1;
	*len = (size_t)n;
	return 0;
}

static int
reply_parse(struct evbuffer *in,
    struct apiclient_reply *r, char *err, size_t errlen)
{
	struct evkeyvalq hdrs;
	struct evbuffer *chunks = NULL;
	json_error_t jerr;
	size_t blen = 0;
	int rc;

	TAILQ_INIT(&hdrs);
	if ((rc = head_parse(in, &r->status, &hdrs)) == 0)
		rc = body_length(&hdrs, evbuffer_get_length(in), &blen);
	evhttp_clear_headers(&hdrs);
	if (rc == 1) {
		if ((chunks = evbuffer_new()) == NULL)
			rc = -1;
		else if ((rc = body_dechunk(in, chunks)) == 0) {
			in = chunks;
			blen = evbuffer_get_length(in);
		}
	}
	if (rc == -1) {
		if (chunks != NULL)
			evbuffer_free(chunks);
		snprintf(err, errlen, "malformed reply from evpnd");
		errno = EBADMSG;
		return -1;
	}
	if (blen == 0) {
		if (chunks != NULL)
			evbuffer_free(chunks);
		return 0;
	}
	r->json = json_loadb((const char *)evbuffer_pullup(in, (ssize_t)blen),
	    blen, 0, &jerr);
	if (chunks != NULL)
		evbuffer_free(chunks);
	if (r->json == NULL && r->status >= 200 && r->status <= 299) {
		snprintf(err, errlen, "bad JSON from evpnd: %s", jerr.text);
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* The exchange failed: a message for x->err. */
static void
exchange_error(const struct apiclient *c, const struct exchange *x,
    char *err, size_t errlen)
{
	if (x->err == ETIMEDOUT)
		snprintf(err, errlen, "evpnd at %s did not answer within %d ms",
		    c->socket, timeout_ms(c));
	else
		snprintf(err, errlen, "talking to evpnd at %s: %s", c->socket,
		    strerror(x->err));
}

int
apiclient_request(const struct apiclient *c, const char *method,
    const char *path, const char *body, struct apiclient_reply *r,
    char *err, size_t errlen)
{
	struct exchange x = { .err = 0 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int fd, rc = -1, saved = 0;

	memset(r, 0, sizeof(*r));
	if (!path_ok(path)) {
		snprintf(err, errlen, "bad request path");
		errno = EINVAL;
		return -1;
	}
	if ((fd = client_connect(c, err, errlen)) == -1)
		return -1;
	/* A daemon that closes early must not kill us with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old);
	if (exchange_start(&x, c, fd, method, path, body) == -1)
		x.err = errno;
	else if (event_base_dispatch(x.base) == -1 && x.err == 0)
		x.err = EIO;
	else if (x.err == 0 && !x.closed)
		x.err = EIO;
	if (x.err != 0) {
		exchange_error(c, &x, err, errlen);
		saved = x.err;
	} else if ((rc = reply_parse(bufferevent_get_input(x.bev), r, err,
	    errlen)) == -1)
		saved = errno;
	exchange_free(&x);
	sigaction(SIGPIPE, &old, NULL);
	if (rc == -1) {
		apiclient_reply_clear(r);
		errno = saved;
	}
	return rc;
}
