/*
 * ipamd/trafficd: traffic telemetry mapped onto pools, in an in-process
 * evpnd (api_harness.h: real evpn, ipamd with its SQLite store, shadow
 * engines, the API).  Flow export is softflowd's own IPFIX datagrams
 * (tests/fixtures/softflowd_ipfix.hex) sent over UDP to the real
 * collector; bridge samples are frames built here and read by the real
 * pkt_decode().  What is checked is what comes out: the per-pool rate
 * and counts, the shadow view and /metrics, the scan alert, the reload
 * of the sockets against a port another socket holds, and, over four
 * hours of the fake clock, that a pool's engine learns traffic steps
 * that allocations follow and then raises the forecast before them.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/addr.h"
#include "common/log.h"
#include "conf/conf.h"
#include "ipamd/ipamd.h"
#include "ipamd/shadowd.h"
#include "ipamd/trafficd.h"
#include "telemetry/telemetry.h"
#include "tests/unit/api_harness.h"
#include "tests/unit/fixture.h"

#define MAX_DGRAM	FIXTURE_DGRAM_MAX
#define SAMPLING	10	/* the exporter's 1 in N, as configured */
#define SAMPLE_RATE	100	/* the bridge sampler's 1 in N */
#define WINDOW		10
#define BRIDGE		"brtest-nx"	/* never made: fed by hand */
#define VXDEV		"vxtest-nx"	/* a VXLAN device, the same */

/*
 * The fixture's IPFIX records (tshark reads the same): in the second
 * datagram 2000 + 2000 echo packets between 10.10.0.1 and 10.10.0.77,
 * 1375 + 1375 between 2001:db8::1 and ::77, and two of 1 (a solicitation
 * and an advertisement); the first holds 5 link-local records.
 */
#define WEB_PACKETS	(2000 + 2000 + 1375 + 1375 + 1 + 1)
/* softflowd announces in options data that it samples 1 in 1 (packet
 * interval 1, space 0), which wins over the configured SAMPLING. */
#define ANNOUNCED	1
#define WEB_RECORDS	6
#define LINK_LOCAL	5

static struct trafficd *td;
static uint64_t fake_ms;
static uint16_t port;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

/* A UDP port free right now on 127.0.0.1. */
static uint16_t
free_port(int *keep)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	if (keep != NULL)
		*keep = s;
	else
		close(s);
	return ntohs(sin.sin_port);
}

static char *
conf_text(uint16_t p, const char *extra)
{
	char *text;

	ck_assert_int_ne(asprintf(&text,
	    "vxlan vx100\n vni 100\n bridge " BRIDGE "\n"
	    " local-tunnel-ip 10.0.0.11\n!\n"
	    "vxlan " VXDEV "\n vni 300\n local-tunnel-ip 10.0.0.11\n!\n"
	    "ipam pool v300\n vni 300\n prefix 10.30.0.0/24\n!\n"
	    "ipam pool web\n vni 100\n prefix 10.10.0.0/24\n"
	    " prefix 2001:db8::/64\n gateway 10.10.0.254\n"
	    " mac-prefix 02:00:0c\n"
	    " shadow\n  mode observe\n exit-shadow\n!\n"
	    "ipam pool other\n prefix 10.20.0.0/24\n!\n"
	    "telemetry\n"
	    " flow-collector port %u address 127.0.0.1 sampling %d\n"
	    " sample bridge " BRIDGE " rate %d\n"
	    " sample bridge " VXDEV " rate 1\n"
	    " rate-window %d\n%s!\n"
	    "router bgp 65000\n bgp router-id 10.0.0.11\n bgp listen-port 0\n"
	    " address-family l2vpn evpn\n  advertise-all-vni\n"
	    " exit-address-family\nexit\n", p, SAMPLING, SAMPLE_RATE, WINDOW,
	    extra), -1);
	return text;
}

static void
setup(void)
{
	char err[256], *text;

	port = free_port(NULL);
	text = conf_text(port, "");
	ipam_setup_conf(text);
	free(text);
	td = trafficd_create(d.base, d.ipamd, d.conf, err, sizeof(err));
	ck_assert_msg(td != NULL, "%s", err);
	d.traffic = td;
	fake_ms = 5000000;
	trafficd_set_clock(td, fake_clock, NULL);
	shadowd_set_clock(ipamd_shadowd(d.ipamd), fake_clock, NULL);
}

static void
teardown(void)
{
	trafficd_free(td);
	d.traffic = NULL;
	ipam_teardown();
}

/* The fixture's datagrams to p on loopback. */
static void
send_datagrams(uint16_t p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	uint8_t dg[MAX_DGRAM];
	size_t len;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(p);
	for (int i = 0; i < 2; i++) {
		len = fixture_hex_line("softflowd_ipfix.hex", i, dg,
		    FIXTURE_DGRAM_MAX);
		ck_assert_int_eq(sendto(s, dg, len, 0, (struct sockaddr *)&sin,
		    sizeof(sin)), (ssize_t)len);
	}
	close(s);
}

/*
 * Send the fixture's datagrams to p and turn the loop until the
 * collector has read (or refused) want of them in all, or a second
 * has passed.
 */
static void
send_counted(uint16_t p, bool refused, uint64_t want)
{
	struct trafficd_stats st;
	uint64_t got = 0;

	send_datagrams(p);
	for (int i = 0; i < 1000; i++) {
		event_base_loop(d.base, EVLOOP_NONBLOCK);
		trafficd_stats(td, &st);
		got = refused ? st.flow.refused : st.flow.messages;
		if (got >= want)
			return;
		usleep(1000);
	}
	ck_abort_msg("the collector %s %llu datagrams, not %llu",
	    refused ? "refused" : "read", (unsigned long long)got,
	    (unsigned long long)want);
}

static void
send_fixture(uint16_t p, uint64_t want_messages)
{
	send_counted(p, false, want_messages);
}

struct pool_seen {
	const char			*name;
	struct trafficd_pool_view	 v;
	bool				 found;
};

static void
pool_seen_cb(const struct trafficd_pool_view *v, void *arg)
{
	struct pool_seen *ps = arg;

	if (strcmp(v->pool, ps->name) == 0) {
		ps->v = *v;
		ps->found = true;
	}
}

static struct trafficd_pool_view
pool_view(const char *name)
{
	struct pool_seen ps = { name, { 0 }, false };

	trafficd_foreach_pool(td, pool_seen_cb, &ps);
	ck_assert_msg(ps.found, "pool %s not in the traffic view", name);
	return ps.v;
}

static void
tick(unsigned seconds)
{
	fake_ms += seconds * 1000ULL;
	trafficd_tick(td);
}

/* The shadow view's object key ("traffic", "neighMisses") of pool. */
static json_t *
shadow_signal(const char *pool, const char *key)
{
	char *r = request("GET", "/v1/ipam/shadow");
	json_t *j, *p, *out = NULL;
	size_t i;

	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	free(r);
	json_array_foreach(json_object_get(j, "pools"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "pool")),
		    pool) == 0)
			out = json_incref(json_object_get(p, key));
	json_decref(j);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* The value of the /metrics line that starts with sample; -1 if none. */
static double
metric(const char *sample)
{
	char *r = request("GET", "/metrics"), *line;
	double v = -1;
	size_t n = strlen(sample);

	ck_assert_int_eq(status_of(r), 200);
	for (line = r; line != NULL; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, sample, n) == 0 && line[n] == ' ') {
			v = strtod(line + n + 1, NULL);
			break;
		}
	}
	free(r);
	return v;
}

START_TEST(test_flows_to_pools)
{
	struct trafficd_pool_view web, other;
	struct trafficd_stats st;
	json_t *tr;
	double rate = (double)WEB_PACKETS * ANNOUNCED / WINDOW;

	send_fixture(port, 2);
	tick(1);
	trafficd_stats(td, &st);
	ck_assert_uint_eq(st.flow.records, WEB_RECORDS + LINK_LOCAL);
	ck_assert_uint_eq(st.records_unmatched, LINK_LOCAL);
	ck_assert_uint_eq(st.flow.malformed, 0);
	web = pool_view("web");
	other = pool_view("other");
	ck_assert_uint_eq(web.records, WEB_RECORDS);
	ck_assert_uint_eq(web.packets, (uint64_t)WEB_PACKETS * ANNOUNCED);
	ck_assert_double_eq_tol(web.rate, rate, 1e-9);
	ck_assert_uint_eq(other.records, 0);
	ck_assert_double_eq(other.rate, 0);
	/* The engine got it (and smooths it): the shadow view and /metrics
	 * say so. */
	tr = shadow_signal("web", "traffic");
	ck_assert_double_eq_tol(json_real_value(json_object_get(tr,
	    "measured")), rate, 1e-9);
	ck_assert_double_gt(json_real_value(json_object_get(tr, "rate")), 0);
	ck_assert_double_le(json_real_value(json_object_get(tr, "rate")),
	    rate);
	ck_assert_int_eq(json_integer_value(json_object_get(tr, "samples")),
	    1);
	json_decref(tr);
	ck_assert_double_eq_tol(metric("evpnd_telemetry_traffic_rate"
	    "{pool=\"web\"}"), rate, 1e-9);
	ck_assert_double_eq(metric("evpnd_telemetry_flow_records_total"),
	    WEB_RECORDS + LINK_LOCAL);
	ck_assert_double_eq(metric("evpnd_telemetry_flow_records_unmatched"
	    "_total"), LINK_LOCAL);
	/* Within the window it holds; past it, nothing is left. */
	tick(WINDOW - 2);
	ck_assert_double_eq_tol(pool_view("web").rate, rate, 1e-9);
	tick(2);
	ck_assert_double_eq(pool_view("web").rate, 0);
	tr = shadow_signal("web", "traffic");
	ck_assert_double_eq(json_real_value(json_object_get(tr, "measured")),
	    0);
	json_decref(tr);
}
END_TEST

/* Reload trafficd with the test's config plus extra telemetry lines;
 * the new config, now d.conf. */
static const struct config *
reload_telemetry(const char *extra)
{
	struct trafficd_plan *plan;
	struct config *next;
	char err[256], *text;

	text = conf_text(port, extra);
	next = conf_parse_string(text, "next.conf", err, sizeof(err));
	free(text);
	ck_assert_msg(next != NULL, "%s", err);
	ck_assert_ptr_nonnull(plan = trafficd_prepare(td, next, err,
	    sizeof(err)));
	trafficd_commit(td, plan, next);
	conf_free(d.conf);
	d.conf = next;
	return next;
}

/* A record scales by the sampling its exporter announced, else by the
 * configured one. */
START_TEST(test_flow_sampling)
{
	struct flow_record r = { .version = 10, .packets = 7 };
	uint64_t before = pool_view("web").packets;

	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &r.src), 0);
	trafficd_flow_record(td, &r);
	ck_assert_uint_eq(pool_view("web").packets, before + 7 * SAMPLING);
	r.sampling = 4;
	trafficd_flow_record(td, &r);
	ck_assert_uint_eq(pool_view("web").packets,
	    before + 7 * SAMPLING + 7 * 4);
}
END_TEST

/* Datagrams from outside the flow-exporter prefixes are refused and
 * counted; a reload that names the sender lets them in, on the same
 * socket. */
START_TEST(test_exporter_allowlist)
{
	struct trafficd_stats st;

	reload_telemetry(" flow-exporter 192.0.2.0/24\n");
	send_counted(port, true, 2);
	trafficd_stats(td, &st);
	ck_assert_uint_eq(st.flow.refused, 2);
	ck_assert_uint_eq(st.flow.messages, 0);
	ck_assert_uint_eq(st.flow.templates, 0);
	ck_assert_double_eq(metric("evpnd_telemetry_flow_refused_total"), 2);
	tick(1);
	ck_assert_uint_eq(pool_view("web").packets, 0);

	reload_telemetry(" flow-exporter 192.0.2.0/24\n"
	    " flow-exporter 127.0.0.1/32\n");
	send_fixture(port, 2);
	tick(1);
	ck_assert_uint_eq(pool_view("web").packets,
	    (uint64_t)WEB_PACKETS * ANNOUNCED);
	ck_assert_double_eq(metric("evpnd_telemetry_flow_refused_total"), 2);
}
END_TEST

/* Each pool's engine has a seed of its own, not the engine's default
 * (it keys the hash of neighbour-miss targets), and keeps it across a
 * reload; a second daemon draws others. */
START_TEST(test_engine_seed_random)
{
	struct shadowd *sd = ipamd_shadowd(d.ipamd);
	struct shadowd_pool *sp = shadowd_pool(sd, "web");
	uint64_t seed;

	ck_assert_ptr_nonnull(sp);
	seed = shadowd_pool_seed(sp);
	ck_assert_uint_ne(seed, 1);
	shadowd_reload(sd, reload_telemetry(""));
	ck_assert_uint_eq(shadowd_pool_seed(shadowd_pool(sd, "web")), seed);
	teardown();
	setup();
	sp = shadowd_pool(ipamd_shadowd(d.ipamd), "web");
	ck_assert_ptr_nonnull(sp);
	ck_assert_uint_ne(shadowd_pool_seed(sp), seed);
	ck_assert_uint_ne(shadowd_pool_seed(sp), 1);
}
END_TEST

/* Frames as a bridge carries them: Ethernet, then ARP or IPv4 or IPv6
 * with an ICMPv6 neighbour solicitation. */
static size_t
frame_eth(uint8_t *f, uint16_t type)
{
	static const uint8_t dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x77 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static void
put_ip(uint8_t *p, int af, const char *s)
{
	ck_assert_int_eq(inet_pton(af, s, p), 1);
}

static size_t
frame_arp(uint8_t *f, const char *sender, const char *target)
{
	size_t n = frame_eth(f, 0x0806);
	static const uint8_t hdr[8] = { 0, 1, 0x08, 0, 6, 4, 0, 1 };

	memcpy(f + n, hdr, 8);
	memset(f + n + 8, 0x02, 6);
	put_ip(f + n + 14, AF_INET, sender);
	memset(f + n + 18, 0, 6);
	put_ip(f + n + 24, AF_INET, target);
	return n + 28;
}

static size_t
frame_ipv4(uint8_t *f, const char *src, const char *dst)
{
	size_t n = frame_eth(f, 0x0800);

	memset(f + n, 0, 20);
	f[n] = 0x45;
	f[n + 9] = 17;
	put_ip(f + n + 12, AF_INET, src);
	put_ip(f + n + 16, AF_INET, dst);
	return n + 20;
}

static size_t
frame_ns(uint8_t *f, const char *src, const char *target)
{
	size_t n = frame_eth(f, 0x86dd);

	memset(f + n, 0, 40 + 24);
	f[n] = 0x60;
	f[n + 5] = 24;
	f[n + 6] = 58;
	f[n + 7] = 255;
	put_ip(f + n + 8, AF_INET6, src);
	put_ip(f + n + 24, AF_INET6, "ff02::1:ff00:99");
	f[n + 40] = 135;
	put_ip(f + n + 48, AF_INET6, target);
	return n + 64;
}

static void
sample(const uint8_t *f, size_t len)
{
	struct pkt_sample s;

	ck_assert_int_eq(pkt_decode(f, len, &s), 0);
	ck_assert_int_eq(trafficd_sample(td, BRIDGE, &s), 0);
}

/* An ARP request / a neighbour solicitation sampled on the bridge. */
static void
sample_arp(const char *sender, const char *target)
{
	uint8_t f[128];

	sample(f, frame_arp(f, sender, target));
}

static void
sample_ns(const char *src, const char *target)
{
	uint8_t f[128];

	sample(f, frame_ns(f, src, target));
}

START_TEST(test_samples_to_pools)
{
	struct trafficd_pool_view web, other;
	struct trafficd_stats st;
	uint8_t f[128];
	size_t n;

	/* An IP frame of web: 1 in SAMPLE_RATE, so SAMPLE_RATE packets. */
	n = frame_ipv4(f, "10.10.0.77", "10.10.0.5");
	sample(f, n);
	/* Not IP, and IP of no pool: the bridge's VNI is web's. */
	n = frame_eth(f, 0x88cc);
	memset(f + n, 0, 32);
	sample(f, n + 32);
	n = frame_ipv4(f, "192.0.2.1", "192.0.2.2");
	sample(f, n);
	/* Of other by address, of web by the bridge: both count it. */
	n = frame_ipv4(f, "10.20.0.5", "10.20.0.6");
	sample(f, n);
	/* Every ARP request is taken: it counts one. */
	sample_arp("10.10.0.77", "10.10.0.78");
	tick(1);
	web = pool_view("web");
	other = pool_view("other");
	ck_assert_uint_eq(web.samples, 5);
	ck_assert_uint_eq(web.packets, 4 * SAMPLE_RATE + 1);
	ck_assert_double_eq_tol(web.rate, (4.0 * SAMPLE_RATE + 1) / WINDOW,
	    1e-9);
	ck_assert_uint_eq(other.samples, 1);
	ck_assert_uint_eq(other.packets, SAMPLE_RATE);
	trafficd_stats(td, &st);
	ck_assert_uint_eq(st.samples, 5);
	ck_assert_uint_eq(st.samples_unmatched, 0);
	/* A sampler on a VXLAN device counts for its block's VNI. */
	ck_assert_int_eq(trafficd_sample(td, VXDEV, &(struct pkt_sample)
	    { .kind = PKT_OTHER }), 0);
	tick(1);
	ck_assert_uint_eq(pool_view("v300").packets, 1);
	ck_assert_uint_eq(pool_view("web").samples, 5);
	/* A bridge with no sampler configured. */
	ck_assert_int_eq(trafficd_sample(td, "br-other", &(struct pkt_sample)
	    { .kind = PKT_OTHER }), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_neighbour_misses)
{
	char *r;
	json_t *tr;

	/* An allocation of web: its address is held. */
	r = request_body("POST", "/v1/ipam/pools/web/allocations",
	    "{\"resource\": \"pod-a\", \"family\": \"ipv4\"}");
	ck_assert_int_eq(status_of(r), 201);
	ck_assert_ptr_nonnull(strstr(r, "\"10.10.0.1\""));
	free(r);
	ipamd_drain(d.ipamd);

	/* Misses: nobody holds these. */
	sample_arp("10.10.0.1", "10.10.0.50");
	sample_ns("2001:db8::77", "2001:db8::99");
	/* No misses: allocated, the gateway, gratuitous, no pool, DAD
	 * probes for an address outside every pool. */
	sample_arp("10.10.0.50", "10.10.0.1");
	sample_arp("10.10.0.1", "10.10.0.254");
	sample_arp("10.10.0.60", "10.10.0.60");
	sample_arp("10.10.0.1", "192.0.2.9");
	sample_ns("::", "2001:db9::1");
	/* DAD probes from no address for free pool addresses: a host
	 * claiming one (RFC 5227 §2.1.1, RFC 4862 §5.4.2), no demand. */
	sample_arp("0.0.0.0", "10.10.0.51");
	sample_ns("::", "2001:db8::98");
	tick(1);
	ck_assert_uint_eq(pool_view("web").neigh_misses, 2);
	ck_assert_uint_eq(pool_view("other").neigh_misses, 0);
	tr = shadow_signal("web", "neighMisses");
	ck_assert_int_eq(json_integer_value(json_object_get(tr, "total")), 2);
	json_decref(tr);
	ck_assert_double_eq(metric("evpnd_telemetry_neighbor_misses_total"
	    "{pool=\"web\"}"), 2);
	ck_assert_double_eq(metric("evpnd_telemetry_neighbor_requests_total"),
	    9);
}
END_TEST

/* A pool made at run time, of tenant, with one prefix. */
static void
pool_add(const char *name, const char *tenant, const char *prefix)
{
	char body[256], *r;

	snprintf(body, sizeof(body), "{\"name\": \"%s\", \"tenant\": "
	    "\"%s\", \"prefixes\": [\"%s\"]}", name, tenant, prefix);
	r = request_body("POST", "/v1/ipam/pools", body);
	ck_assert_msg(status_of(r) == 201, "%s", r);
	free(r);
}

static void
flow(const char *src, const char *dst, uint64_t packets)
{
	struct flow_record r = { .version = 10, .packets = packets };

	ck_assert_int_eq(ipaddr_parse(src, &r.src), 0);
	ck_assert_int_eq(ipaddr_parse(dst, &r.dst), 0);
	trafficd_flow_record(td, &r);
}

/*
 * Tenants reuse prefixes: web's 10.10.0.0/24 again in blue, and a /26
 * inside it in green.  A record counts for every pool holding its
 * source or destination, each once; a neighbour miss goes to the first
 * pool, in the allocator's order, where nobody holds the target.
 */
START_TEST(test_overlapping_pools)
{
	struct trafficd_stats st;

	pool_add("blue", "blue", "10.10.0.0/24");
	pool_add("green", "green", "10.10.0.0/26");
	tick(1);				/* the map is rebuilt */

	flow("10.10.0.5", "10.10.0.77", 3);	/* green by src only */
	ck_assert_uint_eq(pool_view("web").records, 1);
	ck_assert_uint_eq(pool_view("blue").records, 1);
	ck_assert_uint_eq(pool_view("green").records, 1);
	ck_assert_uint_eq(pool_view("green").packets, 3 * SAMPLING);
	flow("10.10.0.100", "10.20.0.1", 2);
	ck_assert_uint_eq(pool_view("web").records, 2);
	ck_assert_uint_eq(pool_view("web").packets, 5 * SAMPLING);
	ck_assert_uint_eq(pool_view("blue").records, 2);
	ck_assert_uint_eq(pool_view("green").records, 1);
	ck_assert_uint_eq(pool_view("other").records, 1);
	flow("10.10.0.6", "10.10.0.6", 1);	/* one address, twice */
	ck_assert_uint_eq(pool_view("green").records, 2);
	ck_assert_uint_eq(pool_view("green").packets, 4 * SAMPLING);
	flow("192.0.2.1", "2001:db8:1::1", 1);
	trafficd_stats(td, &st);
	ck_assert_uint_eq(st.records_unmatched, 1);

	/* All three hold .50 unused: web, the first; .254 is web's
	 * gateway, unused in blue (green does not hold it). */
	sample_arp("10.10.0.1", "10.10.0.50");
	sample_arp("10.10.0.1", "10.10.0.254");
	ck_assert_uint_eq(pool_view("web").neigh_misses, 1);
	ck_assert_uint_eq(pool_view("blue").neigh_misses, 1);
	ck_assert_uint_eq(pool_view("green").neigh_misses, 0);
}
END_TEST

/* One source asking for many addresses nobody holds is a scan: the
 * engine's alert names it. */
START_TEST(test_scan_alert)
{
	char target[32], *r;
	json_t *j, *a;
	size_t i;
	bool found = false;

	for (int k = 0; k < 48; k++) {
		snprintf(target, sizeof(target), "10.10.0.%d", 100 + k);
		sample_arp("10.10.0.66", target);
	}
	tick(1);
	ck_assert_uint_eq(pool_view("web").neigh_misses, 48);
	r = request("GET", "/v1/ipam/alerts");
	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	free(r);
	json_array_foreach(json_object_get(j, "alerts"), i, a)
		if (strcmp(json_string_value(json_object_get(a, "kind")),
		    "scan") == 0 && strstr(json_string_value(json_object_get(a,
		    "message")), "10.10.0.66") != NULL)
			found = true;
	json_decref(j);
	ck_assert_msg(found, "no scan alert naming 10.10.0.66");
	ck_assert_double_eq(metric("evpnd_shadow_alerts_total{pool=\"web\","
	    "kind=\"scan\"}"), 1);
}
END_TEST

/*
 * Traffic as a leading signal, end to end on the fake clock: episodes of
 * EPISODE_S in which the flows of pool web step up by STEP_PPS at 100 s
 * and STEP_REQ allocations come STEP_LAG_S later (as an autoscaler
 * would), released at 400 s.  Once the engine has learned that, a step
 * alone raises the pool's forecast before any request comes.
 */
#define EPISODE_S	600
#define EPISODES	24
#define BASE_PPS	5000
#define STEP_PPS	4000
#define STEP_REQ	4
#define STEP_LAG_S	30

static void
episode_second(int e, int t, bool requests)
{
	struct flow_record r;
	char body[128], path[128], *resp;
	int pps = BASE_PPS + (t >= 100 && t < 400 ? STEP_PPS : 0);

	memset(&r, 0, sizeof(r));
	r.version = 10;
	ipaddr_parse("10.10.0.77", &r.src);
	ipaddr_parse("10.10.0.1", &r.dst);
	r.packets = (uint64_t)pps / SAMPLING;	/* the exporter's sample */
	trafficd_flow_record(td, &r);
	if (requests && (t == 100 + STEP_LAG_S || t == 101 + STEP_LAG_S))
		for (int k = 0; k < STEP_REQ / 2; k++) {
			snprintf(body, sizeof(body), "{\"resource\": "
			    "\"e%d-%d-%d\", \"family\": \"ipv4\"}", e, t, k);
			resp = request_body("POST",
			    "/v1/ipam/pools/web/allocations", body);
			ck_assert_int_eq(status_of(resp), 201);
			free(resp);
		}
	if (requests && t == 400)
		for (int s = 100 + STEP_LAG_S; s <= 101 + STEP_LAG_S; s++)
			for (int k = 0; k < STEP_REQ / 2; k++) {
				snprintf(path, sizeof(path),
				    "/v1/ipam/allocations/e%d-%d-%d", e, s, k);
				resp = request("DELETE", path);
				ck_assert_int_eq(status_of(resp), 204);
				free(resp);
			}
	tick(1);
	shadowd_tick(ipamd_shadowd(d.ipamd));
	ipamd_drain(d.ipamd);
}

static double
shadow_number(const char *key, const char *sub)
{
	json_t *o = shadow_signal("web", key);
	double v = json_number_value(json_object_get(o, sub));

	json_decref(o);
	return v;
}

START_TEST(test_traffic_leads_requests)
{
	double pending0, pending, lead0, lead;
	json_t *f;

	for (int e = 0; e < EPISODES; e++)
		for (int t = 0; t < EPISODE_S; t++)
			episode_second(e, t, true);
	ck_assert_msg(shadow_number("traffic", "gain") > 0,
	    "the engine learned no gain from the traffic");
	/* The step again, no request yet. */
	for (int t = 0; t < 95; t++)
		episode_second(EPISODES, t, false);
	pending0 = shadow_number("traffic", "pending");
	f = shadow_signal("web", "forecast");
	lead0 = json_number_value(json_object_get(json_object_get(f, "lead"),
	    "mean"));
	json_decref(f);
	for (int t = 95; t < 100 + STEP_LAG_S / 2; t++)
		episode_second(EPISODES, t, false);
	pending = shadow_number("traffic", "pending");
	f = shadow_signal("web", "forecast");
	lead = json_number_value(json_object_get(json_object_get(f, "lead"),
	    "mean"));
	json_decref(f);
	ck_assert_msg(pending > pending0 + 1, "pending %g -> %g", pending0,
	    pending);
	ck_assert_msg(lead > lead0, "lead forecast %g -> %g", lead0, lead);
}
END_TEST

/* A reload to a port another socket holds changes nothing; to a free
 * one it moves the collector; a reload without the sampler closes it. */
START_TEST(test_reload)
{
	struct trafficd_plan *plan;
	struct trafficd_stats st;
	struct config *next;
	char err[256], *text, *addr;
	int busy;
	uint16_t taken = free_port(&busy), other;

	text = conf_text(taken, "");
	next = conf_parse_string(text, "next.conf", err, sizeof(err));
	free(text);
	ck_assert_msg(next != NULL, "%s", err);
	ck_assert_ptr_null(trafficd_prepare(td, next, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "Address already in use"));
	conf_free(next);
	close(busy);
	send_fixture(port, 2);		/* still on the old port */

	other = free_port(NULL);
	text = conf_text(other, "");
	*strstr(text, " sample bridge") = '!';	/* the sampler goes */
	next = conf_parse_string(text, "next.conf", err, sizeof(err));
	free(text);
	ck_assert_msg(next != NULL, "%s", err);
	ck_assert_ptr_nonnull(plan = trafficd_prepare(td, next, err,
	    sizeof(err)));
	trafficd_commit(td, plan, next);
	trafficd_stats(td, &st);
	ck_assert_uint_eq(st.collector_port, other);
	ck_assert_int_eq(trafficd_sample(td, BRIDGE, &(struct pkt_sample)
	    { .kind = PKT_OTHER }), -1);
	send_fixture(other, 4);		/* counts kept across the move */
	conf_free(d.conf);
	d.conf = next;

	/* The same port, from one address to every address: the new
	 * socket opens while the old one still holds the port. */
	text = conf_text(other, "");
	*strstr(text, " sample bridge") = '!';
	addr = strstr(text, " address 127.0.0.1");
	memmove(addr, addr + strlen(" address 127.0.0.1"),
	    strlen(addr + strlen(" address 127.0.0.1")) + 1);
	next = conf_parse_string(text, "next.conf", err, sizeof(err));
	free(text);
	ck_assert_msg(next != NULL, "%s", err);
	plan = trafficd_prepare(td, next, err, sizeof(err));
	ck_assert_msg(plan != NULL, "%s", err);
	trafficd_commit(td, plan, next);
	send_fixture(other, 6);
	conf_free(d.conf);
	d.conf = next;
}
END_TEST

static Suite *
trafficd_suite(void)
{
	Suite *s = suite_create("trafficd");
	TCase *tc = tcase_create("trafficd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flows_to_pools);
	tcase_add_test(tc, test_flow_sampling);
	tcase_add_test(tc, test_exporter_allowlist);
	tcase_add_test(tc, test_engine_seed_random);
	tcase_add_test(tc, test_samples_to_pools);
	tcase_add_test(tc, test_neighbour_misses);
	tcase_add_test(tc, test_overlapping_pools);
	tcase_add_test(tc, test_scan_alert);
	tcase_add_test(tc, test_traffic_leads_requests);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_reload);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(trafficd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
