/*
 * The daemon's control API, in process: a real bgp instance built from a
 * parsed config (no listener, passive neighbors, so no traffic), the API
 * served on a Unix socket in a temp dir, and requests written to that
 * socket while the event loop turns.  Checks the route table (200, 404,
 * 405 with Allow), the JSON documents, the /metrics text, and the
 * socket's stale/busy handling.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "bgpd/bgpd.h"
#include "common/log.h"
#include "conf/conf.h"
#include "daemon/api.h"

static const char test_conf[] =
	"router bgp 65000\n"
	" bgp router-id 10.0.0.11\n"
	" bgp listen-port 0\n"
	" neighbor 127.0.0.2 remote-as 65000\n"
	" neighbor 127.0.0.2 description spine1\n"
	" neighbor 127.0.0.2 passive\n"
	" neighbor 127.0.0.3 remote-as 65001\n"
	" neighbor 127.0.0.3 passive\n"
	" neighbor 127.0.0.3 timers 3 9\n"
	"exit\n";

static struct evpnd d;
static struct api *api;
static char dir[64];
static char sock_path[128];

static void
setup(void)
{
	char err[256];

	log_set_level(LOG_WARNING);
	snprintf(dir, sizeof(dir), "/tmp/evpnd-test-api.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/run/evpnd.sock", dir);
	memset(&d, 0, sizeof(d));
	d.base = event_base_new();
	ck_assert_ptr_nonnull(d.base);
	d.conf = conf_parse_string(test_conf, "test.conf", err, sizeof(err));
	ck_assert_msg(d.conf != NULL, "%s", err);
	d.bgp = bgp_create(d.base, d.conf, err, sizeof(err));
	ck_assert_msg(d.bgp != NULL, "%s", err);
	api = api_create(&d, sock_path, err, sizeof(err));
	ck_assert_msg(api != NULL, "%s", err);
}

static void
teardown(void)
{
	char run[160];

	api_free(api);
	bgp_free(d.bgp);
	conf_free(d.conf);
	event_base_free(d.base);
	snprintf(run, sizeof(run), "%s/run", dir);
	rmdir(run);
	rmdir(dir);
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Send one request and turn the loop until the server closes: the
 * whole response, NUL-terminated, malloc'd.
 */
static char *
request(const char *method, const char *path)
{
	char req[512], *resp = NULL;
	size_t len = 0;
	int fd = connect_unix(sock_path);

	ck_assert_int_ge(fd, 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n", method, path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (int spins = 0; spins < 100000; spins++) {
		char buf[4096];
		ssize_t n;

		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			usleep(100);
			continue;
		}
		resp = realloc(resp, len + (size_t)n + 1);
		memcpy(resp + len, buf, (size_t)n);
		len += (size_t)n;
		resp[len] = '\0';
	}
	close(fd);
	ck_assert_ptr_nonnull(resp);
	return resp;
}

static int
status_of(const char *resp)
{
	int code = 0;

	ck_assert_int_eq(sscanf(resp, "HTTP/1.1 %d", &code), 1);
	return code;
}

static json_t *
body_json(const char *resp)
{
	const char *body = strstr(resp, "\r\n\r\n");
	json_error_t jerr;
	json_t *j;

	ck_assert_ptr_nonnull(body);
	j = json_loads(body + 4, 0, &jerr);
	ck_assert_msg(j != NULL, "bad JSON: %s", jerr.text);
	return j;
}

static const char *
error_of(json_t *j)
{
	return json_string_value(json_object_get(j, "error"));
}

START_TEST(test_summary_json)
{
	json_t *s = api_bgp_summary_json(&d), *p;

	ck_assert_str_eq(json_string_value(json_object_get(s, "routerId")),
	    "10.0.0.11");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "as")), 65000);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "totalPeers")),
	    2);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "establishedPeers")), 0);
	p = json_object_get(json_object_get(s, "peers"), "127.0.0.2");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "remoteAs")),
	    65000);
	ck_assert_str_eq(json_string_value(json_object_get(p, "description")),
	    "spine1");
	ck_assert_int_eq(json_integer_value(json_object_get(p, "msgRcvd")), 0);
	ck_assert_str_ne(json_string_value(json_object_get(p, "state")),
	    "Established");
	p = json_object_get(json_object_get(s, "peers"), "127.0.0.3");
	ck_assert_ptr_null(json_object_get(p, "description"));
	json_decref(s);
}
END_TEST

START_TEST(test_neighbors_json)
{
	json_t *all = api_bgp_neighbors_json(&d), *n, *ms;

	ck_assert_int_eq(json_object_size(all), 2);
	n = json_object_get(all, "127.0.0.3");
	ck_assert_int_eq(json_integer_value(json_object_get(n, "remoteAs")),
	    65001);
	ck_assert_str_eq(json_string_value(json_object_get(n, "linkType")),
	    "external");
	ck_assert(json_is_true(json_object_get(n, "passive")));
	ck_assert(json_is_false(json_object_get(n, "adminShutdown")));
	ck_assert_int_eq(json_integer_value(json_object_get(n,
	    "configuredHoldTimeMsecs")), 9000);
	ck_assert_int_eq(json_integer_value(json_object_get(n,
	    "configuredKeepaliveIntervalMsecs")), 3000);
	ck_assert_str_eq(json_string_value(json_object_get(n,
	    "remoteRouterId")), "0.0.0.0");
	ms = json_object_get(n, "messageStats");
	ck_assert_int_eq(json_integer_value(json_object_get(ms, "totalSent")),
	    0);
	ck_assert_ptr_null(json_object_get(n, "lastNotificationSent"));
	json_decref(all);
}
END_TEST

static int
count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Exactly one HELP and one TYPE line per family, before its samples. */
START_TEST(test_metrics_text)
{
	struct evbuffer *b = evbuffer_new();
	char *text;
	size_t len;

	d.reloads_ok = 3;
	d.reloads_failed = 1;
	metrics_render(b, &d);
	len = evbuffer_get_length(b);
	text = calloc(1, len + 1);
	evbuffer_remove(b, text, len);
	evbuffer_free(b);

	ck_assert_ptr_nonnull(strstr(text, "\nevpnd_up 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "evpnd_config_reloads_total{result=\"ok\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "evpnd_config_reloads_total{result=\"error\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "evpnd_bgp_peers{state=\"Established\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nevpnd_bgp_peer_state{peer=\"127.0.0.3\",remote_as=\"65001\"} "));
	ck_assert_ptr_nonnull(strstr(text, "\nevpnd_bgp_messages_sent_total"
	    "{peer=\"127.0.0.2\",type=\"keepalive\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nevpnd_bgp_prefixes_received{peer=\"127.0.0.2\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "# TYPE evpnd_bgp_state_changes_total counter\n"));
	ck_assert_int_eq(count_of(text, "# TYPE evpnd_bgp_peer_state "), 1);
	ck_assert_int_eq(count_of(text, "# HELP evpnd_bgp_peer_state "), 1);
	ck_assert_int_eq(count_of(text, "\nevpnd_bgp_peer_state{"), 2);
	ck_assert_int_eq(count_of(text, "# TYPE "), 10);
	ck_assert(text[len - 1] == '\n');
	free(text);
}
END_TEST

START_TEST(test_http_routes)
{
	char *r;
	json_t *j;

	r = request("GET", "/v1/bgp/summary");
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: application/json"));
	j = body_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "as")), 65000);
	json_decref(j);
	free(r);

	r = request("GET", "/v1/bgp/neighbors/127.0.0.2");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert_int_eq(json_object_size(j), 1);
	ck_assert_ptr_nonnull(json_object_get(j, "127.0.0.2"));
	json_decref(j);
	free(r);

	r = request("GET", "/v1/bgp/neighbors/127.0.0.9");
	ck_assert_int_eq(status_of(r), 404);
	j = body_json(r);
	ck_assert_str_eq(error_of(j), "no such neighbor 127.0.0.9");
	json_decref(j);
	free(r);

	r = request("GET", "/v1/bgp/neighbors/not-an-address");
	ck_assert_int_eq(status_of(r), 400);
	free(r);

	r = request("GET", "/v1/bgp/neighborsX");
	ck_assert_int_eq(status_of(r), 404);
	j = body_json(r);
	ck_assert_str_eq(error_of(j), "no such path /v1/bgp/neighborsX");
	json_decref(j);
	free(r);

	r = request("DELETE", "/v1/config");
	ck_assert_int_eq(status_of(r), 405);
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: GET\r\n"));
	j = body_json(r);
	ck_assert_ptr_nonnull(error_of(j));
	json_decref(j);
	free(r);
}
END_TEST

START_TEST(test_http_config_and_metrics)
{
	char *r, *want = conf_print_string(d.conf);
	json_t *j;

	r = request("GET", "/v1/config");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "config")),
	    want);
	json_decref(j);
	free(r);
	free(want);

	r = request("GET", "/metrics");
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r,
	    "Content-Type: text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n# HELP evpnd_up "));
	free(r);
}
END_TEST

START_TEST(test_socket_busy_is_refused)
{
	char err[256] = "";
	struct api *second = api_create(&d, sock_path, err, sizeof(err));
	struct stat st;

	ck_assert_ptr_null(second);
	ck_assert_ptr_nonnull(strstr(err, "another evpnd is already running"));
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0660);
}
END_TEST

START_TEST(test_socket_stale_and_plain_file)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[96], err[256] = "";
	struct api *a;
	int fd;

	/* A socket file nobody listens on: what a crash leaves. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	a = api_create(&d, path, err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	fd = connect_unix(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	api_free(a);
	ck_assert_int_eq(access(path, F_OK), -1);

	/* Anything else at the path is never removed. */
	snprintf(path, sizeof(path), "%s/plain", dir);
	fclose(fopen(path, "w"));
	ck_assert_ptr_null(api_create(&d, path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	ck_assert_int_eq(access(path, F_OK), 0);
	unlink(path);
}
END_TEST

static Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_summary_json);
	tcase_add_test(tc, test_neighbors_json);
	tcase_add_test(tc, test_metrics_text);
	tcase_add_test(tc, test_http_routes);
	tcase_add_test(tc, test_http_config_and_metrics);
	tcase_add_test(tc, test_socket_busy_is_refused);
	tcase_add_test(tc, test_socket_stale_and_plain_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
