/*
 * Internals shared by the request side (etcd.c) and the watches
 * (etcd_watch.c).  Not part of the contract: include etcd.h instead.
 */
#ifndef DATASTORE_ETCD_INT_H
#define DATASTORE_ETCD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/time.h>

#include <openssl/ssl.h>

#include "common/queue.h"
#include "datastore/etcd.h"
#include "datastore/etcd_codec.h"

struct event;
struct evdns_base;
struct evhttp_connection;
struct evhttp_request;
struct ds_req;
struct ds_watch;

#define DS_DEFAULT_REQUEST_MS	5000
#define DS_DEFAULT_ATTEMPT_MS	1500
#define DS_DEFAULT_CONNS	4
#define DS_DEFAULT_RESPONSE_MAX	(4 * 1024 * 1024)
#define DS_BACKOFF_MIN_MS	100
#define DS_BACKOFF_MAX_MS	2000

/* One HTTP connection carrying one request at a time, or one watch
 * stream.  libevent's callbacks get the connection, and find the
 * request or watch through it: once detached (timed out, cancelled) a
 * late callback finds nothing and does nothing. */
struct ds_conn {
	TAILQ_ENTRY(ds_conn)	 entry;
	struct ds_etcd		*ds;
	struct ds_endpoint	*ep;
	struct evhttp_connection *evcon;
	struct ds_req		*req;		/* in flight */
	struct ds_watch		*watch;		/* streaming */
	char			 error[DS_ERROR_MAX]; /* from libevent */
	bool			 too_long;
	bool			 closed;	/* libevent closed it */
	bool			 dead;
};
TAILQ_HEAD(ds_conn_list, ds_conn);

struct ds_endpoint {
	char			*url;
	char			*host;		/* without [] */
	char			*host_header;	/* host:port, [v6]:port */
	uint16_t		 port;
	bool			 tls;
	bool			 numeric;	/* an IP address, no DNS */
	struct ds_conn_list	 conns;		/* alive, idle or busy */
	size_t			 nconns;
};

enum ds_req_state {
	DS_REQ_QUEUED,		/* waits for a connection */
	DS_REQ_SENT,		/* on a connection */
	DS_REQ_BACKOFF,		/* every endpoint failed; waits a little */
	DS_REQ_DONE,		/* callback due */
};

struct ds_req {
	TAILQ_ENTRY(ds_req)	 entry;
	struct ds_etcd		*ds;
	enum ds_req_state	 state;
	enum ds_op		 op;
	char			*body;
	ds_etcd_cb		*cb;
	void			*arg;
	struct event		*timer;		/* attempt timeout, backoff */
	struct ds_conn		*conn;		/* while SENT */
	uint64_t		 deadline_ms;
	size_t			 endpoint;	/* of the next attempt */
	size_t			 failed_in_round;
	unsigned		 rounds;
	char			 last_error[DS_ERROR_MAX];
	struct ds_result	 res;
};
TAILQ_HEAD(ds_req_list, ds_req);

TAILQ_HEAD(ds_watch_list, ds_watch);

struct ds_etcd {
	struct event_base	*base;
	struct evdns_base	*dns;		/* only for host names */
	SSL_CTX			*ssl;
	struct ds_endpoint	 ep[DS_ENDPOINTS_MAX];
	size_t			 nep;
	size_t			 current;
	unsigned		 request_ms;
	unsigned		 attempt_ms;
	unsigned		 conns_per_ep;
	size_t			 max_response;
	struct ds_req_list	 reqs;		/* queued, sent, backoff */
	struct ds_req_list	 done;
	struct ds_conn_list	 dead;		/* freed on the next turn */
	struct ds_watch_list	 watches;
	struct ds_watch_list	 dead_watches;
	struct event		*kick;
	struct ds_etcd_stats	 stats;
	int			 in_callback;
	bool			 closing;
	bool			 free_pending;
};

struct timeval ds_timeval(uint64_t ms);
/* (Re)start a timer event to fire in ms milliseconds. */
void	ds_timer_arm(struct event *, uint64_t ms);
/* Run the kick (reap, dispatch, callbacks) on the next loop turn. */
void	ds_kick(struct ds_etcd *);
/* A new HTTP connection to ep (plain or TLS), not yet connected. */
struct evhttp_connection *ds_connect(struct ds_etcd *, struct ds_endpoint *);
/* TCP_NODELAY on evcon's socket, once it has one. */
void	ds_conn_nodelay(struct evhttp_connection *);
/* Free conn (and its evcon) on the next kick, outside libevent. */
void	ds_conn_bury(struct ds_etcd *, struct ds_conn *);
/* Requests (etcd_request.c). */
void	ds_request_run_done(struct ds_etcd *);
void	ds_request_dispatch(struct ds_etcd *);
void	ds_request_cancel_all(struct ds_etcd *);
/* Note an endpoint failure in the stats; moves the current endpoint on
 * when it was this one. */
void	ds_endpoint_failed(struct ds_etcd *, size_t ep, const char *why);
void	ds_note_revision(struct ds_etcd *, int64_t);

/* etcd_watch.c */
void	ds_watch_reap(struct ds_etcd *);
void	ds_watch_free_all(struct ds_etcd *);

#endif
