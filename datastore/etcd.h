/*
 * datastore/: an asynchronous etcd v3 client on the caller's libevent
 * loop.  The only code that speaks to etcd; it knows nothing of IPAM
 * (ipam/ declares the interface it needs, daemon/ wires this client
 * into it).  Dependency rule: uses only common/.
 *
 * How this works:
 *
 * Wire.  etcd (3.4) serves a JSON mapping of its gRPC API, the "gRPC
 * gateway", on the client port: POST /v3/kv/range, /v3/kv/put,
 * /v3/kv/deleterange, /v3/kv/txn, /v3/lease/grant, /v3/lease/keepalive,
 * /v3/lease/revoke and /v3/watch.  Keys and values are base64 strings,
 * 64-bit integers are decimal strings, and fields holding their zero
 * value are left out (an empty range has no "kvs", a failed txn no
 * "succeeded").  etcd_codec.h turns requests into JSON and responses
 * back into a struct ds_result; those functions are pure (bytes in,
 * bytes out) and treat every response as hostile: wrong types, missing
 * fields, bad base64 and oversized bodies are errors, never crashes.
 *
 * Requests.  Each call (ds_etcd_get(), ds_etcd_create_if_absent(), ...)
 * encodes its body at once, queues it and returns; nothing blocks.  A
 * request runs on an idle HTTP/1.1 keep-alive connection to the
 * endpoint that answered last (up to conns_per_endpoint connections per
 * endpoint, libevent's evhttp, one request per connection at a time).
 * The callback runs exactly once, from the event loop, never from
 * inside the call that queued the request.
 *
 * Failover.  A connection error, an attempt that outlasts
 * attempt_timeout_ms, or an answer "etcd is unavailable here" (gRPC
 * code 14: no leader, leader changed, request timed out) sends the
 * request to the next endpoint, and later requests start there too.
 * After every endpoint failed once the request waits a little and goes
 * round again, until its request_timeout_ms is up; then its callback
 * gets ok = false and the last error ("no endpoint answered within
 * 3000 ms; last: http://10.200.0.2:2379: connection refused").  Other
 * answers (a compare that failed, an unknown lease) are final.  A
 * retried write may already have been applied by the member that did
 * not answer: put and delete are idempotent, and a create_if_absent or
 * cas that comes back "lost" with the caller's own value is its own
 * earlier attempt (so make values unique to the writer, e.g. name the
 * owner in them).
 *
 * TLS.  https:// endpoints use OpenSSL bufferevents with the configured
 * client certificate, key and CA; the server certificate must verify
 * against the CA and name the endpoint's host (or IP address).  A
 * connection that closes is dropped and a new one made, never reused.
 *
 * Watches.  ds_etcd_watch() holds one streaming POST /v3/watch per
 * watch, on its own connection.  The gateway sends one JSON object per
 * message ({"result": {...}}, newline separated, chunked); a framer
 * cuts complete objects out of the byte stream, whatever the chunking.
 * The watch remembers the revision after the last one it delivered and,
 * when the stream breaks (member killed, member lost its leader: the
 * request carries etcd's "hasleader" metadata, so such a member cancels
 * it), reconnects to the next endpoint from that revision: no event is
 * lost or repeated.  A stream that goes quiet is checked with TCP
 * keepalives.  When the revision was compacted away the callback hears
 * DS_WATCH_COMPACTED and must read the prefix again.  The watch itself
 * goes on from the oldest revision etcd still has, so it may replay
 * events older than that read: a caller applies an event only when its
 * mod_revision is above the read's header revision, or cancels the
 * watch and starts a new one from that revision + 1.
 */
#ifndef DATASTORE_ETCD_H
#define DATASTORE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ds_etcd;
struct ds_watch;

#define DS_ENDPOINTS_MAX	16
#define DS_ERROR_MAX		256
#define DS_KEY_MAX		4096		/* bytes, what we send */
#define DS_VALUE_MAX		(1024 * 1024)	/* etcd takes 1.5 MiB */
#define DS_RESPONSE_MAX		(16 * 1024 * 1024)

/* etcd's gRPC status for "try another member" (codes.Unavailable). */
#define DS_GRPC_UNAVAILABLE	14

struct ds_etcd_config {
	/* "http://host:port" or "https://host:port"; IPv6 as [addr]. */
	const char	*endpoints[DS_ENDPOINTS_MAX];
	size_t		 nendpoints;
	/* PEM files for https:// endpoints (cert and key together or not
	 * at all; ca required for https). */
	const char	*tls_cert;
	const char	*tls_key;
	const char	*tls_ca;
	unsigned	 request_timeout_ms;	/* whole request; 0: 5000 */
	unsigned	 attempt_timeout_ms;	/* one endpoint; 0: 1500 */
	unsigned	 conns_per_endpoint;	/* 0: 4 */
	size_t		 max_response;		/* bytes; 0: DS_RESPONSE_MAX */
};

/* One key as etcd reports it.  key and value are NUL-terminated copies
 * (the lengths exclude the NUL; a value may itself hold NULs). */
struct ds_kv {
	char		*key;
	size_t		 key_len;
	char		*value;
	size_t		 value_len;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;
};

/* The outcome of one request.  ok: etcd answered and carried out the
 * request (for a transaction: whether or not its compare held).  The
 * other fields are filled as the operation has them. */
struct ds_result {
	bool		 ok;
	char		 error[DS_ERROR_MAX];	/* when !ok */
	int		 grpc_code;		/* etcd's error code, or 0 */
	int		 http_status;		/* 0: no HTTP answer */
	bool		 retryable;		/* another member may answer */
	int64_t		 revision;		/* cluster revision (header) */
	/* create_if_absent, cas, delete_if: the compare held */
	bool		 succeeded;
	/* get, get_prefix; after a lost compare: the key as it is now */
	struct ds_kv	*kvs;
	size_t		 nkvs;
	int64_t		 count;
	bool		 more;
	int64_t		 deleted;		/* delete, delete_if */
	int64_t		 lease_id;		/* lease grant, keepalive */
	int64_t		 lease_ttl;		/* seconds; 0: lease is gone */
	const char	*endpoint;		/* which endpoint answered */
};

/* Valid during the callback only: copy what you keep. */
typedef void ds_etcd_cb(const struct ds_result *, void *arg);

/* Create the client; nothing is connected until the first request.
 * NULL with a message in err on a bad config (URL, TLS files). */
struct ds_etcd *ds_etcd_create(struct event_base *,
	    const struct ds_etcd_config *, char *err, size_t errlen);
/* Outstanding requests' callbacks run with ok = false ("client closed")
 * before this returns; they may not queue new requests.  Watches are
 * cancelled without a callback.  Safe to call from a callback. */
void	ds_etcd_free(struct ds_etcd *);

/*
 * Requests.  Each returns 0 when queued (the callback will run once)
 * or -1 with errno: EINVAL for an empty or too long key or value,
 * ESHUTDOWN while the client is being freed.  Keys are strings; values
 * are bytes.  lease 0 means none.
 */
int	ds_etcd_get(struct ds_etcd *, const char *key, ds_etcd_cb *, void *);
/* Every key starting with prefix ("" for all), in key order. */
int	ds_etcd_get_prefix(struct ds_etcd *, const char *prefix,
	    ds_etcd_cb *, void *);
int	ds_etcd_put(struct ds_etcd *, const char *key, const void *value,
	    size_t len, int64_t lease, ds_etcd_cb *, void *);
int	ds_etcd_delete(struct ds_etcd *, const char *key, ds_etcd_cb *, void *);
int	ds_etcd_delete_prefix(struct ds_etcd *, const char *prefix,
	    ds_etcd_cb *, void *);
/* Write key only if it does not exist (one transaction).  succeeded
 * tells who won; when lost, kvs[0] is the existing key and value. */
int	ds_etcd_create_if_absent(struct ds_etcd *, const char *key,
	    const void *value, size_t len, int64_t lease, ds_etcd_cb *, void *);
/* Write key only if its mod_revision is still mod_revision (0: only if
 * absent).  When lost, kvs holds the key as it is now (none if gone). */
int	ds_etcd_cas(struct ds_etcd *, const char *key, int64_t mod_revision,
	    const void *value, size_t len, int64_t lease, ds_etcd_cb *, void *);
/* Delete key only if its mod_revision is still mod_revision. */
int	ds_etcd_delete_if(struct ds_etcd *, const char *key,
	    int64_t mod_revision, ds_etcd_cb *, void *);
/* A lease of ttl seconds; the result's lease_id names it. */
int	ds_etcd_lease_grant(struct ds_etcd *, int64_t ttl, ds_etcd_cb *, void *);
/* Refresh once; lease_ttl 0 in the result means the lease is gone. */
int	ds_etcd_lease_keepalive(struct ds_etcd *, int64_t id,
	    ds_etcd_cb *, void *);
/* Drop the lease and every key attached to it. */
int	ds_etcd_lease_revoke(struct ds_etcd *, int64_t id, ds_etcd_cb *, void *);

/*
 * Watches.
 */
enum ds_event_type {
	DS_EVENT_PUT,
	DS_EVENT_DELETE,
};

struct ds_watch_event {
	enum ds_event_type	 type;
	struct ds_kv		 kv;	/* a DELETE has key and mod_revision */
};

enum ds_watch_status {
	DS_WATCH_EVENTS,	/* events[0..nevents) in revision order */
	DS_WATCH_CONNECTED,	/* the stream is (again) established */
	DS_WATCH_LOST,		/* the stream broke; reconnecting */
	DS_WATCH_COMPACTED,	/* events were lost: read the prefix again */
};

struct ds_watch_update {
	enum ds_watch_status	 status;
	int64_t			 revision;	/* header revision */
	const struct ds_watch_event *events;
	size_t			 nevents;
	const char		*endpoint;
	const char		*error;		/* LOST, COMPACTED */
};

typedef void ds_watch_cb(const struct ds_watch_update *, void *arg);

/* Watch every key under prefix from start_revision (0: from now on).
 * NULL with errno EINVAL on a bad prefix. */
struct ds_watch *ds_etcd_watch(struct ds_etcd *, const char *prefix,
	    int64_t start_revision, ds_watch_cb *, void *);
/* No callback runs after this.  Safe to call from the watch's own
 * callback. */
void	ds_watch_cancel(struct ds_watch *);

/*
 * State, for "show ipam datastore" and /metrics.
 */
struct ds_etcd_stats {
	uint64_t	 requests;	/* queued */
	uint64_t	 errors;	/* finished with ok = false */
	uint64_t	 failovers;	/* the current endpoint changed */
	uint64_t	 attempts_failed; /* endpoint errors and timeouts */
	uint64_t	 watch_reconnects;
	int64_t		 revision;	/* highest cluster revision seen */
	size_t		 nendpoints;
	size_t		 current;	/* index of the endpoint in use */
	bool		 answered;	/* current has answered at least once */
	char		 last_error[DS_ERROR_MAX];
};

void	ds_etcd_get_stats(const struct ds_etcd *, struct ds_etcd_stats *);
const char *ds_etcd_endpoint(const struct ds_etcd *, size_t);

#endif
