/*
 * The API's connections: how many a listener holds, how many one
 * address holds, and how long a request may take to arrive.
 *
 * How this works: libevent 2.1's evhttp has no connection limit and no
 * hook for a new or a closed connection, only evhttp_set_bevcb(), which
 * makes each accepted connection's bufferevent.  There we make it and
 * keep a record of it, holding a reference (bufferevent_incref) so that
 * the bufferevent and its socket outlive evhttp's bufferevent_free():
 * a record is dropped, and its reference with it (which closes the
 * socket), once a sweep sees the bufferevent's callbacks cleared, which
 * bufferevent_free() does first.  evhttp shuts the socket down for
 * writing when it frees the connection, so the client sees the close at
 * once; the socket itself is closed at the next sweep (every
 * API_CONN_SWEEP_MS while there are connections, and before a cap is
 * applied, so the caps count only live ones).
 *
 * The record's timer first fires at once, when evhttp has set the
 * socket: the caps are checked, max_conns per listener and per_addr
 * connections per source address (TCP only); a connection beyond them
 * is shut down.  Then the timer is the deadline: the TLS handshake and
 * the first request, headers and body, must be complete within deadline
 * seconds of the accept, and each later request on a kept-alive
 * connection within deadline seconds of its first byte (a callback on
 * the bufferevent's input buffer sees bytes arrive).  A request being
 * answered, or streamed, has no deadline; an idle connection has
 * evhttp's idle timeout (API_CONN_TIMEOUT).  A slowloris client, which
 * sends a header byte every second, is cut off at its deadline.
 * Cutting is shutdown(fd, SHUT_RDWR): evhttp reads EOF and frees the
 * connection itself, so nothing is freed under its feet.
 *
 * api.c tells when a request has arrived (api_conn_request) and when
 * its answer goes out (api_conn_replied); both find the record from the
 * request's bufferevent.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/queue.h"
#include "common/util.h"

#define API_CONN_SWEEP_MS	1000

enum conn_state {
	CONN_NEW,		/* accepted; caps not checked yet */
	CONN_READING,		/* a request is arriving: deadline armed */
	CONN_BUSY,		/* a request is being answered */
	CONN_IDLE,		/* answered; waiting for the next one */
	CONN_REFUSED,		/* shut down over a cap */
};

enum conn_why {
	CONN_WHY_CAP,
	CONN_WHY_ADDR,
	CONN_WHY_DEADLINE,
	CONN_WHY_COUNT
};

struct api_conn {
	TAILQ_ENTRY(api_conn)	 entry;
	struct api_conns	*set;
	struct bufferevent	*bev;		/* ours: one reference */
	struct event		*timer;
	enum conn_state		 state;
	bool			 has_addr;
	struct ipaddr		 addr;		/* TCP peers */
};
TAILQ_HEAD(api_conn_list, api_conn);

struct api_conns {
	struct event_base	*base;
	const char		*name;		/* for logs */
	struct api_limits	 lim;
	struct api_conn_list	 list;
	size_t			 count;
	struct event		*sweep;
	uint64_t		 refused;	/* over a cap */
	uint64_t		 cut;		/* past a deadline */
	uint64_t		 last_log_ms[CONN_WHY_COUNT];
	bool			 unlogged[CONN_WHY_COUNT];
};

static const char *const conn_why_text[CONN_WHY_COUNT] = {
	[CONN_WHY_CAP] = "too many connections",
	[CONN_WHY_ADDR] = "too many connections from this address",
	[CONN_WHY_DEADLINE] = "request not complete in time",
};

static void
conn_log(struct api_conns *set, enum conn_why why, const struct api_conn *c)
{
	char a[IPADDR_STRLEN] = "the socket";
	uint64_t now = mono_msec();

	/* At most one line a second for each reason: refusals come in
	 * floods. */
	if (set->last_log_ms[why] != 0 && now - set->last_log_ms[why] < 1000) {
		set->unlogged[why] = true;
		return;
	}
	if (c->has_addr)
		ipaddr_fmt(&c->addr, a, sizeof(a));
	log_warn("api: %s: closed a connection from %s: %s%s", set->name,
	    a, conn_why_text[why], set->unlogged[why] ? " (others since the "
	    "last such line too)" : "");
	set->last_log_ms[why] = now;
	set->unlogged[why] = false;
}

static void
conn_cut(struct api_conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void
conn_arm(struct api_conn *c, enum conn_state st)
{
	struct timeval tv = { c->set->lim.deadline, 0 };

	c->state = st;
	if (st == CONN_READING)
		evtimer_add(c->timer, &tv);
	else
		evtimer_del(c->timer);
}

/* evhttp has let go of it (bufferevent_free clears the callbacks). */
static bool
conn_released(const struct api_conn *c)
{
	bufferevent_event_cb eventcb;

	bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
	return eventcb == NULL;
}

static void
conn_drop(struct api_conn *c)
{
	struct api_conns *set = c->set;

	TAILQ_REMOVE(&set->list, c, entry);
	set->count--;
	event_free(c->timer);
	bufferevent_decref(c->bev);	/* the last one: closes the socket */
	free(c);
	if (set->count == 0)
		evtimer_del(set->sweep);
}

static void
conns_sweep(struct api_conns *set)
{
	struct api_conn *c, *next;

	TAILQ_FOREACH_SAFE(c, &set->list, entry, next)
		if (c->state != CONN_NEW && conn_released(c))
			conn_drop(c);
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conns_sweep(arg);
}

static size_t
conns_live(const struct api_conns *set, const struct ipaddr *a)
{
	const struct api_conn *o;
	size_t n = 0;

	TAILQ_FOREACH(o, &set->list, entry)
		if (o->state != CONN_NEW && o->state != CONN_REFUSED &&
		    (a == NULL || (o->has_addr &&
		    ipaddr_cmp(&o->addr, a) == 0)))
			n++;
	return n;
}

static void
conn_refuse(struct api_conn *c, enum conn_why why)
{
	c->set->refused++;
	conn_log(c->set, why, c);
	c->state = CONN_REFUSED;
	conn_cut(c);
}

/* Just accepted, and evhttp has set the socket: check the caps. */
static void
conn_accepted(struct api_conn *c)
{
	struct api_conns *set = c->set;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		c->has_addr = ipaddr_from_sockaddr(&ss, &c->addr, NULL) == 0;
	c->state = CONN_READING;	/* counted from here on */
	if (conns_live(set, NULL) > set->lim.max_conns) {
		conns_sweep(set);
		if (conns_live(set, NULL) > set->lim.max_conns) {
			conn_refuse(c, CONN_WHY_CAP);
			return;
		}
	}
	if (c->has_addr && set->lim.per_addr > 0 &&
	    conns_live(set, &c->addr) > set->lim.per_addr) {
		conns_sweep(set);
		if (conns_live(set, &c->addr) > set->lim.per_addr) {
			conn_refuse(c, CONN_WHY_ADDR);
			return;
		}
	}
	conn_arm(c, CONN_READING);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn *c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_NEW:
		conn_accepted(c);
		break;
	case CONN_READING:
		if (conn_released(c))
			break;
		c->set->cut++;
		conn_log(c->set, CONN_WHY_DEADLINE, c);
		conn_cut(c);
		break;
	default:
		break;
	}
}

/* Bytes arrived: the first after an answer starts the next clock. */
static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct api_conn *c = arg;

	(void)buf;
	if (info->n_added > 0 && c->state == CONN_IDLE)
		conn_arm(c, CONN_READING);
}

void
api_conn_track(struct api_conns *set, struct bufferevent *bev)
{
	struct api_conn *c = xcalloc(1, sizeof(*c));
	struct timeval sweep = { 0, API_CONN_SWEEP_MS * 1000 };

	c->set = set;
	c->bev = bev;
	c->state = CONN_NEW;
	if ((c->timer = evtimer_new(set->base, conn_timer_cb, c)) == NULL ||
	    evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb, c) ==
	    NULL)
		fatalx("api: out of memory for a connection");
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&set->list, c, entry);
	if (set->count++ == 0)
		evtimer_add(set->sweep, &sweep);
	/* evhttp sets the socket once we return: look at it then. */
	event_active(c->timer, EV_TIMEOUT, 0);
}

static struct api_conn *
conn_of(struct api_conns *set, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct api_conn *c;

	if (set == NULL || evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	TAILQ_FOREACH(c, &set->list, entry)
		if (c->bev == bev)
			return c;
	return NULL;
}

void
api_conn_request(struct api_conns *set, struct evhttp_request *req)
{
	struct api_conn *c = conn_of(set, req);

	if (c != NULL)
		conn_arm(c, CONN_BUSY);
}

void
api_conn_replied(struct api_conns *set, struct evhttp_request *req)
{
	struct api_conn *c = conn_of(set, req);

	if (c == NULL || c->state != CONN_BUSY)
		return;
	/* A pipelined request may be waiting already: its clock runs. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_arm(c, CONN_READING);
	else
		conn_arm(c, CONN_IDLE);
}

struct api_conns *
api_conns_new(struct event_base *base, const char *name,
    const struct api_limits *lim)
{
	struct api_conns *set = xcalloc(1, sizeof(*set));

	set->base = base;
	set->name = name;
	set->lim = *lim;
	TAILQ_INIT(&set->list);
	if ((set->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, set)) ==
	    NULL)
		fatalx("api: out of memory");
	return set;
}

void
api_conns_set_limits(struct api_conns *set, const struct api_limits *lim)
{
	set->lim = *lim;
}

/* After evhttp_free(): every connection is released, drop them all. */
void
api_conns_free(struct api_conns *set)
{
	struct api_conn *c;

	if (set == NULL)
		return;
	while ((c = TAILQ_FIRST(&set->list)) != NULL)
		conn_drop(c);
	event_free(set->sweep);
	free(set);
}

void
api_conns_stats(const struct api_conns *set, struct api_conn_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (set == NULL)
		return;
	st->open = conns_live(set, NULL);
	st->refused = set->refused;
	st->cut = set->cut;
}
