/*
 * Shadow inventory engine state from outside: a measured lead reaching
 * the decision (shadow_set_lead), the per-group expectations
 * (shadow_groups.c), and the state saved and restored across a restart
 * (shadow_persist.c): the same forecasts after, damaged blobs refused.
 * With SHADOW_STATE_SEED set, the trained blob is written there (the
 * fuzz target's seed corpus, tests/fuzz/corpus/shadow).
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "ipam/shadow.h"
#include "ipam/shadow_int.h"
#include "tests/unit/shadow_harness.h"

/*
 * A steady rate of requests: the lookahead is the lead, and a longer
 * measured lead makes the engine hold more units at once (the k-th
 * unit is held while P(N(lead) >= k) is high enough); a shorter one
 * gives them back.
 */
START_TEST(test_set_lead)
{
	struct shadow_params p;
	struct shadow_report r;
	struct sim s;
	uint32_t t1, t5;

	shadow_params_default(&p);
	p.adapt = false;
	sim_init(&s, &p, 1000000);
	sim_poisson(&s, 1.0, 1800);
	ck_assert_double_eq_tol(s.d.lookahead_s, 1.0, 1e-9);
	t1 = s.d.target;

	shadow_set_lead(s.sh, 5.0);
	s.lead_ms = 5000;
	sim_tick(&s);
	ck_assert_double_eq_tol(s.d.lookahead_s, 5.0, 1e-9);
	ck_assert_double_eq_tol(s.d.lead_s, 5.0, 1e-9);
	t5 = s.d.target;
	ck_assert_uint_gt(t5, t1 + 2);
	shadow_report(s.sh, &r);
	ck_assert_double_eq_tol(r.lead_s, 5.0, 1e-9);
	ck_assert_double_eq_tol(shadow_params(s.sh)->lead_s, 5.0, 1e-9);
	ck_assert_uint_eq(r.policy_changes, 1);

	/* The same lead again: nothing logged. */
	shadow_set_lead(s.sh, 5.0);
	shadow_report(s.sh, &r);
	ck_assert_uint_eq(r.policy_changes, 1);

	/* Through shadow_set_params too (a reload with a new lead). */
	p.lead_s = 0.2;
	shadow_set_params(s.sh, &p);
	sim_tick(&s);
	ck_assert_double_eq_tol(s.d.lookahead_s, 0.2, 1e-9);
	ck_assert_uint_lt(s.d.target, t5);
	ck_assert_uint_gt(s.d.want_release, 0);

	/* Nonsense is refused, an overlong lead clamped. */
	shadow_set_lead(s.sh, NAN);
	shadow_set_lead(s.sh, -1);
	ck_assert_double_eq_tol(shadow_params(s.sh)->lead_s, 0.2, 1e-9);
	shadow_set_lead(s.sh, 1e6);
	ck_assert_double_eq(shadow_params(s.sh)->lead_s, SHADOW_LEAD_MAX_S);
	sim_done(&s);
}
END_TEST

static const struct shadow_group_view *
group_view(const struct shadow_group_view *v, size_t n, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].label, label) == 0)
			return &v[i];
	ck_abort_msg("no group %s", label);
	return NULL;
}

/* A run of n requests of group label at t (100 ms apart). */
static void
group_run(struct shadow *sh, uint64_t t, const char *label, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		shadow_group_request(sh, t + 100 * i, label);
}

/*
 * A job that scales by six every two minutes expects about 15 more in
 * 5 minutes (2.5 runs of 6), with a wide p90; a job that started once
 * expects nothing more once its run is over; the requests and what is
 * held follow requests and releases.
 */
START_TEST(test_groups_expectations)
{
	struct shadow_group_view v[SHADOW_GROUPS_MAX];
	const struct shadow_group_view *a, *b;
	struct shadow *sh = shadow_new(NULL, 1000);
	uint64_t t = 1000000;
	size_t n;

	group_run(sh, t, "job=once", 4);
	for (int k = 0; k < 60; k++) {
		group_run(sh, t, "job=llama-70b", 6);
		t += 120000;
		shadow_groups_tick(sh, t);
	}
	/* The first job's run is over; it released one. */
	shadow_group_release(sh, t, "job=once");
	shadow_group_release(sh, t, "job=nobody");	/* unknown: ignored */
	n = shadow_groups(sh, t, v, nitems(v));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].label, "job=llama-70b");	/* label order */
	a = group_view(v, n, "job=llama-70b");
	b = group_view(v, n, "job=once");
	ck_assert_uint_eq(a->requests, 360);
	ck_assert_uint_eq(a->active, 360);
	ck_assert_double_eq(a->expected.window_s, 300);
	ck_assert_double_ge(a->expected.mean, 12);
	ck_assert_double_le(a->expected.mean, 18);
	ck_assert_double_ge(a->expected.p90, a->expected.mean);
	ck_assert_double_ge(a->expected.p90, 18);
	ck_assert_double_le(a->expected.p90, 30);
	ck_assert_double_eq(a->expected.pconf, a->expected.p90);
	ck_assert_uint_eq(b->requests, 4);
	ck_assert_uint_eq(b->active, 3);
	ck_assert_double_eq(b->expected.p90, 0);

	/* In the middle of a run of 6 after 2: the rest of it is expected
	 * at once. */
	group_run(sh, t, "job=llama-70b", 2);
	n = shadow_groups(sh, t + 200, v, nitems(v));
	a = group_view(v, n, "job=llama-70b");
	ck_assert_double_ge(a->expected.mean, 4 + 12);
	/* No label, an overlong one: no group. */
	shadow_group_request(sh, t, NULL);
	shadow_group_request(sh, t, "");
	{
		char big[SHADOW_GROUP_LABEL_MAX + 2];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		shadow_group_request(sh, t, big);
	}
	ck_assert_uint_eq(shadow_groups(sh, t, v, nitems(v)), 2);
	shadow_free(sh);
}
END_TEST

/*
 * At most SHADOW_GROUPS_MAX groups: a new one replaces an idle group
 * that holds nothing before one that holds something; groups that hold
 * nothing are dropped after an hour of quiet; the count the caller
 * makes at start replaces what the groups held.
 */
START_TEST(test_groups_bounded)
{
	struct shadow_group_view v[SHADOW_GROUPS_MAX + 8];
	struct shadow *sh = shadow_new(NULL, 1000);
	uint64_t t = 1000000;
	char label[32];
	size_t n;

	for (int i = 0; i < SHADOW_GROUPS_MAX; i++) {
		snprintf(label, sizeof(label), "job=j%02d", i);
		shadow_group_request(sh, t + (uint64_t)i * 10000, label);
	}
	/* j00 gives its address back: it is the one to go. */
	shadow_group_release(sh, t + 400000, "job=j00");
	shadow_group_request(sh, t + 500000, "app=new");
	n = shadow_groups(sh, t + 500000, v, nitems(v));
	ck_assert_uint_eq(n, SHADOW_GROUPS_MAX);
	ck_assert_uint_eq(shadow_groups_evicted(sh), 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_ne(v[i].label, "job=j00");
	ck_assert_str_eq(v[0].label, "app=new");
	/* All hold something: the quietest goes (j01). */
	shadow_group_request(sh, t + 600000, "app=newer");
	n = shadow_groups(sh, t + 600000, v, nitems(v));
	ck_assert_uint_eq(n, SHADOW_GROUPS_MAX);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_ne(v[i].label, "job=j01");

	/* The caller's count at start: only app=new holds two now. */
	shadow_groups_held_reset(sh);
	shadow_group_held(sh, t + 600000, "app=new", 2);
	shadow_groups_tick(sh, t + 600000 + 3600000);
	n = shadow_groups(sh, t + 600000 + 3600000, v, nitems(v));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].label, "app=new");
	ck_assert_uint_eq(v[0].active, 2);
	shadow_free(sh);
}
END_TEST

/*
 * Churn-driven demand: every two minutes 20 remote adds, then 6 local
 * requests 5 s later, of a group; releases a minute after; then quiet
 * for 30 s so that no run is going on.
 */
static void
train(struct sim *s, unsigned minutes)
{
	for (unsigned m = 0; m < minutes; m += 2) {
		for (int i = 0; i < 20; i++)
			shadow_on_route_add(s->sh, s->now + 10 * i);
		s->now += 5000;
		sim_tick(s);
		for (int i = 0; i < 6; i++) {
			sim_alloc(s, s->now + 100 * i);
			shadow_group_request(s->sh, s->now + 100 * i,
			    "job=llama-70b");
		}
		for (int k = 0; k < 115; k++) {
			s->now += 1000;
			if (k == 60)
				for (int i = 0; i < 6; i++) {
					shadow_on_release(s->sh, s->now);
					shadow_group_release(s->sh, s->now,
					    "job=llama-70b");
				}
			sim_tick(s);
		}
	}
}

static void
save_blob(const struct shadow *sh, struct wbuf *wb)
{
	const char *seed = getenv("SHADOW_STATE_SEED");
	FILE *f;

	wbuf_init(wb, SHADOW_STATE_MAX);
	ck_assert_int_eq(shadow_state_save(sh, wb), 0);
	ck_assert_uint_gt(wb->len, 1000);
	ck_assert_uint_le(wb->len, SHADOW_STATE_MAX);
	if (seed != NULL && (f = fopen(seed, "wb")) != NULL) {
		fwrite(wb->data, 1, wb->len, f);
		fclose(f);
	}
}

static void
expect_same_report(const struct shadow_report *a, const struct shadow_report *b)
{
	ck_assert_double_eq(a->holt_level, b->holt_level);
	ck_assert_double_eq(a->holt_trend, b->holt_trend);
	ck_assert_double_eq(a->kalman_rate, b->kalman_rate);
	ck_assert_double_eq(a->kalman_sd, b->kalman_sd);
	ck_assert_double_eq(a->churn_lag_s, b->churn_lag_s);
	ck_assert_double_eq(a->churn_ratio, b->churn_ratio);
	ck_assert_double_eq(a->churn_corr, b->churn_corr);
	ck_assert_double_eq(a->churn_baseline, b->churn_baseline);
	ck_assert_double_eq(a->quantile, b->quantile);
	for (size_t m = 0; m < SHADOW_NMODELS; m++)
		ck_assert_double_eq(a->weights[m], b->weights[m]);
}

/*
 * Train, save, restore into a new engine at the same time: the same
 * learned state, and at the next tick the same forecast and the same
 * target as the engine that never stopped.
 */
START_TEST(test_persist_same_forecast)
{
	struct shadow_report ra, rb;
	struct sim a, b;
	struct wbuf wb;
	char err[256];
	double mean0;

	sim_init(&a, NULL, 100000);
	train(&a, 240);
	shadow_report(a.sh, &ra);
	ck_assert_double_gt(ra.churn_ratio, 0.1);
	ck_assert_double_gt(ra.churn_lag_s, 2);
	save_blob(a.sh, &wb);

	sim_init(&b, NULL, 100000);
	b.now = a.now;
	memcpy(b.ready_at, a.ready_at, sizeof(a.ready_at));
	b.nheld = a.nheld;
	b.pool_free = a.pool_free;
	ck_assert_int_eq(shadow_state_restore(b.sh, wb.data, wb.len, b.now,
	    0, err, sizeof(err)), 0);
	shadow_report(b.sh, &rb);
	expect_same_report(&ra, &rb);

	/* Calibration checks still pending in a are not carried over:
	 * compare the forecasts with the quantile both learned, held. */
	a.p.adapt = b.p.adapt = false;
	shadow_set_params(a.sh, &a.p);
	shadow_set_params(b.sh, &b.p);
	for (int i = 0; i < 3; i++) {
		a.now += 1000;
		b.now += 1000;
		sim_tick(&a);
		sim_tick(&b);
	}
	ck_assert_uint_eq(a.d.target, b.d.target);
	ck_assert_double_eq_tol(a.d.forecast.horizon.mean,
	    b.d.forecast.horizon.mean, 1e-9);
	ck_assert_double_eq(a.d.forecast.horizon.p90, b.d.forecast.horizon.p90);
	ck_assert_double_eq_tol(a.d.forecast.lead.mean, b.d.forecast.lead.mean,
	    1e-9);
	ck_assert_double_gt(b.d.forecast.horizon.mean, 0);
	/* The next gang's adds: both expect its requests alike. */
	mean0 = b.d.forecast.horizon.mean;
	for (int i = 0; i < 20; i++) {
		shadow_on_route_add(a.sh, a.now + 10 * i);
		shadow_on_route_add(b.sh, b.now + 10 * i);
	}
	for (int i = 0; i < 6; i++) {
		a.now += 1000;
		b.now += 1000;
		sim_tick(&a);
		sim_tick(&b);
	}
	ck_assert_uint_eq(a.d.target, b.d.target);
	ck_assert_double_gt(b.d.forecast.horizon.mean, mean0 + 1);
	ck_assert_double_eq_tol(a.d.forecast.horizon.mean,
	    b.d.forecast.horizon.mean, 1e-9);
	wbuf_free(&wb);
	sim_done(&a);
	sim_done(&b);
}
END_TEST

/*
 * Restored a minute after the save, on a clock that started again: the
 * history ends a minute ago (bins of nothing since, on the new clock),
 * the groups' times move with it.
 */
START_TEST(test_persist_retimed)
{
	struct shadow_bin bins[SHADOW_FINE_BINS];
	struct shadow_group_view g[4];
	struct shadow *sh;
	struct sim a;
	struct wbuf wb;
	char err[256];
	uint64_t now = 7000000;
	size_t n;

	sim_init(&a, NULL, 100000);
	a.now = 50000000;
	train(&a, 20);
	save_blob(a.sh, &wb);
	sh = shadow_new(NULL, 100000);
	ck_assert_int_eq(shadow_state_restore(sh, wb.data, wb.len, now, 60000,
	    err, sizeof(err)), 0);
	n = shadow_recent(sh, bins, nitems(bins));
	ck_assert_uint_eq(n, SHADOW_FINE_BINS);
	ck_assert_uint_eq(bins[n - 1].t_ms, now - 1000);
	ck_assert_uint_eq(bins[0].t_ms, now - 1000 * SHADOW_FINE_BINS);
	for (size_t i = n - 60; i < n; i++)
		ck_assert_uint_eq(bins[i].allocs + bins[i].route_adds, 0);
	ck_assert_uint_gt(bins[n - 61 - 115].allocs, 0);
	ck_assert_uint_eq(shadow_groups(sh, now, g, nitems(g)), 1);
	ck_assert_str_eq(g[0].label, "job=llama-70b");
	ck_assert_uint_eq(g[0].requests, 60);
	ck_assert_uint_eq(g[0].active, 0);
	/* Released 61 s into the last 120-s round, saved 54 s later. */
	ck_assert_double_eq_tol(g[0].idle_s, 60 + 54, 1e-9);
	/* It runs on from there. */
	shadow_tick(sh, now + 1000, NULL, NULL);
	shadow_free(sh);
	wbuf_free(&wb);
	sim_done(&a);
}
END_TEST

/* A blob cut anywhere, a byte too many, a damaged number, another
 * version or tick: refused, the engine left cold; a running engine
 * refuses any blob. */
START_TEST(test_persist_refused)
{
	struct shadow_report r0, r;
	struct shadow *sh;
	struct sim a;
	struct wbuf wb;
	uint8_t *copy;
	char err[256];
	size_t len;
	struct shadow_params p;

	sim_init(&a, NULL, 100000);
	train(&a, 20);
	save_blob(a.sh, &wb);
	len = wb.len;
	copy = xmalloc(len + 1);
	memcpy(copy, wb.data, len);
	sh = shadow_new(NULL, 100000);
	shadow_report(sh, &r0);
	for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 97) {
		errno = 0;
		ck_assert_int_eq(shadow_state_restore(sh, copy, cut, 5000, 0,
		    err, sizeof(err)), -1);
		ck_assert_int_eq(errno, EBADMSG);
	}
	copy[len] = 0;
	ck_assert_int_eq(shadow_state_restore(sh, copy, len + 1, 5000, 0, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "trailing bytes"));
	/* Holt's level (after the 36-byte header and 8 bytes of bins
	 * closed) as a NaN. */
	memset(copy + 36 + 8, 0xff, 8);
	ck_assert_int_eq(shadow_state_restore(sh, copy, len, 5000, 0, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad holt level"));
	memcpy(copy, wb.data, len);
	copy[7]++;	/* version */
	ck_assert_int_eq(shadow_state_restore(sh, copy, len, 5000, 0, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad version"));
	shadow_report(sh, &r);
	ck_assert_double_eq(r.holt_level, r0.holt_level);
	ck_assert_double_eq(r.churn_ratio, r0.churn_ratio);
	shadow_free(sh);

	shadow_params_default(&p);
	p.tick_ms = 500;
	sh = shadow_new(&p, 100000);
	ck_assert_int_eq(shadow_state_restore(sh, wb.data, len, 5000, 0, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad tick"));
	shadow_free(sh);
	ck_assert_int_eq(shadow_state_restore(a.sh, wb.data, len, a.now, 0,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EBUSY);
	free(copy);
	wbuf_free(&wb);
	sim_done(&a);
}
END_TEST

static Suite *
shadow_state_suite(void)
{
	Suite *s = suite_create("shadow_state");
	TCase *tc = tcase_create("lead");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_set_lead);
	suite_add_tcase(s, tc);
	tc = tcase_create("groups");
	tcase_add_test(tc, test_groups_expectations);
	tcase_add_test(tc, test_groups_bounded);
	suite_add_tcase(s, tc);
	tc = tcase_create("persist");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_persist_same_forecast);
	tcase_add_test(tc, test_persist_retimed);
	tcase_add_test(tc, test_persist_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(shadow_state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
