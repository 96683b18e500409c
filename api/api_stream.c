/*
 * Answers too large for one turn of the event loop: a JSON document
 * {"KEY": [ITEM, ...], "total": N} written in slices with chunked
 * transfer encoding, so that a million-route table never stops the
 * keepalives, and never sits whole in memory.
 *
 * How this works: api_stream_start() sends the head; then each slice
 * asks the producer for the next items (fill), writes them as one chunk
 * and, once evhttp has written that chunk out (the chunk's callback),
 * schedules the next slice as an event, so other events run in between
 * and a client that reads slowly holds back the producer instead of
 * growing our buffers.  The last slice writes the tail and ends the
 * reply.  If the connection goes away meanwhile, its close callback
 * frees the stream (and the request, which evhttp left to us when it
 * detached it from the failed connection).
 */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/util.h"

struct api_stream {
	struct evhttp_request	*req;
	struct api_conns	*conns;
	struct event		*ev;
	api_stream_fill		*fill;
	void			*arg;
	void			(*free_arg)(void *);
	uint64_t		 items;
};

static void
stream_free(struct api_stream *st)
{
	event_free(st->ev);
	if (st->free_arg != NULL)
		st->free_arg(st->arg);
	free(st);
}

static int
dump_to_evbuffer(const char *text, size_t len, void *arg)
{
	return evbuffer_add(arg, text, len);
}

/* The connection went away (or the server is being freed). */
static void
stream_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct api_stream *st = arg;

	(void)evcon;
	/* Detached from the failed connection, the request is ours to free;
	 * still attached (evhttp_free), evhttp frees it with the rest. */
	if (evhttp_request_get_connection(st->req) == NULL)
		evhttp_send_reply_end(st->req);
	stream_free(st);
}

static void
stream_written_cb(struct evhttp_connection *evcon, void *arg)
{
	struct api_stream *st = arg;

	(void)evcon;
	event_active(st->ev, EV_TIMEOUT, 0);
}

static void
stream_slice_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_stream *st = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(
	    st->req);
	struct evbuffer *buf;
	json_t *items, *item;
	size_t i;
	bool done;

	(void)fd;
	(void)what;
	if (evcon == NULL) {		/* detached, not closed yet */
		evhttp_send_reply_end(st->req);
		stream_free(st);
		return;
	}
	items = json_array();
	done = st->fill(st->arg, items);
	if ((buf = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	json_array_foreach(items, i, item) {
		if (st->items++ > 0)
			evbuffer_add(buf, ",", 1);
		json_dump_callback(item, dump_to_evbuffer, buf, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
	}
	json_decref(items);
	if (!done) {
		evhttp_send_reply_chunk_with_cb(st->req, buf,
		    stream_written_cb, st);
		evbuffer_free(buf);
		return;
	}
	evbuffer_add_printf(buf, "],\"total\":%llu}\n",
	    (unsigned long long)st->items);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	api_conn_replied(st->conns, st->req);
	evhttp_send_reply_chunk(st->req, buf);
	evhttp_send_reply_end(st->req);
	evbuffer_free(buf);
	stream_free(st);
}

void
api_stream_start(struct api_req *ar, const char *key, api_stream_fill *fill,
    void *arg, void (*free_arg)(void *))
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(ar->req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(
	    ar->req);
	struct api_stream *st = xcalloc(1, sizeof(*st));
	struct evbuffer *head;

	st->req = ar->req;
	st->conns = ar->conns;
	st->fill = fill;
	st->arg = arg;
	st->free_arg = free_arg;
	if ((st->ev = evtimer_new(evhttp_connection_get_base(evcon),
	    stream_slice_cb, st)) == NULL || (head = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_connection_set_closecb(evcon, stream_closed_cb, st);
	evhttp_send_reply_start(ar->req, 200, "OK");
	evbuffer_add_printf(head, "{\"%s\":[", key);
	evhttp_send_reply_chunk_with_cb(ar->req, head, stream_written_cb, st);
	evbuffer_free(head);
}
