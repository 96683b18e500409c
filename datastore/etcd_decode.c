/*
 * Responses of etcd's v3 gRPC gateway (etcd_codec.h).  Every field is
 * checked for its type before use; a missing optional field is its zero
 * value (the gateway leaves those out), a field of the wrong type, bad
 * base64 or an oversized body makes the whole response an error.
 *
 * Shapes (rpc.proto, JSON mapping): every response has a ResponseHeader
 * {cluster_id, member_id, revision, raft_term}; RangeResponse {kvs,
 * more, count}; DeleteRangeResponse {deleted}; TxnResponse {succeeded,
 * responses: [ResponseOp {response_range | response_put |
 * response_delete_range}]}; LeaseGrantResponse {ID, TTL, error};
 * LeaseKeepAliveResponse {ID, TTL}, which as a stream message comes
 * wrapped in {"result": ...}, like WatchResponse {created, canceled,
 * compact_revision, cancel_reason, events: [Event {type, kv}]}.
 * mvccpb.KeyValue is {key, create_revision, mod_revision, version,
 * value, lease}.  Errors are {"error": "...", "code": N, "message":
 * "..."} (N a gRPC status code), or on a stream {"error": {"grpc_code":
 * N, "http_code": N, "message": "...", "http_status": "..."}}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "datastore/etcd_codec.h"

/* jansson's own limit is deeper; nothing etcd sends nests past 6. */
#define DS_JSON_FLAGS	(JSON_REJECT_DUPLICATES)

static int
fail(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, DS_ERROR_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy text from the peer for display: printable ASCII only. */
static void
copy_text(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	if (size == 0)
		return;
	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[len] = '\0';
}

static int
parse_int64(const char *s, size_t n, int64_t *out)
{
	uint64_t v = 0, limit = INT64_MAX, d;
	size_t i = 0;
	bool neg = false;

	if (n > 0 && s[0] == '-') {
		neg = true;
		limit = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (int64_t)v;
	else if (v == 0)
		*out = 0;
	else
		*out = -(int64_t)(v - 1) - 1;
	return 0;
}

/* obj[name] as int64: a decimal string or an integer; absent is 0. */
static int
get_int64(const json_t *obj, const char *name, int64_t *out, char *err)
{
	const json_t *v = json_object_get(obj, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) &&
	    parse_int64(json_string_value(v), json_string_length(v), out) == 0)
		return 0;
	return fail(err, "field \"%s\" is not an int64", name);
}

static int
get_bool(const json_t *obj, const char *name, bool *out, char *err)
{
	const json_t *v = json_object_get(obj, name);

	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, "field \"%s\" is not a boolean", name);
	*out = json_is_true(v);
	return 0;
}

/* obj[name] as an object or array (absent: *out NULL). */
static int
get_typed(const json_t *obj, const char *name, json_type type,
    const json_t **out, char *err)
{
	const json_t *v = json_object_get(obj, name);

	*out = v;
	if (v == NULL || json_typeof(v) == type)
		return 0;
	*out = NULL;
	return fail(err, "field \"%s\" is not %s", name,
	    type == JSON_OBJECT ? "an object" : "an array");
}

static bool
base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Standard base64 with padding (Go's encoding of []byte).  *out gets a
 * NUL-terminated copy. */
static int
base64_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	size_t i, pad = 0, len;
	char *buf;

	if (n % 4 != 0 || n > (size_t)DS_RESPONSE_MAX * 2)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 >= n)
			pad++;
		else if (pad > 0 || !base64_char(s[i]))
			return -1;
	}
	len = n / 4 * 3;
	buf = xmalloc(len + 1);
	if (n > 0 && EVP_DecodeBlock((unsigned char *)buf,
	    (const unsigned char *)s, (int)n) != (int)len) {
		free(buf);
		return -1;
	}
	len -= pad;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* obj[name] as base64 bytes; absent is the empty string. */
static int
get_bytes(const json_t *obj, const char *name, char **out, size_t *len,
    char *err)
{
	const json_t *v = json_object_get(obj, name);

	if (v == NULL) {
		*out = xstrdup("");
		*len = 0;
		return 0;
	}
	if (!json_is_string(v) || base64_decode(json_string_value(v),
	    json_string_length(v), out, len) == -1) {
		*out = NULL;
		return fail(err, "field \"%s\" is not base64", name);
	}
	return 0;
}

void
ds_kv_free(struct ds_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

static int
decode_kv(const json_t *o, struct ds_kv *kv, char *err)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(o))
		return fail(err, "key-value is not an object");
	if (json_object_get(o, "key") == NULL)
		return fail(err, "key-value without a key");
	if (get_bytes(o, "key", &kv->key, &kv->key_len, err) == -1 ||
	    get_bytes(o, "value", &kv->value, &kv->value_len, err) == -1 ||
	    get_int64(o, "create_revision", &kv->create_revision, err) ||
	    get_int64(o, "mod_revision", &kv->mod_revision, err) ||
	    get_int64(o, "version", &kv->version, err) ||
	    get_int64(o, "lease", &kv->lease, err)) {
		ds_kv_free(kv);
		return -1;
	}
	return 0;
}

/* Append obj[name] (a list of key-values) to res->kvs. */
static int
decode_kvs(const json_t *obj, const char *name, struct ds_result *res)
{
	const json_t *list;
	size_t i, n;

	if (get_typed(obj, name, JSON_ARRAY, &list, res->error) == -1)
		return -1;
	if (list == NULL || (n = json_array_size(list)) == 0)
		return 0;
	res->kvs = xrealloc(res->kvs, (res->nkvs + n) * sizeof(*res->kvs));
	for (i = 0; i < n; i++) {
		if (decode_kv(json_array_get(list, i), &res->kvs[res->nkvs],
		    res->error) == -1)
			return -1;
		res->nkvs++;
	}
	return 0;
}

void
ds_result_free(struct ds_result *res)
{
	size_t i;

	for (i = 0; i < res->nkvs; i++)
		ds_kv_free(&res->kvs[i]);
	free(res->kvs);
	res->kvs = NULL;
	res->nkvs = 0;
}

/*
 * An error answer: {"error": "...", "code": N, "message": "..."} from a
 * unary call, {"error": {"grpc_code": N, "message": "..."}} from a
 * stream.  Fills err and *code; -1 always.
 */
static int
decode_error(const json_t *root, int *code, char *err)
{
	const json_t *e = json_object_get(root, "error"), *msg, *c;

	if (json_is_object(e)) {
		msg = json_object_get(e, "message");
		c = json_object_get(e, "grpc_code");
	} else {
		msg = json_object_get(root, "message");
		if (!json_is_string(msg) || json_string_length(msg) == 0)
			msg = e;
		c = json_object_get(root, "code");
	}
	if (json_is_integer(c) && json_integer_value(c) > 0 &&
	    json_integer_value(c) < 1000)
		*code = (int)json_integer_value(c);
	if (json_is_string(msg))
		copy_text(err, DS_ERROR_MAX, json_string_value(msg),
		    json_string_length(msg));
	else
		err[0] = '\0';
	return -1;
}

/* {"error": {...}} or a non-empty {"error": "..."}; LeaseGrantResponse
 * uses an "error" string of its own for the same purpose. */
static bool
is_error_answer(const json_t *root)
{
	const json_t *e = json_object_get(root, "error");

	return json_is_object(e) ||
	    (json_is_string(e) && json_string_length(e) > 0);
}

static int
decode_header(const json_t *root, int64_t *revision, char *err)
{
	const json_t *h;

	if (get_typed(root, "header", JSON_OBJECT, &h, err) == -1)
		return -1;
	if (h == NULL)
		return fail(err, "response without a header");
	if (get_int64(h, "revision", revision, err) == -1)
		return -1;
	if (*revision < 0)
		return fail(err, "negative revision");
	return 0;
}

/* One ResponseOp of a transaction. */
static int
decode_response_op(const json_t *op, struct ds_result *res)
{
	const json_t *r;
	int64_t n;

	if (!json_is_object(op))
		return fail(res->error, "txn response is not an object");
	if (get_typed(op, "response_range", JSON_OBJECT, &r, res->error))
		return -1;
	if (r != NULL) {
		if (decode_kvs(r, "kvs", res) == -1 ||
		    get_int64(r, "count", &n, res->error) == -1)
			return -1;
		res->count += n;
		return 0;
	}
	if (get_typed(op, "response_delete_range", JSON_OBJECT, &r,
	    res->error) == -1)
		return -1;
	if (r != NULL) {
		if (get_int64(r, "deleted", &n, res->error) == -1)
			return -1;
		res->deleted += n;
	}
	return 0;	/* response_put carries nothing we use */
}

static int
decode_txn(const json_t *root, struct ds_result *res)
{
	const json_t *list;
	size_t i;

	if (get_bool(root, "succeeded", &res->succeeded, res->error) == -1 ||
	    get_typed(root, "responses", JSON_ARRAY, &list, res->error) == -1)
		return -1;
	for (i = 0; list != NULL && i < json_array_size(list); i++)
		if (decode_response_op(json_array_get(list, i), res) == -1)
			return -1;
	return 0;
}

static int
decode_lease(const json_t *root, struct ds_result *res)
{
	if (get_int64(root, "ID", &res->lease_id, res->error) == -1 ||
	    get_int64(root, "TTL", &res->lease_ttl, res->error) == -1)
		return -1;
	if (res->lease_ttl < 0)
		res->lease_ttl = 0;	/* -1: not found */
	return 0;
}

static int
decode_body(enum ds_op op, const json_t *root, struct ds_result *res)
{
	if (decode_header(root, &res->revision, res->error) == -1)
		return -1;
	switch (op) {
	case DS_OP_RANGE:
		if (decode_kvs(root, "kvs", res) == -1 ||
		    get_int64(root, "count", &res->count, res->error) == -1 ||
		    get_bool(root, "more", &res->more, res->error) == -1)
			return -1;
		return 0;
	case DS_OP_DELETE:
		return get_int64(root, "deleted", &res->deleted, res->error);
	case DS_OP_TXN:
		return decode_txn(root, res);
	case DS_OP_LEASE_GRANT:
		if (decode_lease(root, res) == -1)
			return -1;
		if (res->lease_id == 0)
			return fail(res->error, "lease grant without an ID");
		return 0;
	case DS_OP_LEASE_KEEPALIVE:
		return decode_lease(root, res);
	case DS_OP_PUT:
	case DS_OP_LEASE_REVOKE:
		return 0;
	}
	return fail(res->error, "unknown operation");
}

/* A body that is not JSON: say what HTTP said, first line only. */
static int
decode_not_json(int http_status, const char *body, size_t len,
    struct ds_result *res)
{
	char line[96];
	const char *nl = memchr(body, '\n', len);

	if (nl != NULL)
		len = (size_t)(nl - body);
	copy_text(line, sizeof(line), body, len);
	if (http_status == 200)
		return fail(res->error, "answer is not JSON: %s", line);
	return fail(res->error, "HTTP %d: %s", http_status, line);
}

int
ds_decode_response(enum ds_op op, int http_status, const void *body,
    size_t len, size_t max_len, struct ds_result *res)
{
	json_t *root;
	const json_t *inner;
	json_error_t jerr;
	int rc;

	memset(res, 0, sizeof(*res));
	res->http_status = http_status;
	res->retryable = http_status == 502 || http_status == 503 ||
	    http_status == 504;
	if (max_len == 0 || max_len > DS_RESPONSE_MAX)
		max_len = DS_RESPONSE_MAX;
	if (len > max_len)
		return fail(res->error, "answer of %zu bytes is too large",
		    len);
	root = json_loadb(body, len, DS_JSON_FLAGS, &jerr);
	if (root == NULL)
		return decode_not_json(http_status, body, len, res);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(res->error, "answer is not a JSON object");
	}
	inner = root;
	/* a stream message (keepalive) comes as {"result": ...} */
	if (op == DS_OP_LEASE_KEEPALIVE && json_is_object(
	    json_object_get(root, "result")))
		inner = json_object_get(root, "result");
	if (http_status != 200 || is_error_answer(inner)) {
		rc = decode_error(inner, &res->grpc_code, res->error);
		if (res->error[0] == '\0')
			rc = fail(res->error, "HTTP %d", http_status);
	} else
		rc = decode_body(op, inner, res);
	json_decref(root);
	if (res->grpc_code == DS_GRPC_UNAVAILABLE)
		res->retryable = true;
	if (rc == -1) {
		ds_result_free(res);
		return -1;
	}
	res->ok = true;
	return 0;
}

/* ---- watch messages ----------------------------------------------- */

void
ds_watch_msg_free(struct ds_watch_msg *msg)
{
	size_t i;

	for (i = 0; i < msg->nevents; i++)
		ds_kv_free(&msg->events[i].kv);
	free(msg->events);
	msg->events = NULL;
	msg->nevents = 0;
}

static int
decode_event(const json_t *o, struct ds_watch_event *ev, char *err)
{
	const json_t *type;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(o))
		return fail(err, "event is not an object");
	type = json_object_get(o, "type");
	if (type == NULL || (json_is_string(type) &&
	    strcmp(json_string_value(type), "PUT") == 0) ||
	    (json_is_integer(type) && json_integer_value(type) == 0))
		ev->type = DS_EVENT_PUT;
	else if ((json_is_string(type) &&
	    strcmp(json_string_value(type), "DELETE") == 0) ||
	    (json_is_integer(type) && json_integer_value(type) == 1))
		ev->type = DS_EVENT_DELETE;
	else
		return fail(err, "unknown event type");
	return decode_kv(json_object_get(o, "kv"), &ev->kv, err);
}

static int
decode_events(const json_t *result, struct ds_watch_msg *msg)
{
	const json_t *list;
	size_t i, n;

	if (get_typed(result, "events", JSON_ARRAY, &list, msg->error) == -1)
		return -1;
	if (list == NULL || (n = json_array_size(list)) == 0)
		return 0;
	msg->events = xcalloc(n, sizeof(*msg->events));
	for (i = 0; i < n; i++) {
		if (decode_event(json_array_get(list, i), &msg->events[i],
		    msg->error) == -1)
			return -1;
		msg->nevents++;
	}
	return 0;
}

static int
decode_watch_result(const json_t *r, struct ds_watch_msg *msg)
{
	const json_t *reason;

	if (decode_header(r, &msg->revision, msg->error) == -1 ||
	    get_bool(r, "created", &msg->created, msg->error) == -1 ||
	    get_bool(r, "canceled", &msg->canceled, msg->error) == -1 ||
	    get_int64(r, "compact_revision", &msg->compact_revision,
	    msg->error) == -1)
		return -1;
	if (msg->compact_revision < 0)
		return fail(msg->error, "negative compact revision");
	reason = json_object_get(r, "cancel_reason");
	if (json_is_string(reason))
		copy_text(msg->error, sizeof(msg->error),
		    json_string_value(reason), json_string_length(reason));
	return decode_events(r, msg);
}

int
ds_decode_watch(const void *data, size_t len, struct ds_watch_msg *msg)
{
	json_t *root;
	const json_t *result;
	json_error_t jerr;
	int code = 0, rc;

	memset(msg, 0, sizeof(*msg));
	if (len > DS_RESPONSE_MAX)
		return fail(msg->error, "watch message too large");
	root = json_loadb(data, len, DS_JSON_FLAGS, &jerr);
	if (root == NULL)
		return fail(msg->error, "watch message is not JSON");
	if (!json_is_object(root))
		rc = fail(msg->error, "watch message is not an object");
	else if (json_object_get(root, "error") != NULL) {
		rc = decode_error(root, &code, msg->error);
		if (msg->error[0] == '\0')
			rc = fail(msg->error, "watch error without a message");
	}
	else if (get_typed(root, "result", JSON_OBJECT, &result,
	    msg->error) == -1)
		rc = -1;
	else if (result == NULL)
		rc = fail(msg->error, "watch message without a result");
	else
		rc = decode_watch_result(result, msg);
	json_decref(root);
	if (rc == -1)
		ds_watch_msg_free(msg);
	return rc;
}
