/*
 * Shadow inventory forecasts: Holt smoothing, a local-level Kalman
 * filter, the churn-leading model, their Bates-Granger ensemble and the
 * count quantiles of the mixture.
 *
 * How this works: each model keeps a rate per tick and is updated once
 * per closed bin (shadow_models_update), comparing its previous one-tick
 * prediction with what happened; the squared errors give each model's
 * mean squared error (ensemble weights, w_m proportional to 1/mse_m) and
 * its dispersion (residual variance over mean, >= 1).  The level models
 * (Holt, Kalman, the churn model's background) learn from run starts
 * weighted by the mean run size (shadow_runs.c), so a clump of requests
 * moves them as much as a single request times the mean clump size; a
 * model's prediction is its level plus what the current run and the
 * churn kernel still expect.  A window forecast is a mean and a variance
 * per model; quantiles come from a negative binomial with that mean and
 * variance (Poisson when the variance is not above the mean), mixed with
 * the ensemble weights.
 *
 * The Kalman filter's level-shift test counts run starts, not requests:
 * over blocks of KALMAN_BLOCK ticks the starts are compared with what
 * the level predicted (Poisson tails, which run starts follow well and
 * raw counts, clumped by autoscaler steps, do not); two blocks in a row
 * beyond KALMAN_SHIFT_P on the same side move the level to what they
 * saw.  A step is one run: it cannot move the level on its own.
 */
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow_int.h"

#define HOLT_ALPHA	0.01	/* level: ~100 ticks memory */
#define KALMAN_DRIFT	1.7e-5	/* (relative drift per tick)^2: 10%/10 min */
#define KALMAN_Q_MIN	1e-9	/* so that an idle pool still listens */
#define KALMAN_R_MIN	1e-4	/* floor of the Poisson variance */
#define KALMAN_BLOCK	120	/* ticks per level-shift test */
#define KALMAN_SHIFT_P	1e-3
#define KALMAN_SETTLE_BLOCKS	3
#define ERR_TAU		900.0	/* ticks: weights and dispersion */
#define CHURN_TAU	21600.0	/* ticks: lag/ratio memory (gangs are rare) */
#define CHURN_BASE_TAU	300.0	/* ticks: unexplained background */
#define CHURN_REGION	0.15	/* of the peak covariance */
#define CHURN_MIN_CORR	0.05
#define DISP_MAX	50.0
#define EXACT_MEAN_MAX	500.0	/* above: normal approximation */
/* Above: the pmf walk would take too long (a huge variance, from a
 * damaged or hostile saved state); normal approximation. */
#define EXACT_K_MAX	100000.0
/* No quantile says more addresses than this (nor inf or NaN). */
#define QUANTILE_MAX	1e12

void
shadow_models_init(struct shadow *sh)
{
	size_t m;

	memset(&sh->holt, 0, sizeof(sh->holt));
	memset(&sh->kalman, 0, sizeof(sh->kalman));
	memset(&sh->churn, 0, sizeof(sh->churn));
	sh->kalman.p = 0;
	for (m = 0; m < SHADOW_NMODELS; m++) {
		memset(&sh->err[m], 0, sizeof(sh->err[m]));
		sh->err[m].mse = 1e-3;
		sh->weights[m] = 1.0 / SHADOW_NMODELS;
	}
	shadow_runs_init(sh);
}

/* Holt's linear method (level + trend) on per-tick counts, smoothing
 * as much as the Kalman filter finds right for the rate (alpha its
 * gain, at most HOLT_ALPHA). */
static void
holt_update(struct shadow_holt *h, double y, double gain)
{
	double prev, alpha = fmin(HOLT_ALPHA, gain), beta = alpha / 5;

	if (!h->started) {
		h->level = y;
		h->trend = 0;
		h->started = true;
		return;
	}
	prev = h->level;
	h->level = alpha * y + (1 - alpha) * (h->level + h->trend);
	h->trend = beta * (h->level - prev) + (1 - beta) * h->trend;
}

/* Sum of max(0, level + trend k) for k = 1..w (w may be fractional). */
static double
holt_sum(const struct shadow_holt *h, double w)
{
	double l = h->level, b = h->trend, we = w, k0;

	if (w <= 0)
		return 0;
	if (b < 0) {
		k0 = l > 0 ? l / -b : 0;	/* where the rate reaches 0 */
		if (k0 < we)
			we = k0;
	}
	if (we <= 0)
		return 0;
	return fmax(0, we * l + b * we * (we + 1) / 2);
}

/*
 * Daily seasonality: what changed yesterday between this time of day and
 * window_s later, from the 60-s ring (its oldest bin is one day ago).
 */
static double
seasonal_delta(const struct shadow *sh, double window_s)
{
	double per = SHADOW_COARSE_S * 1000.0 / sh->p.tick_ms, a, b;
	size_t off, i;

	if (sh->coarse_len < SHADOW_COARSE_BINS || per < 1)
		return 0;
	off = (size_t)(window_s / 2 / SHADOW_COARSE_S);
	if (off + 2 >= SHADOW_COARSE_BINS)
		return 0;
	a = b = 0;
	for (i = 0; i < 3; i++) {
		a += sh->coarse[(sh->coarse_head + i) % SHADOW_COARSE_BINS]
		    .allocs;
		b += sh->coarse[(sh->coarse_head + off + i) %
		    SHADOW_COARSE_BINS].allocs;
	}
	return (b - a) / 3 / per;
}

/* Two blocks in a row far off on the same side: the level moved. */
static void
kalman_shift_test(struct shadow_kalman *k, double mean_size)
{
	double y = k->blk_starts, m = k->blk_pred / mean_size, p;
	int dir = 0;

	if (y > m && (p = 1 - shadow_poisson_cdf(y - 1, m)) < KALMAN_SHIFT_P)
		dir = 1;
	else if (y < m && (p = shadow_poisson_cdf(y, m)) < KALMAN_SHIFT_P)
		dir = -1;
	/* The first blocks judge the filter's start, not the demand. */
	if (++k->blocks <= KALMAN_SETTLE_BLOCKS)
		dir = 0;
	if (dir != 0 && dir == k->prev_dir) {
		double x = (y + k->prev_starts) * mean_size /
		    (2.0 * KALMAN_BLOCK);

		k->p = fmax(k->p, (x - k->x) * (x - k->x));
		k->x = x;
		k->shifts++;
		dir = 0;
	}
	k->prev_dir = dir;
	k->prev_starts = y;
	k->blk_starts = k->blk_pred = 0;
	k->blk_n = 0;
}

/*
 * Local-level Kalman filter with Poisson observation noise (variance x)
 * and a level that drifts in proportion to itself (KALMAN_DRIFT x^2 per
 * tick): its gain, about sqrt(KALMAN_DRIFT x), remembers a few dozen
 * requests whatever the rate, minutes at 1/s, most of an hour at one a
 * minute.  Abrupt changes are the level-shift test's.
 */
static void
kalman_update(struct shadow_kalman *k, double y, double starts,
    double mean_size)
{
	double r = fmax(k->x, KALMAN_R_MIN), s, gain;

	k->blk_pred += k->x;
	k->blk_starts += starts;
	k->p += KALMAN_DRIFT * k->x * k->x + KALMAN_Q_MIN;
	s = k->p + r;
	gain = k->p / s;
	/* A plain mean of what was seen until the filter's own gain is
	 * smaller: no first request taken for the level. */
	if (k->n < UINT32_MAX)
		k->n++;
	if (gain < 1.0 / k->n) {
		gain = 1.0 / k->n;
		k->p = gain * r / (1 - fmin(gain, 0.5));
	}
	k->gain = gain;
	k->x = fmax(0, k->x + gain * (y - k->x));
	k->p *= 1 - gain;
	if (++k->blk_n >= KALMAN_BLOCK)
		kalman_shift_test(k, mean_size);
}

/* Fresh remote adds at age a (0: the bin just closed, -1: the open bin,
 * the events so far): the churn kernel's driver. */
static double
adds_at(const struct shadow *sh, long a)
{
	return a < 0 ? sh->open[0].route_adds :
	    shadow_fine_at(sh, (size_t)a)->route_adds;
}

/* Requests expected in the bin just closed from the adds seen. */
static double
churn_explained_now(const struct shadow *sh)
{
	const struct shadow_churn *c = &sh->churn;
	double sum = 0;
	size_t l;

	if (c->ratio <= 0)
		return 0;
	for (l = 0; l <= SHADOW_CHURN_MAX_LAG; l++)
		if (c->kernel[l] > 0)
			sum += adds_at(sh, (long)l) * c->kernel[l];
	return sum;
}

/*
 * Kernel from the covariances: the significant peak, the region around
 * it above CHURN_REGION of the peak, ratio = the region's covariance over
 * the autocovariance of adds summed over the region's width (a burst of
 * adds spread over several ticks would otherwise be counted once per
 * tick it overlaps).
 */
static void
churn_kernel(struct shadow_churn *c)
{
	double peak = 0, num = 0, den, lagsum = 0, thresh, neff;
	size_t l, best = 0, lo, hi, k;

	memset(c->kernel, 0, sizeof(c->kernel));
	c->ratio = c->corr = 0;
	for (l = 0; l <= SHADOW_CHURN_MAX_LAG; l++)
		if (c->cov[l] > peak) {
			peak = c->cov[l];
			best = l;
		}
	if (peak <= 0 || c->acov[0] <= 0 || c->vy <= 0)
		return;
	c->corr = peak / sqrt(c->acov[0] * c->vy);
	neff = c->n < CHURN_TAU ? (double)c->n : CHURN_TAU;
	thresh = fmax(CHURN_MIN_CORR, 4 / sqrt(neff + 1));
	if (c->corr < thresh)
		return;
	lo = hi = best;
	while (lo > 0 && c->cov[lo - 1] >= CHURN_REGION * peak)
		lo--;
	while (hi < SHADOW_CHURN_MAX_LAG &&
	    c->cov[hi + 1] >= CHURN_REGION * peak)
		hi++;
	den = c->acov[0];
	for (k = 1; k <= hi - lo; k++)
		den += 2 * fmax(0, c->acov[k]);
	for (l = lo; l <= hi; l++) {
		num += c->cov[l];
		lagsum += (double)l * c->cov[l];
	}
	c->ratio = num / den;
	c->lag = lagsum / num;
	for (l = lo; l <= hi; l++)
		c->kernel[l] = c->ratio * c->cov[l] / num;
}

/*
 * Online covariances of adds with the requests l = 0..MAX ticks later,
 * and the autocovariance of adds, all for the adds of SHADOW_CHURN_MAX_LAG
 * ticks ago, whose requests have all been seen.  Learned as the adds
 * came, a burst of two hundred of them swelled the denominator of the
 * ratio before any of its requests could raise the numerator, and the
 * kernel vanished exactly while the gang's local share was on its way.
 */
static double
requests_at(const struct shadow *sh, size_t a)
{
	return shadow_fine_at(sh, a)->allocs;
}

static void
churn_learn(struct shadow *sh)
{
	struct shadow_churn *c = &sh->churn;
	double a, dx, dy, x = adds_at(sh, SHADOW_CHURN_MAX_LAG);
	size_t l;

	c->n++;
	a = 1.0 / fmin((double)c->n, CHURN_TAU);
	dx = x - c->mx;
	dy = requests_at(sh, SHADOW_CHURN_MAX_LAG) - c->my;
	for (l = 0; l <= SHADOW_CHURN_MAX_LAG; l++) {
		c->cov[l] += a * (dx * (requests_at(sh,
		    SHADOW_CHURN_MAX_LAG - l) - c->my) - c->cov[l]);
		c->acov[l] += a * (dx * (adds_at(sh,
		    (long)(SHADOW_CHURN_MAX_LAG + l)) - c->mx) - c->acov[l]);
	}
	c->vy += a * (dy * dy - c->vy);
	c->mx += a * dx;
	c->my += a * dy;
	churn_kernel(c);
}

/* The background is what the churn kernel does not explain, counted at
 * the level models' scale (run starts times the mean run size) and with
 * the Kalman filter's memory. */
static void
churn_update(struct shadow *sh, double y_level)
{
	struct shadow_churn *c = &sh->churn;
	double ab;

	/* A plain mean at first, then the Kalman filter's memory. */
	ab = fmax(1.0 / ((double)c->n + 1), sh->kalman.gain);
	c->base = fmax(0, c->base + ab * (fmax(0, y_level -
	    churn_explained_now(sh)) - c->base));
	churn_learn(sh);
}

/*
 * The churn kernel's expectation per future bin: an add in the bin at
 * age a adds kernel[l] to the bin l later.  Future bin j = 1 is the open
 * bin, j = 2 the one after, and so on (the open bin's own adds are at
 * lag 0 from it).
 */
static void
churn_mass(const struct shadow *sh, double *mass)
{
	const struct shadow_churn *c = &sh->churn;
	double x;
	long a, j, l;

	memset(mass, 0, sizeof(double) * SHADOW_OUTLOOK_BINS);
	if (c->ratio <= 0)
		return;
	for (a = -1; a < SHADOW_CHURN_MAX_LAG; a++) {
		if ((x = adds_at(sh, a)) == 0)
			continue;
		for (j = 1; j < SHADOW_OUTLOOK_BINS; j++) {
			l = j + a;
			if (l < 0)
				continue;
			if (l > SHADOW_CHURN_MAX_LAG)
				break;
			mass[j] += x * c->kernel[l];
		}
	}
}

void
shadow_outlook_at(const struct shadow *sh, uint64_t now_ms, double f,
    struct shadow_outlook *o)
{
	o->f = f < 0 ? 0 : f;
	o->now_ms = now_ms;
	churn_mass(sh, o->churn);
	shadow_signals_outlook(sh, o->signal);
}

/* What falls in [f, f + w] (ticks, 0 = the open bin's start), each bin's
 * mass spread evenly over it. */
double
shadow_outlook_sum(const double *mass, double f, double w)
{
	double sum = 0, lo, hi;
	long j;

	if (w <= 0)
		return 0;
	for (j = 1; j < SHADOW_OUTLOOK_BINS; j++) {
		lo = fmax((double)(j - 1), f);
		hi = fmin((double)j, f + w);
		if ((double)(j - 1) >= f + w)
			break;
		if (hi > lo)
			sum += mass[j] * (hi - lo);
	}
	return sum;
}

double
shadow_churn_pending(const struct shadow *sh, double w)
{
	struct shadow_outlook o;

	shadow_outlook_at(sh, sh->next_bin * sh->p.tick_ms, 0, &o);
	return shadow_outlook_sum(o.churn, 0, w);
}

double
shadow_model_dispersion(const struct shadow *sh, enum shadow_model m)
{
	const struct shadow_err *e;
	double d;

	if (m == SHADOW_MODEL_ENSEMBLE) {
		d = 0;
		for (size_t i = 0; i < SHADOW_NMODELS; i++)
			d += sh->weights[i] *
			    shadow_model_dispersion(sh, (enum shadow_model)i);
		return d;
	}
	e = &sh->err[m];
	if (e->mean <= 1e-9)
		return 1;
	d = e->res2 / e->mean;
	return d < 1 ? 1 : d > DISP_MAX ? DISP_MAX : d;
}

/* A model's level alone over w ticks: requests from runs not begun. */
static double
level_window(const struct shadow *sh, enum shadow_model m, double w)
{
	switch (m) {
	case SHADOW_MODEL_HOLT:
		return fmax(0, holt_sum(&sh->holt, w) +
		    seasonal_delta(sh, w * sh->p.tick_ms / 1000.0) * w);
	case SHADOW_MODEL_KALMAN:
		return w * sh->kalman.x;
	case SHADOW_MODEL_CHURN:
		return w * sh->churn.base;
	case SHADOW_MODEL_ENSEMBLE:
		break;
	}
	return 0;
}

double
shadow_background_window(const struct shadow *sh, double w)
{
	double sum = 0;
	size_t m;

	if (w <= 0)
		return 0;
	if (sh->p.model != SHADOW_MODEL_ENSEMBLE)
		return level_window(sh, sh->p.model, w);
	for (m = 0; m < SHADOW_NMODELS; m++)
		sum += sh->weights[m] * level_window(sh, (enum shadow_model)m,
		    w);
	return sum;
}

struct shadow_dist
shadow_model_window(const struct shadow *sh, const struct shadow_outlook *o,
    enum shadow_model m, double w)
{
	struct shadow_dist d = { 0, 0 };
	double lev_var, phi, run;

	if (w <= 0)
		return d;
	phi = shadow_model_dispersion(sh, m);
	/* What the current run still brings is the same for every model. */
	run = shadow_runs_pending(sh, o->now_ms,
	    (o->f + w) * sh->p.tick_ms / 1000.0 -
	    (double)(o->now_ms % sh->p.tick_ms) / 1000.0);
	switch (m) {
	case SHADOW_MODEL_HOLT:
		d.mean = level_window(sh, m, w) + run;
		lev_var = HOLT_ALPHA / (2 - HOLT_ALPHA) * sh->err[m].res2;
		d.var = phi * d.mean + w * w * lev_var;
		break;
	case SHADOW_MODEL_KALMAN:
		d.mean = level_window(sh, m, w) + run;
		d.var = phi * d.mean + w * w * sh->kalman.p;
		break;
	case SHADOW_MODEL_CHURN:
		d.mean = level_window(sh, m, w) + run +
		    shadow_outlook_sum(o->churn, o->f, w);
		lev_var = 1 / (2 * CHURN_BASE_TAU) * sh->err[m].res2;
		d.var = phi * d.mean + w * w * lev_var;
		break;
	case SHADOW_MODEL_ENSEMBLE:
		break;
	}
	return d;
}

/* One-tick predictions for the bin now open, and the ensemble. */
static void
models_predict_next(struct shadow *sh)
{
	struct shadow_outlook o;
	double ens = 0;
	size_t m;

	shadow_outlook_at(sh, sh->next_bin * sh->p.tick_ms, 0, &o);
	for (m = 0; m < SHADOW_NMODELS; m++)
		sh->err[m].pred = shadow_model_window(sh, &o,
		    (enum shadow_model)m, 1).mean;
	sh->churn_next = shadow_outlook_sum(o.churn, 0, 1);
	if (sh->p.model == SHADOW_MODEL_ENSEMBLE) {
		for (m = 0; m < SHADOW_NMODELS; m++)
			ens += sh->weights[m] * sh->err[m].pred;
	} else
		ens = sh->err[sh->p.model].pred;
	sh->ens_next = ens;
}

void
shadow_models_update(struct shadow *sh, double y, double y_level)
{
	double a, e, sum = 0;
	size_t m;

	a = 1.0 / fmin((double)sh->bins_closed + 1, ERR_TAU);
	for (m = 0; m < SHADOW_NMODELS; m++) {
		struct shadow_err *er = &sh->err[m];

		e = y - er->pred;
		er->mse += a * (e * e - er->mse);
		er->res2 += a * (e * e - er->res2);
		er->mean += a * (er->pred - er->mean);
	}
	holt_update(&sh->holt, y_level, sh->kalman.gain);
	kalman_update(&sh->kalman, y_level, y_level /
	    shadow_runs_mean_size(sh), shadow_runs_mean_size(sh));
	churn_update(sh, y_level);
	/* Bates-Granger: weights inversely proportional to the MSE. */
	for (m = 0; m < SHADOW_NMODELS; m++)
		sum += 1 / (sh->err[m].mse + 1e-9);
	for (m = 0; m < SHADOW_NMODELS; m++)
		sh->weights[m] = 1 / (sh->err[m].mse + 1e-9) / sum;
	models_predict_next(sh);
}

/* Quantiles. */

double
shadow_poisson_cdf(double k, double mean)
{
	double p, sum;
	long i, n;

	if (k < 0)
		return 0;
	if (mean <= 0)
		return 1;
	if (mean > EXACT_MEAN_MAX)
		return 0.5 * erfc(-(floor(k) + 0.5 - mean) / sqrt(2 * mean));
	n = (long)floor(k);
	p = exp(-mean);
	sum = p;
	for (i = 1; i <= n; i++) {
		p *= mean / i;
		sum += p;
		if (p < 1e-300 && i > mean)
			break;
	}
	return sum > 1 ? 1 : sum;
}

/* Running pmf of one component (Poisson or negative binomial). */
struct pmf_iter {
	double	 p;		/* P(N = k) */
	double	 mean;
	double	 r;		/* NB size; 0 for Poisson */
	double	 pp;		/* NB mean / (r + mean) */
};

static void
pmf_start(struct pmf_iter *it, const struct shadow_dist *d)
{
	it->mean = fmax(0, d->mean);
	it->r = 0;
	if (it->mean <= 0) {
		it->p = 1;
		return;
	}
	if (d->var > it->mean * 1.0001) {
		it->r = it->mean * it->mean / (d->var - it->mean);
		it->pp = it->mean / (it->r + it->mean);
		it->p = exp(it->r * log(it->r / (it->r + it->mean)));
	} else
		it->p = exp(-it->mean);
}

static void
pmf_next(struct pmf_iter *it, double k)
{
	if (it->mean <= 0)
		it->p = 0;
	else if (it->r > 0)
		it->p *= (k + it->r) / (k + 1) * it->pp;
	else
		it->p *= it->mean / (k + 1);
}

static double
normal_mix_cdf(const double *w, const struct shadow_dist *d, size_t n,
    double k)
{
	double f = 0, sd;
	size_t i;

	for (i = 0; i < n; i++) {
		sd = sqrt(fmax(d[i].var, fmax(d[i].mean, 1e-9)));
		f += w[i] * 0.5 * erfc(-(k + 0.5 - d[i].mean) / (sd * sqrt(2)));
	}
	return f;
}

static double
mix_upper(const struct shadow_dist *d, size_t n)
{
	double hi = 0, sd;
	size_t i;

	for (i = 0; i < n; i++) {
		sd = sqrt(fmax(d[i].var, d[i].mean));
		hi = fmax(hi, d[i].mean + 12 * sd + 20);
	}
	if (!(hi < QUANTILE_MAX))
		return QUANTILE_MAX;
	return ceil(hi);
}

static void
mix_quantiles_normal(const double *w, const struct shadow_dist *d, size_t n,
    const double *q, double *out, size_t nq)
{
	double lo, hi, mid;
	size_t j;

	for (j = 0; j < nq; j++) {
		lo = 0;
		hi = mix_upper(d, n);
		while (hi - lo > 1) {	/* smallest k with F(k) >= q */
			mid = floor(lo + (hi - lo) / 2);
			if (mid <= lo || mid >= hi)
				break;	/* beyond a double's integers */
			if (normal_mix_cdf(w, d, n, mid) >= q[j])
				hi = mid;
			else
				lo = mid;
		}
		out[j] = normal_mix_cdf(w, d, n, lo) >= q[j] ? lo : hi;
	}
}

/* Quantiles of a mixture of count distributions, several at once. */
static void
mix_quantiles(const double *w, const struct shadow_dist *d, size_t n,
    const double *q, double *out, size_t nq)
{
	struct pmf_iter it[SHADOW_NMODELS];
	double f = 0, k, kmax = mix_upper(d, n);
	size_t i, j, left = nq;
	bool done[8] = { false };

	if (nq > nitems(done))
		nq = nitems(done);

	for (i = 0; i < n; i++)
		if (d[i].mean > EXACT_MEAN_MAX || kmax > EXACT_K_MAX) {
			mix_quantiles_normal(w, d, n, q, out, nq);
			return;
		}
	for (i = 0; i < n; i++)
		pmf_start(&it[i], &d[i]);
	for (k = 0; left > 0 && k <= kmax; k++) {
		for (i = 0; i < n; i++) {
			f += w[i] * it[i].p;
			pmf_next(&it[i], k);
		}
		for (j = 0; j < nq; j++)
			if (!done[j] && f >= q[j] - 1e-12) {
				out[j] = k;
				done[j] = true;
				left--;
			}
	}
	for (j = 0; j < nq; j++)
		if (!done[j])
			out[j] = kmax;
}

double
shadow_mixture_sf(const double *w, const struct shadow_dist *d, size_t n,
    double k)
{
	struct pmf_iter it[SHADOW_NMODELS];
	double f = 0, i;
	size_t m;

	if (k <= 0)
		return 1;
	if (n > SHADOW_NMODELS)
		n = SHADOW_NMODELS;
	for (m = 0; m < n; m++)
		if (d[m].mean > EXACT_MEAN_MAX || k > EXACT_K_MAX)
			return 1 - normal_mix_cdf(w, d, n, k - 1);
	for (m = 0; m < n; m++)
		pmf_start(&it[m], &d[m]);
	for (i = 0; i < k; i++)
		for (m = 0; m < n; m++) {
			f += w[m] * it[m].p;
			pmf_next(&it[m], i);
		}
	return f >= 1 ? 0 : 1 - f;
}

double
shadow_mixture_quantile(const double *weights, const struct shadow_dist *d,
    size_t n, double q)
{
	double out = 0;

	if (n == 0 || n > SHADOW_NMODELS)
		return 0;
	mix_quantiles(weights, d, n, &q, &out, 1);
	return out;
}

size_t
shadow_window_dists(const struct shadow *sh, const struct shadow_outlook *o,
    double w, double extra, struct shadow_dist *d, double *wt)
{
	size_t n = 0, m;

	if (sh->p.model == SHADOW_MODEL_ENSEMBLE) {
		for (m = 0; m < SHADOW_NMODELS; m++) {
			d[n] = shadow_model_window(sh, o, (enum shadow_model)m,
			    w);
			wt[n++] = sh->weights[m];
		}
	} else {
		d[n] = shadow_model_window(sh, o, sh->p.model, w);
		wt[n++] = 1;
	}
	for (m = 0; m < n; m++) {
		/* Announced demand is added as known, not as noise. */
		d[m].mean += extra;
		d[m].var += extra;
	}
	return n;
}

void
shadow_forecast_window(const struct shadow *sh, const struct shadow_outlook *o,
    double w, double extra, double q_target, struct shadow_quantiles *out)
{
	struct shadow_dist d[SHADOW_NMODELS];
	double wt[SHADOW_NMODELS], q[6], v[6];
	size_t n, m;

	n = shadow_window_dists(sh, o, w, extra, d, wt);
	out->mean = 0;
	for (m = 0; m < n; m++)
		out->mean += wt[m] * d[m].mean;
	q[0] = 0.5;
	q[1] = 0.8;
	q[2] = 0.9;
	q[3] = 0.99;
	q[4] = sh->p.confidence;
	q[5] = q_target;
	mix_quantiles(wt, d, n, q, v, 6);
	out->window_s = w * sh->p.tick_ms / 1000.0;
	out->p50 = v[0];
	out->p80 = v[1];
	out->p90 = v[2];
	out->p99 = v[3];
	out->pconf = v[4];
	out->ptarget = v[5];
}
