/*
 * Request bodies for etcd's v3 gRPC gateway (etcd_codec.h).  Shapes
 * from etcd's API reference, rpc.proto under the proto3 JSON mapping:
 * RangeRequest {key, range_end}, PutRequest {key, value, lease},
 * DeleteRangeRequest {key, range_end}, TxnRequest {compare, success,
 * failure} with Compare {key, target, result, create_revision |
 * mod_revision} and RequestOp {request_range | request_put |
 * request_delete_range}, LeaseGrantRequest {TTL}, LeaseKeepAliveRequest
 * and LeaseRevokeRequest {ID}, WatchRequest {create_request:
 * WatchCreateRequest {key, range_end, start_revision}}.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "datastore/etcd_codec.h"

const char *
ds_op_path(enum ds_op op)
{
	switch (op) {
	case DS_OP_RANGE:
		return "/v3/kv/range";
	case DS_OP_PUT:
		return "/v3/kv/put";
	case DS_OP_DELETE:
		return "/v3/kv/deleterange";
	case DS_OP_TXN:
		return "/v3/kv/txn";
	case DS_OP_LEASE_GRANT:
		return "/v3/lease/grant";
	case DS_OP_LEASE_KEEPALIVE:
		return "/v3/lease/keepalive";
	case DS_OP_LEASE_REVOKE:
		return "/v3/lease/revoke";
	}
	return "/";
}

size_t
ds_prefix_end(const uint8_t *prefix, size_t len, uint8_t *out)
{
	size_t i;

	for (i = len; i > 0; i--) {
		if (prefix[i - 1] != 0xff) {
			memcpy(out, prefix, i - 1);
			out[i - 1] = prefix[i - 1] + 1;
			return i;
		}
	}
	out[0] = 0;
	return 1;
}

static json_t *
json_base64(const void *data, size_t len)
{
	unsigned char *out;
	json_t *s;
	int n;

	out = xmalloc(4 * ((len + 2) / 3) + 1);
	n = EVP_EncodeBlock(out, data, (int)len);
	s = json_stringn((const char *)out, (size_t)n);
	free(out);
	return s;
}

static json_t *
json_int64(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

/* obj[name] = val, remembering in *ok when either was not there. */
static void
set(json_t *obj, const char *name, json_t *val, bool *ok)
{
	if (obj == NULL || val == NULL) {
		json_decref(val);
		*ok = false;
	} else if (json_object_set_new(obj, name, val) == -1)
		*ok = false;
}

/* A list of one item; NULL (and *ok false) when either is missing. */
static json_t *
list_of(json_t *item, bool *ok)
{
	json_t *list = json_array();

	if (list == NULL || item == NULL) {
		json_decref(item);
		*ok = false;
	} else if (json_array_append_new(list, item) == -1)
		*ok = false;
	return list;
}

static char *
dump(json_t *obj, bool ok)
{
	char *text = NULL;

	if (ok && obj != NULL)
		text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		errno = ENOMEM;
	return text;
}

static bool
key_ok(const char *key, bool prefix)
{
	size_t len;

	if (key == NULL)
		return false;
	len = strlen(key);
	return len <= DS_KEY_MAX && (prefix || len > 0);
}

static bool
value_ok(const void *value, size_t len)
{
	return len <= DS_VALUE_MAX && (value != NULL || len == 0);
}

/* key (and range_end for a prefix) into obj.  The empty prefix is
 * etcd's "every key": key and range_end both "\0". */
static void
set_key(json_t *obj, const char *key, bool prefix, bool *ok)
{
	uint8_t end[DS_KEY_MAX + 1];
	size_t len = strlen(key), n;

	if (prefix && len == 0) {
		set(obj, "key", json_base64("", 1), ok);
		set(obj, "range_end", json_base64("", 1), ok);
		return;
	}
	set(obj, "key", json_base64(key, len), ok);
	if (prefix) {
		n = ds_prefix_end((const uint8_t *)key, len, end);
		set(obj, "range_end", json_base64(end, n), ok);
	}
}

static json_t *
put_request(const char *key, const void *value, size_t len, int64_t lease,
    bool *ok)
{
	json_t *o = json_object();

	set_key(o, key, false, ok);
	set(o, "value", json_base64(value != NULL ? value : "", len), ok);
	if (lease != 0)
		set(o, "lease", json_int64(lease), ok);
	return o;
}

char *
ds_encode_range(const char *key, bool prefix)
{
	json_t *o;
	bool ok = true;

	if (!key_ok(key, prefix)) {
		errno = EINVAL;
		return NULL;
	}
	o = json_object();
	set_key(o, key, prefix, &ok);
	return dump(o, ok);
}

char *
ds_encode_put(const char *key, const void *value, size_t len, int64_t lease)
{
	bool ok = true;

	if (!key_ok(key, false) || !value_ok(value, len) || lease < 0) {
		errno = EINVAL;
		return NULL;
	}
	return dump(put_request(key, value, len, lease, &ok), ok);
}

char *
ds_encode_delete(const char *key, bool prefix)
{
	return ds_encode_range(key, prefix);	/* the same two fields */
}

/* One Compare on key: target's field equal to rev. */
static json_t *
compare_revision(const char *key, const char *target, const char *field,
    int64_t rev, bool *ok)
{
	json_t *c = json_object();

	set_key(c, key, false, ok);
	set(c, "target", json_string(target), ok);
	set(c, "result", json_string("EQUAL"), ok);
	set(c, field, json_int64(rev), ok);
	return list_of(c, ok);
}

/* A one-element list of RequestOp: {kind: body}. */
static json_t *
request_op(const char *kind, json_t *body, bool *ok)
{
	json_t *op = json_object();

	set(op, kind, body, ok);
	return list_of(op, ok);
}

/* compare ? then : range key */
static char *
txn(json_t *compare, const char *then_kind, json_t *then_body,
    const char *key, bool *ok)
{
	json_t *t = json_object(), *range = json_object();

	set_key(range, key, false, ok);
	set(t, "compare", compare, ok);
	set(t, "success", request_op(then_kind, then_body, ok), ok);
	set(t, "failure", request_op("request_range", range, ok), ok);
	return dump(t, *ok);
}

char *
ds_encode_create_if_absent(const char *key, const void *value, size_t len,
    int64_t lease)
{
	bool ok = true;

	if (!key_ok(key, false) || !value_ok(value, len) || lease < 0) {
		errno = EINVAL;
		return NULL;
	}
	return txn(compare_revision(key, "CREATE", "create_revision", 0, &ok),
	    "request_put", put_request(key, value, len, lease, &ok), key, &ok);
}

char *
ds_encode_cas(const char *key, int64_t mod_revision, const void *value,
    size_t len, int64_t lease)
{
	bool ok = true;

	if (!key_ok(key, false) || !value_ok(value, len) || lease < 0 ||
	    mod_revision < 0) {
		errno = EINVAL;
		return NULL;
	}
	return txn(compare_revision(key, "MOD", "mod_revision", mod_revision,
	    &ok), "request_put", put_request(key, value, len, lease, &ok),
	    key, &ok);
}

char *
ds_encode_delete_if(const char *key, int64_t mod_revision)
{
	json_t *del;
	bool ok = true;

	if (!key_ok(key, false) || mod_revision <= 0) {
		errno = EINVAL;
		return NULL;
	}
	del = json_object();
	set_key(del, key, false, &ok);
	return txn(compare_revision(key, "MOD", "mod_revision", mod_revision,
	    &ok), "request_delete_range", del, key, &ok);
}

/* {name: "v"} */
static char *
one_int64(const char *name, int64_t v)
{
	json_t *o = json_object();
	bool ok = true;

	set(o, name, json_int64(v), &ok);
	return dump(o, ok);
}

char *
ds_encode_lease_grant(int64_t ttl)
{
	if (ttl <= 0) {
		errno = EINVAL;
		return NULL;
	}
	return one_int64("TTL", ttl);
}

char *
ds_encode_lease_id(int64_t id)
{
	if (id == 0) {
		errno = EINVAL;
		return NULL;
	}
	return one_int64("ID", id);
}

char *
ds_encode_watch(const char *prefix, int64_t start_revision)
{
	json_t *o, *create;
	bool ok = true;

	if (!key_ok(prefix, true) || start_revision < 0) {
		errno = EINVAL;
		return NULL;
	}
	o = json_object();
	create = json_object();
	set_key(create, prefix, true, &ok);
	if (start_revision > 0)
		set(create, "start_revision", json_int64(start_revision), &ok);
	set(o, "create_request", create, &ok);
	return dump(o, ok);
}
