/*
 * Shadow inventory forecasts: Holt smoothing, a local-level Kalman
 * filter, the churn-leading model, their Bates-Granger ensemble and the
 * count quantiles of the mixture.
 *
 * How this works: each model keeps a rate per tick and is updated once
 * per closed bin (shadow_models_update), comparing its previous one-tick
 * prediction with what happened; the squared errors give each model's
 * mean squared error (ensemble weights, w_m proportional to 1/mse_m) and
 * its dispersion (residual variance over mean, >= 1).  A window forecast
 * is a mean and a variance per model; quantiles come from a negative
 * binomial with that mean and variance (Poisson when the variance is not
 * above the mean), mixed with the ensemble weights.
 */
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow_int.h"

#define HOLT_ALPHA	0.01	/* level: ~100 ticks memory */
#define HOLT_BETA	0.002	/* trend: ~500 ticks memory */
#define KALMAN_Q	1e-4	/* process over observation noise: gain ~0.01 */
#define KALMAN_R_MIN	0.01	/* floor of the Poisson variance */
#define KALMAN_JUMP	1.5	/* |EWMA innovation| that inflates P */
#define ERR_TAU		900.0	/* ticks: weights and dispersion */
#define CHURN_TAU	21600.0	/* ticks: lag/ratio memory (gangs are rare) */
#define CHURN_BASE_TAU	300.0	/* ticks: unexplained background */
#define CHURN_REGION	0.15	/* of the peak covariance */
#define CHURN_MIN_CORR	0.05
#define DISP_MAX	50.0
#define EXACT_MEAN_MAX	500.0	/* above: normal approximation */

void
shadow_models_init(struct shadow *sh)
{
	size_t m;

	memset(&sh->holt, 0, sizeof(sh->holt));
	memset(&sh->kalman, 0, sizeof(sh->kalman));
	memset(&sh->churn, 0, sizeof(sh->churn));
	memset(&sh->excite, 0, sizeof(sh->excite));
	sh->kalman.p = 1.0;
	for (m = 0; m < SHADOW_NMODELS; m++) {
		memset(&sh->err[m], 0, sizeof(sh->err[m]));
		sh->err[m].mse = 1e-3;
		sh->weights[m] = 1.0 / SHADOW_NMODELS;
	}
}

/* Holt's linear method (level + trend) on per-tick counts. */
static void
holt_update(struct shadow_holt *h, double y)
{
	double prev;

	if (!h->started) {
		h->level = y;
		h->trend = 0;
		h->started = true;
		return;
	}
	prev = h->level;
	h->level = HOLT_ALPHA * y + (1 - HOLT_ALPHA) * (h->level + h->trend);
	h->trend = HOLT_BETA * (h->level - prev) + (1 - HOLT_BETA) * h->trend;
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

/* Local-level Kalman filter with Poisson observation noise. */
static void
kalman_update(struct shadow_kalman *k, double y)
{
	double r = fmax(k->x, KALMAN_R_MIN), s, gain, nu;

	k->p += KALMAN_Q * r;
	s = k->p + r;
	nu = y - k->x;
	gain = k->p / s;
	k->x = fmax(0, k->x + gain * nu);
	k->p *= 1 - gain;
	/* A run of same-signed surprises: the level moved, forget faster. */
	k->innov = 0.9 * k->innov + 0.1 * nu / sqrt(s);
	if (fabs(k->innov) > KALMAN_JUMP) {
		k->p += nu * nu;
		k->innov = 0;
	}
}

/*
 * The driver of a lag kernel at age l (0: the bin just closed): fresh
 * remote adds for the churn kernel, requests for the self-excitation
 * kernel (autoscaler steps and gangs arrive as runs of requests, so a
 * request makes more likely soon).
 */
static double
driver_at(const struct shadow *sh, size_t l, bool excite)
{
	const struct shadow_bin *b = shadow_fine_at(sh, l);

	return excite ? b->allocs : b->route_adds;
}

/* Requests expected in the bin just closed from drivers seen, by kernel. */
static double
kernel_explained_now(const struct shadow *sh, const struct shadow_churn *c,
    bool excite)
{
	double sum = 0;
	size_t l;

	if (c->ratio <= 0)
		return 0;
	for (l = 0; l <= SHADOW_CHURN_MAX_LAG; l++)
		if (c->kernel[l] > 0)
			sum += driver_at(sh, l, excite) * c->kernel[l];
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

/* Online covariances of the driver at lags 0..MAX with requests now. */
static void
kernel_learn(struct shadow *sh, struct shadow_churn *c, double y, double x,
    bool excite)
{
	double a, dy, dx, xl;
	size_t l;

	c->n++;
	a = 1.0 / fmin((double)c->n, CHURN_TAU);
	dy = y - c->my;
	dx = x - c->mx;
	for (l = 0; l <= SHADOW_CHURN_MAX_LAG; l++) {
		xl = driver_at(sh, l, excite) - c->mx;
		c->cov[l] += a * (xl * dy - c->cov[l]);
		c->acov[l] += a * (dx * xl - c->acov[l]);
	}
	/* A request does not excite itself. */
	if (excite)
		c->cov[0] = 0;
	c->vy += a * (dy * dy - c->vy);
	c->mx += a * dx;
	c->my += a * dy;
	churn_kernel(c);
}

static void
churn_update(struct shadow *sh, double y, double x)
{
	struct shadow_churn *c = &sh->churn;
	double ab, explained;

	ab = 1.0 / fmin((double)c->n + 1, CHURN_BASE_TAU);
	explained = kernel_explained_now(sh, c, false) +
	    kernel_explained_now(sh, &sh->excite, true);
	c->base = fmax(0, c->base + ab * (y - explained - c->base));
	kernel_learn(sh, c, y, x, false);
	kernel_learn(sh, &sh->excite, y, y, true);
}

/*
 * A kernel's component over the next w ticks: every driver seen a ticks
 * ago contributes kernel[a + j] to future tick j.
 */
static double
kernel_pending(const struct shadow *sh, const struct shadow_churn *c,
    bool excite, double w)
{
	double sum = 0, xa, whole = floor(w), frac = w - whole, wt;
	size_t a, j, l;

	if (w <= 0 || c->ratio <= 0)
		return 0;
	for (a = 0; a < SHADOW_CHURN_MAX_LAG; a++) {
		xa = driver_at(sh, a, excite);
		if (xa == 0)
			continue;
		for (j = 1; (l = a + j) <= SHADOW_CHURN_MAX_LAG; j++) {
			if (j <= whole)
				wt = 1;
			else if (j == whole + 1)
				wt = frac;
			else
				break;
			sum += xa * c->kernel[l] * wt;
		}
	}
	return sum;
}

double
shadow_churn_pending(const struct shadow *sh, double w)
{
	return kernel_pending(sh, &sh->churn, false, w);
}

double
shadow_churn_due(const struct shadow *sh, double w)
{
	double all = SHADOW_CHURN_MAX_LAG + 1, due;

	due = kernel_pending(sh, &sh->churn, false, all) -
	    kernel_pending(sh, &sh->churn, false, w) +
	    kernel_pending(sh, &sh->excite, true, all) -
	    kernel_pending(sh, &sh->excite, true, w);
	return due > 0 ? due : 0;
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

struct shadow_dist
shadow_model_window(const struct shadow *sh, enum shadow_model m, double w)
{
	struct shadow_dist d = { 0, 0 };
	double lev_var, phi;

	if (w <= 0)
		return d;
	phi = shadow_model_dispersion(sh, m);
	switch (m) {
	case SHADOW_MODEL_HOLT:
		d.mean = holt_sum(&sh->holt, w) +
		    seasonal_delta(sh, w * sh->p.tick_ms / 1000.0) * w;
		d.mean = fmax(0, d.mean);
		lev_var = HOLT_ALPHA / (2 - HOLT_ALPHA) * sh->err[m].res2;
		d.var = phi * d.mean + w * w * lev_var;
		break;
	case SHADOW_MODEL_KALMAN:
		d.mean = w * sh->kalman.x;
		d.var = phi * d.mean + w * w * sh->kalman.p;
		break;
	case SHADOW_MODEL_CHURN:
		d.mean = w * sh->churn.base + shadow_churn_pending(sh, w) +
		    kernel_pending(sh, &sh->excite, true, w);
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
	double ens = 0;
	size_t m;

	for (m = 0; m < SHADOW_NMODELS; m++)
		sh->err[m].pred = shadow_model_window(sh,
		    (enum shadow_model)m, 1).mean;
	sh->churn_next = shadow_churn_pending(sh, 1);
	if (sh->p.model == SHADOW_MODEL_ENSEMBLE) {
		for (m = 0; m < SHADOW_NMODELS; m++)
			ens += sh->weights[m] * sh->err[m].pred;
	} else
		ens = sh->err[sh->p.model].pred;
	sh->ens_next = ens;
}

void
shadow_models_update(struct shadow *sh, double y, double x)
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
	holt_update(&sh->holt, y);
	kalman_update(&sh->kalman, y);
	churn_update(sh, y, x);
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
			mid = floor((lo + hi) / 2);
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
		if (d[i].mean > EXACT_MEAN_MAX) {
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
shadow_mixture_quantile(const double *weights, const struct shadow_dist *d,
    size_t n, double q)
{
	double out = 0;

	if (n == 0 || n > SHADOW_NMODELS)
		return 0;
	mix_quantiles(weights, d, n, &q, &out, 1);
	return out;
}

void
shadow_forecast_window(const struct shadow *sh, double w, double extra,
    double q_target, struct shadow_quantiles *out)
{
	struct shadow_dist d[SHADOW_NMODELS];
	double wt[SHADOW_NMODELS], q[6], v[6];
	size_t n = 0, m;

	if (sh->p.model == SHADOW_MODEL_ENSEMBLE) {
		for (m = 0; m < SHADOW_NMODELS; m++) {
			d[n] = shadow_model_window(sh, (enum shadow_model)m, w);
			wt[n++] = sh->weights[m];
		}
	} else {
		d[n] = shadow_model_window(sh, sh->p.model, w);
		wt[n++] = 1;
	}
	out->mean = 0;
	for (m = 0; m < n; m++) {
		/* Announced demand is added as known, not as noise. */
		d[m].mean += extra;
		d[m].var += extra;
		out->mean += wt[m] * d[m].mean;
	}
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
