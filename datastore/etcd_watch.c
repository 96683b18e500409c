/*
 * Watches (etcd.h): one streaming POST /v3/watch per watch, on a
 * connection of its own.  libevent hands over the body chunk by chunk;
 * the framer (etcd_stream.c) cuts it into messages, the decoder turns
 * each into events for the callback.
 *
 * The watch keeps next_rev, the revision after the last event it
 * delivered (or after the header revision of its creation), and every
 * new stream asks for start_revision = next_rev, so a reconnect neither
 * loses nor repeats an event.  A stream is broken by EOF, an error
 * message, a cancel ("no leader" with the hasleader metadata we send),
 * a frame that does not parse, no "created" within the attempt timeout,
 * or TCP keepalive giving up on a silent peer.  Then the next endpoint,
 * at once for the first failure and with a growing backoff after that.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "common/util.h"
#include "datastore/etcd_int.h"

/* A quiet stream is probed after 5 s, 3 probes 2 s apart. */
#define DS_KEEPALIVE_IDLE	5
#define DS_KEEPALIVE_INTVL	2
#define DS_KEEPALIVE_CNT	3

struct ds_watch {
	TAILQ_ENTRY(ds_watch)	 entry;
	struct ds_etcd		*ds;
	char			*prefix;
	int64_t			 next_rev;	/* 0: from now on */
	ds_watch_cb		*cb;
	void			*arg;
	size_t			 endpoint;
	struct ds_conn		*conn;		/* the stream, if any */
	struct ds_stream	 stream;
	struct event		*timer;		/* created timeout, backoff */
	unsigned		 failures;	/* in a row */
	bool			 connected;	/* "created" seen */
	bool			 cancelled;
};

static void	watch_start(struct ds_watch *);

static void
watch_notify(struct ds_watch *w, enum ds_watch_status status,
    int64_t revision, const struct ds_watch_event *events, size_t nevents,
    const char *error)
{
	struct ds_watch_update u;

	if (w->cancelled)
		return;
	memset(&u, 0, sizeof(u));
	u.status = status;
	u.revision = revision;
	u.events = events;
	u.nevents = nevents;
	u.endpoint = w->ds->ep[w->endpoint].url;
	u.error = error;
	w->ds->in_callback++;
	w->cb(&u, w->arg);
	w->ds->in_callback--;
}

/* Let go of the stream's connection (freed on the next kick). */
static void
watch_detach(struct ds_watch *w)
{
	if (w->conn != NULL) {
		ds_conn_bury(w->ds, w->conn);
		w->conn = NULL;
	}
	ds_stream_reset(&w->stream);
}

/* The stream is gone: try again, elsewhere when the endpoint failed. */
static void
watch_broken(struct ds_watch *w, const char *why, bool endpoint_failed)
{
	struct ds_etcd *ds = w->ds;
	bool was_connected = w->connected;
	uint64_t delay = 0;

	watch_detach(w);
	w->connected = false;
	ds->stats.watch_reconnects++;
	if (endpoint_failed) {
		ds_endpoint_failed(ds, w->endpoint, why);
		if (++w->failures > 1)
			delay = (uint64_t)DS_BACKOFF_MIN_MS << (w->failures < 7 ?
			    w->failures - 2 : 5);
		if (delay > DS_BACKOFF_MAX_MS)
			delay = DS_BACKOFF_MAX_MS;
		if (was_connected)
			watch_notify(w, DS_WATCH_LOST, 0, NULL, 0, why);
		if (w->cancelled)
			return;
		w->endpoint = ds->current != w->endpoint ? ds->current :
		    (w->endpoint + 1) % ds->nep;
	}
	evtimer_del(w->timer);
	ds_timer_arm(w->timer, delay);
}

/* One message of the stream; false when the stream must end. */
static bool
watch_message(struct ds_watch *w, const struct ds_watch_msg *msg)
{
	char why[DS_ERROR_MAX + 64];
	size_t i;

	ds_note_revision(w->ds, msg->revision);
	if (msg->canceled && msg->compact_revision > 0) {
		snprintf(why, sizeof(why), "revisions before %lld compacted",
		    (long long)msg->compact_revision);
		w->next_rev = msg->compact_revision;
		watch_broken(w, why, false);
		watch_notify(w, DS_WATCH_COMPACTED, msg->revision, NULL, 0,
		    why);
		return false;
	}
	if (msg->canceled) {
		snprintf(why, sizeof(why), "watch cancelled: %s",
		    msg->error[0] ? msg->error : "no reason given");
		watch_broken(w, why, true);
		return false;
	}
	if (msg->created) {
		w->connected = true;
		w->failures = 0;
		evtimer_del(w->timer);
		if (w->next_rev == 0)
			w->next_rev = msg->revision + 1;
		watch_notify(w, DS_WATCH_CONNECTED, msg->revision, NULL, 0,
		    NULL);
	}
	if (msg->nevents == 0)
		return true;
	for (i = 0; i < msg->nevents; i++)
		if (msg->events[i].kv.mod_revision >= w->next_rev)
			w->next_rev = msg->events[i].kv.mod_revision + 1;
	watch_notify(w, DS_WATCH_EVENTS, msg->revision, msg->events,
	    msg->nevents, NULL);
	return true;
}

/* Bytes of the stream arrived (libevent drains them after we return). */
static void
watch_chunk_cb(struct evhttp_request *evreq, void *arg)
{
	struct ds_conn *conn = arg;
	struct ds_watch *w = conn->watch;
	struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
	struct ds_watch_msg msg;
	const uint8_t *obj;
	size_t len = evbuffer_get_length(in), olen;
	bool go_on;
	int rc;

	if (w == NULL || w->cancelled || len == 0)
		return;
	if (ds_stream_feed(&w->stream, evbuffer_pullup(in, -1), len) == -1) {
		watch_broken(w, "watch message too large", true);
		return;
	}
	while ((rc = ds_stream_next(&w->stream, &obj, &olen)) == 1) {
		if (ds_decode_watch(obj, olen, &msg) == -1) {
			watch_broken(w, msg.error, true);
			return;
		}
		go_on = watch_message(w, &msg);
		ds_watch_msg_free(&msg);
		if (!go_on || w->cancelled || conn->watch != w)
			return;
	}
	if (rc == -1)
		watch_broken(w, "watch stream is not JSON", true);
}

/* Headers are in: the stream is up, and from now on may stay quiet for
 * as long as nothing changes; TCP keepalive watches the peer instead
 * of libevent's read timeout. */
static int
watch_header_cb(struct evhttp_request *evreq, void *arg)
{
	struct ds_conn *conn = arg;
	struct bufferevent *bev;
	evutil_socket_t fd;
	int on = 1, idle = DS_KEEPALIVE_IDLE, intvl = DS_KEEPALIVE_INTVL,
	    cnt = DS_KEEPALIVE_CNT;

	if (conn->watch == NULL ||
	    evhttp_request_get_response_code(evreq) != 200)
		return 0;
	bev = evhttp_connection_get_bufferevent(conn->evcon);
	bufferevent_set_timeouts(bev, NULL, NULL);
	fd = bufferevent_getfd(bev);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
		    sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	return 0;
}

static void
watch_error_cb(enum evhttp_request_error e, void *arg)
{
	struct ds_conn *conn = arg;

	snprintf(conn->error, sizeof(conn->error), "%s",
	    e == EVREQ_HTTP_TIMEOUT ? "timed out" : "connection lost");
}

/* The response ended (or never came). */
static void
watch_done_cb(struct evhttp_request *evreq, void *arg)
{
	struct ds_conn *conn = arg;
	struct ds_watch *w = conn->watch;
	struct ds_watch_msg msg;
	struct evbuffer *in;
	char why[DS_ERROR_MAX + 32];
	int status;

	if (w == NULL || w->cancelled)
		return;
	status = evreq ? evhttp_request_get_response_code(evreq) : 0;
	if (status == 0)
		snprintf(why, sizeof(why), "%s", conn->error[0] ?
		    conn->error : "cannot connect");
	else if (status != 200) {
		in = evhttp_request_get_input_buffer(evreq);
		ds_decode_watch(evbuffer_pullup(in, -1),
		    evbuffer_get_length(in), &msg);
		ds_watch_msg_free(&msg);
		snprintf(why, sizeof(why), "HTTP %d: %s", status, msg.error);
	} else
		snprintf(why, sizeof(why), "watch stream ended");
	watch_broken(w, why, true);
}

static void
watch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_watch *w = arg;
	char why[64];

	if (w->cancelled)
		return;
	if (w->conn == NULL) {
		watch_start(w);		/* the backoff is over */
		return;
	}
	snprintf(why, sizeof(why), "no watch created within %u ms",
	    w->ds->attempt_ms);
	watch_broken(w, why, true);
}

static struct evhttp_request *
watch_request(struct ds_watch *w, struct ds_conn *conn)
{
	struct evhttp_request *evreq;
	struct evkeyvalq *h;
	char *body;

	body = ds_encode_watch(w->prefix, w->next_rev);
	if (body == NULL)
		return NULL;
	evreq = evhttp_request_new(watch_done_cb, conn);
	if (evreq == NULL) {
		free(body);
		return NULL;
	}
	evhttp_request_set_chunked_cb(evreq, watch_chunk_cb);
	evhttp_request_set_header_cb(evreq, watch_header_cb);
	evhttp_request_set_error_cb(evreq, watch_error_cb);
	h = evhttp_request_get_output_headers(evreq);
	evhttp_add_header(h, "Host", conn->ep->host_header);
	evhttp_add_header(h, "Content-Type", "application/json");
	/* gRPC metadata: a member without a leader cancels the watch */
	evhttp_add_header(h, "Grpc-Metadata-hasleader", "true");
	evbuffer_add(evhttp_request_get_output_buffer(evreq), body,
	    strlen(body));
	free(body);
	return evreq;
}

static void
watch_start(struct ds_watch *w)
{
	struct ds_etcd *ds = w->ds;
	struct evhttp_request *evreq;
	struct ds_conn *conn;
	struct timeval tv = ds_timeval(ds->attempt_ms);

	conn = xcalloc(1, sizeof(*conn));
	conn->ds = ds;
	conn->ep = &ds->ep[w->endpoint];
	conn->watch = w;
	conn->evcon = ds_connect(ds, conn->ep);
	w->conn = conn;
	if (conn->evcon == NULL) {
		watch_broken(w, "cannot open a connection", true);
		return;
	}
	evhttp_connection_set_timeout_tv(conn->evcon, &tv);
	evhttp_connection_set_retries(conn->evcon, 0);
	ds_timer_arm(w->timer, ds->attempt_ms);
	evreq = watch_request(w, conn);
	if (evreq == NULL) {
		watch_broken(w, "cannot make the watch request", true);
		return;
	}
	/* may call watch_done_cb at once (a refused local connect) */
	if (evhttp_make_request(conn->evcon, evreq, EVHTTP_REQ_POST,
	    "/v3/watch") == -1) {
		if (w->conn == conn) {
			evhttp_request_free(evreq);
			watch_broken(w, "cannot send the watch request", true);
		}
		return;
	}
	ds_conn_nodelay(conn->evcon);
}

struct ds_watch *
ds_etcd_watch(struct ds_etcd *ds, const char *prefix, int64_t start_revision,
    ds_watch_cb *cb, void *arg)
{
	struct ds_watch *w;
	char *probe;

	/* the encoder checks the prefix once here, not at each reconnect */
	if (ds->closing || cb == NULL || start_revision < 0 ||
	    (probe = ds_encode_watch(prefix, start_revision)) == NULL) {
		errno = ds->closing ? ESHUTDOWN : EINVAL;
		return NULL;
	}
	free(probe);
	w = xcalloc(1, sizeof(*w));
	w->ds = ds;
	w->prefix = xstrdup(prefix);
	w->next_rev = start_revision;
	w->cb = cb;
	w->arg = arg;
	w->endpoint = ds->current;
	ds_stream_init(&w->stream, ds->max_response);
	w->timer = evtimer_new(ds->base, watch_timer_cb, w);
	if (w->timer == NULL)
		fatalx("etcd watch: cannot create a timer");
	TAILQ_INSERT_TAIL(&ds->watches, w, entry);
	ds_timer_arm(w->timer, 0);	/* start from the loop, not from here */
	return w;
}

void
ds_watch_cancel(struct ds_watch *w)
{
	struct ds_etcd *ds;

	if (w == NULL || w->cancelled)
		return;
	ds = w->ds;
	w->cancelled = true;
	evtimer_del(w->timer);
	watch_detach(w);
	TAILQ_REMOVE(&ds->watches, w, entry);
	TAILQ_INSERT_TAIL(&ds->dead_watches, w, entry);
	ds_kick(ds);
}

void
ds_watch_reap(struct ds_etcd *ds)
{
	struct ds_watch *w;

	while ((w = TAILQ_FIRST(&ds->dead_watches)) != NULL) {
		TAILQ_REMOVE(&ds->dead_watches, w, entry);
		event_free(w->timer);
		ds_stream_free(&w->stream);
		free(w->prefix);
		free(w);
	}
}

void
ds_watch_free_all(struct ds_etcd *ds)
{
	struct ds_watch *w;

	while ((w = TAILQ_FIRST(&ds->watches)) != NULL)
		ds_watch_cancel(w);
}
