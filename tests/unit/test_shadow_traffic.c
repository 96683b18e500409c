/*
 * The shadow engine's leading signals: the traffic model learns the lag
 * and the gain of requests after traffic rises and raises the hold
 * before they come; without traffic, or with a flat one, nothing
 * changes; fresh neighbour misses announce requests; the scan detector
 * fires on one source asking for 200 free addresses within a minute and
 * not on a handful of ordinary misses.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/buf.h"
#include "ipam/shadow.h"
#include "tests/unit/shadow_harness.h"

#define EPISODE_S	600
#define STEP_PPS	4000.0
#define STEP_REQ	4
#define STEP_LAG_S	30

/*
 * Episodes of EPISODE_S: traffic at 5000 pps (1% noise), one sample
 * every 5 s; at 100 s into each it steps up by STEP_PPS, STEP_LAG_S
 * later STEP_REQ requests come within two seconds; at 400 s it falls
 * back.  traffic false: the requests alone.  Returns the hits over the
 * last `score` episodes.
 */
static uint64_t
run_episodes(struct sim *s, unsigned episodes, unsigned score, bool traffic,
    double step_pps)
{
	uint64_t rng = 99, hits0 = 0;
	unsigned e, t;

	for (e = 0; e < episodes; e++) {
		if (e == episodes - score)
			hits0 = s->hits;
		for (t = 0; t < EPISODE_S; t++) {
			uint64_t base = ((uint64_t)e * EPISODE_S + t) * 1000;
			double pps = 5000;

			if (t >= 100 && t < 400)
				pps += step_pps;
			if (traffic && t % 5 == 0)
				shadow_traffic(s->sh, base,
				    pps * (1 + 0.01 * (unif(&rng) - 0.5)));
			if (t >= 100 + STEP_LAG_S &&
			    t < 100 + STEP_LAG_S + 2)
				sim_allocs(s, base, STEP_REQ / 2);
			s->now = base;
			sim_tick(s);
		}
	}
	return s->hits - hits0;
}

START_TEST(traffic_learns_lag_and_gain)
{
	struct shadow_report r;
	struct sim s;

	sim_init(&s, NULL, 65536);
	s.plan_events = true;
	run_episodes(&s, 24, 1, true, STEP_PPS);
	shadow_report(s.sh, &r);
	ck_assert_uint_gt(r.traffic_samples, 0);
	/* 4 requests per 4000 pps: 0.001; the smoothing blurs it a bit. */
	ck_assert_msg(r.traffic_gain > 0.0006 && r.traffic_gain < 0.0015,
	    "gain %g", r.traffic_gain);
	ck_assert_msg(r.traffic_lag_s > STEP_LAG_S - 8 &&
	    r.traffic_lag_s < STEP_LAG_S + 3, "lag %g", r.traffic_lag_s);
	ck_assert_msg(r.traffic_rate > 4900 && r.traffic_rate < 5100,
	    "rate %g", r.traffic_rate);
	sim_done(&s);
}
END_TEST

/* What the traffic model learned survives a save and a restore into a
 * fresh engine (shadow_persist.c). */
START_TEST(traffic_model_restored)
{
	struct shadow_report r, r2;
	struct shadow *again;
	struct wbuf wb;
	struct sim s;
	char err[128];

	sim_init(&s, NULL, 65536);
	s.plan_events = true;
	run_episodes(&s, 24, 1, true, STEP_PPS);
	shadow_report(s.sh, &r);
	ck_assert(r.traffic_gain > 0);
	wbuf_init(&wb, SHADOW_STATE_MAX);
	ck_assert_int_eq(shadow_state_save(s.sh, &wb), 0);
	again = shadow_new(NULL, 65536);
	ck_assert_msg(shadow_state_restore(again, wb.data, wb.len,
	    s.now + 60000, 60000, err, sizeof(err)) == 0, "%s", err);
	shadow_report(again, &r2);
	ck_assert(r2.traffic_gain == r.traffic_gain);
	ck_assert(r2.traffic_lag_s == r.traffic_lag_s);
	/* Cut short, the blob is refused and the engine stays cold. */
	shadow_free(again);
	again = shadow_new(NULL, 65536);
	ck_assert_int_eq(shadow_state_restore(again, wb.data, wb.len - 8,
	    s.now, 0, err, sizeof(err)), -1);
	shadow_report(again, &r2);
	ck_assert(r2.traffic_gain == 0);
	shadow_free(again);
	wbuf_free(&wb);
	sim_done(&s);
}
END_TEST

/* Rates an exporter can claim (a flood, a lying sampling rate) are
 * bounded, and whatever the model learned from them saves to a blob that
 * restores: a flood cannot turn every later restart into a cold one. */
START_TEST(flooded_model_still_restores)
{
	struct shadow *again;
	struct wbuf wb;
	struct sim s;
	char err[128];

	sim_init(&s, NULL, 65536);
	run_episodes(&s, 3, 1, true, 1e15);
	wbuf_init(&wb, SHADOW_STATE_MAX);
	ck_assert_int_eq(shadow_state_save(s.sh, &wb), 0);
	again = shadow_new(NULL, 65536);
	ck_assert_msg(shadow_state_restore(again, wb.data, wb.len,
	    s.now + 60000, 60000, err, sizeof(err)) == 0, "%s", err);
	shadow_free(again);
	wbuf_free(&wb);
	sim_done(&s);
}
END_TEST

/* The same requests: with traffic the step's first requests are hits. */
START_TEST(traffic_raises_hold_before_requests)
{
	struct sim with, without;
	uint64_t h_with, h_without;

	sim_init(&with, NULL, 65536);
	sim_init(&without, NULL, 65536);
	with.plan_events = without.plan_events = true;
	h_with = run_episodes(&with, 24, 8, true, STEP_PPS);
	h_without = run_episodes(&without, 24, 8, false, STEP_PPS);
	ck_assert_msg(h_with >= h_without + 8, "with %" PRIu64 " without %"
	    PRIu64, h_with, h_without);
	sim_done(&with);
	sim_done(&without);
}
END_TEST

/* A flat, noisy traffic teaches nothing and changes no decision. */
START_TEST(flat_traffic_changes_nothing)
{
	struct shadow_report r;
	struct sim a, b;
	uint64_t rng = 5;
	unsigned t;

	sim_init(&a, NULL, 65536);
	sim_init(&b, NULL, 65536);
	for (t = 0; t < 4 * 3600; t++) {
		unsigned n = poisson(&a.rng, 0.02);

		b.rng = a.rng;
		if (t % 5 == 0)
			shadow_traffic(b.sh, (uint64_t)t * 1000,
			    5000 * (1 + 0.02 * (unif(&rng) - 0.5)));
		sim_allocs(&a, (uint64_t)t * 1000, n);
		sim_allocs(&b, (uint64_t)t * 1000, n);
		a.now = b.now = (uint64_t)t * 1000;
		sim_tick(&a);
		sim_tick(&b);
		ck_assert_uint_eq(a.d.target, b.d.target);
	}
	ck_assert_uint_eq(a.hits, b.hits);
	shadow_report(b.sh, &r);
	ck_assert(r.traffic_gain == 0);
	ck_assert(r.traffic_pending == 0);
	shadow_report(a.sh, &r);
	ck_assert_uint_eq(r.traffic_samples, 0);
	ck_assert(r.traffic_gain == 0 && r.neigh_gain == 0);
	sim_done(&a);
	sim_done(&b);
}
END_TEST

static void
addr4(struct ipaddr *a, uint32_t host)
{
	ipaddr_from_v4(a, host);
}

/*
 * Every request (one in 397 s) is preceded, 5 s before, by an ARP from
 * the gateway for a fresh free address; after training a lone miss raises the target.
 */
START_TEST(neigh_miss_announces_demand)
{
	struct shadow_report r;
	struct ipaddr gw, tgt;
	struct sim s, twin;
	uint32_t next = 0x0a000100;
	unsigned t;
	uint32_t held_with = 0, held_without = 0;

	sim_init(&s, NULL, 65536);
	sim_init(&twin, NULL, 65536);
	s.plan_events = twin.plan_events = true;
	addr4(&gw, 0x0a000001);
	for (t = 0; t < 6 * 3600; t++) {
		uint64_t ms = (uint64_t)t * 1000;

		if (t % 397 == 0) {
			addr4(&tgt, next++);
			shadow_neigh_miss(s.sh, ms, &gw, &tgt);
		}
		if (t % 397 == 5 && t > 5) {
			sim_allocs(&s, ms, 1);
			sim_allocs(&twin, ms, 1);
		}
		s.now = twin.now = ms;
		sim_tick(&s);
		sim_tick(&twin);
	}
	shadow_report(s.sh, &r);
	ck_assert_uint_gt(r.neigh_misses, 50);
	ck_assert_msg(r.neigh_gain > 0.5 && r.neigh_gain < 1.5, "gain %g",
	    r.neigh_gain);
	ck_assert_msg(r.neigh_lag_s > 3 && r.neigh_lag_s < 7, "lag %g",
	    r.neigh_lag_s);
	ck_assert_uint_gt(r.neigh_targets, 0);
	/* A miss now: before its lag has passed something is held; the
	 * twin, which saw the same requests without misses, holds none. */
	for (t = 6 * 3600; t < 6 * 3600 + 30; t++) {
		uint64_t ms = (uint64_t)t * 1000;

		if (t == 6 * 3600 + 1) {
			addr4(&tgt, next++);
			shadow_neigh_miss(s.sh, ms, &gw, &tgt);
		}
		s.now = twin.now = ms;
		sim_tick(&s);
		sim_tick(&twin);
		/* Up to the bin the request would have come in. */
		if (t <= 6 * 3600 + 6) {
			if (s.d.target > held_with)
				held_with = s.d.target;
			if (twin.d.target > held_without)
				held_without = twin.d.target;
		}
	}
	ck_assert_uint_ge(held_with, 1);
	ck_assert_uint_eq(held_without, 0);
	sim_done(&s);
	sim_done(&twin);
}
END_TEST

static size_t
scan_alerts(const struct shadow *sh, struct shadow_alert *first)
{
	struct shadow_alert a[SHADOW_ALERT_RING];
	size_t n, i, k = 0;

	n = shadow_alerts(sh, 0, a, SHADOW_ALERT_RING);
	for (i = 0; i < n; i++)
		if (a[i].kind == SHADOW_ALERT_SCAN) {
			if (k++ == 0 && first != NULL)
				*first = a[i];
		}
	return k;
}

/* One source, 200 free addresses over a minute: alert within it. */
START_TEST(scan_alerts_within_a_minute)
{
	struct shadow_alert first;
	struct ipaddr src, tgt;
	struct sim s;
	unsigned i;

	sim_init(&s, NULL, 65536);
	sim_poisson(&s, 0.05, 600);
	addr4(&src, 0x0a000063);	/* 10.0.0.99 */
	for (i = 0; i < 200; i++) {
		uint64_t ms = 600000 + (uint64_t)i * 300;

		addr4(&tgt, 0x0a000200 + i);
		shadow_neigh_miss(s.sh, ms, &src, &tgt);
		if (ms >= s.now + 1000) {
			s.now = ms / 1000 * 1000;
			sim_tick(&s);
		}
	}
	ck_assert_uint_eq(scan_alerts(s.sh, &first), 1);
	ck_assert_uint_le(first.t_ms - 600000, 60000);
	ck_assert_str_eq(shadow_alert_kind_name(first.kind), "scan");
	ck_assert_msg(strstr(first.message, "10.0.0.99") != NULL, "%s",
	    first.message);
	sim_done(&s);
}
END_TEST

/* Five clients asking now and then for a few free addresses: no alert. */
START_TEST(handful_of_misses_no_scan)
{
	struct ipaddr src, tgt;
	struct sim s;
	uint64_t rng = 3;
	unsigned t;

	sim_init(&s, NULL, 65536);
	for (t = 0; t < 3600; t++) {
		if (unif(&rng) < 0.3) {
			addr4(&src, 0x0a000001 + (uint32_t)(unif(&rng) * 5));
			addr4(&tgt, 0x0a000200 + (uint32_t)(unif(&rng) * 6));
			shadow_neigh_miss(s.sh, (uint64_t)t * 1000, &src,
			    &tgt);
		}
		s.now = (uint64_t)t * 1000;
		sim_tick(&s);
	}
	ck_assert_uint_eq(scan_alerts(s.sh, NULL), 0);
	sim_done(&s);
}
END_TEST

/* Hostile input: no rate, NaN, negative, no address: ignored. */
START_TEST(bad_input_ignored)
{
	struct shadow_report r;
	struct ipaddr none;
	struct sim s;

	sim_init(&s, NULL, 1024);
	memset(&none, 0, sizeof(none));
	shadow_traffic(s.sh, 1000, -1);
	shadow_traffic(s.sh, 1000, 0.0 / 0.0);
	shadow_traffic(s.sh, 1000, 1.0 / 0.0);
	shadow_neigh_miss(s.sh, 1000, NULL, &none);
	shadow_neigh_miss(s.sh, 1000, &none, NULL);
	shadow_report(s.sh, &r);
	ck_assert_uint_eq(r.traffic_samples, 0);
	ck_assert_uint_eq(r.neigh_misses, 0);
	sim_done(&s);
}
END_TEST

int
main(void)
{
	Suite	*su = suite_create("shadow_traffic");
	TCase	*tc = tcase_create("signals");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, traffic_learns_lag_and_gain);
	tcase_add_test(tc, traffic_model_restored);
	tcase_add_test(tc, flooded_model_still_restores);
	tcase_add_test(tc, traffic_raises_hold_before_requests);
	tcase_add_test(tc, flat_traffic_changes_nothing);
	tcase_add_test(tc, neigh_miss_announces_demand);
	tcase_add_test(tc, scan_alerts_within_a_minute);
	tcase_add_test(tc, handful_of_misses_no_scan);
	tcase_add_test(tc, bad_input_ignored);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
