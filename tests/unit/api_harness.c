/*
 * The API tests' harness (api_harness.h).
 */
#include "tests/unit/api_harness.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "bgpd/bgp_rib.h"
#include "bgpd/bgpd.h"
#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"
#include "ipamd/ipamd.h"
#include "evpn/evpn.h"

struct evpnd d;
struct api *api;
char dir[64];
char sock_path[128];
char state_dir[128];

int
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
 * Send one request (body may be NULL) and turn the loop until the
 * server closes: the whole response, NUL-terminated, malloc'd.
 */
char *
request_body(const char *method, const char *path, const char *body)
{
	char head[1024], *resp = NULL;
	size_t len = 0, blen = body ? strlen(body) : 0;
	int fd = connect_unix(sock_path);

	ck_assert_int_ge(fd, 0);
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n", method,
	    path, blen);
	ck_assert_int_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	for (size_t off = 0; off < blen; ) {
		ssize_t n = write(fd, body + off, blen - off);

		if (n < 0 && errno == EAGAIN) {
			event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			continue;
		}
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	/* Bounded by time (30 s), not turns: a busy machine is slow. */
	for (uint64_t t0 = mono_msec(); mono_msec() - t0 < 30000; ) {
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

char *
request(const char *method, const char *path)
{
	return request_body(method, path, NULL);
}

int
status_of(const char *resp)
{
	int code = 0;

	ck_assert_int_eq(sscanf(resp, "HTTP/1.1 %d", &code), 1);
	return code;
}

/* The body of a chunked answer, joined (malloc'd); NULL if not chunked. */
char *
dechunk(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");
	char *out = xcalloc(1, strlen(resp) + 1), *end;
	size_t len = 0;

	if (strstr(resp, "Transfer-Encoding: chunked\r\n") == NULL ||
	    p == NULL) {
		free(out);
		return NULL;
	}
	p += 4;
	for (;;) {
		unsigned long n = strtoul(p, &end, 16);

		ck_assert_ptr_ne(end, p);
		ck_assert(strncmp(end, "\r\n", 2) == 0);
		p = end + 2;
		if (n == 0)
			break;
		ck_assert_uint_le(n, strlen(p));
		memcpy(out + len, p, n);
		len += n;
		p += n;
		ck_assert(strncmp(p, "\r\n", 2) == 0);
		p += 2;
	}
	return out;
}

/* The JSON body of an answer, chunked (a streamed view) or not. */
json_t *
body_json(const char *resp)
{
	const char *body = strstr(resp, "\r\n\r\n");
	char *joined = dechunk(resp);
	json_error_t jerr;
	json_t *j;

	ck_assert_ptr_nonnull(body);
	j = json_loads(joined != NULL ? joined : body + 4, 0, &jerr);
	ck_assert_msg(j != NULL, "bad JSON: %s", jerr.text);
	free(joined);
	return j;
}

const char *
error_of(json_t *j)
{
	return json_string_value(json_object_get(j, "error"));
}


/* The daemon's parts on the config text, the state under state_dir. */
static void
daemon_start(const char *text)
{
	char err[512];

	memset(&d, 0, sizeof(d));
	d.base = event_base_new();
	d.conf = conf_parse_string(text, "ipam.conf", err, sizeof(err));
	ck_assert_msg(d.conf != NULL, "%s", err);
	d.conf_path = "ipam.conf";
	d.state_dir = state_dir;
	d.bgp = bgp_create(d.base, d.conf, err, sizeof(err));
	ck_assert_msg(d.bgp != NULL, "%s", err);
	d.rib = bgp_rib_create(d.bgp);
	d.evpn = evpn_create(d.bgp, d.rib, d.conf, err, sizeof(err));
	ck_assert_msg(d.evpn != NULL, "%s", err);
	d.ipamd = ipamd_create(d.base, d.evpn, d.conf, state_dir, err,
	    sizeof(err));
	ck_assert_msg(d.ipamd != NULL, "%s", err);
	api = api_create(&d, sock_path, err, sizeof(err));
	ck_assert_msg(api != NULL, "%s", err);
}

static void
daemon_stop(void)
{
	ipamd_drain(d.ipamd);
	api_free(api);
	bgp_free(d.bgp);
	evpn_free(d.evpn);
	bgp_rib_free(d.rib);
	ipamd_free(d.ipamd);
	conf_free(d.conf);
	event_base_free(d.base);
}

void
ipam_setup_conf(const char *text)
{
	log_set_level(LOG_WARNING);
	/* As evpnd does: a client that hangs up costs an EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/evpnd-test-api.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/run/evpnd.sock", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	daemon_start(text);
}

void
ipam_restart(const char *text)
{
	daemon_stop();
	daemon_start(text);
}

void
ipam_teardown(void)
{
	char cmd[256];

	daemon_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* POST an allocation; returns the status, *j the body (caller frees). */
int
allocate(const char *pool, const char *body, json_t **j)
{
	char path[256], *r;
	int code;

	snprintf(path, sizeof(path), "/v1/ipam/pools/%s/allocations", pool);
	r = request_body("POST", path, body);
	code = status_of(r);
	*j = body_json(r);
	free(r);
	return code;
}

int64_t
db_count(const char *sql)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/ipam.db", state_dir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Type-2 routes of VNI 100 with this MAC and IP. */
int
route_count(const char *mac, const char *ip)
{
	json_t *o = evpn_routes_json(d.evpn, 2, 100), *r;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(o, "routes"), i, r) {
		const char *m = json_string_value(json_object_get(r, "mac"));
		const char *a = json_string_value(json_object_get(r, "ip"));

		if (m && a && strcmp(m, mac) == 0 && strcmp(a, ip) == 0 &&
		    json_integer_value(json_object_get(r, "vni")) == 100 &&
		    json_integer_value(json_object_get(r, "type")) == 2)
			n++;
	}
	json_decref(o);
	return n;
}
