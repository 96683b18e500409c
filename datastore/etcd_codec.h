/*
 * The JSON of etcd's v3 gRPC gateway, as pure functions: request
 * bodies out, struct ds_result / struct ds_watch_msg in, and a framer
 * that cuts the stream of a watch into whole JSON objects.  No I/O, so
 * the unit tests and the fuzzer drive them with bytes alone.
 *
 * The shapes follow etcd's API reference (rpc.proto under its JSON
 * mapping): bytes fields are base64, int64 fields decimal strings,
 * enums by name, and fields at their zero value are omitted.  The
 * decoders accept an int64 as a string or a JSON integer, and reject
 * anything else: every response is hostile until proven otherwise.
 */
#ifndef DATASTORE_ETCD_CODEC_H
#define DATASTORE_ETCD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datastore/etcd.h"

enum ds_op {
	DS_OP_RANGE,
	DS_OP_PUT,
	DS_OP_DELETE,
	DS_OP_TXN,
	DS_OP_LEASE_GRANT,
	DS_OP_LEASE_KEEPALIVE,
	DS_OP_LEASE_REVOKE,
};

/* The gateway path that serves an operation ("/v3/kv/range"). */
const char *ds_op_path(enum ds_op);

/*
 * Encoders.  Each returns a NUL-terminated JSON text (free() it), or
 * NULL with errno EINVAL (empty or too long key, value too long, bad
 * number) or ENOMEM.  prefix: the key is a prefix, the request covers
 * every key under it ("" is every key).
 */
char	*ds_encode_range(const char *key, bool prefix);
char	*ds_encode_put(const char *key, const void *value, size_t len,
	    int64_t lease);
char	*ds_encode_delete(const char *key, bool prefix);
/* txn: key's create_revision == 0 ? put : range */
char	*ds_encode_create_if_absent(const char *key, const void *value,
	    size_t len, int64_t lease);
/* txn: key's mod_revision == mod_revision ? put : range */
char	*ds_encode_cas(const char *key, int64_t mod_revision,
	    const void *value, size_t len, int64_t lease);
/* txn: key's mod_revision == mod_revision ? delete : range */
char	*ds_encode_delete_if(const char *key, int64_t mod_revision);
char	*ds_encode_lease_grant(int64_t ttl);
/* keepalive and revoke: {"ID": "..."} */
char	*ds_encode_lease_id(int64_t id);
char	*ds_encode_watch(const char *prefix, int64_t start_revision);

/* The range end that covers every key starting with prefix[0..len):
 * the prefix with its last byte below 0xff incremented and what follows
 * dropped; "\0" (every key from the start) when there is none.  out has
 * room for len bytes (at least 1); returns the length written. */
size_t	ds_prefix_end(const uint8_t *prefix, size_t len, uint8_t *out);

/*
 * Decoders.  ds_decode_response() fills res (which it clears first)
 * from the HTTP status and body of one unary request.  Returns 0 when
 * etcd did the request (res->ok), -1 otherwise with res->error set:
 * an error answer ({"error": "...", "code": N}, res->grpc_code, and
 * res->retryable for codes.Unavailable) or a malformed one.
 * Free with ds_result_free() either way.
 */
int	ds_decode_response(enum ds_op, int http_status, const void *body,
	    size_t len, size_t max_len, struct ds_result *res);
void	ds_result_free(struct ds_result *);

/* One message of a watch stream. */
struct ds_watch_msg {
	int64_t			 revision;
	bool			 created;
	bool			 canceled;
	int64_t			 compact_revision;
	struct ds_watch_event	*events;
	size_t			 nevents;
	char			 error[DS_ERROR_MAX];	/* cancel reason too */
};

/* 0 and msg filled, or -1 with msg->error (malformed, or an error
 * message from the gateway).  Free with ds_watch_msg_free(). */
int	ds_decode_watch(const void *, size_t, struct ds_watch_msg *msg);
void	ds_watch_msg_free(struct ds_watch_msg *);

void	ds_kv_free(struct ds_kv *);

/*
 * The framer.  Bytes go in as they arrive; whole top-level JSON objects
 * come out.  Whitespace between objects is skipped; anything else
 * outside an object, or an object growing past limit bytes, is an
 * error.  Scanning resumes where it stopped, so the cost is linear in
 * the bytes fed.
 */
struct ds_stream {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 limit;
	size_t		 scan;		/* bytes of buf already scanned */
	size_t		 start;		/* where the current object began */
	size_t		 depth;		/* open braces and brackets */
	bool		 in_string;
	bool		 escape;
	bool		 failed;
};

void	ds_stream_init(struct ds_stream *, size_t limit);
void	ds_stream_free(struct ds_stream *);
void	ds_stream_reset(struct ds_stream *);
/* -1 (and the stream is failed) when the data does not fit the limit. */
int	ds_stream_feed(struct ds_stream *, const void *, size_t);
/* 1 with the next object in *obj, *len (valid until the next call),
 * 0 when more bytes are needed, -1 when the stream is not JSON objects. */
int	ds_stream_next(struct ds_stream *, const uint8_t **obj, size_t *len);

#endif
