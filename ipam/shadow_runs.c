/*
 * Shadow inventory runs: requests come in clumps (an autoscaler step, a
 * gang's local share), and the distribution of requests in the next
 * lead time, which the decision weighs unit by unit.
 *
 * How this works.  A request closer than the run gap G to the previous
 * one continues the current run; otherwise it starts a new one.  G is
 * RUNS_GAP_MAX_MS, shortened at high request rates so that independent
 * requests do not chain (G <= RUNS_GAP_SHARE of the mean time between
 * requests).  When a run ends (G passed with no request) its size goes
 * into a decayed histogram of run sizes, unless it started while route
 * churn or an intent announced demand (a gang's share is explained by
 * its remote routes; it would fatten the tail that the burst detector
 * reads).  The in-run gap is tracked as an average (the pace).
 *
 * The level models (Holt, Kalman, the churn model's background) learn
 * from run starts weighted by the mean run size, not from raw counts: a
 * step of 12 requests in 6 s moves them as one run does, instead of
 * lifting the level for minutes after it (a level that then sees a
 * "drop" and keeps units warm for requests that will not come).
 *
 * The count of requests in a window [0, a1] seconds from now (the
 * decision's window) is the sum of three independent parts:
 *  - the current run, if it may still be going: alive with probability
 *    P(S > n | S >= n, no request for e seconds), its k-th further
 *    request arriving at max(0, pace - e) + (k - 1) pace;
 *  - new runs: Poisson starts at the background rate over mean size,
 *    each of size S from the histogram, truncated to what the pace lets
 *    arrive within half the window (compound Poisson, Panjer's
 *    recursion);
 *  - announced demand (the churn kernel's expectation in the window,
 *    intents): Poisson.
 * Their pmfs are convolved up to the largest count the decision needs.
 */
#include <math.h>
#include <string.h>

#include "ipam/shadow_int.h"

#define RUNS_GAP_MAX_MS		3000
#define RUNS_GAP_MIN_MS		100
#define RUNS_GAP_SHARE		0.25	/* of the mean time between requests */
#define RUNS_TAU		2000.0	/* runs: memory of the size histogram */
#define RUNS_PACE_ALPHA		0.05
#define RUNS_PACE_INIT_MS	1000.0
#define RUNS_ANNOUNCED		0.5	/* announced requests at a run start */

void
shadow_runs_init(struct shadow *sh)
{
	struct shadow_runs *r = &sh->runs;
	size_t h;

	memset(r, 0, sizeof(*r));
	for (h = 0; h < 2; h++) {
		r->size[h][1] = 1;	/* prior: one singleton */
		r->total[h] = 1;
	}
	r->pace_ms = RUNS_PACE_INIT_MS;
}

/* The run gap now, from the Kalman level (requests per tick). */
static double
runs_gap_ms(const struct shadow *sh)
{
	double rate = sh->kalman.x / (sh->p.tick_ms / 1000.0);
	double g = RUNS_GAP_MAX_MS;

	if (rate > 0 && RUNS_GAP_SHARE * 1000.0 / rate < g)
		g = RUNS_GAP_SHARE * 1000.0 / rate;
	return g < RUNS_GAP_MIN_MS ? RUNS_GAP_MIN_MS : g;
}

static void
runs_close(struct shadow *sh)
{
	struct shadow_runs *r = &sh->runs;
	uint32_t s = r->n < SHADOW_RUN_SIZES ? r->n : SHADOW_RUN_SIZES;
	size_t h = r->announced ? 1 : 0, i;
	double keep;

	r->active = false;
	if (s == 0)
		return;
	shadow_anomaly_run_closed(sh, r->n, r->expl_adds);
	r->closed[h]++;
	keep = 1 - 1 / fmin((double)r->closed[h] + 1, RUNS_TAU);
	r->total[h] = 0;
	for (i = 1; i <= SHADOW_RUN_SIZES; i++) {
		r->size[h][i] *= keep;
		r->total[h] += r->size[h][i];
	}
	r->size[h][s] += 1;
	r->total[h] += 1;
}

void
shadow_runs_age(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_runs *r = &sh->runs;

	if (r->active && (double)(t_ms - r->last_ms) > runs_gap_ms(sh))
		runs_close(sh);
}

bool
shadow_runs_request(struct shadow *sh, uint64_t t_ms, bool announced)
{
	struct shadow_runs *r = &sh->runs;
	double gap;

	if (r->active && t_ms >= r->last_ms &&
	    (gap = (double)(t_ms - r->last_ms)) <= runs_gap_ms(sh)) {
		if (r->n < UINT32_MAX)
			r->n++;
		r->pace_ms += RUNS_PACE_ALPHA * (gap - r->pace_ms);
		r->last_ms = t_ms;
		return false;
	}
	if (r->active)
		runs_close(sh);
	r->active = true;
	r->announced = announced;
	r->n = 1;
	r->last_ms = t_ms;
	return true;
}

bool
shadow_runs_announced(double expected)
{
	return expected >= RUNS_ANNOUNCED;
}

/* P(S = s) from a histogram, the last bucket standing for itself. */
static double
runs_p(const struct shadow_runs *r, size_t h, size_t s)
{
	if (s < 1 || s > SHADOW_RUN_SIZES || r->total[h] <= 0)
		return s == 1 && r->total[h] <= 0 ? 1 : 0;
	return r->size[h][s] / r->total[h];
}

/* P(S >= s). */
static double
runs_tail(const struct shadow_runs *r, size_t h, size_t s)
{
	double sum = 0;
	size_t i;

	if (s <= 1)
		return 1;
	for (i = s; i <= SHADOW_RUN_SIZES; i++)
		sum += runs_p(r, h, i);
	return sum;
}

static double
runs_mean(const struct shadow_runs *r, size_t h)
{
	double sum = 0;
	size_t i;

	for (i = 1; i <= SHADOW_RUN_SIZES; i++)
		sum += (double)i * runs_p(r, h, i);
	return fmax(1, sum);
}

double
shadow_runs_mean_size(const struct shadow *sh)
{
	return runs_mean(&sh->runs, 0);
}

double
shadow_runs_announced_size(const struct shadow *sh)
{
	return runs_mean(&sh->runs, 1);
}

double
shadow_runs_pace_s(const struct shadow *sh)
{
	return sh->runs.pace_ms / 1000.0;
}

static void
pmf_poisson(double mean, double *pmf, size_t kmax)
{
	size_t k;

	memset(pmf, 0, sizeof(double) * (kmax + 1));
	if (!(mean > 0)) {
		pmf[0] = 1;
		return;
	}
	pmf[0] = exp(-mean);
	for (k = 1; k <= kmax; k++)
		pmf[k] = pmf[k - 1] * mean / (double)k;
}

/*
 * Requests arriving within the window from a run of r more: the arrivals
 * are Poisson at the run's pace (q, its pmf), at most r.  Adds
 * weight x P(min(r, X) = j) to out[j].
 */
static void
pmf_add_capped(double *out, const double *q, size_t r, double weight,
    size_t kmax)
{
	double left = 1;
	size_t j;

	for (j = 0; j < r && j < kmax; j++) {
		out[j] += weight * q[j];
		left -= q[j];
	}
	out[j < kmax ? j : kmax] += weight * fmax(0, left);
}

/*
 * The current run: alive with probability P(S > n | S >= n) given no
 * request for e ms (the chance of that is exp(-e/pace) for a run still
 * going); then R = S - n more, of which those within a1 arrive.
 */
static void
pmf_current(const struct shadow *sh, uint64_t t_ms, double a1, double *pmf,
    size_t kmax)
{
	const struct shadow_runs *r = &sh->runs;
	double q[SHADOW_PMF_MAX + 1], e, cont, alive, tail_n1, stay;
	size_t h = r->announced ? 1 : 0, s;

	memset(pmf, 0, sizeof(double) * (kmax + 1));
	pmf[0] = 1;
	if (!r->active || r->n == 0 || t_ms < r->last_ms)
		return;
	e = (double)(t_ms - r->last_ms);
	if (e > runs_gap_ms(sh) || r->n >= SHADOW_RUN_SIZES)
		return;
	tail_n1 = runs_tail(r, h, r->n + 1);
	cont = tail_n1 / fmax(runs_tail(r, h, r->n), 1e-12);
	stay = exp(-e / fmax(r->pace_ms, 1));
	alive = cont * stay / (cont * stay + (1 - cont));
	if (!(alive > 0) || !(tail_n1 > 0))
		return;
	pmf[0] = 1 - alive;
	pmf_poisson(a1 * 1000.0 / fmax(r->pace_ms, 1), q, kmax);
	for (s = r->n + 1; s <= SHADOW_RUN_SIZES; s++)
		pmf_add_capped(pmf, q, s - r->n, alive * runs_p(r, h, s) /
		    tail_n1, kmax);
}

/*
 * New runs: starts ~ Poisson(lambda) within a window of w s; one that
 * starts inside brings its first request and, at the pace, Poisson
 * (w/2 / pace) more (half the window left on average), at most S - 1.
 * Compound Poisson, by Panjer's recursion.
 */
static void
pmf_compound(const struct shadow_runs *r, size_t h, double lambda, double w,
    double *pmf, size_t kmax)
{
	double f[SHADOW_PMF_MAX + 1], q[SHADOW_PMF_MAX + 1], acc;
	size_t k, j, s;

	memset(pmf, 0, sizeof(double) * (kmax + 1));
	if (!(lambda > 0)) {
		pmf[0] = 1;
		return;
	}
	/* f: the requests within the window of a run started in it. */
	memset(f, 0, sizeof(f));
	pmf_poisson(w / 2 * 1000.0 / fmax(r->pace_ms, 1), q, kmax);
	for (s = 1; s <= SHADOW_RUN_SIZES; s++) {
		double ps = runs_p(r, h, s);

		if (ps > 0)
			pmf_add_capped(f + 1, q, s - 1, ps, kmax - 1);
	}
	pmf[0] = exp(-lambda);
	for (k = 1; k <= kmax; k++) {
		acc = 0;
		for (j = 1; j <= k; j++)
			acc += (double)j * f[j] * pmf[k - j];
		pmf[k] = lambda / (double)k * acc;
	}
}

/* a = a * b, truncated at kmax (what exceeds it is not needed). */
static void
pmf_convolve(double *a, const double *b, size_t kmax)
{
	double out[SHADOW_PMF_MAX + 1];
	size_t i, j;

	for (i = 0; i <= kmax; i++) {
		out[i] = 0;
		for (j = 0; j <= i; j++)
			out[i] += a[j] * b[i - j];
	}
	memcpy(a, out, sizeof(double) * (kmax + 1));
}

void
shadow_runs_window(const struct shadow *sh, uint64_t t_ms,
    const struct shadow_window_in *in, double *pmf, size_t kmax)
{
	double part[SHADOW_PMF_MAX + 1];
	const struct shadow_runs *r = &sh->runs;

	if (kmax > SHADOW_PMF_MAX)
		kmax = SHADOW_PMF_MAX;
	pmf_current(sh, t_ms, in->a1_s, pmf, kmax);
	pmf_compound(r, 0, in->background / runs_mean(r, 0), in->w_s, part,
	    kmax);
	pmf_convolve(pmf, part, kmax);
	pmf_compound(r, 1, in->announced / runs_mean(r, 1), in->w_s, part,
	    kmax);
	pmf_convolve(pmf, part, kmax);
}

double
shadow_runs_pending(const struct shadow *sh, uint64_t t_ms, double a1_s)
{
	double pmf[SHADOW_RUN_SIZES + 1], mean = 0;
	size_t k;

	pmf_current(sh, t_ms, a1_s, pmf, SHADOW_RUN_SIZES);
	for (k = 1; k <= SHADOW_RUN_SIZES; k++)
		mean += (double)k * pmf[k];
	return mean;
}
