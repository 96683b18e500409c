/*
 * The life of one request (etcd.h): queued, sent on a connection to the
 * endpoint of its next attempt, answered or failed; on failure the next
 * endpoint, after a full round a short backoff, until the request's
 * deadline.  One timer per request serves as the attempt timeout while
 * it is sent and as the backoff while it waits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/util.h"
#include "datastore/etcd_int.h"

static void	req_attempt_failed(struct ds_req *, const char *);

static void
req_free(struct ds_req *req)
{
	if (req->timer != NULL)
		event_free(req->timer);
	ds_result_free(&req->res);
	free(req->body);
	free(req);
}

/* The request is over: its callback runs on the next kick. */
static void
req_finish(struct ds_req *req)
{
	struct ds_etcd *ds = req->ds;

	evtimer_del(req->timer);
	TAILQ_REMOVE(&ds->reqs, req, entry);
	req->state = DS_REQ_DONE;
	TAILQ_INSERT_TAIL(&ds->done, req, entry);
	ds_kick(ds);
}

static void
req_fail(struct ds_req *req, const char *fmt, const char *detail)
{
	ds_result_free(&req->res);
	memset(&req->res, 0, sizeof(req->res));
	snprintf(req->res.error, sizeof(req->res.error), fmt, detail);
	req_finish(req);
}

void
ds_request_run_done(struct ds_etcd *ds)
{
	struct ds_req *req;

	while ((req = TAILQ_FIRST(&ds->done)) != NULL) {
		TAILQ_REMOVE(&ds->done, req, entry);
		if (!req->res.ok)
			ds->stats.errors++;
		ds->in_callback++;
		req->cb(&req->res, req->arg);
		ds->in_callback--;
		req_free(req);
		if (ds->free_pending)
			return;
	}
}

/* ---- connections -------------------------------------------------- */

static void
conn_retire(struct ds_conn *conn)
{
	if (conn->dead)
		return;
	TAILQ_REMOVE(&conn->ep->conns, conn, entry);
	conn->ep->nconns--;
	ds_conn_bury(conn->ds, conn);
}

/* libevent closed an idle keep-alive connection (peer closed or it sat
 * idle too long).  It is never reused: a TLS bufferevent cannot
 * reconnect, and a fresh connection is cheap. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct ds_conn *conn = arg;

	conn->closed = true;
	if (conn->req == NULL)
		conn_retire(conn);
}

static struct ds_conn *
conn_new(struct ds_etcd *ds, struct ds_endpoint *ep)
{
	struct ds_conn *conn;
	struct timeval tv = ds_timeval(ds->request_ms);

	conn = xcalloc(1, sizeof(*conn));
	conn->ds = ds;
	conn->ep = ep;
	conn->evcon = ds_connect(ds, ep);
	if (conn->evcon == NULL) {
		free(conn);
		return NULL;
	}
	/* our own timer bounds an attempt; this only closes idle ones */
	evhttp_connection_set_timeout_tv(conn->evcon, &tv);
	evhttp_connection_set_retries(conn->evcon, 0);
	evhttp_connection_set_max_body_size(conn->evcon, ds->max_response);
	evhttp_connection_set_closecb(conn->evcon, conn_closed_cb, conn);
	TAILQ_INSERT_TAIL(&ep->conns, conn, entry);
	ep->nconns++;
	return conn;
}

/* An idle connection to ep, or a new one while there is room. */
static struct ds_conn *
conn_get(struct ds_etcd *ds, struct ds_endpoint *ep)
{
	struct ds_conn *conn;

	TAILQ_FOREACH(conn, &ep->conns, entry)
		if (conn->req == NULL)
			return conn;
	if (ep->nconns >= ds->conns_per_ep)
		return NULL;
	return conn_new(ds, ep);
}

static const char *
request_error_text(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER:
		return "bad HTTP header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection error";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "answer too large";
	}
	return "HTTP error";
}

static void
conn_error_cb(enum evhttp_request_error e, void *arg)
{
	struct ds_conn *conn = arg;

	snprintf(conn->error, sizeof(conn->error), "%s",
	    request_error_text(e));
	if (e == EVREQ_HTTP_DATA_TOO_LONG)
		conn->too_long = true;
}

/* ---- answers ------------------------------------------------------ */

static void
req_answered(struct ds_req *req, struct evhttp_request *evreq)
{
	struct ds_etcd *ds = req->ds;
	struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
	size_t len = evbuffer_get_length(in);
	const void *body = len > 0 ? (const void *)evbuffer_pullup(in, -1) :
	    (const void *)"";
	int status = evhttp_request_get_response_code(evreq);
	size_t ep = req->endpoint;

	if (ds_decode_response(req->op, status, body, len, ds->max_response,
	    &req->res) == -1 && req->res.retryable) {
		snprintf(req->last_error, sizeof(req->last_error), "%s",
		    req->res.error);
		ds_result_free(&req->res);
		req_attempt_failed(req, req->last_error);
		return;
	}
	/* an answer, good or bad, comes from a working member */
	req->res.endpoint = ds->ep[ep].url;
	ds_note_revision(ds, req->res.revision);
	ds->current = ep;
	ds->stats.answered = true;
	req_finish(req);
}

static void
conn_done_cb(struct evhttp_request *evreq, void *arg)
{
	struct ds_conn *conn = arg;
	struct ds_req *req = conn->req;
	char why[DS_ERROR_MAX];

	conn->req = NULL;
	if (req == NULL)
		return;		/* the attempt timed out already */
	req->conn = NULL;
	evtimer_del(req->timer);
	if (evreq != NULL && evhttp_request_get_response_code(evreq) != 0) {
		if (conn->closed)
			conn_retire(conn);
		req_answered(req, evreq);
		return;
	}
	conn_retire(conn);
	if (conn->too_long) {
		req_fail(req, "%s", "etcd's answer is larger than allowed");
		return;
	}
	snprintf(why, sizeof(why), "%s", conn->error[0] ? conn->error :
	    "cannot connect");
	req_attempt_failed(req, why);
}

/* ---- attempts ----------------------------------------------------- */

static uint64_t
req_remaining(const struct ds_req *req)
{
	uint64_t now = mono_msec();

	return req->deadline_ms > now ? req->deadline_ms - now : 0;
}

/* Put the body on conn; 0, or -1 when libevent refused. */
static int
req_send(struct ds_req *req, struct ds_conn *conn)
{
	struct ds_etcd *ds = req->ds;
	struct evhttp_request *evreq;
	struct evkeyvalq *h;
	uint64_t ms;

	evreq = evhttp_request_new(conn_done_cb, conn);
	if (evreq == NULL)
		return -1;
	evhttp_request_set_error_cb(evreq, conn_error_cb);
	h = evhttp_request_get_output_headers(evreq);
	evhttp_add_header(h, "Host", conn->ep->host_header);
	evhttp_add_header(h, "Content-Type", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(evreq), req->body,
	    strlen(req->body));
	conn->error[0] = '\0';
	conn->req = req;
	req->conn = conn;
	req->state = DS_REQ_SENT;
	ms = req_remaining(req);
	ds_timer_arm(req->timer, ms < ds->attempt_ms ? ms : ds->attempt_ms);
	/* may call conn_done_cb at once (a refused local connect) */
	if (evhttp_make_request(conn->evcon, evreq, EVHTTP_REQ_POST,
	    ds_op_path(req->op)) == -1) {
		if (conn->req == req) {
			conn->req = NULL;
			req->conn = NULL;
			evhttp_request_free(evreq);
			conn_retire(conn);
			return -1;
		}
		return 0;
	}
	ds_conn_nodelay(conn->evcon);
	return 0;
}

void
ds_request_dispatch(struct ds_etcd *ds)
{
	struct ds_req *req, *next;
	struct ds_conn *conn;

	TAILQ_FOREACH_SAFE(req, &ds->reqs, entry, next) {
		if (req->state != DS_REQ_QUEUED)
			continue;
		conn = conn_get(ds, &ds->ep[req->endpoint]);
		if (conn == NULL)
			continue;
		if (req_send(req, conn) == -1) {
			req->state = DS_REQ_QUEUED;
			req_attempt_failed(req, "cannot open a connection");
		}
	}
}

static void
req_give_up(struct ds_req *req)
{
	ds_result_free(&req->res);
	memset(&req->res, 0, sizeof(req->res));
	snprintf(req->res.error, sizeof(req->res.error),
	    "no etcd endpoint answered within %u ms; last: %.190s",
	    req->ds->request_ms, req->last_error);
	req_finish(req);
}

/* This endpoint did not do: the next one, a backoff after a full round,
 * or the end when the deadline has come. */
static void
req_attempt_failed(struct ds_req *req, const char *why)
{
	struct ds_etcd *ds = req->ds;
	uint64_t left, backoff;

	ds_endpoint_failed(ds, req->endpoint, why);
	snprintf(req->last_error, sizeof(req->last_error), "%s: %s",
	    ds->ep[req->endpoint].url, why);
	req->endpoint = (req->endpoint + 1) % ds->nep;
	left = req_remaining(req);
	if (left == 0) {
		req_give_up(req);
		return;
	}
	if (++req->failed_in_round < ds->nep) {
		req->state = DS_REQ_QUEUED;
		ds_timer_arm(req->timer, left);
		ds_kick(ds);
		return;
	}
	req->failed_in_round = 0;
	backoff = (uint64_t)DS_BACKOFF_MIN_MS << (req->rounds < 5 ?
	    req->rounds : 5);
	req->rounds++;
	if (backoff > DS_BACKOFF_MAX_MS)
		backoff = DS_BACKOFF_MAX_MS;
	req->state = DS_REQ_BACKOFF;
	ds_timer_arm(req->timer, backoff < left ? backoff : left);
}

static void
req_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ds_req *req = arg;
	struct ds_conn *conn = req->conn;
	char why[64];

	if (req->state == DS_REQ_QUEUED) {
		if (req->last_error[0] == '\0')
			snprintf(req->last_error, sizeof(req->last_error),
			    "every connection busy");
		req_give_up(req);
		return;
	}
	if (req->state == DS_REQ_BACKOFF) {
		req->state = DS_REQ_QUEUED;
		if (req_remaining(req) == 0)
			req_give_up(req);
		else {
			ds_timer_arm(req->timer, req_remaining(req));
			ds_kick(req->ds);
		}
		return;
	}
	if (req->state != DS_REQ_SENT || conn == NULL)
		return;
	/* The attempt took too long: drop its connection (freed on the
	 * next kick; a late answer on it finds no request). */
	conn->req = NULL;
	req->conn = NULL;
	conn_retire(conn);
	snprintf(why, sizeof(why), "no answer within %u ms",
	    req->ds->attempt_ms);
	req_attempt_failed(req, why);
}

void
ds_request_cancel_all(struct ds_etcd *ds)
{
	struct ds_req *req;

	while ((req = TAILQ_FIRST(&ds->reqs)) != NULL) {
		if (req->conn != NULL) {
			req->conn->req = NULL;
			req->conn = NULL;
		}
		req_fail(req, "%s", "etcd client closed");
	}
}

/* ---- the calls ---------------------------------------------------- */

static int
submit(struct ds_etcd *ds, enum ds_op op, char *body, ds_etcd_cb *cb,
    void *arg)
{
	struct ds_req *req;

	if (body == NULL)
		return -1;	/* errno from the encoder */
	if (ds->closing || cb == NULL) {
		free(body);
		errno = ds->closing ? ESHUTDOWN : EINVAL;
		return -1;
	}
	req = xcalloc(1, sizeof(*req));
	req->timer = evtimer_new(ds->base, req_timer_cb, req);
	if (req->timer == NULL) {
		free(req);
		free(body);
		errno = ENOMEM;
		return -1;
	}
	req->ds = ds;
	req->op = op;
	req->body = body;
	req->cb = cb;
	req->arg = arg;
	req->endpoint = ds->current;
	req->deadline_ms = mono_msec() + ds->request_ms;
	req->state = DS_REQ_QUEUED;
	/* while queued the timer is the deadline (connections may all be
	 * busy); once sent, the attempt timeout */
	ds_timer_arm(req->timer, ds->request_ms);
	TAILQ_INSERT_TAIL(&ds->reqs, req, entry);
	ds->stats.requests++;
	ds_kick(ds);
	return 0;
}

int
ds_etcd_get(struct ds_etcd *ds, const char *key, ds_etcd_cb *cb, void *arg)
{
	return submit(ds, DS_OP_RANGE, ds_encode_range(key, false), cb, arg);
}

int
ds_etcd_get_prefix(struct ds_etcd *ds, const char *prefix, ds_etcd_cb *cb,
    void *arg)
{
	return submit(ds, DS_OP_RANGE, ds_encode_range(prefix, true), cb, arg);
}

int
ds_etcd_put(struct ds_etcd *ds, const char *key, const void *value,
    size_t len, int64_t lease, ds_etcd_cb *cb, void *arg)
{
	return submit(ds, DS_OP_PUT, ds_encode_put(key, value, len, lease),
	    cb, arg);
}

int
ds_etcd_delete(struct ds_etcd *ds, const char *key, ds_etcd_cb *cb,
    void *arg)
{
	return submit(ds, DS_OP_DELETE, ds_encode_delete(key, false), cb, arg);
}

int
ds_etcd_delete_prefix(struct ds_etcd *ds, const char *prefix,
    ds_etcd_cb *cb, void *arg)
{
	return submit(ds, DS_OP_DELETE, ds_encode_delete(prefix, true), cb,
	    arg);
}

int
ds_etcd_create_if_absent(struct ds_etcd *ds, const char *key,
    const void *value, size_t len, int64_t lease, ds_etcd_cb *cb, void *arg)
{
	return submit(ds, DS_OP_TXN, ds_encode_create_if_absent(key, value,
	    len, lease), cb, arg);
}

int
ds_etcd_cas(struct ds_etcd *ds, const char *key, int64_t mod_revision,
    const void *value, size_t len, int64_t lease, ds_etcd_cb *cb, void *arg)
{
	char *body;

	if (mod_revision == 0)
		body = ds_encode_create_if_absent(key, value, len, lease);
	else
		body = ds_encode_cas(key, mod_revision, value, len, lease);
	return submit(ds, DS_OP_TXN, body, cb, arg);
}

int
ds_etcd_delete_if(struct ds_etcd *ds, const char *key, int64_t mod_revision,
    ds_etcd_cb *cb, void *arg)
{
	return submit(ds, DS_OP_TXN, ds_encode_delete_if(key, mod_revision),
	    cb, arg);
}

int
ds_etcd_lease_grant(struct ds_etcd *ds, int64_t ttl, ds_etcd_cb *cb,
    void *arg)
{
	return submit(ds, DS_OP_LEASE_GRANT, ds_encode_lease_grant(ttl), cb,
	    arg);
}

int
ds_etcd_lease_keepalive(struct ds_etcd *ds, int64_t id, ds_etcd_cb *cb,
    void *arg)
{
	return submit(ds, DS_OP_LEASE_KEEPALIVE, ds_encode_lease_id(id), cb,
	    arg);
}

int
ds_etcd_lease_revoke(struct ds_etcd *ds, int64_t id, ds_etcd_cb *cb,
    void *arg)
{
	return submit(ds, DS_OP_LEASE_REVOKE, ds_encode_lease_id(id), cb, arg);
}
