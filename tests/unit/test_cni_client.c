/*
 * The API client evpnctl and evpnd-cni share (cli/apiclient.c), against
 * real servers on a Unix socket in a temp dir, each in a forked child:
 * an evhttp server (what evpnd runs) for JSON, 204, error bodies,
 * libevent's own HTML error page, a body that is not JSON, POST bodies,
 * percent-encoded segments and a request it never answers; a raw server
 * for replies that are not HTTP, truncated, chunked (as evpnd streams
 * large views) or badly chunked; and no server at all (no socket file,
 * a socket nobody listens on).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cli/apiclient.h"

static char dir[64];
static char sock_path[128];
static pid_t server = -1;

static int
listen_unix(const char *path, bool do_listen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (do_listen)
		ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static void
reply_json(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, "X", b);
	evbuffer_free(b);
}

/* POST /echo: what arrived, as JSON. */
static void
reply_echo(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(
	    req), "Content-Type");
	char *body = calloc(1, len + 1), *text;
	json_t *o;

	evbuffer_copyout(in, body, len);
	o = json_pack("{s:i, s:s, s:s}", "method",
	    (int)evhttp_request_get_command(req), "body", body, "ctype",
	    ct ? ct : "");
	text = json_dumps(o, JSON_COMPACT);
	reply_json(req, 201, text);
	free(text);
	free(body);
	json_decref(o);
}

static void
http_cb(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *b;
	char *text;

	if (strcmp(uri, "/json") == 0)
		reply_json(req, 200, "{\"a\": 1, \"b\": [\"x\"]}");
	else if (strcmp(uri, "/empty") == 0)
		evhttp_send_reply(req, 204, "No Content", NULL);
	else if (strcmp(uri, "/error") == 0)
		reply_json(req, 404, "{\"error\": \"no such thing\"}");
	else if (strcmp(uri, "/html") == 0)
		evhttp_send_error(req, 500, NULL);
	else if (strcmp(uri, "/echo") == 0)
		reply_echo(req);
	else if (strcmp(uri, "/slow") == 0)
		return;		/* never answered */
	else if (strcmp(uri, "/text") == 0) {
		b = evbuffer_new();
		evbuffer_add_printf(b, "hello");
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
	} else {
		text = NULL;
		if (asprintf(&text, "{\"uri\": \"%s\"}", uri) == -1)
			abort();
		reply_json(req, 200, text);
		free(text);
	}
}

/* Until the server accepts connections. */
static void
wait_ready(void)
{
	struct apiclient c = { .socket = sock_path, .timeout_ms = 1000 };
	struct apiclient_reply r;
	char err[256];

	for (int i = 0; i < 200; i++) {
		if (apiclient_request(&c, "GET", "/json", NULL, &r, err,
		    sizeof(err)) == 0) {
			apiclient_reply_clear(&r);
			return;
		}
		usleep(10000);
	}
	ck_abort_msg("the test server did not come up: %s", err);
}

static void
evhttp_server_start(void)
{
	int fd = listen_unix(sock_path, true);

	if ((server = fork()) == 0) {
		struct event_base *base = event_base_new();
		struct evhttp *http = evhttp_new(base);

		evhttp_set_allowed_methods(http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
		evhttp_set_gencb(http, http_cb, NULL);
		evutil_make_socket_nonblocking(fd);
		evhttp_accept_socket(http, fd);
		event_base_dispatch(base);
		_exit(0);
	}
	close(fd);
	wait_ready();
}

/* A server that answers every connection with the bytes of reply. */
static void
raw_server_start(const char *reply)
{
	int fd = listen_unix(sock_path, true);

	if ((server = fork()) == 0) {
		for (;;) {
			int c = accept(fd, NULL, NULL);
			char buf[4096];
			size_t got = 0;
			ssize_t n;

			if (c == -1)
				_exit(1);
			while (got < sizeof(buf) - 1 && (n = read(c,
			    buf + got, sizeof(buf) - 1 - got)) > 0) {
				got += (size_t)n;
				buf[got] = '\0';
				if (strstr(buf, "\r\n\r\n") != NULL)
					break;
			}
			if (write(c, reply, strlen(reply)) < 0)
				_exit(1);
			close(c);
		}
	}
	close(fd);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/evpnd-apiclient.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	server = -1;
}

static void
teardown(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	unlink(sock_path);
	rmdir(dir);
}

/* One request: its return code; *errp gets errno on failure. */
static int
request(const char *method, const char *path, const char *body, int tmo,
    struct apiclient_reply *r, char *err, size_t errlen, int *errp)
{
	struct apiclient c = { .socket = sock_path, .timeout_ms = tmo };
	int rc;

	errno = 0;
	rc = apiclient_request(&c, method, path, body, r, err, errlen);
	*errp = errno;
	return rc;
}

START_TEST(test_json_and_statuses)
{
	struct apiclient_reply r;
	char err[256];
	int e;

	evhttp_server_start();
	ck_assert_int_eq(request("GET", "/json", NULL, 0, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "a")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	    r.json, "b"), 0)), "x");
	ck_assert_ptr_null(apiclient_reply_error(&r));
	apiclient_reply_clear(&r);
	ck_assert_ptr_null(r.json);

	ck_assert_int_eq(request("DELETE", "/empty", NULL, 0, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 204);
	ck_assert_ptr_null(r.json);

	ck_assert_int_eq(request("GET", "/error", NULL, 0, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(apiclient_reply_error(&r), "no such thing");
	apiclient_reply_clear(&r);

	/* libevent's own error page is HTML: a status, no JSON */
	ck_assert_int_eq(request("GET", "/html", NULL, 0, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 500);
	ck_assert_ptr_null(r.json);
	ck_assert_ptr_null(apiclient_reply_error(&r));
}
END_TEST

START_TEST(test_post_body_and_escape)
{
	struct apiclient_reply r;
	char err[256], *seg, path[256];
	int e;

	evhttp_server_start();
	ck_assert_int_eq(request("POST", "/echo", "{\"resource\": \"x\"}", 0,
	    &r, err, sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json,
	    "method")), EVHTTP_REQ_POST);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "body")),
	    "{\"resource\": \"x\"}");
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "ctype")),
	    "application/json");
	apiclient_reply_clear(&r);

	seg = apiclient_escape("ns1/web 0/eth0~");
	ck_assert_str_eq(seg, "ns1%2Fweb%200%2Feth0~");
	snprintf(path, sizeof(path), "/v1/ipam/allocations/%s", seg);
	free(seg);
	ck_assert_int_eq(request("GET", path, NULL, 0, &r, err, sizeof(err),
	    &e), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r.json, "uri")),
	    "/v1/ipam/allocations/ns1%2Fweb%200%2Feth0~");
	apiclient_reply_clear(&r);

	/* a target that would break the request line is refused here */
	ck_assert_int_eq(request("GET", "/a b", NULL, 0, &r, err, sizeof(err),
	    &e), -1);
	ck_assert_int_eq(e, EINVAL);
	ck_assert_int_eq(request("GET", "/a\r\nX: y", NULL, 0, &r, err,
	    sizeof(err), &e), -1);
	ck_assert_int_eq(request("GET", "relative", NULL, 0, &r, err,
	    sizeof(err), &e), -1);
}
END_TEST

START_TEST(test_not_json)
{
	struct apiclient_reply r;
	char err[256];
	int e;

	evhttp_server_start();
	ck_assert_int_eq(request("GET", "/text", NULL, 0, &r, err,
	    sizeof(err), &e), -1);
	ck_assert_int_eq(e, EBADMSG);
	ck_assert_msg(strncmp(err, "bad JSON from evpnd: ", 21) == 0, "%s",
	    err);
	ck_assert_ptr_null(r.json);
}
END_TEST

START_TEST(test_timeout)
{
	struct apiclient_reply r;
	char err[256], want[256];
	struct timespec t0, t1;
	double secs;
	int e;

	evhttp_server_start();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(request("GET", "/slow", NULL, 300, &r, err,
	    sizeof(err), &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) /
	    1e9;
	ck_assert_int_eq(e, ETIMEDOUT);
	ck_assert_msg(secs >= 0.29 && secs < 2.0, "took %.3f s", secs);
	snprintf(want, sizeof(want), "evpnd at %s did not answer within 300 "
	    "ms", sock_path);
	ck_assert_str_eq(err, want);
	ck_assert(!apiclient_not_running(e));
}
END_TEST

START_TEST(test_not_running)
{
	struct apiclient_reply r;
	char err[256], want[256];
	int e, fd;

	/* no socket file */
	ck_assert_int_eq(request("GET", "/json", NULL, 0, &r, err,
	    sizeof(err), &e), -1);
	ck_assert_int_eq(e, ENOENT);
	ck_assert(apiclient_not_running(e));
	snprintf(want, sizeof(want), "cannot connect to evpnd at %s: No such "
	    "file or directory (is evpnd running?)", sock_path);
	ck_assert_str_eq(err, want);
	/* a socket file nobody listens on (a crashed daemon's) */
	fd = listen_unix(sock_path, false);
	ck_assert_int_eq(request("GET", "/json", NULL, 0, &r, err,
	    sizeof(err), &e), -1);
	ck_assert_int_eq(e, ECONNREFUSED);
	ck_assert(apiclient_not_running(e));
	close(fd);
}
END_TEST

/* A raw reply that must be refused as malformed. */
static void
assert_malformed(const char *reply)
{
	struct apiclient_reply r;
	char err[256];
	int e;

	raw_server_start(reply);
	ck_assert_msg(request("GET", "/x", NULL, 2000, &r, err, sizeof(err),
	    &e) == -1, "accepted: %s", reply);
	ck_assert_msg(e == EBADMSG, "errno %d for %s", e, reply);
	ck_assert_str_eq(err, "malformed reply from evpnd");
}

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"garbage\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n{}",
		"HTTP/1.1 20 OK\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}",
		/* Chunked, broken: no last chunk, a size past the end, a
		 * size that is not hex, an extension, data longer than its
		 * size, both framings at once. */
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2\r\n{}\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "20\r\n{}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "z\r\n{}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2;x=y\r\n{}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "1\r\n{}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
		"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_malformed(bad[i]);
		teardown();
		setup();
	}
}
END_TEST

/* What evpnd does not send but HTTP allows: HTTP/1.0, no length,
 * extra bytes after Content-Length, header folding of spaces. */
START_TEST(test_lenient_framing)
{
	struct apiclient_reply r;
	char err[256];
	int e;

	raw_server_start("HTTP/1.0 200\r\nX-Pad:   v  \r\n\r\n{\"k\": 2}");
	ck_assert_int_eq(request("GET", "/x", NULL, 2000, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "k")), 2);
	apiclient_reply_clear(&r);
	teardown();
	setup();
	raw_server_start("HTTP/1.1 201 Created\r\ncontent-length: 8\r\n\r\n"
	    "{\"k\": 3}trailing");
	ck_assert_int_eq(request("GET", "/x", NULL, 2000, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "k")), 3);
	apiclient_reply_clear(&r);
}
END_TEST

/* Large views come chunked (api_stream.c): joined back into one body. */
START_TEST(test_chunked)
{
	struct apiclient_reply r;
	char err[256];
	int e;

	raw_server_start("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n6\r\n{\"k\": \r\n0000A\r\n[1, 2, 3]}\r\n0\r\n\r\n");
	ck_assert_int_eq(request("GET", "/x", NULL, 2000, &r, err,
	    sizeof(err), &e), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "k")), 3);
	apiclient_reply_clear(&r);
}
END_TEST

static Suite *
apiclient_suite(void)
{
	Suite *s = suite_create("apiclient");
	TCase *tc = tcase_create("client");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_json_and_statuses);
	tcase_add_test(tc, test_post_body_and_escape);
	tcase_add_test(tc, test_not_json);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_not_running);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_lenient_framing);
	tcase_add_test(tc, test_chunked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(apiclient_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
