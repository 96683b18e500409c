/*
 * The daemon's control API, in process: a real bgp instance built from a
 * parsed config (no listener, passive neighbors, so no traffic), the API
 * served on a Unix socket in a temp dir, and requests written to that
 * socket while the event loop turns.  Checks the route table (200, 404,
 * 405 with Allow), the JSON documents, the /metrics text, and the
 * socket's stale/busy handling.
 *
 * The "ipam" case adds evpn and the IPAM glue with the real SQLite
 * store in the temp dir: every status code of the allocation API with
 * its JSON body, 201 then 200, release 204 then 404, the row in the
 * database after 201, the type-2 route while allocated, a client that
 * hangs up before the commit, and the reload check.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "bgpd/bgp_rib.h"
#include "bgpd/bgpd.h"
#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"
#include "api/api_body.h"
#include "ipamd/ipamd.h"
#include "tests/unit/api_harness.h"
#include "evpn/evpn.h"
#include "ipam/ipam.h"

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
	" address-family l2vpn evpn\n"
	"  neighbor 127.0.0.2 activate\n"
	"  neighbor 127.0.0.2 maximum-prefix 100 90 restart 5\n"
	" exit-address-family\n"
	"exit\n";

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
	/* No family: an empty FRR-style family block. */
	ck_assert_int_eq(json_object_size(json_object_get(n,
	    "addressFamilyInfo")), 0);

	/* maximum-prefix in FRR's keys, under the family's FRR name. */
	n = json_object_get(json_object_get(json_object_get(all, "127.0.0.2"),
	    "addressFamilyInfo"), "l2VpnEvpn");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(json_integer_value(json_object_get(n,
	    "acceptedPrefixCounter")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(n,
	    "prefixAllowedMax")), 100);
	ck_assert_int_eq(json_integer_value(json_object_get(n,
	    "prefixAllowedWarningThresh")), 90);
	ck_assert_int_eq(json_integer_value(json_object_get(n,
	    "prefixAllowedRestartIntervalMsecs")), 300000);
	ck_assert_ptr_null(json_object_get(n, "prefixAllowedMaxWarning"));
	ck_assert_ptr_null(json_object_get(json_object_get(all, "127.0.0.2"),
	    "prefixesConfigExceedMax"));
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

	/* clear bgp: 204, then the usual 404 and 400; GET is not it. */
	r = request("POST", "/v1/bgp/neighbors/127.0.0.2/clear");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	r = request("POST", "/v1/bgp/neighbors/127.0.0.9/clear");
	ck_assert_int_eq(status_of(r), 404);
	j = body_json(r);
	ck_assert_str_eq(error_of(j), "no such neighbor 127.0.0.9");
	json_decref(j);
	free(r);
	r = request("POST", "/v1/bgp/neighbors/x/clear");
	ck_assert_int_eq(status_of(r), 400);
	free(r);
	r = request("GET", "/v1/bgp/neighbors/127.0.0.2/clear");
	ck_assert_int_eq(status_of(r), 400);
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

/* The running config is shown without passwords unless asked. */
START_TEST(test_http_config_secrets)
{
	struct config *running = d.conf;
	char err[256], *r;
	const char *text;
	json_t *j;

	d.conf = conf_parse_string("router bgp 65000\n"
	    " neighbor 127.0.0.2 remote-as 65000\n"
	    " neighbor 127.0.0.2 password Tr0ub4dor&3\n", "t.conf", err,
	    sizeof(err));
	ck_assert_msg(d.conf != NULL, "%s", err);
	r = request("GET", "/v1/config");
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_null(strstr(r, "Tr0ub4dor"));
	j = body_json(r);
	text = json_string_value(json_object_get(j, "config"));
	ck_assert_ptr_nonnull(strstr(text,
	    " neighbor 127.0.0.2 password <redacted>\n"));
	json_decref(j);
	free(r);

	r = request("GET", "/v1/config?secrets=0");
	ck_assert_ptr_null(strstr(r, "Tr0ub4dor"));
	free(r);

	/* The Unix socket is the administrator's: it may ask. */
	r = request("GET", "/v1/config?secrets=1");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	text = json_string_value(json_object_get(j, "config"));
	ck_assert_ptr_nonnull(strstr(text,
	    " neighbor 127.0.0.2 password Tr0ub4dor&3\n"));
	json_decref(j);
	free(r);
	conf_free(d.conf);
	d.conf = running;
}
END_TEST

/* ---- connection limits (api_conn.c) ---- */

/* Turn the loop for ms milliseconds. */
static void
spin(unsigned ms)
{
	uint64_t until = mono_msec() + ms;

	while (mono_msec() < until) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Has the server closed fd?  (Reads and drops what is there.) */
static bool
closed_by_server(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		continue;
	return n == 0 || (n < 0 && errno != EAGAIN);
}

/* Turn the loop until fd is closed or ms pass; the ms it took. */
static unsigned
wait_closed(int fd, unsigned ms)
{
	uint64_t start = mono_msec();

	while (mono_msec() - start < ms) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (closed_by_server(fd))
			return (unsigned)(mono_msec() - start);
		usleep(1000);
	}
	return ms;
}

static void
write_all(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* One keep-alive request on fd; true when a 200 came back. */
static bool
request_on(int fd, const char *path)
{
	char head[256], buf[8192];
	size_t len = 0;

	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
	    path);
	write_all(fd, head);
	for (int spins = 0; spins < 5000; spins++) {
		ssize_t n;

		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = recv(fd, buf + len, sizeof(buf) - len - 1, MSG_DONTWAIT);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL &&
			    buf[len - 1] == '\n')
				return strncmp(buf, "HTTP/1.1 200", 12) == 0;
		} else if (n == 0)
			return false;
		usleep(200);
	}
	return false;
}

START_TEST(test_conn_cap)
{
	struct api_limits lim = { .max_conns = 3, .per_addr = 0,
	    .deadline = 30 };
	int fds[3], extra, again;
	char *r;

	api_set_limits(api, &lim);
	for (int i = 0; i < 3; i++) {
		fds[i] = connect_unix(sock_path);
		ck_assert_int_ge(fds[i], 0);
		spin(20);
	}
	extra = connect_unix(sock_path);
	ck_assert_int_ge(extra, 0);
	/* The fourth is closed at once; the three others stay. */
	ck_assert_uint_lt(wait_closed(extra, 2000), 2000);
	for (int i = 0; i < 3; i++)
		ck_assert(!closed_by_server(fds[i]));
	ck_assert(request_on(fds[0], "/v1/bgp/summary"));
	/* One goes away: a new one is taken in its place. */
	close(fds[2]);
	spin(20);
	again = connect_unix(sock_path);
	spin(50);
	ck_assert(!closed_by_server(again));
	ck_assert(request_on(again, "/v1/bgp/summary"));
	close(extra);
	close(again);
	close(fds[0]);
	close(fds[1]);
	spin(50);
	r = request("GET", "/metrics");
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_api_connections_refused_total"
	    "{listener=\"unix\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_api_requests_cut_total"
	    "{listener=\"unix\"} 0\n"));
	ck_assert_ptr_null(strstr(r, "listener=\"tls\""));
	free(r);
}
END_TEST

/* A client that dribbles its headers is cut off at the deadline. */
START_TEST(test_conn_slowloris)
{
	struct api_limits lim = { .max_conns = 16, .per_addr = 0,
	    .deadline = 1 };
	const char *req = "GET /v1/bgp/summary HTTP/1.1\r\nHost: t\r\n"
	    "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	uint64_t start;
	int fd;

	api_set_limits(api, &lim);
	fd = connect_unix(sock_path);
	ck_assert_int_ge(fd, 0);
	start = mono_msec();
	for (const char *p = req; *p != '\0'; p++) {
		char c[2] = { *p, '\0' };

		if (send(fd, c, 1, MSG_NOSIGNAL) != 1 || closed_by_server(fd))
			break;
		spin(p < req + 30 ? 0 : 100);
		if (mono_msec() - start > 3000)
			break;
	}
	ck_assert(closed_by_server(fd) || wait_closed(fd, 500) < 500);
	ck_assert_uint_ge(mono_msec() - start, 900);
	ck_assert_uint_lt(mono_msec() - start, 2500);
	close(fd);

	/* Idle between requests is no dribbling: a kept-alive connection
	 * idle past the deadline still serves; the clock starts with the
	 * next request's first byte. */
	fd = connect_unix(sock_path);
	ck_assert(request_on(fd, "/v1/bgp/summary"));
	spin(1500);
	ck_assert(!closed_by_server(fd));
	ck_assert(request_on(fd, "/v1/bgp/summary"));
	/* Then a second request dribbled: cut too. */
	write_all(fd, "GET /v1/bgp/summary HTTP/1.1\r\n");
	start = mono_msec();
	ck_assert_uint_lt(wait_closed(fd, 3000), 3000);
	ck_assert_uint_ge(mono_msec() - start, 900);
	close(fd);
}
END_TEST

/* Too large: headers over API_MAX_HEADERS (400), a body over
 * API_MAX_BODY (413). */
START_TEST(test_limits_sizes)
{
	size_t big = API_MAX_HEADERS + 1024;
	char *head = malloc(big + 256), *r;
	int fd, code = 0;
	char buf[1024];
	ssize_t n = 0;

	/* A header section larger than allowed. */
	snprintf(head, big + 256, "GET /v1/bgp/summary HTTP/1.1\r\nHost: t\r\n"
	    "X-Big: ");
	memset(head + strlen(head), 'a', big);
	head[strlen("GET /v1/bgp/summary HTTP/1.1\r\nHost: t\r\nX-Big: ") +
	    big] = '\0';
	strcat(head, "\r\n\r\n");
	fd = connect_unix(sock_path);
	write_all(fd, head);
	for (int i = 0; i < 2000 && n <= 0; i++) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		usleep(500);
	}
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &code), 1);
	/* libevent 2.1 reports header overflow as a bad header: 400, not
	 * 431; what matters is that it stops reading and answers. */
	ck_assert_int_eq(code, 400);
	close(fd);
	free(head);

	/* A body larger than allowed, announced. */
	head = malloc(API_MAX_BODY + 2);
	memset(head, ' ', API_MAX_BODY + 1);
	head[API_MAX_BODY + 1] = '\0';
	r = request_body("POST", "/v1/ipam/pools/p/allocations", head);
	ck_assert_int_eq(status_of(r), 413);
	free(r);
	free(head);
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


/* ---- IPAM ---- */

static const char ipam_conf[] =
	"vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.11\n!\n"
	"vxlan vx200\n vni 200\n local-tunnel-ip 10.0.0.11\n!\n"
	"ipam pool pa\n"
	" tenant t1\n"
	" vni 100\n"
	" prefix 10.10.0.0/24\n"
	" prefix 2001:db8:100::/64\n"
	" gateway 10.10.0.1\n"
	" reserve 10.10.0.20 for storage\n"
	" mac-prefix 02:00:0a\n"
	"!\n"
	"ipam pool tiny\n"
	" vni 200\n"
	" prefix 10.20.0.0/31\n"
	" mac-prefix 02:00:0b\n"
	"!\n"
	"router bgp 65000\n"
	" bgp router-id 10.0.0.11\n"
	" bgp listen-port 0\n"
	" address-family l2vpn evpn\n"
	"  advertise-all-vni\n"
	" exit-address-family\n"
	"exit\n";

static void
ipam_setup(void)
{
	ipam_setup_conf(ipam_conf);
}

/* A resource of pool pa (tenant t1) or of an untenanted pool. */
static const struct ipam_alloc *
find_alloc(const char *res)
{
	const struct ipam *ipam = ipamd_ipam(d.ipamd);
	const struct ipam_alloc *a = ipam_find(ipam, "t1", res);

	return a != NULL ? a : ipam_find(ipam, NULL, res);
}

/* The status and the exact error message of a failing request. */
static void
expect_error(const char *pool, const char *body, int code, const char *msg)
{
	json_t *j;

	ck_assert_int_eq(allocate(pool, body, &j), code);
	ck_assert_msg(error_of(j) != NULL, "no error for %s", body);
	if (msg != NULL)
		ck_assert_str_eq(error_of(j), msg);
	json_decref(j);
}

START_TEST(test_ipam_errors)
{
	char big[API_IPAM_MAX_BODY + 64], longres[300], body[400];
	json_t *j;
	char *r;

	expect_error("nope", "{\"resource\": \"a\"}", 404, "no such pool nope");
	expect_error("pa", "{\"resource\": ", 400, NULL);
	expect_error("pa", "[1, 2]", 400, "the body must be a JSON object");
	expect_error("pa", "{\"resource\": \"a\", \"color\": \"red\"}", 400,
	    "unknown field 'color'");
	expect_error("pa", "{\"resource\": \"a\", \"resource\": \"b\"}", 400,
	    NULL);
	expect_error("pa", "{\"family\": \"ipv4\"}", 400, NULL);
	expect_error("pa", "{\"resource\": \"\"}", 400, NULL);
	expect_error("pa", "{\"resource\": \"has space\"}", 400, NULL);
	expect_error("pa", "{\"resource\": 7}", 400,
	    "field 'resource' must be a string");
	memset(longres, 'r', 256);
	longres[256] = '\0';
	snprintf(body, sizeof(body), "{\"resource\": \"%s\"}", longres);
	expect_error("pa", body, 400, NULL);
	expect_error("pa", "{\"resource\": \"a\", \"family\": \"ipx\"}", 400,
	    "'family' must be ipv4, ipv6 or dual");
	expect_error("pa", "{\"resource\": \"a\", \"mac\": \"01:00:5e:00:00:01\"}",
	    400, "'mac' must be a unicast 6-byte MAC address");
	expect_error("pa", "{\"resource\": \"a\", \"mac\": \"02:00:00:00:01\"}",
	    400, NULL);
	expect_error("pa", "{\"resource\": \"a\", \"mac\": \"00:00:00:00:00:00\"}",
	    400, NULL);
	expect_error("tiny", "{\"resource\": \"a\", \"family\": \"ipv6\"}", 400,
	    NULL);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"resource\": \"a\"}", 17);
	expect_error("pa", big, 400, NULL);
	/* Nothing of the above allocated anything. */
	ck_assert_ptr_null(find_alloc("a"));

	/* Exhausted: a /31 has two addresses. */
	ck_assert_int_eq(allocate("tiny", "{\"resource\": \"t1\"}", &j), 201);
	json_decref(j);
	ck_assert_int_eq(allocate("tiny", "{\"resource\": \"t2\"}", &j), 201);
	json_decref(j);
	expect_error("tiny", "{\"resource\": \"t3\"}", 409,
	    "pool tiny is exhausted");
	/* Names are per tenant: tiny's t1 (no tenant) is not pa's (t1). */
	ck_assert_int_eq(allocate("pa", "{\"resource\": \"t1\"}", &j), 201);
	ck_assert_str_eq(json_string_value(json_object_get(j, "pool")), "pa");
	json_decref(j);
	ck_assert_str_eq(ipam_find(ipamd_ipam(d.ipamd), NULL, "t1")->pool,
	    "tiny");
	ck_assert_str_eq(ipam_find(ipamd_ipam(d.ipamd), "t1", "t1")->pool,
	    "pa");
	/* Releasing it must then say which. */
	r = request("DELETE", "/v1/ipam/allocations/t1");
	ck_assert_int_eq(status_of(r), 409);
	j = body_json(r);
	ck_assert_str_eq(error_of(j), "t1 is allocated in more than one pool "
	    "(pa, tiny): name it with ?pool=");
	json_decref(j);
	free(r);
	r = request("DELETE", "/v1/ipam/allocations/t1?pool=tiny");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	ck_assert_ptr_null(ipam_find(ipamd_ipam(d.ipamd), NULL, "t1"));
	ck_assert_ptr_nonnull(ipam_find(ipamd_ipam(d.ipamd), "t1", "t1"));
	r = request("DELETE", "/v1/ipam/allocations/t1?pool=nope");
	ck_assert_int_eq(status_of(r), 404);
	free(r);
	r = request("DELETE", "/v1/ipam/allocations/t1");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	/* A MAC already in use. */
	ck_assert_int_eq(allocate("pa", "{\"resource\": \"m1\", \"mac\": "
	    "\"02:aa:00:00:00:01\"}", &j), 201);
	json_decref(j);
	expect_error("pa", "{\"resource\": \"m2\", \"mac\": "
	    "\"02:aa:00:00:00:01\"}", 409, "MAC already in use in pool pa");
	/* This VTEP's router MAC (router id 10.0.0.11) is never handed
	 * out, though it lies under the pool's mac-prefix. */
	expect_error("pa", "{\"resource\": \"m3\", \"mac\": "
	    "\"02:00:0a:00:00:0b\"}", 409, "MAC 02:00:0a:00:00:0b is reserved: "
	    "it is a VTEP's router or bridge MAC and is never handed out");
	/* A repeat is idempotent only for the same question. */
	expect_error("pa", "{\"resource\": \"m1\", \"family\": \"dual\"}",
	    409, "resource m1 is allocated in pool pa with other parameters "
	    "(a repeated request must ask the same)");
	/* The shadow inventory's names are not for clients. */
	expect_error("pa", "{\"resource\": \"shadow:pa:1\"}", 400, NULL);
}
END_TEST

START_TEST(test_ipam_allocate_release)
{
	const char *body = "{\"resource\": \"pod-1\", \"family\": \"dual\"}";
	json_t *first, *again;
	char *r;

	ck_assert_int_eq(allocate("pa", body, &first), 201);
	ck_assert_str_eq(json_string_value(json_object_get(first, "resource")),
	    "pod-1");
	ck_assert_str_eq(json_string_value(json_object_get(first, "pool")),
	    "pa");
	ck_assert_int_eq(json_integer_value(json_object_get(first, "vni")),
	    100);
	ck_assert_str_eq(json_string_value(json_object_get(first, "ip")),
	    "10.10.0.2");
	ck_assert_str_eq(json_string_value(json_object_get(first, "ipv6")),
	    "2001:db8:100::1");
	ck_assert_str_eq(json_string_value(json_object_get(first, "mac")),
	    "02:00:0a:00:00:01");
	ck_assert(json_is_false(json_object_get(first, "preallocated")));
	/* Durable: the row is in the database once 201 is out. */
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "resource = 'pod-1' AND ip = '10.10.0.2'"), 1);
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "10.10.0.2"), 1);
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "2001:db8:100::1"),
	    1);

	ck_assert_int_eq(allocate("pa", body, &again), 200);
	ck_assert(json_equal(first, again));
	json_decref(again);
	json_decref(first);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations"), 1);

	r = request("DELETE", "/v1/ipam/allocations/pod-1");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations"), 0);
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "10.10.0.2"), 0);
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "2001:db8:100::1"),
	    0);
	r = request("DELETE", "/v1/ipam/allocations/pod-1");
	ck_assert_int_eq(status_of(r), 404);
	first = body_json(r);
	ck_assert_str_eq(error_of(first), "no allocation for pod-1");
	json_decref(first);
	free(r);
}
END_TEST

/* A resource id with '/' travels percent-encoded in the DELETE path. */
START_TEST(test_ipam_encoded_resource)
{
	json_t *j;
	char *r;

	ck_assert_int_eq(allocate("pa", "{\"resource\": \"ns/pod\"}", &j),
	    201);
	json_decref(j);
	r = request("DELETE", "/v1/ipam/allocations/ns%2Fpod");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	ck_assert_ptr_null(find_alloc("ns/pod"));
}
END_TEST

/* The client hangs up before the commit: no crash, still allocated. */
START_TEST(test_ipam_client_gone)
{
	const char req[] = "POST /v1/ipam/pools/pa/allocations HTTP/1.1\r\n"
	    "Host: t\r\nContent-Length: 20\r\n\r\n{\"resource\": \"gone\"}";
	int fd = connect_unix(sock_path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	/* Let the server read and submit, then vanish. */
	for (int i = 0; i < 200 && find_alloc("gone") ==
	    NULL; i++) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_ptr_nonnull(find_alloc("gone"));
	close(fd);
	for (int i = 0; i < 200; i++) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ipamd_drain(d.ipamd);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "resource = 'gone'"), 1);
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "10.10.0.2"), 1);
}
END_TEST

/* ---- large views: streamed, or in pages ---- */

static void
count_done(const struct ipamd_result *res, void *arg)
{
	ck_assert_int_eq(res->status, 0);
	(*(unsigned *)arg)++;
}

/* n allocations in pool, committed. */
static void
allocate_many(const char *pool, unsigned n)
{
	struct ipam_request req = { .family = IPAM_FAMILY_IPV4 };
	char name[32];
	unsigned done = 0;

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bulk-%u", i);
		req.resource = name;
		ck_assert_int_eq(ipamd_allocate(d.ipamd, pool, &req, NULL,
		    count_done, &done), 0);
	}
	for (int spins = 0; done < n && spins < 200000; spins++) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(100);
	}
	ck_assert_uint_eq(done, n);
}

/* The routes' prefixes as the keys of an object: a set, so that checking
 * thousands of routes stays linear (quadratic timed out under ASan). */
static json_t *
prefix_set(json_t *routes)
{
	json_t *set = json_object(), *r;
	size_t i;

	json_array_foreach(routes, i, r)
		json_object_set_new(set, json_string_value(json_object_get(r,
		    "prefix")), json_true());
	return set;
}

START_TEST(test_evpn_routes_streamed_and_paged)
{
	static const char big[] =
	    "vxlan vx300\n vni 300\n local-tunnel-ip 10.0.0.11\n!\n"
	    "ipam pool big\n vni 300\n prefix 10.64.0.0/19\n"
	    " mac-prefix 02:00:0c\n!\n"
	    "router bgp 65000\n bgp router-id 10.0.0.11\n bgp listen-port 0\n"
	    " address-family l2vpn evpn\n  advertise-all-vni\n"
	    " exit-address-family\nexit\n";
	json_t *whole = NULL, *all, *page, *seen = json_object(), *r, *set;
	char *resp, *body, path[128];
	json_error_t jerr;
	const char *next = NULL;
	char *last = NULL;
	unsigned pages = 0;
	size_t total, i;

	ipam_teardown();
	ipam_setup_conf(big);
	allocate_many("big", 2 * API_STREAM_SLICE + 500);
	all = evpn_routes_json(d.evpn, 0, 0);
	total = json_array_size(json_object_get(all, "routes"));
	ck_assert_uint_gt(total, 2 * API_STREAM_SLICE);

	/* The whole table: chunked, several slices, every route once. */
	resp = request("GET", "/v1/evpn/routes");
	ck_assert_int_eq(status_of(resp), 200);
	body = dechunk(resp);
	ck_assert_msg(body != NULL, "the answer is not chunked");
	whole = json_loads(body, 0, &jerr);
	ck_assert_msg(whole != NULL, "%s", jerr.text);
	ck_assert_uint_eq(json_integer_value(json_object_get(whole, "total")),
	    total);
	ck_assert_uint_eq(json_array_size(json_object_get(whole, "routes")),
	    total);
	set = prefix_set(json_object_get(whole, "routes"));
	json_array_foreach(json_object_get(all, "routes"), i, r)
		ck_assert(json_object_get(set, json_string_value(
		    json_object_get(r, "prefix"))) != NULL);
	json_decref(set);
	free(body);
	free(resp);

	/* In pages of about 700: the same routes, none twice. */
	do {
		if (next == NULL)
			snprintf(path, sizeof(path), "/v1/evpn/routes?limit=700");
		else
			snprintf(path, sizeof(path),
			    "/v1/evpn/routes?limit=700&after=%s", next);
		resp = request("GET", path);
		ck_assert_int_eq(status_of(resp), 200);
		page = body_json(resp);
		free(resp);
		ck_assert_uint_le(json_array_size(json_object_get(page,
		    "routes")), 700 + 16);
		json_array_foreach(json_object_get(page, "routes"), i, r) {
			const char *pfx = json_string_value(json_object_get(r,
			    "prefix"));

			ck_assert_msg(json_object_get(seen, pfx) == NULL,
			    "%s twice", pfx);
			json_object_set(seen, pfx, r);
		}
		free(last);
		next = json_string_value(json_object_get(page, "next"));
		next = last = next ? strdup(next) : NULL;
		json_decref(page);
		pages++;
	} while (next != NULL && pages < 100);
	ck_assert_uint_ge(pages, 3);
	ck_assert_uint_eq(json_object_size(seen), total);

	resp = request("GET", "/v1/evpn/routes?after=5");
	ck_assert_int_eq(status_of(resp), 400);
	free(resp);
	resp = request("GET", "/v1/evpn/routes?limit=0");
	ck_assert_int_eq(status_of(resp), 400);
	free(resp);
	json_decref(seen);
	json_decref(whole);
	json_decref(all);
}
END_TEST

static bool
resource_in(json_t *allocs, const char *res)
{
	size_t i;
	json_t *a;

	json_array_foreach(allocs, i, a)
		if (strcmp(json_string_value(json_object_get(a, "resource")),
		    res) == 0)
			return true;
	return false;
}

/*
 * GET /v1/ipam/allocations streamed, and in pages: releases between two
 * pages neither skip nor repeat an allocation that stays.
 */
START_TEST(test_ipam_allocations_paged)
{
	json_t *j, *seen = json_array(), *r;
	char path[160], *resp, *next = NULL;
	unsigned pages = 0;
	size_t i;

	allocate_many("pa", 30);
	resp = request("GET", "/v1/ipam/allocations");
	ck_assert_int_eq(status_of(resp), 200);
	ck_assert_ptr_nonnull(strstr(resp, "Transfer-Encoding: chunked"));
	j = body_json(resp);
	free(resp);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 30);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "allocations")),
	    30);
	json_decref(j);

	do {
		snprintf(path, sizeof(path), "/v1/ipam/allocations?pool=pa&"
		    "limit=7%s%s", next ? "&after=" : "", next ? next : "");
		resp = request("GET", path);
		ck_assert_int_eq(status_of(resp), 200);
		j = body_json(resp);
		free(resp);
		ck_assert_uint_le(json_array_size(json_object_get(j,
		    "allocations")), 7);
		json_array_foreach(json_object_get(j, "allocations"), i, r) {
			const char *res = json_string_value(json_object_get(r,
			    "resource"));

			ck_assert_msg(!resource_in(seen, res), "%s twice", res);
			json_array_append(seen, r);
		}
		free(next);
		next = json_string_value(json_object_get(j, "next")) ?
		    strdup(json_string_value(json_object_get(j, "next"))) :
		    NULL;
		json_decref(j);
		/* After the first page: one listed and one to come go. */
		if (++pages == 1) {
			resp = request("DELETE", "/v1/ipam/allocations/bulk-2");
			ck_assert_int_eq(status_of(resp), 204);
			free(resp);
			resp = request("DELETE", "/v1/ipam/allocations/bulk-20");
			ck_assert_int_eq(status_of(resp), 204);
			free(resp);
		}
	} while (next != NULL && pages < 20);
	ck_assert_uint_ge(pages, 4);
	for (i = 0; i < 30; i++) {
		snprintf(path, sizeof(path), "bulk-%zu", i);
		if (i != 20)
			ck_assert_msg(resource_in(seen, path), "%s missed",
			    path);
	}
	ck_assert(!resource_in(seen, "bulk-20"));
	resp = request("GET", "/v1/ipam/allocations?after=0:3");
	ck_assert_int_eq(status_of(resp), 400);
	free(resp);
	resp = request("GET", "/v1/ipam/allocations?limit=5&after=x");
	ck_assert_int_eq(status_of(resp), 400);
	free(resp);
	json_decref(seen);
}
END_TEST

/* The seq an anchor file names; -1 when there is none. */
static int64_t
anchor_seq(const char *path)
{
	long long seq = -1;
	char line[512];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL ||
	    strstr(line, " seq ") == NULL ||
	    sscanf(strstr(line, " seq "), " seq %lld", &seq) != 1)
		seq = -1;
	fclose(f);
	return seq;
}

/*
 * The audit check runs off the loop: while it is stuck (its first read,
 * the anchor, made a FIFO nobody writes yet), the API still answers.
 */
START_TEST(test_ipam_audit_off_loop)
{
	char anchor[256], saved[256], text[512], head[256], buf[4096], *r;
	uint64_t t0;
	size_t len = 0;
	ssize_t n;
	int fd, afd;
	FILE *f;
	json_t *j;

	ck_assert_int_eq(allocate("pa", "{\"resource\": \"a1\"}", &j), 201);
	json_decref(j);
	ipamd_drain(d.ipamd);
	snprintf(anchor, sizeof(anchor), "%s/ipam.anchor", state_dir);
	snprintf(saved, sizeof(saved), "%s/anchor.saved", state_dir);
	/* The writer moves the anchor to the head once idle, after the
	 * commit was answered: wait for the last record's anchor, or it
	 * could replace the FIFO below on a busy machine. */
	t0 = mono_msec();
	while (anchor_seq(anchor) != db_count("SELECT MAX(seq) FROM audit") &&
	    mono_msec() - t0 < 30000)
		spin(10);
	ck_assert_int_eq(anchor_seq(anchor),
	    db_count("SELECT MAX(seq) FROM audit"));
	ck_assert_int_eq(rename(anchor, saved), 0);
	f = fopen(saved, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(mkfifo(anchor, 0600), 0);

	fd = connect_unix(sock_path);
	snprintf(head, sizeof(head), "GET /v1/ipam/audit HTTP/1.1\r\n"
	    "Host: t\r\nConnection: close\r\n\r\n");
	write_all(fd, head);
	spin(100);
	t0 = mono_msec();
	r = request("GET", "/v1/bgp/summary");
	ck_assert_int_eq(status_of(r), 200);
	free(r);
	ck_assert_uint_lt(mono_msec() - t0, 1000);
	/* The audit answer is still to come. */
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);

	afd = open(anchor, O_WRONLY);
	ck_assert_int_ge(afd, 0);
	ck_assert_int_eq(write(afd, text, len), (ssize_t)len);
	close(afd);
	len = 0;
	/* Bounded by time, not turns: the verification thread may wait
	 * for a core on a busy machine. */
	t0 = mono_msec();
	while (mono_msec() - t0 < 60000 && len < sizeof(buf) - 1) {
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = recv(fd, buf + len, sizeof(buf) - len - 1, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		usleep(500);
	}
	buf[len] = '\0';
	close(fd);
	unlink(anchor);
	ck_assert_int_eq(rename(saved, anchor), 0);
	ck_assert_msg(len > 0, "no audit answer in %llu ms",
	    (unsigned long long)(mono_msec() - t0));
	ck_assert_int_eq(status_of(buf), 200);
	j = body_json(buf);
	ck_assert_msg(json_is_true(json_object_get(j, "ok")), "%s",
	    json_string_value(json_object_get(j, "reason")));
	json_decref(j);
}
END_TEST

START_TEST(test_ipam_views)
{
	json_t *j, *p;
	char *r;

	ck_assert_int_eq(allocate("pa", "{\"resource\": \"v1\"}", &j), 201);
	json_decref(j);
	ck_assert_int_eq(allocate("tiny", "{\"resource\": \"v2\"}", &j), 201);
	json_decref(j);

	r = request("GET", "/v1/ipam/pools/pa");
	ck_assert_int_eq(status_of(r), 200);
	p = body_json(r);
	free(r);
	ck_assert_str_eq(json_string_value(json_object_get(p, "tenant")),
	    "t1");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p,
	    "prefixes"), 1)), "2001:db8:100::/64");
	/* /24 less network, broadcast, gateway: 253, one reserved. */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(p,
	    "ipv4"), "size")), 252);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "used")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "reserved")), 1);
	ck_assert(json_is_real(json_object_get(p, "size")));
	/* the gateway per family, absent where the pool has none */
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "ipv4"), "gateway")), "10.10.0.1");
	ck_assert_ptr_null(json_object_get(json_object_get(p, "ipv6"),
	    "gateway"));
	json_decref(p);

	r = request("GET", "/v1/ipam/pools/none");
	ck_assert_int_eq(status_of(r), 404);
	free(r);
	r = request("GET", "/v1/ipam/pools");
	j = body_json(r);
	ck_assert_int_eq(json_array_size(json_object_get(j, "pools")), 2);
	json_decref(j);
	free(r);

	r = request("GET", "/v1/ipam/allocations?pool=tiny");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "allocations"), 0), "resource")), "v2");
	json_decref(j);
	free(r);
	r = request("GET", "/v1/ipam/allocations");
	j = body_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 2);
	json_decref(j);
	free(r);
	r = request("GET", "/v1/ipam/allocations?pool=zzz");
	ck_assert_int_eq(status_of(r), 404);
	free(r);

	r = request("GET", "/v1/ipam/conflicts");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 0);
	json_decref(j);
	free(r);

	r = request("GET", "/v1/ipam/audit");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	/* The reservation and two allocations. */
	ck_assert_int_eq(json_integer_value(json_object_get(j, "records")), 3);
	json_decref(j);
	free(r);

	r = request("GET", "/v1/ipam/pools/pa/allocations");
	ck_assert_int_eq(status_of(r), 405);
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: POST\r\n"));
	free(r);

	r = request("GET", "/metrics");
	ck_assert_ptr_nonnull(strstr(r,
	    "\nevpnd_ipam_allocations{pool=\"tiny\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_ipam_conflicts_total 0\n"));
	free(r);
}
END_TEST

/* Reload: adding a pool is fine, removing or changing one is refused. */
START_TEST(test_ipam_reload_check)
{
	static const char *const bad[][2] = {
		{ "prefix 10.20.0.0/31", "prefix 10.20.0.0/30" },
		{ " vni 200\n prefix", " vni 300\n prefix" },
		{ "quarantine", "quarantine" },	/* placeholder, skipped */
		{ "ipam pool tiny", "ipam pool tinier" },
		{ "reserve 10.10.0.20 for storage", "reserve 10.10.0.21 for st" },
	};
	char err[512], text[4096];
	struct config *next;
	const char *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strcmp(bad[i][0], "quarantine") == 0)
			continue;
		p = strstr(ipam_conf, bad[i][0]);
		ck_assert_ptr_nonnull(p);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - ipam_conf),
		    ipam_conf, bad[i][1], p + strlen(bad[i][0]));
		next = conf_parse_string(text, "next", err, sizeof(err));
		ck_assert_msg(next != NULL, "%s", err);
		ck_assert_int_eq(ipamd_reload_check(d.ipamd, d.conf, next, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, "restart evpnd to apply") != NULL,
		    "%s", err);
		conf_free(next);
	}
	snprintf(text, sizeof(text), "%s", ipam_conf);
	p = strstr(text, "router bgp");
	snprintf(text + (p - text), sizeof(text) - (size_t)(p - text),
	    "ipam pool extra\n prefix 172.16.0.0/24\n!\n%s",
	    strstr(ipam_conf, "router bgp"));
	next = conf_parse_string(text, "next", err, sizeof(err));
	ck_assert_msg(next != NULL, "%s", err);
	ck_assert_msg(ipamd_reload_check(d.ipamd, d.conf, next, err,
	    sizeof(err)) == 0, "%s", err);
	ipamd_reload_apply(d.ipamd, d.conf, next);
	ck_assert_ptr_nonnull(ipam_pool_find(ipamd_ipam(d.ipamd), "extra"));
	conf_free(next);
}
END_TEST

/* The daemon's conversion of config pools (ipam/ knows nothing of conf/). */
START_TEST(test_pools_from_conf)
{
	const struct conf_ipam_pool *cp;
	struct ipam_pool_stats st;
	struct ipam *ipam = ipam_new();
	struct config *c;
	char path[1024], err[512], buf[MAC_STRLEN];
	const char *top = getenv("top_srcdir");
	struct ipam_request req = { .resource = "pod",
	    .family = IPAM_FAMILY_DUAL, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	bool existing;

	snprintf(path, sizeof(path), "%s/tests/conf/ipam.conf", top ? top :
	    ".");
	c = conf_parse_file(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	TAILQ_FOREACH(cp, &c->ipam_pools, entry)
		ck_assert_msg(ipamd_pool_from_conf(ipam, cp, err, sizeof(err)) == 0,
		    "%s", err);
	/* /16 less network, broadcast, gateway, 14 + 1 excluded, 1 reserved */
	ipam_pool_stats(ipam_pool_find(ipam, "tenant-a-train"), &st);
	ck_assert_double_eq(st.v4.size, 65517);
	ck_assert_uint_eq(st.reserved, 1);
	ck_assert_str_eq(ipam_pool_tenant(ipam_pool_find(ipam, "tenant-b")),
	    "tenant-b");
	ck_assert_ptr_eq(ipam_pool_by_vni(ipam, 200), ipam_pool_find(ipam,
	    "tenant-b"));
	ck_assert_int_eq(ipam_allocate(ipam, "tenant-a-train", &req, &a,
	    &existing), 0);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:0a:00:00:01");
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.10.0.16");
	conf_free(c);
	ipam_free(ipam);
}
END_TEST

/* Another connection holds the store's write lock: the DELETE cannot
 * commit (SQLITE_BUSY after the busy timeout) and answers 503; the
 * allocation and its route stay. */
START_TEST(test_ipam_release_locked)
{
	char path[256], *r;
	sqlite3 *lock;
	json_t *j;

	ck_assert_int_eq(allocate("pa", "{\"resource\": \"pod-1\"}", &j), 201);
	json_decref(j);
	snprintf(path, sizeof(path), "%s/ipam.db", state_dir);
	ck_assert_int_eq(sqlite3_open(path, &lock), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL,
	    NULL), SQLITE_OK);
	r = request("DELETE", "/v1/ipam/allocations/pod-1");
	ck_assert_int_eq(status_of(r), 503);
	j = body_json(r);
	ck_assert_str_eq(error_of(j), "the release could not be committed "
	    "(the IPAM store failed; the allocation is kept)");
	json_decref(j);
	free(r);
	ck_assert_ptr_nonnull(find_alloc("pod-1"));
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "10.10.0.2"), 1);
	ck_assert_int_eq(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(lock);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "resource = 'pod-1'"), 1);
	r = request("DELETE", "/v1/ipam/allocations/pod-1");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	ck_assert_int_eq(route_count("02:00:0a:00:00:01", "10.10.0.2"), 0);
}
END_TEST

/* GET /v1/ipam/audit/records: from a seq, in slices; actors. */
START_TEST(test_ipam_audit_records)
{
	json_t *j, *rec;
	char *r;

	ck_assert_int_eq(allocate("pa", "{\"resource\": \"a\"}", &j), 201);
	json_decref(j);
	ck_assert_int_eq(allocate("pa", "{\"resource\": \"b\"}", &j), 201);
	json_decref(j);
	r = request("GET", "/v1/ipam/audit/records?since=1&limit=1");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "next")), 2);
	ck_assert(json_is_true(json_object_get(j, "more")));
	rec = json_array_get(json_object_get(j, "records"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "op")),
	    "allocate");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "actor")),
	    "local");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "resource")),
	    "a");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(rec,
	    "hmac"))), 64);
	json_decref(j);
	free(r);
	r = request("GET", "/v1/ipam/audit/records");
	j = body_json(r);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 3);
	ck_assert(json_is_false(json_object_get(j, "more")));
	rec = json_array_get(json_object_get(j, "records"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "actor")),
	    "config");
	json_decref(j);
	free(r);
	r = request("GET", "/v1/ipam/audit/records?limit=x");
	ck_assert_int_eq(status_of(r), 400);
	free(r);
	r = request("GET", "/v1/ipam/audit/records?since=-1");
	ck_assert_int_eq(status_of(r), 400);
	free(r);
	r = request("GET", "/v1/ipam/audit/records?limit=10001");
	ck_assert_int_eq(status_of(r), 400);
	free(r);
}
END_TEST

/* Audit records removed while evpnd is stopped: the IPAM is refused
 * (EBADMSG), its API answers 503, and GET /v1/ipam/audit still says
 * what is wrong, from the state directory. */
START_TEST(test_ipam_refused)
{
	char err[1024], path[256], *r;
	sqlite3 *db;
	json_t *j;

	ck_assert_int_eq(allocate("pa", "{\"resource\": \"a\"}", &j), 201);
	json_decref(j);
	ipamd_drain(d.ipamd);
	ipamd_free(d.ipamd);
	d.ipamd = NULL;
	snprintf(path, sizeof(path), "%s/ipam.db", state_dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 2",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_ptr_null(ipamd_create(d.base, d.evpn, d.conf, state_dir,
	    err, sizeof(err)));
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "records 2..2 are missing at the "
	    "end"));
	d.state_dir = state_dir;
	r = request("GET", "/v1/ipam/pools");
	ck_assert_int_eq(status_of(r), 503);
	free(r);
	r = request("GET", "/v1/ipam/audit");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	ck_assert(json_is_false(json_object_get(j, "ok")));
	ck_assert(json_is_true(json_object_get(j, "truncated")));
	ck_assert(json_is_false(json_object_get(j, "rolledBack")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "lastSeq")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "headSeq")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "anchorSeq")),
	    2);
	json_decref(j);
	free(r);
}
END_TEST

static Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("core");

	/* check's default is 4 s; test_conn_slowloris alone sleeps 3.5 s. */
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_summary_json);
	tcase_add_test(tc, test_neighbors_json);
	tcase_add_test(tc, test_metrics_text);
	tcase_add_test(tc, test_http_routes);
	tcase_add_test(tc, test_http_config_and_metrics);
	tcase_add_test(tc, test_http_config_secrets);
	tcase_add_test(tc, test_conn_cap);
	tcase_add_test(tc, test_conn_slowloris);
	tcase_add_test(tc, test_limits_sizes);
	tcase_add_test(tc, test_socket_busy_is_refused);
	tcase_add_test(tc, test_socket_stale_and_plain_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipam");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, ipam_setup, ipam_teardown);
	tcase_add_test(tc, test_ipam_errors);
	tcase_add_test(tc, test_ipam_allocate_release);
	tcase_add_test(tc, test_pools_from_conf);
	tcase_add_test(tc, test_ipam_encoded_resource);
	tcase_add_test(tc, test_ipam_client_gone);
	tcase_add_test(tc, test_ipam_views);
	tcase_add_test(tc, test_ipam_reload_check);
	tcase_add_test(tc, test_ipam_release_locked);
	tcase_add_test(tc, test_ipam_audit_records);
	tcase_add_test(tc, test_ipam_refused);
	tcase_add_test(tc, test_evpn_routes_streamed_and_paged);
	tcase_add_test(tc, test_ipam_audit_off_loop);
	tcase_add_test(tc, test_ipam_allocations_paged);
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
