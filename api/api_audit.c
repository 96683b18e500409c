/*
 * GET /v1/ipam/audit: the audit chain checked from end to end, off the
 * event loop.
 *
 * How this works: the walk reads every record and computes an HMAC per
 * record, on its own read connection; on a chain of millions it takes
 * seconds, which on the event loop would stop the BGP keepalives.  So
 * each request gets a job: a thread runs ipam_audit_verify_dir() on the
 * state directory (the key, the database and the anchor are read from
 * there, so the job shares nothing with the store, which may even be
 * closed meanwhile), writes its report into the job and bumps the job's
 * eventfd; the loop side then answers, joins the thread and frees the
 * job, as ipam/store.c's writer posts its completions.  With the IPAM
 * refused at start the state directory is checked the same way, which
 * says why.
 *
 * The request outlives a client that hangs up (evhttp detaches it; the
 * answer then just frees it).  If evhttp frees it with its connection
 * (the server is going away), the connection's close callback tells the
 * job not to answer.
 */
#include "api/api.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "common/util.h"
#include "ipam/ipam.h"

struct audit_job {
	struct evhttp_request	*req;		/* NULL: not to be answered */
	struct api_conns	*conns;
	char			*dir;
	pthread_t		 thread;
	int			 efd;
	struct event		*ev;
	int			 rc;
	struct ipam_audit_report rep;
};

static json_t *
audit_report_json(const struct ipam_audit_report *rep)
{
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:b, s:s}",
	    "ok", rep->ok, "records", (json_int_t)rep->records, "badSeq",
	    (json_int_t)rep->bad_seq, "lastSeq", (json_int_t)rep->last_seq,
	    "headSeq", (json_int_t)rep->head_seq, "anchorSeq",
	    (json_int_t)rep->anchor_seq, "anchored", rep->anchored,
	    "truncated", rep->truncated, "rolledBack", rep->rolled_back,
	    "reason", rep->reason);
}

static void *
audit_thread(void *arg)
{
	struct audit_job *job = arg;
	uint64_t one = 1;

	job->rc = ipam_audit_verify_dir(job->dir, &job->rep);
	/* The loop reads it; a failed write would leave the job hanging. */
	while (write(job->efd, &one, sizeof(one)) == -1 && errno == EINTR)
		continue;
	return NULL;
}

/* The connection is being freed: evhttp frees the request with it,
 * unless it was detached first (then it is ours to answer). */
static void
audit_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct audit_job *job = arg;

	(void)evcon;
	if (job->req != NULL && evhttp_request_get_connection(job->req) !=
	    NULL)
		job->req = NULL;
}

static void
audit_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct audit_job *job = arg;
	struct api_req r = { .req = job->req, .conns = job->conns };
	struct evhttp_connection *evcon;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_join(job->thread, NULL);
	if (job->req != NULL) {
		if ((evcon = evhttp_request_get_connection(job->req)) != NULL)
			evhttp_connection_set_closecb(evcon, NULL, NULL);
		if (job->rc == -1)
			api_reply_error(&r, 500, "cannot read the audit trail: "
			    "%s", job->rep.reason[0] ? job->rep.reason :
			    "unknown error");
		else
			api_reply_json(&r, 200, audit_report_json(&job->rep));
	}
	event_free(job->ev);
	close(job->efd);
	free(job->dir);
	free(job);
}

void
api_ipam_audit(struct api_req *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(
	    r->req);
	struct audit_job *job;
	int rc = 0;

	if (r->d->state_dir == NULL) {
		api_reply_error(r, 503, "IPAM is not running");
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->req = r->req;
	job->conns = r->conns;
	job->dir = xstrdup(r->d->state_dir);
	if ((job->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (job->ev = event_new(r->d->base, job->efd, EV_READ, audit_done_cb,
	    job)) == NULL || event_add(job->ev, NULL) == -1 ||
	    (rc = pthread_create(&job->thread, NULL, audit_thread, job)) !=
	    0) {
		api_reply_error(r, 503, "cannot check the audit trail now: %s",
		    strerror(rc != 0 ? rc : errno));
		if (job->ev != NULL)
			event_free(job->ev);
		if (job->efd != -1)
			close(job->efd);
		free(job->dir);
		free(job);
		return;
	}
	evhttp_connection_set_closecb(evcon, audit_closed_cb, job);
}
