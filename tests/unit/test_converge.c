/*
 * Measured convergence (evpn/evpn_converge.c, common/latency.c): the
 * timestamp community's bytes, the histogram and its quantiles,
 * origination sampling on the real RIB (which routes carry a stamp,
 * when they are restamped, and that ordinary routes keep sharing one
 * interned attribute set), and reception (ok, stale and skewed samples,
 * repeated versions, reloads, a VTEP with a bad clock).  The clocks are
 * the fakes: fp_now (monotonic, sessions) and a wall clock here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/latency.h"
#include "common/util.h"
#include "evpn/evpn_int.h"
#include "ipam/ipam.h"
#include "ipamd/fabric_conv.h"
#include "tests/unit/fake_peer.h"

#define RR	"10.0.0.1"
#define RR2	"10.0.0.3"
#define WALL0	1700000000000ULL	/* the fake wall clock's start */

static const struct fp_remote rr1 = { 65000, "10.0.0.1", false, 0, false,
    false, false };
static const struct fp_remote rr2 = { 65000, "10.0.0.3", false, 0, false,
    false, false };

static struct fp_world w;
static uint64_t wall_ms;

static uint64_t
fake_wall(void *arg)
{
	(void)arg;
	return wall_ms;
}

static void
teardown(void)
{
	if (w.bgp != NULL)
		fp_world_free(&w);
	fp_reset();
}

/* ---- the community ---------------------------------------------------- */

START_TEST(test_ecomm_bytes)
{
	static const uint8_t want[BGP_ECOMM_LEN] = { 0x88, 0x54, 0x01, 0x23,
	    0x45, 0x67, 0x89, 0xab };
	uint8_t ec[BGP_ECOMM_LEN], bad[BGP_ECOMM_LEN];
	struct bgp_attrs a;
	uint64_t ms;

	evpn_conv_ecomm_make(ec, 0x0123456789abULL);
	ck_assert_mem_eq(ec, want, sizeof(want));
	ck_assert_int_eq(evpn_conv_ecomm_parse(want, &ms), 0);
	ck_assert_uint_eq(ms, 0x0123456789abULL);
	/* The largest value and a real one survive the trip. */
	evpn_conv_ecomm_make(ec, 0xffffffffffffULL);
	ck_assert_int_eq(evpn_conv_ecomm_parse(ec, &ms), 0);
	ck_assert_uint_eq(ms, 0xffffffffffffULL);
	evpn_conv_ecomm_make(ec, WALL0);
	ck_assert_int_eq(evpn_conv_ecomm_parse(ec, &ms), 0);
	ck_assert_uint_eq(ms, WALL0);
	/* Another type or sub-type is not ours. */
	memcpy(bad, want, sizeof(bad));
	bad[0] = 0x80;
	ck_assert_int_eq(evpn_conv_ecomm_parse(bad, &ms), -1);
	memcpy(bad, want, sizeof(bad));
	bad[1] = 0x06;
	ck_assert_int_eq(evpn_conv_ecomm_parse(bad, &ms), -1);

	/* In an attribute set, among others, found by type. */
	fp_attrs_vtep(&a, "10.0.0.12", "65000:100");
	ck_assert_int_eq(evpn_conv_stamp_of(&a, &ms), -1);
	bgp_ecomm_add(&a, want);
	ck_assert_int_eq(evpn_conv_stamp_of(&a, &ms), 0);
	ck_assert_uint_eq(ms, 0x0123456789abULL);
	ck_assert_int_eq(evpn_conv_stamp_of(NULL, &ms), -1);
	bgp_attrs_clear(&a);
}
END_TEST

/* ---- the histogram ---------------------------------------------------- */

START_TEST(test_hist_buckets)
{
	static struct lat_hist h;
	static const uint32_t v[] = { 0, 1, 2, 3, 60000, 60001, 4000000000u };
	static const size_t want[] = { 0, 0, 1, 2, 14, 15, 15 };

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < nitems(v); i++) {
		uint64_t before = h.bucket[want[i]];

		lat_hist_add(&h, v[i], 1000 + i);
		ck_assert_msg(h.bucket[want[i]] == before + 1,
		    "%u ms not in bucket %zu", v[i], want[i]);
	}
	ck_assert_uint_eq(h.count, nitems(v));
	ck_assert_uint_eq(h.sum_ms, 0 + 1 + 2 + 3 + 60000 + 60001 +
	    4000000000ULL);
	ck_assert_uint_eq(lat_bucket_le_ms(0), 1);
	ck_assert_uint_eq(lat_bucket_le_ms(14), 60000);
	ck_assert_uint_eq(lat_bucket_le_ms(15), UINT32_MAX);
}
END_TEST

START_TEST(test_hist_quantiles)
{
	static struct lat_hist h;
	struct lat_summary s;
	uint32_t one = 7;

	memset(&h, 0, sizeof(h));
	lat_hist_summary(&h, 0, &s);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_uint_eq(s.p90_ms, 0);
	ck_assert_uint_eq(lat_quantile(&one, 1, 500), 7);
	ck_assert_uint_eq(lat_quantile(&one, 0, 500), 0);
	/* 100..1 ms at t = 1..100: nearest rank. */
	for (uint32_t i = 1; i <= 100; i++)
		lat_hist_add(&h, 101 - i, i);
	lat_hist_summary(&h, 0, &s);
	ck_assert_uint_eq(s.count, 100);
	ck_assert_uint_eq(s.p50_ms, 50);
	ck_assert_uint_eq(s.p90_ms, 90);
	ck_assert_uint_eq(s.p99_ms, 99);
	ck_assert_uint_eq(s.max_ms, 100);
	/* The window: from t = 91 on, the ten smallest. */
	lat_hist_summary(&h, 91, &s);
	ck_assert_uint_eq(s.count, 10);
	ck_assert_uint_eq(s.p50_ms, 5);
	ck_assert_uint_eq(s.p90_ms, 9);
	ck_assert_uint_eq(s.max_ms, 10);
	/* The ring keeps the newest LAT_RECENT: a slow fabric shows. */
	for (uint32_t i = 0; i < LAT_RECENT; i++)
		lat_hist_add(&h, 2000, 200 + i);
	lat_hist_summary(&h, 0, &s);
	ck_assert_uint_eq(s.count, LAT_RECENT);
	ck_assert_uint_eq(s.p50_ms, 2000);
	ck_assert_uint_eq(h.count, 100 + LAT_RECENT);
}
END_TEST

/* ---- origination ------------------------------------------------------ */

#define CONF_FMT \
    "vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.11\n!\n" \
    "router bgp 65000\n" \
    " bgp router-id 10.0.0.11\n" \
    " neighbor 10.0.0.1 remote-as 65000\n" \
    " neighbor 10.0.0.3 remote-as 65000\n" \
    " address-family l2vpn evpn\n" \
    "  neighbor 10.0.0.1 activate\n" \
    "  neighbor 10.0.0.3 activate\n" \
    "  advertise-all-vni\n" \
    "%s" \
    " exit-address-family\n" \
    "exit\n"

static char confbuf[2048];

static const char *
conf_with(const char *evpn_extra)
{
	snprintf(confbuf, sizeof(confbuf), CONF_FMT, evpn_extra);
	return confbuf;
}

static struct fp_conn *
start(const char *evpn_extra)
{
	struct fp_conn *c;

	fp_world_start(&w, conf_with(evpn_extra));
	wall_ms = WALL0;
	evpn_set_wall_clock(w.evpn, fake_wall, NULL);
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	fp_skip(c);
	return c;
}

static void
alloc_fill(struct ipam_alloc *a, int i, bool pre)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->resource, sizeof(a->resource), "ep-%d", i);
	a->pool = "p";
	a->vni = 100;
	ck_assert_int_eq(mac_parse("02:00:0a:00:00:00", &a->mac), 0);
	a->mac.b[4] = (uint8_t)(i >> 8);
	a->mac.b[5] = (uint8_t)i;
	ck_assert_int_eq(ipaddr_parse("10.10.0.0", &a->ip), 0);
	a->ip.u.b[2] = (uint8_t)(i >> 8);
	a->ip.u.b[3] = (uint8_t)i;
	a->preallocated = pre;
}

/* Advertise n allocations (pre-allocations when pre), one ms apart. */
static void
advertise(int first, int n, bool pre)
{
	struct ipam_alloc a;

	for (int i = first; i < first + n; i++) {
		alloc_fill(&a, i, pre);
		wall_ms++;
		evpn_ipam_advertise(w.evpn, &a);
	}
	fp_run(&w);
}

/* Routes announced since the last skip, and how many carried a stamp;
 * the stamps land in stamps[] by allocation index (0 = none). */
static size_t
sent_stamps(struct fp_conn *c, uint64_t *stamps, size_t max, size_t *nroutes)
{
	struct fp_update *u = xcalloc(1, sizeof(*u));
	size_t n = 0;
	uint64_t ms;

	*nroutes = 0;
	while (fp_next_update(c, false, u)) {
		bool has = evpn_conv_stamp_of(&u->attrs, &ms) == 0;

		for (size_t i = 0; i < u->nreach; i++) {
			size_t idx = (size_t)u->reach[i].mac.b[4] << 8 |
			    u->reach[i].mac.b[5];

			(*nroutes)++;
			if (!has)
				continue;
			n++;
			if (idx < max)
				stamps[idx] = ms;
		}
		fp_update_clear(u);
	}
	free(u);
	return n;
}

/* Distinct attribute sets of the local type-2 paths in the RIB. */
struct sets {
	const struct bgp_attrs *seen[128];
	size_t		 n;
};

static void
sets_add(const struct bgp_rib_entry *ent, void *arg)
{
	struct sets *s = arg;
	const struct bgp_rib_path *p = bgp_rib_best(ent);

	if (evpn_key_type(ent->key) != EVPN_RT_MACIP || p == NULL ||
	    p->slot != BGP_RIB_PEER_LOCAL)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->seen[i] == p->attrs)
			return;
	ck_assert_uint_lt(s->n, nitems(s->seen));
	s->seen[s->n++] = p->attrs;
}

static size_t
local_sets(void)
{
	struct sets s = { { NULL }, 0 };

	bgp_rib_foreach(w.rib, BGP_AID_L2VPN_EVPN, sets_add, &s);
	return s.n;
}

/*
 * 1 in 4 new type-2 routes and every pre-allocation's route carry a
 * stamp; the others share one attribute set, each stamped route has
 * its own (the stamps differ by a ms).  The intern table holds each
 * twice: as originated and as sent to iBGP peers (with LOCAL_PREF).
 */
START_TEST(test_sampling_keeps_sharing)
{
	struct fp_conn *c = start("  convergence-sample 4\n");
	uint64_t stamps[64];
	size_t before = bgp_attrs_intern_count(), nroutes, i;
	struct evpn_conv_stats st;

	memset(stamps, 0, sizeof(stamps));
	advertise(1, 32, false);
	advertise(40, 3, true);
	ck_assert_uint_eq(sent_stamps(c, stamps, nitems(stamps), &nroutes),
	    8 + 3);
	ck_assert_uint_eq(nroutes, 35);
	/* The 4th, 8th, ... new route, each stamped when it was made. */
	for (i = 1; i <= 32; i++)
		ck_assert_uint_eq(stamps[i], i % 4 == 0 ? WALL0 + i : 0);
	for (i = 40; i < 43; i++)
		ck_assert_uint_eq(stamps[i], WALL0 + 32 + (i - 39));
	/* One set for the 24 ordinary routes, one per stamped route. */
	ck_assert_uint_eq(local_sets(), 1 + 8 + 3);
	ck_assert_uint_eq(bgp_attrs_intern_count() - before, 2 * (1 + 8 + 3));
	evpn_conv_stats(w.evpn, &st);
	ck_assert_uint_eq(st.stamped, 11);
}
END_TEST

START_TEST(test_sampling_off)
{
	struct fp_conn *c = start("  no convergence-sample\n");
	uint64_t stamps[64];
	size_t before = bgp_attrs_intern_count(), nroutes;

	advertise(1, 20, false);
	advertise(30, 2, true);
	ck_assert_uint_eq(sent_stamps(c, stamps, nitems(stamps), &nroutes), 0);
	ck_assert_uint_eq(nroutes, 22);
	ck_assert_uint_eq(local_sets(), 1);
	ck_assert_uint_eq(bgp_attrs_intern_count() - before, 2);
}
END_TEST

/* No session: nothing stamped (that wait would be session set-up). */
START_TEST(test_no_stamp_without_session)
{
	struct ipam_alloc a;
	struct evpn_local *l;
	struct evpn_route r;
	struct evpn_vni *v;

	fp_world_start(&w, conf_with(""));
	evpn_set_wall_clock(w.evpn, fake_wall, NULL);
	wall_ms = WALL0;
	alloc_fill(&a, 1, true);
	evpn_ipam_advertise(w.evpn, &a);
	v = evpn_vni_find(w.evpn, 100);
	ck_assert_int_eq(evpn_route_make_macip(&r, &v->rd, &a.mac, &a.ip,
	    100, 0), 0);
	ck_assert_ptr_nonnull(l = evpn_local_find(w.evpn, &r));
	ck_assert(l->conv_sampled);
	ck_assert_uint_eq(l->conv_stamp_ms, 0);
}
END_TEST

/* A new version (a MAC mobility sequence) is stamped anew; a reload
 * that announces nothing new does not restamp. */
START_TEST(test_restamp_on_change_only)
{
	struct fp_conn *c = start("  convergence-sample 4\n");
	uint64_t stamps[64];
	size_t nroutes;
	struct evpn_route r;
	struct bgp_attrs a;
	char err[256];
	struct config *conf;

	advertise(40, 1, true);
	memset(stamps, 0, sizeof(stamps));
	ck_assert_uint_eq(sent_stamps(c, stamps, nitems(stamps), &nroutes), 1);
	ck_assert_uint_eq(stamps[40], WALL0 + 1);

	/* Reload, same config: nothing sent for it. */
	conf = fp_conf(conf_with("  convergence-sample 4\n"));
	ck_assert_int_eq(evpn_reconfigure(w.evpn, conf, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = conf;
	fp_run(&w);
	memset(stamps, 0, sizeof(stamps));
	sent_stamps(c, stamps, nitems(stamps), &nroutes);
	ck_assert_uint_eq(stamps[40], 0);

	/* Another VTEP claims the MAC: ours goes out with sequence 1 and
	 * a new stamp. */
	r = fp_macip("10.0.0.12:1", "02:00:0a:00:00:28", NULL, 100);
	fp_attrs_vtep(&a, "10.0.0.12", "65000:100");
	wall_ms = WALL0 + 500;
	fp_announce(c, &a, &r, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
	memset(stamps, 0, sizeof(stamps));
	ck_assert_uint_eq(sent_stamps(c, stamps, nitems(stamps), &nroutes), 1);
	ck_assert_uint_eq(stamps[40], WALL0 + 500);
}
END_TEST

/* ---- reception -------------------------------------------------------- */

/* A remote type 2 for MAC 02:10:00:00:00:NN from vtep, stamped. */
static void
remote_stamped(struct fp_conn *c, const char *vtep, int nn, uint64_t stamp)
{
	char mac[32], rd[32];
	struct evpn_route r;
	struct bgp_attrs a;
	uint8_t ec[BGP_ECOMM_LEN];

	snprintf(mac, sizeof(mac), "02:10:00:00:%02x:%02x", nn >> 8, nn & 255);
	snprintf(rd, sizeof(rd), "%s:1", vtep);
	r = fp_macip(rd, mac, NULL, 100);
	fp_attrs_vtep(&a, vtep, "65000:100");
	evpn_conv_ecomm_make(ec, stamp);
	bgp_ecomm_add(&a, ec);
	fp_announce(c, &a, &r, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
}

static json_t *
conv_json(void)
{
	return evpn_convergence_json(w.evpn);
}

static json_int_t
jget(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	ck_assert_msg(json_is_integer(v), "%s.%s not an integer", a,
	    b ? b : "");
	return json_integer_value(v);
}

static void
expect_counts(json_int_t ok, json_int_t stale, json_int_t skew)
{
	json_t *o = conv_json();

	ck_assert_int_eq(jget(o, "received", "samples"), ok);
	ck_assert_int_eq(jget(o, "received", "stale"), stale);
	ck_assert_int_eq(jget(o, "received", "skew"), skew);
	json_decref(o);
}

static struct fp_conn *
start_receiver(void)
{
	struct fp_conn *c = start("");

	/* The session has been up two minutes. */
	fp_now += 120000;
	wall_ms = WALL0 + 120000;
	return c;
}

START_TEST(test_receive_samples)
{
	struct fp_conn *c = start_receiver(), *c2;
	struct lat_summary s;
	json_t *o, *rec;

	/* 25 ms ago: a sample of 25 ms. */
	remote_stamped(c, "10.0.0.12", 1, wall_ms - 25);
	expect_counts(1, 0, 0);
	evpn_conv_summary(w.evpn, &s);
	ck_assert_uint_eq(s.count, 1);
	ck_assert_uint_eq(s.p50_ms, 25);

	/* The same version through a second reflector: no new sample. */
	c2 = fp_establish(&w, RR2, &rr2);
	fp_run(&w);
	remote_stamped(c2, "10.0.0.12", 1, wall_ms - 25);
	expect_counts(1, 0, 0);

	/* A clock 50 ms ahead is within the tolerance: 0 ms. */
	remote_stamped(c, "10.0.0.12", 2, wall_ms + 50);
	/* 500 ms ahead is skew; 90 s ago (the session is older) too. */
	remote_stamped(c, "10.0.0.12", 3, wall_ms + 500);
	remote_stamped(c, "10.0.0.12", 4, wall_ms - 90000);
	/* Before the session came up: stale, not skew. */
	remote_stamped(c, "10.0.0.12", 5, wall_ms - 200000);
	expect_counts(2, 1, 2);
	evpn_conv_summary(w.evpn, &s);
	ck_assert_uint_eq(s.count, 2);
	ck_assert_uint_eq(s.p50_ms, 0);
	ck_assert_uint_eq(s.max_ms, 25);

	/* A new version of route 1 (withdrawn, announced again later). */
	fp_withdraw(c, (struct evpn_route[]){ fp_macip("10.0.0.12:1",
	    "02:10:00:00:00:01", NULL, 100) }, 1);
	fp_withdraw(c2, (struct evpn_route[]){ fp_macip("10.0.0.12:1",
	    "02:10:00:00:00:01", NULL, 100) }, 1);
	fp_run(&w);
	wall_ms += 1000;
	remote_stamped(c, "10.0.0.12", 1, wall_ms - 40);
	expect_counts(3, 1, 2);

	o = conv_json();
	ck_assert_int_eq(jget(o, "window", "count"), 3);
	ck_assert_int_eq(jget(o, "window", "maxMs"), 40);
	rec = json_array_get(json_object_get(o, "recent"), 0);
	ck_assert_int_eq(jget(rec, "latencyMs", NULL), 40);
	ck_assert_int_eq(jget(rec, "vni", NULL), 100);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "vtep")),
	    "10.0.0.12");
	ck_assert_uint_eq(json_array_size(json_object_get(o, "recent")), 6);
	json_decref(o);
}
END_TEST

/* A reload re-imports every route: not news, no samples. */
START_TEST(test_reload_no_samples)
{
	struct fp_conn *c = start_receiver();
	struct config *conf;
	char err[256];

	remote_stamped(c, "10.0.0.12", 1, wall_ms - 10);
	remote_stamped(c, "10.0.0.12", 2, wall_ms - 20);
	expect_counts(2, 0, 0);
	wall_ms += 5000;
	conf = fp_conf(conf_with(""));
	ck_assert_int_eq(evpn_reconfigure(w.evpn, conf, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = conf;
	fp_run(&w);
	expect_counts(2, 0, 0);
}
END_TEST

static json_t *
vtep_of(json_t *o, const char *vtep)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(o, "vteps"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "vtep")),
		    vtep) == 0)
			return v;
	ck_assert_msg(0, "VTEP %s not listed", vtep);
	return NULL;
}

static bool
suspect(const char *vtep)
{
	json_t *o = conv_json();
	bool s = json_is_true(json_object_get(vtep_of(o, vtep),
	    "clockSuspect"));

	json_decref(o);
	return s;
}

/* A VTEP whose clock runs a second ahead: mostly negative samples make
 * it suspect and exclude even its plausible ones, until its clock is
 * right again; another VTEP is not affected. */
START_TEST(test_bad_clock)
{
	struct fp_conn *c = start_receiver();
	struct evpn_conv_stats st;
	int n = 1, i;

	remote_stamped(c, "10.0.0.12", n++, wall_ms - 5);
	for (i = 0; i < 7; i++)
		remote_stamped(c, "10.0.0.13", n++, wall_ms + 1000);
	ck_assert(!suspect("10.0.0.13"));	/* 7 < 8 judged */
	remote_stamped(c, "10.0.0.13", n++, wall_ms + 1000);
	ck_assert(suspect("10.0.0.13"));
	ck_assert(!suspect("10.0.0.12"));
	evpn_conv_stats(w.evpn, &st);
	ck_assert_uint_eq(st.suspect_vteps, 1);
	expect_counts(1, 0, 8);
	/* Fixed: its first 11 plausible samples are still excluded (more
	 * than a quarter of its last 16 were skewed), the 12th counts. */
	for (i = 0; i < 11; i++)
		remote_stamped(c, "10.0.0.13", n++, wall_ms - 10);
	ck_assert(suspect("10.0.0.13"));
	expect_counts(1, 0, 8 + 11);
	remote_stamped(c, "10.0.0.13", n++, wall_ms - 10);
	ck_assert(!suspect("10.0.0.13"));
	expect_counts(2, 0, 8 + 11);
	remote_stamped(c, "10.0.0.12", n++, wall_ms - 5);
	expect_counts(3, 0, 8 + 11);
}
END_TEST

/* Routes without a stamp are no samples, and the route JSON shows a
 * stamp as it arrived. */
START_TEST(test_unstamped_and_route_json)
{
	struct fp_conn *c = start_receiver();
	struct evpn_route r = fp_macip("10.0.0.12:1", "02:10:00:00:00:09",
	    NULL, 100);
	struct bgp_attrs a;
	json_t *routes, *rt;
	size_t i;
	bool seen = false;

	fp_attrs_vtep(&a, "10.0.0.12", "65000:100");
	fp_announce(c, &a, &r, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
	expect_counts(0, 0, 0);
	remote_stamped(c, "10.0.0.12", 1, WALL0 + 0x1234);
	routes = evpn_routes_json(w.evpn, 2, 0);
	json_array_foreach(json_object_get(routes, "routes"), i, rt) {
		if (strcmp(json_string_value(json_object_get(rt, "mac")),
		    "02:10:00:00:00:01") == 0) {
			ck_assert_int_eq(jget(rt, "originatedMs", NULL),
			    (json_int_t)(WALL0 + 0x1234));
			seen = true;
		} else
			ck_assert_ptr_null(json_object_get(rt,
			    "originatedMs"));
	}
	ck_assert(seen);
	json_decref(routes);
}
END_TEST

/* ---- the fabric's values (ipamd/fabric_conv_value.c) ----------------- */

static struct fabric_conv_entry
entry(const char *rid, uint64_t count, uint32_t p50, uint32_t p90,
    uint32_t p99)
{
	struct fabric_conv_entry e;

	memset(&e, 0, sizeof(e));
	strlcpy_s(e.who.router_id, rid, sizeof(e.who.router_id));
	ck_assert_int_eq(ipaddr_parse(rid, &e.who.vtep), 0);
	e.c = (struct shadowd_convergence){ count, p50, p90, p99 };
	return e;
}

START_TEST(test_fabric_value)
{
	struct fabric_conv_entry e = entry("10.0.0.12", 40, 55, 63, 70), d;
	char *v;
	size_t len;

	v = fabric_conv_encode(&e, &len);
	ck_assert_str_eq(v, "{\"count\":40,\"p50Ms\":55,\"p90Ms\":63,"
	    "\"p99Ms\":70,\"routerId\":\"10.0.0.12\",\"vtep\":\"10.0.0.12\"}");
	ck_assert_int_eq(fabric_conv_parse(v, len, &d), 0);
	ck_assert_str_eq(d.who.router_id, "10.0.0.12");
	ck_assert_int_eq(ipaddr_cmp(&d.who.vtep, &e.who.vtep), 0);
	ck_assert_uint_eq(d.c.count, 40);
	ck_assert_uint_eq(d.c.p50_ms, 55);
	ck_assert_uint_eq(d.c.p90_ms, 63);
	ck_assert_uint_eq(d.c.p99_ms, 70);
	free(v);
}
END_TEST

/* What another VTEP (or anyone with write access to etcd) may put. */
START_TEST(test_fabric_value_hostile)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[1, 2]",
	    "{\"routerId\": \"10.0.0.12\", \"vtep\": \"10.0.0.12\", "
	    "\"count\": 40, \"p50Ms\": 55, \"p90Ms\": 63}",
	    "{\"routerId\": \"10.0.0.12\", \"vtep\": \"nope\", \"count\": 40, "
	    "\"p50Ms\": 55, \"p90Ms\": 63, \"p99Ms\": 70}",
	    "{\"routerId\": 12, \"vtep\": \"10.0.0.12\", \"count\": 40, "
	    "\"p50Ms\": 55, \"p90Ms\": 63, \"p99Ms\": 70}",
	    "{\"routerId\": \"10.0.0.12\", \"vtep\": \"10.0.0.12\", "
	    "\"count\": -1, \"p50Ms\": 55, \"p90Ms\": 63, \"p99Ms\": 70}",
	    "{\"routerId\": \"10.0.0.12\", \"vtep\": \"10.0.0.12\", "
	    "\"count\": 40, \"p50Ms\": 63, \"p90Ms\": 55, \"p99Ms\": 70}",
	    "{\"routerId\": \"10.0.0.12\", \"vtep\": \"10.0.0.12\", "
	    "\"count\": 40, \"p50Ms\": 55, \"p90Ms\": 63, \"p99Ms\": 60001}",
	    "{\"routerId\": \"10.0.0.12\", \"vtep\": \"10.0.0.12\", "
	    "\"count\": 40, \"p50Ms\": 55.5, \"p90Ms\": 63, \"p99Ms\": 70}",
	    "{\"routerId\": \"10.0.0.12\", \"routerId\": \"10.0.0.13\", "
	    "\"vtep\": \"10.0.0.12\", \"count\": 40, \"p50Ms\": 55, "
	    "\"p90Ms\": 63, \"p99Ms\": 70}",
	    "{\"routerId\": \"0123456789012345678901234567890123456789012345"
	    "6789\", \"vtep\": \"10.0.0.12\", \"count\": 40, \"p50Ms\": 55, "
	    "\"p90Ms\": 63, \"p99Ms\": 70}",
	};
	struct fabric_conv_entry d;
	char big[FABRIC_CONV_VALUE_MAX + 2];

	for (size_t i = 0; i < nitems(bad); i++)
		ck_assert_msg(fabric_conv_parse(bad[i], strlen(bad[i]), &d) ==
		    -1, "accepted: %s", bad[i]);
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"count\": 1}", 12);
	ck_assert_int_eq(fabric_conv_parse(big, sizeof(big), &d), -1);
}
END_TEST

/* The fabric's figures: the slowest receiver's, ourselves and the
 * thinly sampled left out. */
START_TEST(test_fabric_merge)
{
	struct fabric_conv_entry e[] = {
		entry("10.0.0.11", 500, 10, 20, 30),	/* ourselves */
		entry("10.0.0.12", 40, 55, 63, 70),
		entry("10.0.0.13", 20, 50, 900, 1200),
		entry("10.0.0.14", 4, 5000, 9000, 9999),	/* too few */
	};
	struct shadowd_convergence c;

	ck_assert_uint_eq(fabric_conv_merge(e, nitems(e), "10.0.0.11", &c), 2);
	ck_assert_uint_eq(c.count, 60);
	ck_assert_uint_eq(c.p50_ms, 55);
	ck_assert_uint_eq(c.p90_ms, 900);
	ck_assert_uint_eq(c.p99_ms, 1200);
	ck_assert_uint_eq(fabric_conv_merge(e, 1, "10.0.0.11", &c), 0);
	ck_assert_uint_eq(c.count, 0);
	ck_assert_uint_eq(fabric_conv_merge(e, nitems(e), NULL, &c), 3);
	ck_assert_uint_eq(c.count, 560);
}
END_TEST

static Suite *
converge_suite(void)
{
	Suite *s = suite_create("converge");
	TCase *tc = tcase_create("converge");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_ecomm_bytes);
	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_hist_quantiles);
	tcase_add_test(tc, test_sampling_keeps_sharing);
	tcase_add_test(tc, test_sampling_off);
	tcase_add_test(tc, test_no_stamp_without_session);
	tcase_add_test(tc, test_restamp_on_change_only);
	tcase_add_test(tc, test_receive_samples);
	tcase_add_test(tc, test_reload_no_samples);
	tcase_add_test(tc, test_bad_clock);
	tcase_add_test(tc, test_unstamped_and_route_json);
	tcase_add_test(tc, test_fabric_value);
	tcase_add_test(tc, test_fabric_value_hostile);
	tcase_add_test(tc, test_fabric_merge);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(converge_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
