/*
 * ipam_load: a load generator for evpnd's IPAM API over its Unix socket,
 * for the IPAM benchmark (tests/bench/bench_ipam.sh).
 *
 * How this works
 *
 * C keep-alive connections (-c) to the API socket, each with one
 * request in flight (HTTP/1.1 without pipelining, as orchestrators'
 * clients behave); when a connection's answer is complete it sends the
 * next request, until N requests (-n) were sent.  Request i allocates
 * resource PREFIX<start+i> in the pool:
 *	POST /v1/ipam/pools/POOL/allocations  {"resource": ..., "family": ...}
 * and in the release phase the same resources are released:
 *	DELETE /v1/ipam/allocations/PREFIX<start+i>
 * --mode allocate (default), release (e.g. to clean up after a run) or
 * both (allocate all, then release all: two measured phases).
 *
 * Latency is per request on CLOCK_MONOTONIC, from queueing the request
 * on the connection to having read the whole answer; the rate is
 * completed requests over the phase's wall time.  Output: a summary
 * per phase (rate, p50/p90/p99/max, count by status) or, with --json,
 * one JSON object per phase on its own line.  Exit status 0 when every
 * answer was the phase's success code (201 or 200 for allocate, 204 for
 * release), 1 otherwise, 2 for usage and connection errors.
 *
 * The HTTP client is a small one on bufferevents rather than evhttp's:
 * libevent 2.1's evhttp client cannot use an already connected socket
 * (it closes the descriptor and resolves "host:port" on the first
 * request), and has no Unix socket support; 2.2 adds it.  It reads
 * answers framed by Content-Length, which is what evpnd's evhttp server
 * sends; a chunked answer is an error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/util.h"

#define LOAD_DEFAULT_SOCKET	"/run/evpnd/evpnd.sock"
#define LOAD_MAX_HEADER_BYTES	(16 * 1024)
#define LOAD_MAX_BODY_BYTES	(1024 * 1024)
#define LOAD_NAME_MAX		200
#define LOAD_STATUS_MAX		600	/* status codes 0 (transport) .. 599 */

enum load_phase {
	PHASE_ALLOCATE,
	PHASE_RELEASE,
};

struct load_opts {
	const char	*sock_path;
	const char	*pool;
	const char	*prefix;
	const char	*family;
	long		 n;
	long		 start;
	int		 concurrency;
	bool		 allocate;
	bool		 release;
	bool		 json;
	bool		 verbose;
};

enum read_state {
	READ_STATUS,
	READ_HEADERS,
	READ_BODY,
};

struct load;

/* One keep-alive connection with at most one request in flight. */
struct conn {
	struct load	*ld;
	struct bufferevent *bev;
	long		 idx;		/* request in flight, -1 if none */
	uint64_t	 t0_ns;
	enum read_state	 rstate;
	int		 status;
	size_t		 body_len;
	bool		 server_closes;	/* "Connection: close" */
};

struct load {
	const struct load_opts *o;
	struct event_base *base;
	struct conn	*conns;
	enum load_phase	 phase;
	long		 next;		/* next request to send */
	long		 completed;
	int		 busy;		/* connections with work left */
	uint64_t	*lat_ns;	/* per request, by completion order */
	long		 by_status[LOAD_STATUS_MAX];
	char		 first_error[256];	/* first unexpected answer */
	uint64_t	 t_start_ns;
	uint64_t	 t_end_ns;
	bool		 fatal;
};

static void	conn_send_next(struct conn *);
static int	conn_open(struct conn *);

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- requests */

/*
 * Pool names and resource prefixes go into a URL path and a JSON string
 * unescaped, so only characters that need no escaping in either are
 * accepted.
 */
static bool
name_is_plain(const char *s, bool empty_ok)
{
	size_t len = strlen(s);

	if ((len == 0 && !empty_ok) || len > LOAD_NAME_MAX)
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.' || *s == ':'))
			return false;
	}
	return true;
}

static void
request_format(struct conn *c, long idx)
{
	const struct load_opts *o = c->ld->o;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char body[LOAD_NAME_MAX * 2 + 64];
	int blen;

	if (c->ld->phase == PHASE_RELEASE) {
		evbuffer_add_printf(out, "DELETE /v1/ipam/allocations/%s%ld "
		    "HTTP/1.1\r\nHost: localhost\r\n\r\n", o->prefix,
		    o->start + idx);
		return;
	}
	blen = snprintf(body, sizeof(body),
	    "{\"resource\":\"%s%ld\",\"family\":\"%s\"}", o->prefix,
	    o->start + idx, o->family);
	evbuffer_add_printf(out, "POST /v1/ipam/pools/%s/allocations "
	    "HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n\r\n%s", o->pool, blen, body);
}

/* ---------------------------------------------------------------- answers */

static bool
status_is_success(const struct load *ld, int status)
{
	if (ld->phase == PHASE_RELEASE)
		return status == 204;
	return status == 201 || status == 200;
}

static void __attribute__((format(printf, 2, 3)))
load_fail(struct load *ld, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipam_load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ld->fatal = true;
	event_base_loopbreak(ld->base);
}

/* Keep the first unexpected answer, on one line, for the report. */
static void
error_keep(struct load *ld, long idx, int status, const char *body,
    size_t blen)
{
	size_t n, i;

	n = (size_t)snprintf(ld->first_error, sizeof(ld->first_error),
	    "request %ld: status %d ", idx, status);
	for (i = 0; i < blen && n + 1 < sizeof(ld->first_error); i++) {
		if (body[i] == '\n' || body[i] == '\r' || body[i] == '\t') {
			if (n > 0 && ld->first_error[n - 1] == ' ')
				continue;
			ld->first_error[n++] = ' ';
		} else if (body[i] != ' ' || ld->first_error[n - 1] != ' ') {
			ld->first_error[n++] = body[i];
		}
	}
	ld->first_error[n] = '\0';
}

/* One request finished with status (0: the connection failed). */
static void
conn_complete(struct conn *c, int status, const char *body, size_t blen)
{
	struct load *ld = c->ld;

	ld->lat_ns[ld->completed++] = now_ns() - c->t0_ns;
	ld->by_status[status]++;
	if (!status_is_success(ld, status) && ld->first_error[0] == '\0')
		error_keep(ld, c->idx, status, body, blen);
	c->idx = -1;
}

static int
status_line_parse(const char *line)
{
	int status;
	char sp;

	/* "HTTP/1.1 201 Created" */
	if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12 ||
	    sscanf(line + 9, "%3d%c", &status, &sp) != 2 || sp != ' ' ||
	    status < 100 || status >= LOAD_STATUS_MAX)
		return -1;
	return status;
}

/* A header line; -1 for what this client cannot read. */
static int
header_parse(struct conn *c, const char *line)
{
	const char *v;
	char *end;
	unsigned long long len;

	if ((v = strchr(line, ':')) == NULL)
		return -1;
	for (v++; *v == ' ' || *v == '\t'; v++)
		;
	if (strncasecmp(line, "Content-Length:", 15) == 0) {
		errno = 0;
		len = strtoull(v, &end, 10);
		if (errno != 0 || end == v || len > LOAD_MAX_BODY_BYTES)
			return -1;
		c->body_len = (size_t)len;
	} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
		return -1;
	} else if (strncasecmp(line, "Connection:", 11) == 0 &&
	    strncasecmp(v, "close", 5) == 0) {
		c->server_closes = true;
	}
	return 0;
}

/* Read status line and headers; 1 when the body may follow. */
static int
conn_read_head(struct conn *c, struct evbuffer *in)
{
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		int rc = 0;

		if (c->rstate == READ_STATUS) {
			c->status = status_line_parse(line);
			c->body_len = 0;
			/* an HTTP/1.0 server closes after each answer */
			c->server_closes = c->status > 0 && line[7] == '0';
			rc = c->status < 0 ? -1 : 0;
			c->rstate = READ_HEADERS;
		} else if (n == 0) {
			free(line);
			c->rstate = READ_BODY;
			return 1;
		} else {
			rc = header_parse(c, line);
		}
		free(line);
		if (rc < 0)
			return -1;
	}
	return evbuffer_get_length(in) > LOAD_MAX_HEADER_BYTES ? -1 : 0;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	const char *body;
	int rc;

	for (;;) {
		if (c->rstate != READ_BODY) {
			if ((rc = conn_read_head(c, in)) < 0 || c->idx < 0) {
				load_fail(c->ld, "malformed or unexpected "
				    "HTTP answer");
				return;
			}
			if (rc == 0)
				return;
		}
		if (evbuffer_get_length(in) < c->body_len)
			return;
		body = (const char *)evbuffer_pullup(in, (ssize_t)c->body_len);
		conn_complete(c, c->status, body, c->body_len);
		evbuffer_drain(in, c->body_len);
		c->rstate = READ_STATUS;
		if (c->server_closes) {
			/* the old input buffer goes with its bufferevent */
			bufferevent_free(c->bev);
			c->bev = NULL;
			if (conn_open(c) == 0)
				conn_send_next(c);
			return;
		}
		conn_send_next(c);
		if (evbuffer_get_length(in) == 0)
			return;
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->rstate = READ_STATUS;
	if (c->idx < 0 && c->ld->next >= c->ld->o->n)
		return;		/* idle and no more work: nothing lost */
	if (c->idx >= 0)
		conn_complete(c, 0, "connection closed", 17);
	if (conn_open(c) == 0)
		conn_send_next(c);
}

/* ---------------------------------------------------------------- connections */

static int
conn_open(struct conn *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = c->ld->o->sock_path;
	int fd;

	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Blocking connect: a nonblocking one may fail with EAGAIN on a
	 * full listen backlog, which is not an error worth reporting. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		if (fd != -1)
			close(fd);
		load_fail(c->ld, "cannot connect to %s: %s", path,
		    strerror(saved));
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(c->ld->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		load_fail(c->ld, "bufferevent_socket_new failed");
		return -1;
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

static void
conn_send_next(struct conn *c)
{
	struct load *ld = c->ld;

	if (ld->next >= ld->o->n) {
		if (--ld->busy == 0) {
			ld->t_end_ns = now_ns();
			event_base_loopbreak(ld->base);
		}
		return;
	}
	c->idx = ld->next++;
	c->t0_ns = now_ns();
	request_format(c, c->idx);
}

/* ---------------------------------------------------------------- report */

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
percentile_ms(const uint64_t *sorted, long n, double p)
{
	long i;

	if (n == 0)
		return 0;
	/* nearest rank */
	i = (long)(p / 100.0 * (double)n + 0.999999) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return (double)sorted[i] / 1e6;
}

static json_t *
phase_result(struct load *ld)
{
	const struct load_opts *o = ld->o;
	double secs = (double)(ld->t_end_ns - ld->t_start_ns) / 1e9;
	json_t *st = json_object();
	uint64_t sum = 0;
	char key[8];
	long i;

	qsort(ld->lat_ns, (size_t)ld->completed, sizeof(uint64_t), u64_cmp);
	for (i = 0; i < ld->completed; i++)
		sum += ld->lat_ns[i];
	for (i = 0; i < LOAD_STATUS_MAX; i++) {
		if (ld->by_status[i] == 0)
			continue;
		snprintf(key, sizeof(key), "%ld", i);
		json_object_set_new(st, key, json_integer(ld->by_status[i]));
	}
	return json_pack("{s:s, s:s, s:I, s:i, s:f, s:f, s:{s:f, s:f, s:f, "
	    "s:f, s:f, s:f}, s:o, s:s}",
	    "phase", ld->phase == PHASE_ALLOCATE ? "allocate" : "release",
	    "pool", o->pool != NULL ? o->pool : "", "n", (json_int_t)ld->completed,
	    "concurrency", o->concurrency, "elapsed_s", secs,
	    "per_s", secs > 0 ? (double)ld->completed / secs : 0.0,
	    "latency_ms",
	    "mean", ld->completed ? (double)sum / 1e6 / (double)ld->completed : 0,
	    "p50", percentile_ms(ld->lat_ns, ld->completed, 50),
	    "p90", percentile_ms(ld->lat_ns, ld->completed, 90),
	    "p99", percentile_ms(ld->lat_ns, ld->completed, 99),
	    "p999", percentile_ms(ld->lat_ns, ld->completed, 99.9),
	    "max", percentile_ms(ld->lat_ns, ld->completed, 100),
	    "status", st, "first_error", ld->first_error);
}

static void
phase_print(const json_t *r)
{
	const json_t *lat = json_object_get(r, "latency_ms");
	const char *key;
	json_t *v;

	printf("%s: %" JSON_INTEGER_FORMAT " requests in %.3f s, %.0f/s "
	    "(pool %s, concurrency %" JSON_INTEGER_FORMAT ")\n",
	    json_string_value(json_object_get(r, "phase")),
	    json_integer_value(json_object_get(r, "n")),
	    json_real_value(json_object_get(r, "elapsed_s")),
	    json_real_value(json_object_get(r, "per_s")),
	    json_string_value(json_object_get(r, "pool")),
	    json_integer_value(json_object_get(r, "concurrency")));
	printf("  latency ms: mean %.3f p50 %.3f p90 %.3f p99 %.3f "
	    "p99.9 %.3f max %.3f\n",
	    json_real_value(json_object_get(lat, "mean")),
	    json_real_value(json_object_get(lat, "p50")),
	    json_real_value(json_object_get(lat, "p90")),
	    json_real_value(json_object_get(lat, "p99")),
	    json_real_value(json_object_get(lat, "p999")),
	    json_real_value(json_object_get(lat, "max")));
	printf("  status:");
	json_object_foreach((json_t *)json_object_get(r, "status"), key, v)
		printf(" %s=%" JSON_INTEGER_FORMAT, strcmp(key, "0") == 0 ?
		    "transport-error" : key, json_integer_value(v));
	printf("\n");
	key = json_string_value(json_object_get(r, "first_error"));
	if (key != NULL && key[0] != '\0')
		printf("  first error: %s\n", key);
}

/* ---------------------------------------------------------------- phases */

/* Run one phase; returns 0 all succeeded, 1 some did not, 2 fatal. */
static int
phase_run(const struct load_opts *o, struct event_base *base,
    enum load_phase phase)
{
	struct load ld = { .o = o, .base = base, .phase = phase };
	json_t *result;
	char *s;
	int i, started = 0, rc;

	ld.lat_ns = xcalloc((size_t)o->n, sizeof(uint64_t));
	ld.conns = xcalloc((size_t)o->concurrency, sizeof(struct conn));
	ld.t_start_ns = now_ns();
	for (i = 0; i < o->concurrency; i++) {
		ld.conns[i] = (struct conn){ .ld = &ld, .idx = -1 };
		if (conn_open(&ld.conns[i]) < 0)
			break;
		started++;
	}
	if (started == 0) {
		free(ld.lat_ns);
		free(ld.conns);
		return 2;
	}
	ld.busy = started;
	for (i = 0; i < started && !ld.fatal; i++)
		conn_send_next(&ld.conns[i]);
	if (!ld.fatal && ld.busy > 0)
		event_base_dispatch(base);
	if (ld.t_end_ns == 0)
		ld.t_end_ns = now_ns();
	for (i = 0; i < o->concurrency; i++)
		if (ld.conns[i].bev != NULL)
			bufferevent_free(ld.conns[i].bev);

	result = phase_result(&ld);
	if (o->json) {
		s = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(6));
		printf("%s\n", s);
		free(s);
	} else {
		phase_print(result);
	}
	fflush(stdout);
	json_decref(result);
	rc = ld.fatal ? 2 : 0;
	for (i = 0; rc == 0 && i < LOAD_STATUS_MAX; i++)
		if (ld.by_status[i] != 0 && !status_is_success(&ld, i))
			rc = 1;
	free(ld.lat_ns);
	free(ld.conns);
	return rc;
}

/* ---------------------------------------------------------------- options */

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ipam_load [-S SOCKET] -p POOL [-n N] [-c C] [--prefix P]\n"
	    "                 [--start K] [--family ipv4|ipv6|dual]\n"
	    "                 [--mode allocate|release|both] [--json]\n"
	    "  -S, --socket PATH  evpnd's API socket (default %s)\n"
	    "  -p, --pool NAME    the pool to allocate in\n"
	    "  -n, --requests N   requests per phase (default 10000)\n"
	    "  -c, --concurrency C  connections, one request in flight each "
	    "(default 16)\n"
	    "  --prefix P         resource ids are P<K>, P<K+1>, ... "
	    "(default load-)\n"
	    "  --start K          first counter value (default 0)\n"
	    "  --family F         ipv4 (default), ipv6 or dual\n"
	    "  --mode M           allocate (default), release, or both "
	    "(allocate all, then release all)\n"
	    "  --json             one JSON object per phase\n",
	    LOAD_DEFAULT_SOCKET);
	exit(status);
}

static long
number_arg(const char *s, long min, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min) {
		fprintf(stderr, "ipam_load: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static void
mode_arg(struct load_opts *o, const char *m)
{
	o->allocate = strcmp(m, "allocate") == 0 || strcmp(m, "both") == 0;
	o->release = strcmp(m, "release") == 0 || strcmp(m, "both") == 0;
	if (!o->allocate && !o->release) {
		fprintf(stderr, "ipam_load: bad mode: %s\n", m);
		exit(2);
	}
}

static void
opts_check(const struct load_opts *o)
{
	struct sockaddr_un sun;

	if (o->allocate && (o->pool == NULL || !name_is_plain(o->pool, false)))
		usage(2);
	if (!name_is_plain(o->prefix, true)) {
		fprintf(stderr, "ipam_load: the prefix may hold only "
		    "[A-Za-z0-9._:-]\n");
		exit(2);
	}
	if (strcmp(o->family, "ipv4") != 0 && strcmp(o->family, "ipv6") != 0 &&
	    strcmp(o->family, "dual") != 0) {
		fprintf(stderr, "ipam_load: bad family: %s\n", o->family);
		exit(2);
	}
	if (strlen(o->sock_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ipam_load: socket path too long\n");
		exit(2);
	}
}

static void
opts_parse(struct load_opts *o, int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "pool", required_argument, NULL, 'p' },
		{ "requests", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "start", required_argument, NULL, 'k' },
		{ "family", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct load_opts){ .sock_path = LOAD_DEFAULT_SOCKET,
	    .prefix = "load-", .family = "ipv4", .n = 10000,
	    .concurrency = 16, .allocate = true };
	while ((ch = getopt_long(argc, argv, "S:p:n:c:h", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'S': o->sock_path = optarg; break;
		case 'p': o->pool = optarg; break;
		case 'n': o->n = number_arg(optarg, 1, "count"); break;
		case 'c':
			o->concurrency = (int)number_arg(optarg, 1,
			    "concurrency");
			break;
		case 'P': o->prefix = optarg; break;
		case 'k': o->start = number_arg(optarg, 0, "start"); break;
		case 'f': o->family = optarg; break;
		case 'm': mode_arg(o, optarg); break;
		case 'j': o->json = true; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (o->concurrency > 4096 || o->concurrency > o->n)
		o->concurrency = (int)(o->n < 4096 ? o->n : 4096);
	opts_check(o);
}

int
main(int argc, char **argv)
{
	struct load_opts o;
	struct event_base *base;
	int rc = 0, r;

	opts_parse(&o, argc, argv);
	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "ipam_load: event_base_new failed\n");
		return 2;
	}
	if (o.allocate)
		rc = phase_run(&o, base, PHASE_ALLOCATE);
	if (o.release && rc < 2) {
		r = phase_run(&o, base, PHASE_RELEASE);
		rc = r > rc ? r : rc;
	}
	event_base_free(base);
	return rc;
}
