/*
 * datastore/: the etcd gateway JSON codec, the stream framer and the
 * client's failure handling.
 *
 * Encoding is checked against the request shapes of etcd's API
 * reference and its gRPC gateway guide (the guide's own examples where
 * it has one: {"key": "Zm9v", "range_end": "Zm9w"} for the prefix
 * "foo").  Decoding is checked on answers captured from a real etcd
 * 3.4 (tests/fixtures/etcd34/, made by tests/fixtures/capture_etcd.sh),
 * then on every truncation and many corruptions of them, and on
 * hand-made hostile answers.  The client runs against small HTTP
 * servers in this process standing in for etcd members (the network is
 * the process boundary): refused, silent, unavailable, oversized.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/util.h"
#include "datastore/etcd.h"
#include "datastore/etcd_codec.h"

/* ---- helpers ------------------------------------------------------ */

/* text must be JSON equal to want (key order does not matter). */
static void
assert_json(char *text, const char *want)
{
	json_t *a, *b;
	json_error_t e;

	ck_assert_ptr_nonnull(text);
	a = json_loads(text, 0, &e);
	b = json_loads(want, 0, &e);
	ck_assert_msg(a != NULL && b != NULL, "bad JSON");
	ck_assert_msg(json_equal(a, b), "got %s\nwant %s", text, want);
	json_decref(a);
	json_decref(b);
	free(text);
}

static char *
fixture(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/etcd34/%s",
	    top ? top : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Decode a fixture whose name ends in _STATUS.json. */
static int
decode_fixture(enum ds_op op, const char *name, struct ds_result *res)
{
	const char *us = strrchr(name, '_');
	size_t len;
	char *body = fixture(name, &len);
	int rc;

	rc = ds_decode_response(op, atoi(us + 1), body, len, 0, res);
	free(body);
	return rc;
}

static int
decode_text(enum ds_op op, int status, const char *text,
    struct ds_result *res)
{
	return ds_decode_response(op, status, text, strlen(text), 0, res);
}

/* ---- encoding ----------------------------------------------------- */

START_TEST(test_encode_range)
{
	/* the gateway guide: foo is Zm9v, and its prefix ends at Zm9w */
	assert_json(ds_encode_range("foo", false), "{\"key\":\"Zm9v\"}");
	assert_json(ds_encode_range("foo", true),
	    "{\"key\":\"Zm9v\",\"range_end\":\"Zm9w\"}");
	/* the empty prefix is every key: key and range_end "\0" */
	assert_json(ds_encode_range("", true),
	    "{\"key\":\"AA==\",\"range_end\":\"AA==\"}");
	assert_json(ds_encode_delete("foo", true),
	    "{\"key\":\"Zm9v\",\"range_end\":\"Zm9w\"}");
	assert_json(ds_encode_delete("/evpnd/ipam/a/train/blocks/10.10.0.0/26",
	    false), "{\"key\":\"L2V2cG5kL2lwYW0vYS90cmFpbi9ibG9ja3MvMTAuMTAu"
	    "MC4wLzI2\"}");
}
END_TEST

START_TEST(test_prefix_end)
{
	uint8_t out[8];

	ck_assert_uint_eq(ds_prefix_end((const uint8_t *)"ab", 2, out), 2);
	ck_assert_int_eq(memcmp(out, "ac", 2), 0);
	/* a trailing 0xff carries into the byte before and is dropped */
	ck_assert_uint_eq(ds_prefix_end((const uint8_t *)"a\xff", 2, out), 1);
	ck_assert_int_eq(out[0], 'b');
	ck_assert_uint_eq(ds_prefix_end((const uint8_t *)"\xff\xff", 2, out),
	    1);
	ck_assert_int_eq(out[0], 0);
	ck_assert_uint_eq(ds_prefix_end((const uint8_t *)"", 0, out), 1);
	ck_assert_int_eq(out[0], 0);
}
END_TEST

START_TEST(test_encode_put)
{
	assert_json(ds_encode_put("foo", "bar", 3, 0),
	    "{\"key\":\"Zm9v\",\"value\":\"YmFy\"}");
	/* int64 as a decimal string, as the JSON mapping has it */
	assert_json(ds_encode_put("foo", "bar", 3, 7587899399640409100LL),
	    "{\"key\":\"Zm9v\",\"value\":\"YmFy\","
	    "\"lease\":\"7587899399640409100\"}");
	assert_json(ds_encode_put("foo", NULL, 0, 0),
	    "{\"key\":\"Zm9v\",\"value\":\"\"}");
	/* bytes, not strings: a NUL and 0xff survive */
	assert_json(ds_encode_put("k", "\0\xff", 2, 0),
	    "{\"key\":\"aw==\",\"value\":\"AP8=\"}");
}
END_TEST

START_TEST(test_encode_txn)
{
	assert_json(ds_encode_create_if_absent("foo", "bar", 3, 0),
	    "{\"compare\":[{\"key\":\"Zm9v\",\"target\":\"CREATE\","
	    "\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
	    "\"success\":[{\"request_put\":{\"key\":\"Zm9v\","
	    "\"value\":\"YmFy\"}}],"
	    "\"failure\":[{\"request_range\":{\"key\":\"Zm9v\"}}]}");
	assert_json(ds_encode_create_if_absent("foo", "bar", 3, 42),
	    "{\"compare\":[{\"key\":\"Zm9v\",\"target\":\"CREATE\","
	    "\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
	    "\"success\":[{\"request_put\":{\"key\":\"Zm9v\","
	    "\"value\":\"YmFy\",\"lease\":\"42\"}}],"
	    "\"failure\":[{\"request_range\":{\"key\":\"Zm9v\"}}]}");
	assert_json(ds_encode_cas("foo", 17, "baz", 3, 0),
	    "{\"compare\":[{\"key\":\"Zm9v\",\"target\":\"MOD\","
	    "\"result\":\"EQUAL\",\"mod_revision\":\"17\"}],"
	    "\"success\":[{\"request_put\":{\"key\":\"Zm9v\","
	    "\"value\":\"YmF6\"}}],"
	    "\"failure\":[{\"request_range\":{\"key\":\"Zm9v\"}}]}");
	assert_json(ds_encode_delete_if("foo", 17),
	    "{\"compare\":[{\"key\":\"Zm9v\",\"target\":\"MOD\","
	    "\"result\":\"EQUAL\",\"mod_revision\":\"17\"}],"
	    "\"success\":[{\"request_delete_range\":{\"key\":\"Zm9v\"}}],"
	    "\"failure\":[{\"request_range\":{\"key\":\"Zm9v\"}}]}");
}
END_TEST

START_TEST(test_encode_lease_and_watch)
{
	assert_json(ds_encode_lease_grant(30), "{\"TTL\":\"30\"}");
	assert_json(ds_encode_lease_id(7587899399640409100LL),
	    "{\"ID\":\"7587899399640409100\"}");
	assert_json(ds_encode_watch("foo", 0),
	    "{\"create_request\":{\"key\":\"Zm9v\",\"range_end\":\"Zm9w\"}}");
	assert_json(ds_encode_watch("foo", 5),
	    "{\"create_request\":{\"key\":\"Zm9v\",\"range_end\":\"Zm9w\","
	    "\"start_revision\":\"5\"}}");
	ck_assert_str_eq(ds_op_path(DS_OP_TXN), "/v3/kv/txn");
	ck_assert_str_eq(ds_op_path(DS_OP_DELETE), "/v3/kv/deleterange");
	ck_assert_str_eq(ds_op_path(DS_OP_LEASE_KEEPALIVE),
	    "/v3/lease/keepalive");
}
END_TEST

START_TEST(test_encode_rejects)
{
	char *big_key = xmalloc(DS_KEY_MAX + 2);
	char *big_value = xmalloc(DS_VALUE_MAX + 1);

	memset(big_key, 'k', DS_KEY_MAX + 1);
	big_key[DS_KEY_MAX + 1] = '\0';
	errno = 0;
	ck_assert_ptr_null(ds_encode_range("", false));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(ds_encode_range(NULL, true));
	ck_assert_ptr_null(ds_encode_range(big_key, false));
	ck_assert_ptr_null(ds_encode_put("k", NULL, 3, 0));
	ck_assert_ptr_null(ds_encode_put("k", big_value, DS_VALUE_MAX + 1,
	    0));
	ck_assert_ptr_null(ds_encode_put("k", "v", 1, -1));
	ck_assert_ptr_null(ds_encode_delete_if("k", 0));
	ck_assert_ptr_null(ds_encode_cas("k", -1, "v", 1, 0));
	ck_assert_ptr_null(ds_encode_lease_grant(0));
	ck_assert_ptr_null(ds_encode_lease_id(0));
	ck_assert_ptr_null(ds_encode_watch("w", -1));
	/* the largest key is fine */
	big_key[DS_KEY_MAX] = '\0';
	free(ds_encode_range(big_key, true));
	free(big_key);
	free(big_value);
}
END_TEST

/* ---- decoding real answers ---------------------------------------- */

START_TEST(test_decode_range)
{
	struct ds_result r;

	ck_assert_int_eq(decode_fixture(DS_OP_RANGE, "range_200.json", &r), 0);
	ck_assert(r.ok);
	ck_assert_int_eq(r.revision, 2);
	ck_assert_uint_eq(r.nkvs, 1);
	ck_assert_int_eq(r.count, 1);
	ck_assert_str_eq(r.kvs[0].key, "foo");
	ck_assert_uint_eq(r.kvs[0].key_len, 3);
	ck_assert_str_eq(r.kvs[0].value, "bar");
	ck_assert_uint_eq(r.kvs[0].value_len, 3);
	ck_assert_int_eq(r.kvs[0].create_revision, 2);
	ck_assert_int_eq(r.kvs[0].mod_revision, 2);
	ck_assert_int_eq(r.kvs[0].version, 1);
	ck_assert_int_eq(r.kvs[0].lease, 0);
	ds_result_free(&r);

	/* nothing found: no "kvs", no "count" at all */
	ck_assert_int_eq(decode_fixture(DS_OP_RANGE, "range_empty_200.json",
	    &r), 0);
	ck_assert_uint_eq(r.nkvs, 0);
	ck_assert_int_eq(r.count, 0);
	ds_result_free(&r);

	/* a prefix; the empty value is left out of the answer */
	ck_assert_int_eq(decode_fixture(DS_OP_RANGE, "range_prefix_200.json",
	    &r), 0);
	ck_assert_uint_eq(r.nkvs, 2);
	ck_assert_str_eq(r.kvs[1].key, "foo1");
	ck_assert_str_eq(r.kvs[1].value, "");
	ck_assert_uint_eq(r.kvs[1].value_len, 0);
	ck_assert_int_eq(r.revision, 3);
	ds_result_free(&r);

	ck_assert_int_eq(decode_fixture(DS_OP_RANGE, "range_lease_200.json",
	    &r), 0);
	ck_assert_int_gt(r.kvs[0].lease, 0);
	ds_result_free(&r);
}
END_TEST

START_TEST(test_decode_writes)
{
	struct ds_result r;

	ck_assert_int_eq(decode_fixture(DS_OP_PUT, "put_200.json", &r), 0);
	ck_assert_int_eq(r.revision, 2);
	ds_result_free(&r);
	ck_assert_int_eq(decode_fixture(DS_OP_DELETE, "delete_200.json", &r),
	    0);
	ck_assert_int_eq(r.deleted, 1);
	ck_assert_int_eq(r.revision, 8);
	ds_result_free(&r);
}
END_TEST

START_TEST(test_decode_txn)
{
	struct ds_result r;

	ck_assert_int_eq(decode_fixture(DS_OP_TXN, "txn_create_won_200.json",
	    &r), 0);
	ck_assert(r.ok);
	ck_assert(r.succeeded);
	ck_assert_int_eq(r.revision, 4);
	ck_assert_uint_eq(r.nkvs, 0);
	ds_result_free(&r);

	/* lost: no "succeeded", the failure branch's range shows the owner */
	ck_assert_int_eq(decode_fixture(DS_OP_TXN, "txn_create_lost_200.json",
	    &r), 0);
	ck_assert(r.ok);
	ck_assert(!r.succeeded);
	ck_assert_uint_eq(r.nkvs, 1);
	ck_assert_str_eq(r.kvs[0].value, "bar");
	ds_result_free(&r);

	ck_assert_int_eq(decode_fixture(DS_OP_TXN,
	    "txn_delete_if_won_200.json", &r), 0);
	ck_assert(r.succeeded);
	ck_assert_int_eq(r.deleted, 1);
	ds_result_free(&r);
	ck_assert_int_eq(decode_fixture(DS_OP_TXN,
	    "txn_delete_if_lost_200.json", &r), 0);
	ck_assert(!r.succeeded);
	ck_assert_int_eq(r.kvs[0].mod_revision, 2);
	ds_result_free(&r);
}
END_TEST

START_TEST(test_decode_lease)
{
	struct ds_result r;

	ck_assert_int_eq(decode_fixture(DS_OP_LEASE_GRANT,
	    "lease_grant_200.json", &r), 0);
	ck_assert_int_gt(r.lease_id, 0);
	ck_assert_int_eq(r.lease_ttl, 30);
	ds_result_free(&r);
	/* keepalive answers are stream messages: {"result": ...} */
	ck_assert_int_eq(decode_fixture(DS_OP_LEASE_KEEPALIVE,
	    "lease_keepalive_200.json", &r), 0);
	ck_assert_int_gt(r.lease_id, 0);
	ck_assert_int_eq(r.lease_ttl, 30);
	ds_result_free(&r);
	/* an unknown lease: no TTL, which means gone */
	ck_assert_int_eq(decode_fixture(DS_OP_LEASE_KEEPALIVE,
	    "lease_keepalive_gone_200.json", &r), 0);
	ck_assert_int_eq(r.lease_id, 123);
	ck_assert_int_eq(r.lease_ttl, 0);
	ds_result_free(&r);
	ck_assert_int_eq(decode_fixture(DS_OP_LEASE_REVOKE,
	    "lease_revoke_200.json", &r), 0);
	ds_result_free(&r);
}
END_TEST

START_TEST(test_decode_errors)
{
	struct ds_result r;

	ck_assert_int_eq(decode_fixture(DS_OP_LEASE_REVOKE,
	    "lease_revoke_gone_404.json", &r), -1);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.grpc_code, 5);
	ck_assert_int_eq(r.http_status, 404);
	ck_assert(!r.retryable);
	ck_assert_str_eq(r.error, "etcdserver: requested lease not found");
	ds_result_free(&r);

	ck_assert_int_eq(decode_fixture(DS_OP_RANGE, "bad_base64_400.json",
	    &r), -1);
	ck_assert_int_eq(r.grpc_code, 3);
	ck_assert_str_eq(r.error, "illegal base64 data at input byte 0");
	ds_result_free(&r);

	ck_assert_int_eq(decode_fixture(DS_OP_RANGE, "no_such_path_404.json",
	    &r), -1);
	ck_assert_str_eq(r.error, "HTTP 404: Not Found");
	ds_result_free(&r);

	/* etcd's "try another member" (codes.Unavailable) */
	ck_assert_int_eq(decode_text(DS_OP_PUT, 503, "{\"error\":\"etcdserver:"
	    " no leader\",\"message\":\"etcdserver: no leader\",\"code\":14}",
	    &r), -1);
	ck_assert(r.retryable);
	ck_assert_str_eq(r.error, "etcdserver: no leader");
	ds_result_free(&r);
	/* the stream form of an error */
	ck_assert_int_eq(decode_text(DS_OP_LEASE_KEEPALIVE, 200,
	    "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	    "\"etcdserver: request timed out\",\"http_status\":\"Service "
	    "Unavailable\"}}", &r), -1);
	ck_assert(r.retryable);
	ck_assert_str_eq(r.error, "etcdserver: request timed out");
	ds_result_free(&r);
	/* LeaseGrantResponse's own error string */
	ck_assert_int_eq(decode_text(DS_OP_LEASE_GRANT, 200, "{\"header\":{},"
	    "\"ID\":\"5\",\"error\":\"lease exists\"}", &r), -1);
	ck_assert_str_eq(r.error, "lease exists");
	ds_result_free(&r);
	/* control characters in a message are not passed on */
	ck_assert_int_eq(decode_text(DS_OP_PUT, 500,
	    "{\"error\":\"a\\u001b[2Jb\\nc\"}", &r), -1);
	ck_assert_str_eq(r.error, "a?[2Jb?c");
	ds_result_free(&r);
}
END_TEST

/* ---- hostile answers ---------------------------------------------- */

static const char *const hostile[] = {
	"",
	"[]",
	"\"header\"",
	"null",
	"{}",					/* no header */
	"{\"header\":[]}",
	"{\"header\":{\"revision\":\"abc\"}}",
	"{\"header\":{\"revision\":\"\"}}",
	"{\"header\":{\"revision\":\"9223372036854775808\"}}",
	"{\"header\":{\"revision\":\"-1\"}}",
	"{\"header\":{\"revision\":\" 1\"}}",
	"{\"header\":{\"revision\":\"+1\"}}",
	"{\"header\":{\"revision\":1.5}}",
	"{\"header\":{},\"kvs\":{}}",
	"{\"header\":{},\"kvs\":[1]}",
	"{\"header\":{},\"kvs\":[{}]}",			/* no key */
	"{\"header\":{},\"kvs\":[{\"key\":1}]}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9\"}]}",	/* length */
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9v=\"}]}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Z===\"}]}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm=v\"}]}",	/* = inside */
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9v\\n\"}]}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm-v\"}]}",	/* URL alphabet */
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9v\",\"value\":7}]}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9v\",\"lease\":\"x\"}]}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9v\"}],\"count\":true}",
	"{\"header\":{},\"more\":\"yes\"}",
	"{\"header\":{},\"kvs\":[{\"key\":\"Zm9v\"}],\"header\":{}}",
};

START_TEST(test_decode_hostile)
{
	struct ds_result r;
	size_t i;

	for (i = 0; i < nitems(hostile); i++) {
		ck_assert_msg(decode_text(DS_OP_RANGE, 200, hostile[i], &r) ==
		    -1, "accepted %s", hostile[i]);
		ck_assert(!r.ok);
		ck_assert(r.error[0] != '\0');
		ck_assert_ptr_null(r.kvs);
	}
	/* txn and lease shapes */
	ck_assert_int_eq(decode_text(DS_OP_TXN, 200,
	    "{\"header\":{},\"succeeded\":1}", &r), -1);
	ck_assert_int_eq(decode_text(DS_OP_TXN, 200,
	    "{\"header\":{},\"responses\":[7]}", &r), -1);
	ck_assert_int_eq(decode_text(DS_OP_TXN, 200, "{\"header\":{},"
	    "\"responses\":[{\"response_range\":{\"kvs\":[{}]}}]}", &r), -1);
	ck_assert_int_eq(decode_text(DS_OP_TXN, 200, "{\"header\":{},"
	    "\"responses\":[{\"response_range\":[]}]}", &r), -1);
	ck_assert_int_eq(decode_text(DS_OP_LEASE_GRANT, 200,
	    "{\"header\":{},\"TTL\":\"5\"}", &r), -1);	/* no ID */
	ck_assert_int_eq(decode_text(DS_OP_LEASE_GRANT, 200,
	    "{\"header\":{},\"ID\":{}}", &r), -1);
	/* the extremes of int64 are fine */
	ck_assert_int_eq(decode_text(DS_OP_LEASE_GRANT, 200, "{\"header\":{},"
	    "\"ID\":\"-9223372036854775808\",\"TTL\":\"9223372036854775807\"}",
	    &r), 0);
	ck_assert_int_eq(r.lease_id, INT64_MIN);
	ck_assert_int_eq(r.lease_ttl, INT64_MAX);
	ds_result_free(&r);
}
END_TEST

START_TEST(test_decode_too_large)
{
	struct ds_result r;
	size_t len;
	char *body = fixture("range_200.json", &len);

	ck_assert_int_eq(ds_decode_response(DS_OP_RANGE, 200, body, len,
	    len - 1, &r), -1);
	ck_assert_ptr_nonnull(strstr(r.error, "too large"));
	ck_assert_int_eq(ds_decode_response(DS_OP_RANGE, 200, body, len,
	    len, &r), 0);
	ds_result_free(&r);
	free(body);
}
END_TEST

/* Every cut of a real answer is an error, never a crash. */
START_TEST(test_decode_truncated)
{
	static const char *const names[] = { "range_prefix_200.json",
	    "txn_create_lost_200.json", "lease_keepalive_200.json" };
	struct ds_result r;
	size_t i, n, len;
	char *body;

	for (i = 0; i < nitems(names); i++) {
		body = fixture(names[i], &len);
		while (len > 0 && body[len - 1] == '\n')
			len--;
		for (n = 0; n < len; n++) {
			ck_assert_int_eq(ds_decode_response(i == 2 ?
			    DS_OP_LEASE_KEEPALIVE : DS_OP_RANGE, 200, body, n,
			    0, &r), -1);
			ck_assert_ptr_null(r.kvs);
		}
		free(body);
	}
}
END_TEST

/* Flip bytes of a real answer: whatever comes back is consistent. */
START_TEST(test_decode_corrupted)
{
	static const char subst[] = "\"{}[]:,0A=\\x\xff";
	struct ds_result r;
	size_t len, i, j, k;
	char *body = fixture("range_prefix_200.json", &len), saved;

	for (i = 0; i < len; i++) {
		saved = body[i];
		for (j = 0; j < sizeof(subst) - 1; j++) {
			body[i] = subst[j];
			if (ds_decode_response(DS_OP_RANGE, 200, body, len, 0,
			    &r) == 0) {
				for (k = 0; k < r.nkvs; k++) {
					ck_assert_ptr_nonnull(r.kvs[k].key);
					ck_assert_int_eq(r.kvs[k].key[
					    r.kvs[k].key_len], '\0');
					ck_assert_int_eq(r.kvs[k].value[
					    r.kvs[k].value_len], '\0');
				}
			} else
				ck_assert(r.error[0] != '\0');
			ds_result_free(&r);
		}
		body[i] = saved;
	}
	free(body);
}
END_TEST

/* ---- watch messages and the framer -------------------------------- */

struct collected {
	char	 lines[32][96];
	size_t	 n;
	bool	 created;
	int64_t	 compact_revision;
	bool	 failed;
};

static void
collect_msg(struct collected *c, const uint8_t *obj, size_t len)
{
	struct ds_watch_msg m;
	size_t i;

	if (ds_decode_watch(obj, len, &m) == -1) {
		c->failed = true;
		return;
	}
	c->created |= m.created;
	if (m.canceled)
		c->compact_revision = m.compact_revision;
	for (i = 0; i < m.nevents && c->n < 32; i++)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s %s %s %lld",
		    m.events[i].type == DS_EVENT_PUT ? "PUT" : "DELETE",
		    m.events[i].kv.key, m.events[i].kv.value,
		    (long long)m.events[i].kv.mod_revision);
	ds_watch_msg_free(&m);
}

/* Feed data in pieces of step bytes, collect what the framer cuts. */
static void
frame_all(const char *data, size_t len, size_t step, struct collected *c)
{
	struct ds_stream s;
	const uint8_t *obj;
	size_t off, n, olen;

	memset(c, 0, sizeof(*c));
	ds_stream_init(&s, 4096);
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		ck_assert_int_eq(ds_stream_feed(&s, data + off, n), 0);
		while (ds_stream_next(&s, &obj, &olen) == 1)
			collect_msg(c, obj, olen);
	}
	ds_stream_free(&s);
}

START_TEST(test_watch_stream_any_chunking)
{
	struct collected c;
	size_t len, step;
	char *data = fixture("watch_stream_200.json", &len);

	for (step = 1; step <= len; step += (step < 40 ? 1 : 97)) {
		frame_all(data, len, step, &c);
		ck_assert(!c.failed);
		ck_assert(c.created);
		ck_assert_uint_eq(c.n, 5);
		ck_assert_str_eq(c.lines[0], "PUT w1 one 9");
		ck_assert_str_eq(c.lines[1], "PUT w1 two 10");
		ck_assert_str_eq(c.lines[2], "DELETE w1  11");
		ck_assert_str_eq(c.lines[3], "PUT w2 bar 12");
		ck_assert_str_eq(c.lines[4], "PUT w3 bar 12");
	}
	free(data);
}
END_TEST

START_TEST(test_watch_compacted)
{
	struct collected c;
	size_t len;
	char *data = fixture("watch_compacted_200.json", &len);

	frame_all(data, len, 5, &c);
	ck_assert(!c.failed);
	ck_assert_int_eq(c.compact_revision, 10);
	free(data);
}
END_TEST

START_TEST(test_watch_hostile)
{
	static const char *const bad[] = {
		"{}",
		"{\"result\":[]}",
		"{\"result\":{}}",				/* no header */
		"{\"result\":{\"header\":{},\"events\":{}}}",
		"{\"result\":{\"header\":{},\"events\":[{}]}}",	/* no kv */
		"{\"result\":{\"header\":{},\"events\":[{\"type\":\"MOVE\","
		    "\"kv\":{\"key\":\"dw==\"}}]}}",
		"{\"result\":{\"header\":{},\"created\":\"yes\"}}",
		"{\"result\":{\"header\":{},\"compact_revision\":\"-3\"}}",
		"{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: no "
		    "leader\"}}",
		"{\"error\":{}}",
	};
	const char *del = "{\"result\":{\"header\":{},\"events\":"
	    "[{\"type\":1,\"kv\":{\"key\":\"dw==\"}}]}}";
	struct ds_watch_msg m;
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		ck_assert_msg(ds_decode_watch(bad[i], strlen(bad[i]), &m) == -1,
		    "accepted %s", bad[i]);
		ck_assert(m.error[0] != '\0');
		ck_assert_ptr_null(m.events);
	}
	ck_assert_int_eq(ds_decode_watch(bad[8], strlen(bad[8]), &m), -1);
	ck_assert_str_eq(m.error, "etcdserver: no leader");
	/* the type may also come as its enum number */
	ck_assert_int_eq(ds_decode_watch(del, strlen(del), &m), 0);
	ck_assert_int_eq(m.events[0].type, DS_EVENT_DELETE);
	ds_watch_msg_free(&m);
}
END_TEST

START_TEST(test_framer)
{
	struct ds_stream s;
	const uint8_t *obj;
	size_t len;
	/* braces inside strings, escaped quotes, whitespace between */
	const char *in = " {\"a\":\"}{\\\"\"}\r\n\t{\"b\":[{}]}\n";

	ds_stream_init(&s, 64);
	ck_assert_int_eq(ds_stream_feed(&s, in, strlen(in)), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), 1);
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(memcmp(obj, "{\"a\":\"}{\\\"\"}", len), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), 1);
	ck_assert_int_eq(memcmp(obj, "{\"b\":[{}]}", len), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), 0);
	/* junk outside an object ends the stream for good */
	ck_assert_int_eq(ds_stream_feed(&s, "x{}", 3), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), -1);
	ck_assert_int_eq(ds_stream_feed(&s, "{}", 2), -1);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), -1);
	/* a bracket cannot close an object; nor can data be empty */
	ds_stream_reset(&s);
	ck_assert_int_eq(ds_stream_feed(&s, NULL, 0), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), 0);
	ck_assert_int_eq(ds_stream_feed(&s, "{\"a\":1]", 7), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), -1);
	/* an object larger than the limit */
	ds_stream_reset(&s);
	ck_assert_int_eq(ds_stream_feed(&s, "{\"k\":\"", 6), 0);
	ck_assert_int_eq(ds_stream_next(&s, &obj, &len), 0);
	for (len = 0; len < 58; len++)
		ck_assert_int_eq(ds_stream_feed(&s, "a", 1), 0);
	ck_assert_int_eq(ds_stream_feed(&s, "a", 1), -1);
	ds_stream_free(&s);
}
END_TEST

/* ---- the client against stand-in members -------------------------- */

/* An HTTP server on 127.0.0.1 answering every request the same way. */
struct member {
	struct evhttp		*http;
	struct event_base	*base;
	int			 port;
	char			 url[64];
	unsigned		 hits;
	int			 status;
	const char		*body;
	size_t			 body_len;
	bool			 silent;	/* never answers */
	char			 last_body[1024];
	char			 last_path[64];
	/* streaming (watch) */
	const char		*stream;
	size_t			 stream_len;
	size_t			 stream_off;
	size_t			 chunk;
	struct evhttp_request	*streaming;
	struct event		*tick;
};

static void
member_tick(evutil_socket_t fd, short what, void *arg)
{
	struct member *m = arg;
	struct evbuffer *b;
	struct timeval tv = { 0, 2000 };
	size_t n;

	if (m->streaming == NULL)
		return;
	if (m->stream_off >= m->stream_len) {
		evhttp_send_reply_end(m->streaming);	/* stream ends */
		m->streaming = NULL;
		return;
	}
	n = m->stream_len - m->stream_off;
	if (n > m->chunk)
		n = m->chunk;
	b = evbuffer_new();
	evbuffer_add(b, m->stream + m->stream_off, n);
	m->stream_off += n;
	evhttp_send_reply_chunk(m->streaming, b);
	evbuffer_free(b);
	evtimer_add(m->tick, &tv);
}

static void
member_cb(struct evhttp_request *req, void *arg)
{
	struct member *m = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *out;
	size_t n = evbuffer_get_length(in);
	struct timeval tv = { 0, 1000 };

	m->hits++;
	if (n >= sizeof(m->last_body))
		n = sizeof(m->last_body) - 1;
	evbuffer_copyout(in, m->last_body, n);
	m->last_body[n] = '\0';
	strlcpy_s(m->last_path, evhttp_request_get_uri(req),
	    sizeof(m->last_path));
	if (m->silent)
		return;		/* held until the server is freed */
	if (m->stream != NULL) {
		/* a stream the client left is libevent's to free only
		 * once we end it */
		if (m->streaming != NULL)
			evhttp_send_reply_end(m->streaming);
		m->stream_off = 0;
		m->streaming = req;
		evhttp_send_reply_start(req, 200, "OK");
		evtimer_add(m->tick, &tv);
		return;
	}
	out = evbuffer_new();
	evbuffer_add(out, m->body, m->body_len);
	evhttp_send_reply(req, m->status, "X", out);
	evbuffer_free(out);
}

static void
member_start(struct member *m, struct event_base *base)
{
	struct evhttp_bound_socket *h;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(m, 0, sizeof(*m));
	m->base = base;
	m->status = 200;
	m->http = evhttp_new(base);
	h = evhttp_bind_socket_with_handle(m->http, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(h);
	getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&sin,
	    &sl);
	m->port = ntohs(sin.sin_port);
	snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", m->port);
	evhttp_set_gencb(m->http, member_cb, m);
	m->tick = evtimer_new(base, member_tick, m);
}

static void
member_answer(struct member *m, int status, const char *body)
{
	m->status = status;
	m->body = body;
	m->body_len = strlen(body);
}

static void
member_stop(struct member *m)
{
	if (m->streaming != NULL)
		evhttp_send_reply_end(m->streaming);
	evhttp_free(m->http);
	event_free(m->tick);
}

/* A URL where nothing listens. */
static void
closed_url(char *url, size_t size)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	close(fd);
	snprintf(url, size, "http://127.0.0.1:%d", ntohs(sin.sin_port));
}

struct outcome {
	struct event_base	*base;
	unsigned		 calls;
	bool			 ok;
	bool			 succeeded;
	char			 error[DS_ERROR_MAX];
	char			 endpoint[64];
	char			 value[64];
	uint64_t		 at;
	struct ds_etcd		*free_me;
};

static void
outcome_cb(const struct ds_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->ok = r->ok;
	o->succeeded = r->succeeded;
	o->at = mono_msec();
	strlcpy_s(o->error, r->error, sizeof(o->error));
	strlcpy_s(o->endpoint, r->endpoint ? r->endpoint : "",
	    sizeof(o->endpoint));
	strlcpy_s(o->value, r->nkvs ? r->kvs[0].value : "", sizeof(o->value));
	if (o->free_me != NULL)
		ds_etcd_free(o->free_me);	/* from inside a callback */
	event_base_loopbreak(o->base);
}

static void
run_loop(struct event_base *base, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/*
 * A rig: an event base, members a and b (b only when asked for), a
 * client whose endpoints are first (a closed port, say) or a, then b,
 * and the outcome of the last request.  A fixture named in body is
 * what a answers by default.
 */
struct rig {
	struct event_base	*base;
	struct member		 a;
	struct member		 b;
	bool			 two;
	struct ds_etcd		*ds;
	struct outcome		 o;
	char			*body;
};

static void
rig_up(struct rig *r, const char *first, bool two, const char *body,
    unsigned request_ms, unsigned attempt_ms)
{
	struct ds_etcd_config cfg;
	char err[256];
	size_t len;

	memset(r, 0, sizeof(*r));
	r->base = event_base_new();
	r->o.base = r->base;
	member_start(&r->a, r->base);
	r->two = two;
	if (two)
		member_start(&r->b, r->base);
	if (body != NULL) {
		r->body = fixture(body, &len);
		member_answer(&r->a, 200, r->body);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoints[cfg.nendpoints++] = first ? first : r->a.url;
	if (first != NULL || two)
		cfg.endpoints[cfg.nendpoints++] = first ? r->a.url : r->b.url;
	cfg.request_timeout_ms = request_ms;
	cfg.attempt_timeout_ms = attempt_ms;
	cfg.max_response = 2048;
	r->ds = ds_etcd_create(r->base, &cfg, err, sizeof(err));
	ck_assert_msg(r->ds != NULL, "%s", err);
}

static void
rig_down(struct rig *r)
{
	ds_etcd_free(r->ds);
	member_stop(&r->a);
	if (r->two)
		member_stop(&r->b);
	event_base_free(r->base);
	free(r->body);
}

START_TEST(test_client_config)
{
	struct event_base *base = event_base_new();
	struct ds_etcd_config cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "endpoints"));
	cfg.nendpoints = 1;
	cfg.endpoints[0] = "ftp://10.0.0.1:2379";
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "ftp://10.0.0.1:2379"));
	cfg.endpoints[0] = "http://10.0.0.1:2379/v2";
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	cfg.endpoints[0] = "10.0.0.1:2379";
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	cfg.endpoints[0] = "https://10.0.0.1:2379";
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "ca"));
	cfg.tls_ca = "/nonexistent/ca.pem";
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ca.pem"));
	cfg.tls_cert = "/nonexistent/cert.pem";
	ck_assert_ptr_null(ds_etcd_create(base, &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cert and key"));
	event_base_free(base);
}
END_TEST

START_TEST(test_client_no_member_answers)
{
	struct ds_etcd_stats st;
	struct rig r;
	char url[64];
	uint64_t t0;

	closed_url(url, sizeof(url));
	rig_up(&r, url, false, NULL, 400, 100);
	r.a.silent = true;
	t0 = mono_msec();
	ck_assert_int_eq(ds_etcd_get(r.ds, "k", outcome_cb, &r.o), 0);
	ck_assert_uint_eq(r.o.calls, 0);	/* never from inside the call */
	run_loop(r.base, 3000);
	ck_assert_uint_eq(r.o.calls, 1);
	ck_assert(!r.o.ok);
	ck_assert_msg(strstr(r.o.error, "no etcd endpoint answered within "
	    "400 ms") != NULL, "%s", r.o.error);
	ck_assert_uint_ge(r.o.at - t0, 380);
	ck_assert_uint_le(r.o.at - t0, 1000);
	ds_etcd_get_stats(r.ds, &st);
	ck_assert_uint_eq(st.requests, 1);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_ge(st.attempts_failed, 3);	/* it kept trying */
	ck_assert_uint_ge(r.a.hits, 1);			/* both of them */
	rig_down(&r);
}
END_TEST

START_TEST(test_client_failover)
{
	struct ds_etcd_stats st;
	struct rig r;
	char url[64];

	closed_url(url, sizeof(url));
	rig_up(&r, url, false, "range_200.json", 3000, 1000);
	ck_assert_int_eq(ds_etcd_get(r.ds, "foo", outcome_cb, &r.o), 0);
	run_loop(r.base, 3000);
	ck_assert_uint_eq(r.o.calls, 1);
	ck_assert_msg(r.o.ok, "%s", r.o.error);
	ck_assert_str_eq(r.o.value, "bar");
	ck_assert_str_eq(r.o.endpoint, r.a.url);
	ck_assert_str_eq(r.a.last_path, "/v3/kv/range");
	ck_assert_str_eq(r.a.last_body, "{\"key\":\"Zm9v\"}");
	ds_etcd_get_stats(r.ds, &st);
	ck_assert_uint_eq(st.failovers, 1);
	ck_assert_uint_eq(st.current, 1);
	ck_assert_int_eq(st.revision, 2);
	ck_assert_ptr_nonnull(strstr(st.last_error, url));
	/* the next request starts where the last one was answered */
	ck_assert_int_eq(ds_etcd_get(r.ds, "foo", outcome_cb, &r.o), 0);
	run_loop(r.base, 3000);
	ck_assert_uint_eq(r.o.calls, 2);
	ds_etcd_get_stats(r.ds, &st);
	ck_assert_uint_eq(st.attempts_failed, 1);
	ck_assert_uint_eq(r.a.hits, 2);
	rig_down(&r);
}
END_TEST

START_TEST(test_client_unavailable_tries_next)
{
	struct rig r;
	char *won;
	size_t len;

	rig_up(&r, NULL, true, NULL, 3000, 1000);
	won = fixture("txn_create_won_200.json", &len);
	member_answer(&r.a, 503, "{\"error\":\"etcdserver: no leader\","
	    "\"message\":\"etcdserver: no leader\",\"code\":14}");
	member_answer(&r.b, 200, won);
	ck_assert_int_eq(ds_etcd_create_if_absent(r.ds, "foo", "bar", 3, 0,
	    outcome_cb, &r.o), 0);
	run_loop(r.base, 3000);
	ck_assert_msg(r.o.ok, "%s", r.o.error);
	ck_assert(r.o.succeeded);
	ck_assert_uint_eq(r.a.hits, 1);
	ck_assert_uint_eq(r.b.hits, 1);
	ck_assert_str_eq(r.b.last_path, "/v3/kv/txn");
	rig_down(&r);
	free(won);
}
END_TEST

START_TEST(test_client_final_error_stays)
{
	struct rig r;

	rig_up(&r, NULL, true, NULL, 3000, 1000);
	member_answer(&r.a, 404, "{\"error\":\"etcdserver: requested lease "
	    "not found\",\"message\":\"etcdserver: requested lease not "
	    "found\",\"code\":5}");
	ck_assert_int_eq(ds_etcd_lease_revoke(r.ds, 99, outcome_cb, &r.o), 0);
	run_loop(r.base, 3000);
	ck_assert(!r.o.ok);
	ck_assert_str_eq(r.o.error, "etcdserver: requested lease not found");
	ck_assert_str_eq(r.a.last_body, "{\"ID\":\"99\"}");
	ck_assert_uint_eq(r.b.hits, 0);
	rig_down(&r);
}
END_TEST

START_TEST(test_client_silent_member_times_out)
{
	struct ds_etcd_stats st;
	struct rig r;
	char *put;
	size_t len;
	uint64_t t0;

	rig_up(&r, NULL, true, NULL, 3000, 200);
	put = fixture("put_200.json", &len);
	r.a.silent = true;
	member_answer(&r.b, 200, put);
	t0 = mono_msec();
	ck_assert_int_eq(ds_etcd_put(r.ds, "foo", "bar", 3, 0, outcome_cb,
	    &r.o), 0);
	run_loop(r.base, 3000);
	ck_assert_msg(r.o.ok, "%s", r.o.error);
	ck_assert_uint_ge(r.o.at - t0, 190);
	ck_assert_uint_le(r.o.at - t0, 1500);
	ds_etcd_get_stats(r.ds, &st);
	ck_assert_ptr_nonnull(strstr(st.last_error, "no answer within 200"));
	rig_down(&r);
	free(put);
}
END_TEST

START_TEST(test_client_oversized_answer)
{
	struct rig r;
	char *big = xmalloc(8192);

	memset(big, ' ', 8191);
	big[0] = '{';
	big[8190] = '}';
	big[8191] = '\0';
	rig_up(&r, NULL, true, NULL, 3000, 1000);	/* limit 2048 */
	member_answer(&r.a, 200, big);
	ck_assert_int_eq(ds_etcd_get_prefix(r.ds, "", outcome_cb, &r.o), 0);
	run_loop(r.base, 3000);
	ck_assert(!r.o.ok);
	ck_assert_msg(strstr(r.o.error, "larger than allowed") != NULL, "%s",
	    r.o.error);
	ck_assert_uint_eq(r.b.hits, 0);
	rig_down(&r);
	free(big);
}
END_TEST

START_TEST(test_client_free_with_requests_out)
{
	struct outcome o2;
	struct rig r;

	rig_up(&r, NULL, false, NULL, 3000, 1000);
	o2 = r.o;
	r.a.silent = true;
	ck_assert_int_eq(ds_etcd_get(r.ds, "a", outcome_cb, &r.o), 0);
	ck_assert_int_eq(ds_etcd_get(r.ds, "b", outcome_cb, &o2), 0);
	/* both sent, neither answered (a loaded machine may need longer) */
	for (int i = 0; i < 30 && r.a.hits < 2; i++)
		run_loop(r.base, 100);
	ck_assert_uint_eq(r.a.hits, 2);
	ds_etcd_free(r.ds);
	r.ds = NULL;
	ck_assert_uint_eq(r.o.calls, 1);
	ck_assert_uint_eq(o2.calls, 1);
	ck_assert_str_eq(r.o.error, "etcd client closed");
	ck_assert(!o2.ok);
	rig_down(&r);
}
END_TEST

START_TEST(test_client_free_from_callback)
{
	struct rig r;

	rig_up(&r, NULL, false, "put_200.json", 3000, 1000);
	r.o.free_me = r.ds;
	ck_assert_int_eq(ds_etcd_put(r.ds, "k", "v", 1, 0, outcome_cb, &r.o),
	    0);
	run_loop(r.base, 3000);
	ck_assert(r.o.ok);
	r.ds = NULL;		/* freed once the callback returned */
	run_loop(r.base, 50);
	ck_assert_uint_eq(r.o.calls, 1);
	rig_down(&r);
}
END_TEST

struct watch_log {
	struct event_base	*base;
	char			 lines[32][96];
	size_t			 n;
	size_t			 stop_at;
};

static void
watch_log_cb(const struct ds_watch_update *u, void *arg)
{
	struct watch_log *l = arg;
	size_t i;

	if (l->n >= 32)
		return;
	switch (u->status) {
	case DS_WATCH_CONNECTED:
		snprintf(l->lines[l->n++], 96, "CONNECTED %lld",
		    (long long)u->revision);
		break;
	case DS_WATCH_LOST:
		snprintf(l->lines[l->n++], 96, "LOST");
		break;
	case DS_WATCH_COMPACTED:
		snprintf(l->lines[l->n++], 96, "COMPACTED");
		break;
	case DS_WATCH_EVENTS:
		for (i = 0; i < u->nevents && l->n < 32; i++)
			snprintf(l->lines[l->n++], 96, "%s %s %lld",
			    u->events[i].type == DS_EVENT_PUT ? "PUT" : "DEL",
			    u->events[i].kv.key,
			    (long long)u->events[i].kv.mod_revision);
		break;
	}
	if (l->n >= l->stop_at)
		event_base_loopbreak(l->base);
}

/* Member a streams a fixture in chunk-byte pieces, then ends it. */
static void
rig_stream(struct rig *r, const char *name, size_t chunk)
{
	size_t len;

	r->body = fixture(name, &len);
	r->a.stream = r->body;
	r->a.stream_len = len;
	r->a.chunk = chunk;
}

/* A stream in 7-byte chunks, then its end: the watch delivers every
 * event once and asks again from the revision after the last. */
START_TEST(test_client_watch_stream_and_resume)
{
	struct rig r;
	struct watch_log l = { .stop_at = 7 };
	struct ds_watch *w;

	rig_up(&r, NULL, false, NULL, 3000, 1000);
	rig_stream(&r, "watch_stream_200.json", 7);
	l.base = r.base;
	w = ds_etcd_watch(r.ds, "w", 0, watch_log_cb, &l);
	ck_assert_ptr_nonnull(w);
	run_loop(r.base, 5000);
	ck_assert_uint_ge(l.n, 7);
	ck_assert_str_eq(l.lines[0], "CONNECTED 8");
	ck_assert_str_eq(l.lines[1], "PUT w1 9");
	ck_assert_str_eq(l.lines[2], "PUT w1 10");
	ck_assert_str_eq(l.lines[3], "DEL w1 11");
	ck_assert_str_eq(l.lines[4], "PUT w2 12");
	ck_assert_str_eq(l.lines[5], "PUT w3 12");
	/* the stream ended; the same member is asked from 13 on */
	ck_assert_str_eq(l.lines[6], "LOST");
	ck_assert_str_eq(r.a.last_path, "/v3/watch");
	for (int i = 0; i < 30 && r.a.hits < 2; i++)
		run_loop(r.base, 100);
	ck_assert_uint_ge(r.a.hits, 2);
	ck_assert_ptr_nonnull(strstr(r.a.last_body,
	    "\"start_revision\":\"13\""));
	ds_watch_cancel(w);
	rig_down(&r);
}
END_TEST

START_TEST(test_client_watch_compacted)
{
	struct rig r;
	struct watch_log l = { .stop_at = 2 };

	rig_up(&r, NULL, false, NULL, 3000, 1000);
	rig_stream(&r, "watch_compacted_200.json", 64);
	l.base = r.base;
	ck_assert_ptr_nonnull(ds_etcd_watch(r.ds, "w", 3, watch_log_cb, &l));
	run_loop(r.base, 3000);
	ck_assert_str_eq(l.lines[0], "CONNECTED 12");
	ck_assert_str_eq(l.lines[1], "COMPACTED");
	ck_assert_ptr_nonnull(strstr(r.a.last_body,
	    "\"start_revision\":\"3\""));
	for (int i = 0; i < 30 && strstr(r.a.last_body,
	    "\"start_revision\":\"10\"") == NULL; i++)
		run_loop(r.base, 100);
	/* asked again from the oldest revision etcd still has */
	ck_assert_ptr_nonnull(strstr(r.a.last_body,
	    "\"start_revision\":\"10\""));
	rig_down(&r);		/* freeing the client cancels the watch */
}
END_TEST

static Suite *
etcd_suite(void)
{
	Suite *s = suite_create("etcd");
	TCase *tc = tcase_create("codec");
	TCase *tcc = tcase_create("client");

	tcase_add_test(tc, test_encode_range);
	tcase_add_test(tc, test_prefix_end);
	tcase_add_test(tc, test_encode_put);
	tcase_add_test(tc, test_encode_txn);
	tcase_add_test(tc, test_encode_lease_and_watch);
	tcase_add_test(tc, test_encode_rejects);
	tcase_add_test(tc, test_decode_range);
	tcase_add_test(tc, test_decode_writes);
	tcase_add_test(tc, test_decode_txn);
	tcase_add_test(tc, test_decode_lease);
	tcase_add_test(tc, test_decode_errors);
	tcase_add_test(tc, test_decode_hostile);
	tcase_add_test(tc, test_decode_too_large);
	tcase_add_test(tc, test_decode_truncated);
	tcase_add_test(tc, test_decode_corrupted);
	tcase_add_test(tc, test_watch_stream_any_chunking);
	tcase_add_test(tc, test_watch_compacted);
	tcase_add_test(tc, test_watch_hostile);
	tcase_add_test(tc, test_framer);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tcase_add_test(tcc, test_client_config);
	tcase_add_test(tcc, test_client_no_member_answers);
	tcase_add_test(tcc, test_client_failover);
	tcase_add_test(tcc, test_client_unavailable_tries_next);
	tcase_add_test(tcc, test_client_final_error_stays);
	tcase_add_test(tcc, test_client_silent_member_times_out);
	tcase_add_test(tcc, test_client_oversized_answer);
	tcase_add_test(tcc, test_client_free_with_requests_out);
	tcase_add_test(tcc, test_client_free_from_callback);
	tcase_add_test(tcc, test_client_watch_stream_and_resume);
	tcase_add_test(tcc, test_client_watch_compacted);
	tcase_set_timeout(tcc, 30);
	suite_add_tcase(s, tcc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(etcd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
