/*
 * Shadow inventory engine: each model on synthetic series with known
 * answers, the guardrails under adversarial traces, jitter bounds, the
 * anomaly detector (burst caught, stationary quiet), bounded memory,
 * determinism and the policy learning, through the harness of
 * shadow_harness.h (the decisions per event are in test_shadow_plan.c).
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

START_TEST(test_defaults)
{
	struct shadow_params p;
	struct shadow_report r;
	struct shadow *sh;
	enum shadow_model m;

	shadow_params_default(&p);
	ck_assert_uint_eq(p.horizon_s, 300);
	ck_assert_uint_eq(p.max_warm, 64);
	ck_assert_uint_eq(p.tick_ms, 1000);
	ck_assert_int_eq(p.model, SHADOW_MODEL_ENSEMBLE);
	p.jitter = 7;
	p.tick_ms = 0;
	p.confidence = 2;
	sh = shadow_new(&p, 1000);
	ck_assert_double_eq(shadow_params(sh)->jitter, 0.5);
	ck_assert_uint_eq(shadow_params(sh)->tick_ms, 1000);
	ck_assert_double_le(shadow_params(sh)->confidence, SHADOW_QUANTILE_MAX);
	shadow_report(sh, &r);
	/* q starts at the newsvendor ratio 100/101. */
	ck_assert_double_eq_tol(r.newsvendor, 100.0 / 101.0, 1e-9);
	ck_assert_double_eq_tol(r.quantile, 100.0 / 101.0, 1e-9);
	ck_assert_int_eq(shadow_model_parse("churn", &m), 0);
	ck_assert_int_eq(m, SHADOW_MODEL_CHURN);
	ck_assert_int_eq(shadow_model_parse("arima", &m), -1);
	ck_assert_str_eq(shadow_model_name(SHADOW_MODEL_KALMAN), "kalman");
	shadow_free(sh);
}
END_TEST

START_TEST(test_mixture_quantiles)
{
	struct shadow_dist d[2] = { { 10, 10 }, { 1000, 1000 } };
	double w[2] = { 1, 0 }, w2[2] = { 0.5, 0.5 };

	/* Poisson(10): median 10, 0.99 quantile 18. */
	ck_assert_double_eq(shadow_mixture_quantile(w, d, 1, 0.5), 10);
	ck_assert_double_eq(shadow_mixture_quantile(w, d, 1, 0.99), 18);
	/* Poisson(0): nothing. */
	d[0].mean = d[0].var = 0;
	ck_assert_double_eq(shadow_mixture_quantile(w, d, 1, 0.99), 0);
	/* Negative binomial mean 10 variance 30: wider than Poisson. */
	d[0].mean = 10;
	d[0].var = 30;
	ck_assert_double_gt(shadow_mixture_quantile(w, d, 1, 0.99), 18);
	/* Half Poisson(10), half about 1000 (normal path). */
	d[0].var = 10;
	ck_assert_double_le(shadow_mixture_quantile(w2, d, 2, 0.4), 18);
	ck_assert_double_ge(shadow_mixture_quantile(w2, d, 2, 0.75), 990);
	ck_assert_double_le(shadow_mixture_quantile(w2, d, 2, 0.75), 1010);
	ck_assert_double_eq_tol(shadow_poisson_cdf(0, 2), exp(-2), 1e-12);
}
END_TEST

/* Found by fuzz_shadow: distributions a damaged saved state can give
 * (a mean past a double's integers, a vast variance) end in bounded
 * time with a finite answer; the bisection used to spin for ever. */
START_TEST(test_mixture_quantiles_extreme)
{
	const struct shadow_dist cases[] = {
		{ 1e20, 1e20 }, { 1e20, 1e40 }, { 10, 1e30 },
		{ 4e15, 4e15 }, { 1e300, INFINITY },
	};
	const double q[] = { 0.1, 0.5, 0.9, 0.99 };
	double w = 1, v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t j = 0; j < sizeof(q) / sizeof(q[0]); j++) {
			v = shadow_mixture_quantile(&w, &cases[i], 1, q[j]);
			ck_assert_msg(isfinite(v) && v >= 0 && v <= 1e12,
			    "case %zu q %g: %g", i, q[j], v);
		}
	v = shadow_mixture_sf(&w, &cases[2], 1, 1e9);
	ck_assert(v >= 0 && v <= 1);
}
END_TEST

/* A constant Poisson rate: every model's mean converges to it. */
START_TEST(test_constant_rate)
{
	struct shadow_report r;
	struct sim s;
	size_t m;

	sim_init(&s, NULL, 100000);
	sim_poisson(&s, 0.5, 7200);
	shadow_report(s.sh, &r);
	for (m = 0; m < SHADOW_NMODELS; m++)
		ck_assert_double_eq_tol(r.model_rate[m], 0.5, 0.1);
	ck_assert_double_eq_tol(r.holt_level, 0.5, 0.1);
	ck_assert_double_eq_tol(r.kalman_rate, 0.5, 0.1);
	ck_assert_double_eq_tol(r.forecast.rate, 0.5, 0.1);
	/* Over the 300 s horizon: 150 expected. */
	ck_assert_double_eq(r.forecast.horizon.window_s, 300);
	ck_assert_double_eq_tol(r.forecast.horizon.mean, 150, 25);
	ck_assert_double_eq_tol(r.forecast.horizon.p50, 150, 25);
	ck_assert_double_lt(r.forecast.horizon.p50, r.forecast.horizon.p90);
	ck_assert_double_lt(r.forecast.horizon.p90, r.forecast.horizon.p99);
	/* No relation to churn (there is none). */
	ck_assert_double_eq(r.churn_ratio, 0);
	/* Stationary: the target is a small quantile and most requests hit. */
	ck_assert_uint_ge(r.target, 1);
	ck_assert_uint_le(r.target, 8);
	ck_assert_double_gt((double)s.hits / (s.hits + s.misses), 0.9);
	sim_done(&s);
}
END_TEST

/* A linear trend in the rate: Holt tracks level and slope. */
START_TEST(test_holt_trend)
{
	struct shadow_params p;
	struct shadow_report r;
	struct sim s;
	unsigned i;
	double slope = 0.002, rate = 0;

	shadow_params_default(&p);
	p.model = SHADOW_MODEL_HOLT;
	sim_init(&s, &p, 1000000);
	for (i = 0; i < 3000; i++) {
		rate = 0.2 + slope * i;
		sim_allocs(&s, s.now, poisson(&s.rng, rate));
		s.now += 1000;
		sim_tick(&s);
	}
	shadow_report(s.sh, &r);
	ck_assert_double_eq_tol(r.holt_trend, slope, slope * 0.35);
	ck_assert_double_eq_tol(r.holt_level, rate, rate * 0.15);
	/* The horizon forecast extrapolates the trend: above level x 300. */
	ck_assert_double_gt(r.forecast.horizon.mean, r.holt_level * 300 * 1.02);
	ck_assert_double_eq_tol(r.forecast.horizon.mean,
	    300 * (rate + slope * 150), 300 * rate * 0.15);
	sim_done(&s);
}
END_TEST

/*
 * Gangs: 8 remote adds, and 10 s later 4 local requests (ratio 0.5), on
 * top of a background of requests and MAC moves (withdraw then add).
 */
static void
gang_trace(struct sim *s, unsigned seconds, bool follow, uint64_t *adds_at)
{
	uint64_t next_gang = s->now + 30000, pending = 0;
	unsigned i, k;

	for (i = 0; i < seconds; i++) {
		uint64_t t = s->now;

		if (t >= next_gang) {
			for (k = 0; k < 8; k++)
				shadow_on_route_add(s->sh, t + 100 * k);
			pending = t + 10000;
			if (adds_at != NULL)
				*adds_at = t;
			next_gang = t + 60000 + (uint64_t)(unif(&s->rng) *
			    120000);
		}
		if (follow && pending != 0 && t >= pending) {
			sim_allocs(s, t, 4);
			pending = 0;
		}
		sim_allocs(s, t, poisson(&s->rng, 0.05));
		if (unif(&s->rng) < 0.02) {	/* a MAC move */
			shadow_on_route_del(s->sh, t + 200);
			shadow_on_route_add(s->sh, t + 700);
		}
		s->now += 1000;
		sim_tick(s);
	}
}

START_TEST(test_churn_lag_ratio)
{
	struct shadow_report r;
	struct sim s;

	sim_init(&s, NULL, 100000);
	gang_trace(&s, 3 * 3600, true, NULL);
	shadow_report(s.sh, &r);
	ck_assert_double_eq_tol(r.churn_lag_s, 10, 1.0);
	ck_assert_double_eq_tol(r.churn_ratio, 0.5, 0.1);
	ck_assert_double_gt(r.churn_corr, 0.3);
	/* Moves were told apart from fresh adds. */
	ck_assert_uint_gt(r.mac_moves, 100);
	ck_assert_uint_eq(r.route_adds % 8, 0);
	/* The background is what churn does not explain. */
	ck_assert_double_eq_tol(r.churn_baseline, 0.05, 0.03);
	sim_done(&s);
}
END_TEST

/* After learning, a gang's adds make the engine pre-allocate in time. */
START_TEST(test_churn_prewarms)
{
	struct shadow_params p;
	struct sim s;
	uint64_t t0;
	unsigned i, before = 0, hits;

	shadow_params_default(&p);
	p.jitter = 0;
	sim_init(&s, &p, 100000);
	gang_trace(&s, 3 * 3600, true, NULL);
	/* One more gang now; count what is warm when its requests come. */
	t0 = s.now;
	for (i = 0; i < 8; i++)
		shadow_on_route_add(s.sh, t0 + 100 * i);
	for (i = 0; i < 10; i++) {
		s.now += 1000;
		sim_tick(&s);
	}
	for (i = 0; i < s.nheld; i++)
		if (s.ready_at[i] <= s.now)
			before++;
	ck_assert_uint_ge(before, 3);
	hits = (unsigned)s.hits;
	sim_allocs(&s, s.now, 4);
	ck_assert_uint_ge(s.hits - hits, 3);
	sim_done(&s);
}
END_TEST

/* Guardrails checked at every tick under adversarial traces. */
static void
check_guardrails(const struct sim *s, const struct shadow_state *st,
    const struct shadow_decision *d)
{
	const struct shadow_params *p = shadow_params(s->sh);
	uint64_t held = st->warm_ready + st->warm_converging, after, cap;

	cap = p->max_warm;
	if (floor(p->max_pool_fraction * st->pool_size) < cap)
		cap = (uint64_t)floor(p->max_pool_fraction * st->pool_size);
	ck_assert_uint_eq(d->cap, cap);
	ck_assert_uint_le(d->target, cap);
	ck_assert(d->want_alloc == 0 || d->want_release == 0);
	ck_assert_uint_le(d->want_alloc, st->pool_free);
	ck_assert_uint_le(d->want_release, held);
	after = held + d->want_alloc - d->want_release;
	if (d->want_alloc > 0)
		ck_assert_uint_le(after, cap);
	if (d->want_release > 0 && held <= cap)
		ck_assert_uint_ge(after, p->min_warm < cap ? p->min_warm : cap);
	if (held <= cap)
		ck_assert_uint_le(after, cap);
	if (p->mode == SHADOW_MODE_OBSERVE)
		ck_assert(d->want_alloc == 0 && d->want_release == 0);
	ck_assert_double_le(fabs(d->jitter_s), p->jitter * d->lead_s + 1e-9);
}

static void
adversarial(const struct shadow_params *p, uint64_t pool_size, uint64_t seed)
{
	struct shadow_state st;
	struct sim s;
	unsigned i, n;
	double u;

	sim_init(&s, p, pool_size);
	s.rng = seed;
	for (i = 0; i < 4 * 3600; i++) {
		u = unif(&s.rng);
		if (u < 0.002)
			n = 5000;			/* a huge spike */
		else if (u < 0.02)
			n = poisson(&s.rng, 40);	/* a burst */
		else
			n = poisson(&s.rng, 0.3);
		sim_allocs(&s, s.now, n);
		if (unif(&s.rng) < 0.01)
			for (n = 0; n < 200; n++)
				shadow_on_route_add(s.sh, s.now + n);
		/* The pool empties and refills behind our back. */
		u = unif(&s.rng);
		if (u < 0.05)
			s.pool_free = 0;
		else if (u < 0.1)
			s.pool_free = (uint64_t)(unif(&s.rng) * pool_size);
		s.now += 1000;
		sim_state(&s, &st);
		shadow_tick(s.sh, s.now, &st, &s.d);
		check_guardrails(&s, &st, &s.d);
		/* Carry it out as the daemon would. */
		for (n = 0; n < s.d.want_alloc; n++) {
			s.ready_at[s.nheld++] = s.now + s.lead_ms;
			if (s.pool_free > 0)
				s.pool_free--;
			shadow_on_prealloc_made(s.sh, s.now);
		}
		for (n = 0; n < s.d.want_release && s.nheld > 0; n++) {
			s.nheld--;
			shadow_on_prealloc_released(s.sh, s.now);
		}
		ck_assert_uint_le(s.nheld, shadow_params(s.sh)->max_warm);
	}
	sim_done(&s);
}

START_TEST(test_guardrails)
{
	struct shadow_params p;

	shadow_params_default(&p);
	p.max_warm = 16;
	p.max_pool_fraction = 0.1;
	adversarial(&p, 100, 1);		/* the fraction binds: 10 */
	p.max_pool_fraction = 1;
	adversarial(&p, 1000, 2);		/* max-warm binds */
	p.min_warm = 4;
	p.max_warm = 64;
	adversarial(&p, 10000, 3);
	p.min_warm = 50;			/* above the cap: cap wins */
	p.max_pool_fraction = 0.002;
	adversarial(&p, 10000, 4);
	p.min_warm = 2;
	p.max_pool_fraction = 0;		/* nothing may be held */
	adversarial(&p, 10000, 5);
	p.max_pool_fraction = 0.5;
	p.jitter = 0.5;
	p.lead_s = 5;
	adversarial(&p, 1000, 6);
	p.mode = SHADOW_MODE_OBSERVE;
	adversarial(&p, 1000, 7);
}
END_TEST

START_TEST(test_observe_mode)
{
	struct shadow_params p;
	struct sim s;
	uint32_t max_target = 0;
	unsigned i;

	shadow_params_default(&p);
	p.mode = SHADOW_MODE_OBSERVE;
	sim_init(&s, &p, 100000);
	for (i = 0; i < 1800; i++) {
		sim_poisson(&s, 2, 1);
		ck_assert_uint_eq(s.d.want_alloc, 0);
		ck_assert_uint_eq(s.d.want_release, 0);
		if (s.d.target > max_target)
			max_target = s.d.target;
	}
	/* The target is computed and reported all the same. */
	ck_assert_uint_ge(max_target, 3);
	ck_assert_uint_eq(s.hits, 0);
	sim_done(&s);
}
END_TEST

START_TEST(test_jitter_bounded)
{
	struct shadow_params p;
	struct sim s;
	double lo = 0, hi = 0, bound;
	unsigned i;

	shadow_params_default(&p);
	p.jitter = 0.3;
	p.lead_s = 2;
	p.adapt = false;
	sim_init(&s, &p, 100000);
	s.lead_ms = 2000;
	bound = 0.3 * 2;
	for (i = 0; i < 10000; i++) {
		sim_poisson(&s, 0.2, 1);
		ck_assert_double_le(fabs(s.d.jitter_s), bound + 1e-12);
		/* No fabric model: the window is the jittered lead. */
		ck_assert_double_eq_tol(s.d.lookahead_s, 2 + s.d.jitter_s,
		    1e-9);
		lo = fmin(lo, s.d.jitter_s);
		hi = fmax(hi, s.d.jitter_s);
	}
	/* It does move, both ways, close to the bounds. */
	ck_assert_double_lt(lo, -0.9 * bound);
	ck_assert_double_gt(hi, 0.9 * bound);
	sim_done(&s);

	p.jitter = 0;
	sim_init(&s, &p, 100000);
	for (i = 0; i < 100; i++) {
		sim_poisson(&s, 0.2, 1);
		ck_assert_double_eq(s.d.jitter_s, 0);
	}
	sim_done(&s);
}
END_TEST

static uint64_t
count_alerts(const struct shadow *sh, enum shadow_alert_kind kind,
    uint64_t after_ms, uint64_t *first_ms)
{
	struct shadow_alert a[SHADOW_ALERT_RING];
	size_t n, i;
	uint64_t c = 0;

	n = shadow_alerts(sh, 0, a, SHADOW_ALERT_RING);
	for (i = 0; i < n; i++)
		if (a[i].kind == kind && a[i].t_ms >= after_ms) {
			if (c++ == 0 && first_ms != NULL)
				*first_ms = a[i].t_ms;
		}
	return c;
}

START_TEST(test_burst_detected)
{
	struct sim s;
	uint64_t start, first = 0;
	unsigned i;

	sim_init(&s, NULL, 1000000);
	sim_poisson(&s, 0.2, 3600);
	ck_assert_uint_eq(count_alerts(s.sh, SHADOW_ALERT_BURST, 0, NULL), 0);
	/* An unannounced burst: 1 request a second for two minutes. */
	start = s.now;
	for (i = 0; i < 120; i++)
		sim_poisson(&s, 1.2, 1);
	ck_assert_uint_ge(count_alerts(s.sh, SHADOW_ALERT_BURST, start,
	    &first), 1);
	ck_assert_uint_le(first - start, 120000);
	printf("burst of 6x detected after %.0f s\n",
	    (double)(first - start) / 1000);
	sim_done(&s);
}
END_TEST

/* False alarms over 6 hours of stationary Poisson demand. */
START_TEST(test_false_alarms)
{
	static const double rates[] = { 0.02, 0.2, 2, 20 };
	struct sim s;
	uint64_t n;
	size_t i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		sim_init(&s, NULL, 10000000);
		s.rng = 99 + i;
		sim_poisson(&s, rates[i], 6 * 3600);
		n = shadow_alert_count(s.sh);
		printf("stationary rate %.2f/s, 6 h: %llu false alarms\n",
		    rates[i], (unsigned long long)n);
		ck_assert_uint_le(n, 1);
		sim_done(&s);
	}
}
END_TEST

/* Remote churn the model says is followed by requests, with none. */
START_TEST(test_churn_without_alloc)
{
	struct sim s;
	uint64_t start;

	sim_init(&s, NULL, 100000);
	gang_trace(&s, 3 * 3600, true, NULL);
	ck_assert_uint_eq(count_alerts(s.sh, SHADOW_ALERT_CHURN_NO_ALLOC, 0,
	    NULL), 0);
	start = s.now;
	gang_trace(&s, 1800, false, NULL);
	ck_assert_uint_ge(count_alerts(s.sh, SHADOW_ALERT_CHURN_NO_ALLOC,
	    start, NULL), 1);
	sim_done(&s);
}
END_TEST

/* A simulated week: memory and every ring stay where they started. */
START_TEST(test_memory_bounded)
{
	struct shadow_policy_change pl[2 * SHADOW_POLICY_RING];
	struct shadow_alert al[2 * SHADOW_ALERT_RING];
	struct shadow_bin bins[2 * SHADOW_FINE_BINS];
	struct shadow_report r;
	struct sim s;
	size_t mem;
	unsigned day;

	sim_init(&s, NULL, 100000);
	mem = shadow_memory(s.sh);
	for (day = 0; day < 7; day++) {
		gang_trace(&s, 86400, day % 2 == 0, NULL);
		ck_assert_uint_eq(shadow_memory(s.sh), mem);
		ck_assert_uint_le(s.sh->fine_len, SHADOW_FINE_BINS);
		ck_assert_uint_le(s.sh->coarse_len, SHADOW_COARSE_BINS);
	}
	ck_assert_uint_eq(s.sh->coarse_len, SHADOW_COARSE_BINS);
	ck_assert_uint_eq(shadow_recent(s.sh, bins, nitems(bins)),
	    SHADOW_FINE_BINS);
	ck_assert_uint_le(shadow_alerts(s.sh, 0, al, nitems(al)),
	    SHADOW_ALERT_RING);
	ck_assert_uint_le(shadow_policy_log(s.sh, 0, pl, nitems(pl)),
	    SHADOW_POLICY_RING);
	shadow_report(s.sh, &r);
	ck_assert_uint_eq(r.ticks, 7 * 86400);
	ck_assert(r.seasonal);
	printf("a week: %zu bytes per pool, %llu alerts, %llu policy "
	    "changes, hit rate %.3f\n", mem, (unsigned long long)r.alerts,
	    (unsigned long long)r.policy_changes, r.hit_rate);
	sim_done(&s);
}
END_TEST

START_TEST(test_determinism)
{
	struct shadow_decision a[3000], b[3000];
	struct shadow_params p;
	struct sim s;
	unsigned i, differ = 0;

	shadow_params_default(&p);
	p.seed = 42;
	p.jitter = 0.2;
	for (int round = 0; round < 3; round++) {
		if (round == 2)
			p.seed = 43;
		sim_init(&s, &p, 100000);
		for (i = 0; i < 3000; i++) {
			gang_trace(&s, 1, true, NULL);
			if (round == 0)
				a[i] = s.d;
			else if (round == 1)
				b[i] = s.d;
			else if (memcmp(&a[i], &s.d, sizeof(s.d)) != 0)
				differ++;
		}
		sim_done(&s);
		if (round == 1)
			ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	}
	/* Another seed jitters differently. */
	ck_assert_uint_gt(differ, 100);
}
END_TEST

/*
 * Calibration: demand falls from 0.5/s to a trickle; until the level
 * has followed, the forecast promises more than comes at the margin,
 * and q falls below the newsvendor ratio, logged with a reason.
 */
START_TEST(test_policy_lowers)
{
	struct shadow_policy_change c[SHADOW_POLICY_RING];
	struct shadow_params p;
	struct sim s;
	size_t n, i;
	double q_min = 1;
	bool lowered = false;

	shadow_params_default(&p);
	sim_init(&s, &p, 100000);
	sim_poisson(&s, 0.5, 3600);
	for (i = 0; i < 1800; i++) {
		sim_poisson(&s, 0.002, 1);
		q_min = fmin(q_min, s.d.quantile);
	}
	ck_assert_double_lt(q_min, shadow_newsvendor(&p));
	n = shadow_policy_log(s.sh, 0, c, nitems(c));
	for (i = 0; i < n; i++)
		if (c[i].what == SHADOW_POLICY_QUANTILE &&
		    c[i].new_value < c[i].old_value &&
		    strstr(c[i].reason, "lower") != NULL)
			lowered = true;
	ck_assert(lowered);
	sim_done(&s);
}
END_TEST

/*
 * Demand rises from a trickle to 0.5/s: more comes than the lagging
 * level promised, and q rises; misses that waited 3 s (no queue
 * modelled) teach the lead.
 */
START_TEST(test_policy_raises)
{
	struct shadow_policy_change c[SHADOW_POLICY_RING];
	struct shadow_params p;
	struct shadow_report r;
	struct sim s;
	size_t n, i;
	double q_max = 0;
	bool raised = false, lead = false;

	shadow_params_default(&p);
	p.confidence = 0.5;			/* the floor */
	sim_init(&s, &p, 100000);
	s.lead_ms = 3000;			/* convergence is slower */
	sim_poisson(&s, 0.002, 3600);
	for (i = 0; i < 1200; i++) {
		sim_poisson(&s, 0.5, 1);
		q_max = fmax(q_max, s.d.quantile);
	}
	ck_assert_double_gt(q_max, shadow_newsvendor(&p));
	shadow_report(s.sh, &r);
	ck_assert_double_eq_tol(r.lead_s, 3, 0.3);
	n = shadow_policy_log(s.sh, 0, c, nitems(c));
	for (i = 0; i < n; i++) {
		if (c[i].what == SHADOW_POLICY_QUANTILE &&
		    c[i].new_value > c[i].old_value &&
		    strstr(c[i].reason, "raise") != NULL)
			raised = true;
		if (c[i].what == SHADOW_POLICY_LEAD)
			lead = true;
	}
	ck_assert(raised);
	ck_assert(lead);
	sim_done(&s);
}
END_TEST

START_TEST(test_move_filter)
{
	struct shadow_report r;
	struct shadow *sh = shadow_new(NULL, 1000);

	shadow_on_route_del(sh, 1000);
	shadow_on_route_add(sh, 1500);		/* a move */
	shadow_on_route_add(sh, 1600);		/* fresh */
	shadow_on_route_del(sh, 5000);
	shadow_on_route_add(sh, 9000);		/* too late: fresh */
	shadow_on_mac_move(sh, 9100);
	shadow_on_mac_learn(sh, 9200);
	shadow_tick(sh, 10000, NULL, NULL);
	shadow_report(sh, &r);
	ck_assert_uint_eq(r.route_adds, 2);
	ck_assert_uint_eq(r.route_dels, 2);
	ck_assert_uint_eq(r.mac_moves, 2);
	ck_assert_uint_eq(r.mac_learns, 1);
	shadow_free(sh);
}
END_TEST

START_TEST(test_recent_bins)
{
	struct shadow_bin b[8];
	struct shadow *sh = shadow_new(NULL, 1000);
	size_t n;

	shadow_tick(sh, 100000, NULL, NULL);
	shadow_on_alloc(sh, 100100);
	shadow_on_alloc(sh, 100900);
	shadow_on_route_add(sh, 101500);
	shadow_on_release(sh, 102000);
	shadow_on_alloc(sh, 99000);		/* late: oldest open bin */
	shadow_tick(sh, 103000, NULL, NULL);
	n = shadow_recent(sh, b, nitems(b));
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(b[0].t_ms, 100000);
	ck_assert_uint_eq(b[0].allocs, 3);
	ck_assert_uint_eq(b[1].route_adds, 1);
	ck_assert_uint_eq(b[2].releases, 1);
	ck_assert_uint_eq(b[2].allocs, 0);
	shadow_free(sh);
}
END_TEST

/* A scheduler's intent raises the target before any request. */
START_TEST(test_intent)
{
	struct sim s;

	sim_init(&s, NULL, 100000);
	sim_poisson(&s, 0.01, 600);
	ck_assert_uint_le(s.d.target, 2);
	shadow_on_intent(s.sh, s.now, 20, 2);
	s.now += 1000;
	sim_tick(&s);
	ck_assert_uint_ge(s.d.target, 20);
	ck_assert_uint_ge(s.nheld, 20);
	sim_done(&s);
}
END_TEST

START_TEST(test_alert_ring)
{
	struct shadow_alert a[4];
	struct shadow *sh = shadow_new(NULL, 1000);
	uint64_t i;
	size_t n;

	for (i = 1; i <= 100; i++)
		shadow_alert_add(sh, i, SHADOW_ALERT_BURST, (double)i, "x");
	ck_assert_uint_eq(shadow_alert_count(sh), 100);
	n = shadow_alerts(sh, 0, a, 4);		/* oldest kept: 37 */
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(a[0].seq, 100 - SHADOW_ALERT_RING + 1);
	n = shadow_alerts(sh, 98, a, 4);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(a[0].seq, 99);
	ck_assert_uint_eq(a[1].t_ms, 100);
	ck_assert_uint_eq(shadow_alerts(sh, 100, a, 4), 0);
	shadow_free(sh);
}
END_TEST

/*
 * Runs: 5 requests one second apart, every 300 s, and nothing else.  The
 * run model must learn that runs have 5 requests at a 1 s pace, and one
 * request into a run the engine must already expect more and want a
 * warm address; between runs, nothing.
 */
START_TEST(test_runs_learned)
{
	struct shadow_params p;
	struct shadow_state st = { 0, 0, 1000, 1000 };
	struct shadow_decision d;
	struct shadow *sh;
	uint64_t t;

	shadow_params_default(&p);
	p.adapt = false;
	sh = shadow_new(&p, 1000);
	for (t = 0; t < 6 * 3600; t++) {
		if (t % 300 < 5)
			shadow_on_alloc(sh, t * 1000 + 500);
		shadow_tick(sh, (t + 1) * 1000, &st, &d);
		if (t > 3 * 3600 && t % 300 == 0) {
			/* one request of a run seen: more are due */
			ck_assert_double_gt(shadow_runs_pending(sh,
			    (t + 1) * 1000, 2), 0.9);
			ck_assert_uint_ge(d.target, 1);
		}
		if (t > 3 * 3600 && t % 300 == 150)
			ck_assert_uint_eq(d.target, 0);	/* between runs */
	}
	ck_assert_double_eq_tol(shadow_runs_mean_size(sh), 5, 0.1);
	ck_assert_double_eq_tol(shadow_runs_pace_s(sh), 1, 0.05);
	ck_assert_double_eq(sh->churn.ratio, 0);
	/* The level counts runs, not requests: 5 per 300 s, steady. */
	ck_assert_double_eq_tol(sh->kalman.x, 5.0 / 300, 0.006);
	shadow_free(sh);
}
END_TEST

static Suite *
shadow_suite(void)
{
	Suite *s = suite_create("shadow");
	TCase *tc = tcase_create("models");
	TCase *te = tcase_create("engine");
	TCase *ta = tcase_create("anomaly");

	tcase_set_timeout(tc, 300);
	tcase_set_timeout(te, 300);
	tcase_set_timeout(ta, 600);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_mixture_quantiles);
	tcase_add_test(tc, test_mixture_quantiles_extreme);
	tcase_add_test(tc, test_constant_rate);
	tcase_add_test(tc, test_holt_trend);
	tcase_add_test(tc, test_churn_lag_ratio);
	tcase_add_test(tc, test_churn_prewarms);
	tcase_add_test(te, test_guardrails);
	tcase_add_test(te, test_observe_mode);
	tcase_add_test(te, test_jitter_bounded);
	tcase_add_test(te, test_determinism);
	tcase_add_test(te, test_policy_lowers);
	tcase_add_test(te, test_policy_raises);
	tcase_add_test(te, test_move_filter);
	tcase_add_test(te, test_recent_bins);
	tcase_add_test(te, test_intent);
	tcase_add_test(te, test_alert_ring);
	tcase_add_test(ta, test_burst_detected);
	tcase_add_test(ta, test_false_alarms);
	tcase_add_test(ta, test_churn_without_alloc);
	tcase_add_test(ta, test_memory_bounded);
	tcase_add_test(ta, test_runs_learned);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, te);
	suite_add_tcase(s, ta);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(shadow_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
