/*
 * Shadow inventory decisions: release to the target (the last unit is
 * kept exactly while delay weight x lead x arrival rate exceeds the
 * wastage weight, and goes back at once otherwise), plans per event
 * (followers of a run served by units made at its first request; a
 * gang's units made as its requests come within reach, not at its
 * first remote route), the service-rate lead (backlog and batch), and
 * the detector cases (autoscaler steps: no level shift, no alert;
 * announced bursts: no alert; an unannounced one: an alert within two
 * minutes).  Driven through shadow_harness.h with a virtual clock.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow.h"
#include "ipam/shadow_int.h"
#include "tests/unit/shadow_harness.h"

/* One second of the harness: requests at the given offsets (ms), then
 * the tick that closes it. */
static void
second_with(struct sim *s, const unsigned *offsets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sim_alloc(s, s->now + offsets[i]);
	s->now += 1000;
	sim_tick(s);
}

static void
quiet_seconds(struct sim *s, unsigned n)
{
	while (n-- > 0)
		second_with(s, NULL, 0);
}

/* A Poisson second at rate per second, at random offsets. */
static void
poisson_second(struct sim *s, double rate)
{
	unsigned off[64], n = poisson(&s->rng, rate), i;

	if (n > nitems(off))
		n = nitems(off);
	for (i = 0; i < n; i++)
		off[i] = (unsigned)(unif(&s->rng) * 999);
	for (i = 1; i < n; i++)		/* in time order */
		for (unsigned j = i; j > 0 && off[j] < off[j - 1]; j--) {
			unsigned t = off[j];

			off[j] = off[j - 1];
			off[j - 1] = t;
		}
	second_with(s, off, n);
}

/* Share of ticks with a unit held, over seconds of Poisson demand. */
static double
held_share(struct sim *s, double rate, unsigned seconds)
{
	unsigned held = 0;

	for (unsigned i = 0; i < seconds; i++) {
		poisson_second(s, rate);
		if (s->nheld > 0)
			held++;
	}
	return (double)held / seconds;
}

/*
 * Release to the target.  Weights 1 and 100, lead 1 s: a unit pays while
 * 100 x 1 x lambda > 1, i.e. lambda > 0.01/s.  Below that the last unit
 * is not kept (it may be, for a moment, after a request that could start
 * a run); above, it is held nearly all the time.
 */
START_TEST(test_release_last_unit)
{
	struct shadow_params p;
	struct sim s;
	double low, high;

	shadow_params_default(&p);
	p.adapt = false;
	sim_init(&s, &p, 100000);
	(void)held_share(&s, 0.004, 7200);
	low = held_share(&s, 0.004, 7200);
	sim_done(&s);
	sim_init(&s, &p, 100000);
	(void)held_share(&s, 0.03, 7200);
	high = held_share(&s, 0.03, 7200);
	sim_done(&s);
	printf("last unit held: %.1f%% of ticks at 0.4x the break-even "
	    "rate, %.1f%% at 3x\n", 100 * low, 100 * high);
	ck_assert_double_lt(low, 0.05);
	ck_assert_double_gt(high, 0.8);
}
END_TEST

/* No slack: when the target falls, what is above it goes back in the
 * same decision, not one unit later and not after a hold time. */
START_TEST(test_release_at_once)
{
	struct shadow_state st = { 3, 0, 1000, 1000 };
	struct shadow_decision d;
	struct shadow *sh = shadow_new(NULL, 1000);
	uint64_t t;

	for (t = 0; t < 3600; t++)
		shadow_tick(sh, t * 1000, NULL, NULL);
	shadow_plan(sh, 3600 * 1000 + 500, &st, &d);
	ck_assert_uint_eq(d.target, 0);
	ck_assert_uint_eq(d.want_release, 3);
	ck_assert_uint_eq(d.want_alloc, 0);
	shadow_free(sh);
}
END_TEST

/* Runs of 8 requests 0.4 s apart every 600 s, on a thin background. */
static void
runs_trace(struct sim *s, unsigned seconds)
{
	static const unsigned first[] = { 300, 700 }, mid[] = { 100, 500, 900 };
	unsigned i, phase;

	for (i = 0; i < seconds; i++) {
		phase = (unsigned)(s->now / 1000 % 600);
		if (phase == 100)
			second_with(s, first, nitems(first));
		else if (phase == 101 || phase == 102)
			second_with(s, mid, nitems(mid));
		else
			poisson_second(s, 0.002);
	}
}

/*
 * Decide per event.  After learning the runs, the plan right after a
 * run's first request asks for units at once (not at the next tick),
 * and over the same trace the engine asked after every request serves
 * clearly more requests from pre-allocations than the one asked once a
 * second.
 */
START_TEST(test_plan_per_event)
{
	struct shadow_params p;
	struct shadow_state st;
	struct shadow_decision d;
	struct sim ev, tk;
	uint64_t hits_ev, hits_tk, req;
	double wait_ev, wait_tk;

	shadow_params_default(&p);
	p.adapt = false;
	sim_init(&ev, &p, 100000);
	sim_init(&tk, &p, 100000);
	ev.plan_events = true;
	runs_trace(&ev, 3 * 3600);
	runs_trace(&tk, 3 * 3600);
	/* The next run's first request, half a second into a tick. */
	while (ev.now / 1000 % 600 != 100)
		quiet_seconds(&ev, 1);
	ev.plan_events = false;
	sim_alloc(&ev, ev.now + 300);
	ev.now += 300;
	sim_state(&ev, &st);
	shadow_plan(ev.sh, ev.now, &st, &d);
	ck_assert_uint_ge(d.want_alloc, 2);
	sim_done(&ev);

	sim_init(&ev, &p, 100000);
	ev.plan_events = true;
	runs_trace(&ev, 3 * 3600);
	hits_ev = ev.hits;
	hits_tk = tk.hits;
	wait_ev = ev.wait_s;
	wait_tk = tk.wait_s;
	req = ev.hits + ev.misses;
	runs_trace(&ev, 3 * 3600);
	runs_trace(&tk, 3 * 3600);
	hits_ev = ev.hits - hits_ev;
	hits_tk = tk.hits - hits_tk;
	wait_ev = ev.wait_s - wait_ev;
	wait_tk = tk.wait_s - wait_tk;
	req = ev.hits + ev.misses - req;
	printf("runs: per event %llu served warm, %.1f s waited; per tick "
	    "%llu, %.1f s; of %llu requests\n", (unsigned long long)hits_ev,
	    wait_ev, (unsigned long long)hits_tk, wait_tk,
	    (unsigned long long)req);
	ck_assert_uint_gt(hits_ev, hits_tk);
	ck_assert_double_lt(wait_ev, 0.75 * wait_tk);
	sim_done(&ev);
	sim_done(&tk);
}
END_TEST

/* A gang every 300 s: 10 remote adds, 20 s later 5 local requests. */
static void
gang_second(struct sim *s, unsigned phase)
{
	static const unsigned locals[] = { 100, 300, 500, 700, 900 };

	if (phase == 10)
		for (unsigned k = 0; k < 10; k++)
			shadow_on_route_add(s->sh, s->now + 90 * k);
	if (phase == 30)
		second_with(s, locals, nitems(locals));
	else
		poisson_second(s, 0.003);
}

/*
 * A gang's units follow the learned lag: none held just after its
 * remote routes, several by the time its requests are due, and most of
 * them served from pre-allocations.
 */
START_TEST(test_gang_units_timed)
{
	struct shadow_params p;
	struct sim s;
	uint32_t early = 0, late = 0;
	uint64_t hits;
	unsigned i, phase;

	shadow_params_default(&p);
	p.adapt = false;
	sim_init(&s, &p, 100000);
	s.plan_events = true;
	for (i = 0; i < 4 * 3600; i++)
		gang_second(&s, (unsigned)(s.now / 1000 % 300));
	while (s.now / 1000 % 300 != 10)
		gang_second(&s, (unsigned)(s.now / 1000 % 300));
	hits = s.hits;
	for (i = 0; i < 21; i++) {
		phase = (unsigned)(s.now / 1000 % 300);
		gang_second(&s, phase);
		if (phase >= 11 && phase <= 14)
			early = early > s.d.target ? early : s.d.target;
		if (phase == 29)
			late = s.d.target;
	}
	printf("gang: target %u just after the adds, %u before its "
	    "requests, %llu of 5 served warm\n", early, late,
	    (unsigned long long)(s.hits - hits));
	ck_assert_uint_le(early, 1);
	ck_assert_uint_ge(late, 3);
	ck_assert_uint_ge(s.hits - hits, 3);
	sim_done(&s);
}
END_TEST

/*
 * The service-rate lead: 50 remote adds at 10 routes/s queue 5 s in the
 * fabric, so a unit made now needs base + 5 + 0.1 s; once served, base
 * + 0.1 again.  A longer window holds more for the same demand.
 */
START_TEST(test_service_rate_lead)
{
	struct shadow_params p;
	struct shadow_state st = { 0, 0, 100000, 100000 };
	struct shadow_decision d;
	struct shadow *sh;
	uint64_t t;
	uint32_t idle_target;

	shadow_params_default(&p);
	p.service_rate = 10;
	p.adapt = false;
	sh = shadow_new(&p, 100000);
	for (t = 0; t < 3600; t++) {
		shadow_on_alloc(sh, t * 1000 + 400);
		shadow_on_served(sh, t * 1000 + 400, false, 1.1);
		shadow_tick(sh, (t + 1) * 1000, &st, &d);
	}
	ck_assert_double_eq_tol(d.lead_s, 1.1, 0.05);
	idle_target = d.target;
	t = 3600 * 1000 + 200;
	for (unsigned k = 0; k < 50; k++)
		shadow_on_route_add(sh, t);
	shadow_plan(sh, t, &st, &d);
	ck_assert_double_eq_tol(d.lead_s, 1 + 5 + 0.1, 0.05);
	ck_assert_uint_gt(d.target, idle_target);
	shadow_plan(sh, t + 5000, &st, &d);
	ck_assert_double_eq_tol(d.lead_s, 1.1, 0.05);
	shadow_free(sh);
}
END_TEST

/*
 * Misses teach the base latency, less the queue the model expected:
 * each minute 20 remote adds queue 2 s at 10 routes/s, then a miss waits
 * 2 s base + 2 s queue + 0.1 s.  With the rate known the lead learned is
 * the base, 2 s; without it, the whole wait.
 */
START_TEST(test_service_rate_base)
{
	struct shadow_params p;
	struct shadow_report r;
	struct shadow *sh;
	uint64_t t, m;

	for (int known = 0; known < 2; known++) {
		shadow_params_default(&p);
		p.service_rate = known ? 10 : 0;
		sh = shadow_new(&p, 100000);
		for (m = 0; m < 60; m++) {
			t = m * 60000;
			for (unsigned k = 0; k < 20; k++)
				shadow_on_route_add(sh, t);
			shadow_on_alloc(sh, t);
			shadow_on_served(sh, t, false, 4.1);
			for (uint64_t s = 0; s < 60; s++)
				shadow_tick(sh, t + s * 1000 + 1000, NULL,
				    NULL);
		}
		shadow_report(sh, &r);
		ck_assert_double_eq_tol(r.lead_s, known ? 2.0 : 4.1, 0.2);
		shadow_free(sh);
	}
}
END_TEST

static uint64_t
alerts_of(const struct shadow *sh, enum shadow_alert_kind kind,
    uint64_t after_ms, uint64_t *first_ms)
{
	struct shadow_alert a[SHADOW_ALERT_RING];
	size_t n = shadow_alerts(sh, 0, a, nitems(a));
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (a[i].kind == kind && a[i].t_ms >= after_ms &&
		    c++ == 0 && first_ms != NULL)
			*first_ms = a[i].t_ms;
	return c;
}

/* Background 0.01/s, an autoscaler step of 4..16 requests 0.5 s apart
 * about every 40 min, and a gang every ~37 min: remote adds, then a
 * local run of about half their number. */
static void
busy_second(struct sim *s)
{
	unsigned phase = (unsigned)(s->now / 1000 % 2400), n, off[2];
	uint64_t gphase = s->now / 1000 % 2220;

	if (phase < 8 && s->now / 1000 % 4800 < 2400) {
		n = 4 + (unsigned)(s->now / 2400000 % 13);
		off[0] = 0;
		off[1] = 500;
		second_with(s, off, phase * 2 + 2 <= n ? 2 : 0);
		return;
	}
	if (gphase == 0)
		for (unsigned k = 0; k < 30; k++)
			shadow_on_route_add(s->sh, s->now + 200 * k);
	if (gphase >= 20 && gphase < 28) {
		off[0] = 200;
		off[1] = 600;
		second_with(s, off, 2);
		return;
	}
	poisson_second(s, 0.01);
}

/*
 * Autoscaler steps are runs: they neither move the level (no level shift
 * in a day of them) nor raise alerts, bursts or drops.
 */
START_TEST(test_steps_no_alert)
{
	struct sim s;

	sim_init(&s, NULL, 100000);
	s.plan_events = true;
	for (unsigned i = 0; i < 86400; i++)
		busy_second(&s);
	ck_assert_uint_eq(s.sh->kalman.shifts, 0);
	ck_assert_uint_eq(shadow_alert_count(s.sh), 0);
	sim_done(&s);
}
END_TEST

/* 40 requests within 10 s, in a pool that learned busy_second's day. */
static void
burst_of_40(struct sim *s)
{
	for (unsigned i = 0; i < 10; i++) {
		static const unsigned off[] = { 50, 300, 550, 800 };

		second_with(s, off, nitems(off));
	}
}

/*
 * The same burst: announced by an intent, or by remote adds (80 of them,
 * a gang whose local share is the usual half), it raises nothing; out of
 * the blue, a burst alert within two minutes.
 */
START_TEST(test_burst_announced_or_not)
{
	struct sim s;
	uint64_t t0, first = 0;

	for (int how = 0; how < 3; how++) {
		sim_init(&s, NULL, 100000);
		for (unsigned i = 0; i < 6 * 3600; i++)
			busy_second(&s);
		while (s.now / 1000 % 2400 < 300 ||
		    s.now / 1000 % 2400 > 2000 ||
		    s.now / 1000 % 2220 < 300)
			busy_second(&s);
		t0 = s.now;
		if (how == 0)
			shadow_on_intent(s.sh, t0, 40, 60);
		if (how == 1) {
			for (unsigned k = 0; k < 80; k++)
				shadow_on_route_add(s.sh, t0 + 150 * k);
			quiet_seconds(&s, 20);
		}
		burst_of_40(&s);
		for (unsigned i = 0; i < 120; i++)
			poisson_second(&s, 0.01);
		if (how < 2)
			ck_assert_msg(alerts_of(s.sh, SHADOW_ALERT_BURST, t0,
			    NULL) == 0, "announced (%s) burst raised an alert",
			    how == 0 ? "intent" : "remote adds");
		else {
			ck_assert_uint_ge(alerts_of(s.sh, SHADOW_ALERT_BURST,
			    t0, &first), 1);
			ck_assert_uint_le(first - t0, 120000);
			printf("unannounced burst of 40 in 10 s: alert after "
			    "%.1f s\n", (double)(first - t0) / 1000);
		}
		sim_done(&s);
	}
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("shadow_plan");
	TCase *tc = tcase_create("decide");
	TCase *ta = tcase_create("alerts");

	tcase_set_timeout(tc, 300);
	tcase_set_timeout(ta, 300);
	tcase_add_test(tc, test_release_last_unit);
	tcase_add_test(tc, test_release_at_once);
	tcase_add_test(tc, test_plan_per_event);
	tcase_add_test(tc, test_gang_units_timed);
	tcase_add_test(tc, test_service_rate_lead);
	tcase_add_test(tc, test_service_rate_base);
	tcase_add_test(ta, test_steps_no_alert);
	tcase_add_test(ta, test_burst_announced_or_not);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, ta);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
