/*
 * Shadow inventory: leading signals from the data plane.  Traffic in the
 * pool's VNI, and ARP requests / ND solicitations for pool addresses
 * that are not allocated (RFC 826; RFC 4861 §7.2.2).
 *
 * How this works.  Load rises before replicas are added: an autoscaler
 * sees the traffic, waits for its window, and asks for endpoints a lag
 * later, in proportion to the rise.  So the signal is x = the rise of
 * the smoothed rate in each bin (falls count 0: scale-down releases,
 * it asks for nothing).  A miss for an address nobody holds is a client
 * about to be answered by an endpoint that does not exist yet, so the
 * other signal is x = fresh misses per bin (a target not asked for in
 * the last NEIGH_FRESH_S; sources the scan detector counts as scanning
 * are left out).
 *
 * Each signal is learned like the churn model learns remote adds
 * (shadow_model.c): online cross-covariances of x at t - l with the
 * requests at t for l = 0..max_lag, updated once a bin for the x of
 * max_lag bins ago (all its requests seen), and the autocovariances of
 * x.  The kernel is the region around the covariance peak down to
 * LEAD_REGION of it; its lag is the region's centroid and its gain
 * (requests per unit of x) the region's covariance over x's variance
 * summed over the region's width (a rise spread over several bins is
 * one rise).  Until the peak correlation is significant (above
 * 4/sqrt(n) and LEAD_MIN_CORR) the gain is 0, and with no signal at
 * all nothing is learned: without telemetry the engine is what it was.
 *
 * The kernel turns the x seen into requests per future bin (cached at
 * each bin close, plus the open bin's own x at each plan).  The
 * decision counts them as announced demand, like intents: the pool's
 * hold rises when the traffic does, a lag before the requests.  The
 * anomaly detector credits them too (an autoscaler step that traffic
 * announced is not a burst).
 */
#include <math.h>
#include <string.h>

#include "common/addr.h"
#include "common/hash.h"
#include "ipam/shadow_int.h"

#define TRAFFIC_SMOOTH_S	5.0	/* time constant of the rate */
#define TRAFFIC_GAP_S		600.0	/* longer silences restart it */
#define LEAD_TAU		21600.0	/* bins: memory of the covariances */
#define LEAD_REGION		0.15	/* of the peak covariance */
#define LEAD_MIN_CORR		0.05
#define NEIGH_FRESH_S		60	/* a target asked again is not news */
#define NEIGH_RECENT_S		300	/* the view's distinct targets */

static void
lead_init(struct shadow_lead *ld, uint32_t max_lag)
{
	memset(ld, 0, sizeof(*ld));
	ld->max_lag = max_lag;
}

void
shadow_signals_init(struct shadow *sh)
{
	lead_init(&sh->tr.lead, SHADOW_TRAFFIC_MAX_LAG);
	lead_init(&sh->nm.lead, SHADOW_NEIGH_MAX_LAG);
}

/* The open bin of t_ms, as shadow.c's open_bin() places events. */
static double *
lead_open(struct shadow_lead *ld, const struct shadow *sh, uint64_t t_ms)
{
	uint64_t b = t_ms / sh->p.tick_ms;

	if (!sh->clock_set || b < sh->next_bin)
		return &ld->open[0];
	if (b >= sh->next_bin + SHADOW_OPEN_BINS)
		return &ld->open[SHADOW_OPEN_BINS - 1];
	return &ld->open[b - sh->next_bin];
}

/* x of the closed bin at age a (0: the bin just closed). */
static double
lead_x(const struct shadow_lead *ld, size_t a)
{
	if (a >= SHADOW_LEAD_RING)
		return 0;
	return ld->x[(ld->head + SHADOW_LEAD_RING - 1 - a) % SHADOW_LEAD_RING];
}

static double
requests_at(const struct shadow *sh, size_t a)
{
	return shadow_fine_at(sh, a)->allocs;
}

/*
 * The kernel from the covariances: the peak, its region, the gain over
 * the region's summed autocovariance, the lag its centroid.
 */
static void
lead_kernel(struct shadow_lead *ld)
{
	double peak = 0, num = 0, den, lagsum = 0, neff, thresh, infl;
	uint32_t l, best = 0, lo, hi, k;

	memset(ld->kernel, 0, sizeof(ld->kernel));
	ld->gain = ld->corr = 0;
	for (l = 0; l <= ld->max_lag; l++)
		if (ld->cov[l] > peak) {
			peak = ld->cov[l];
			best = l;
		}
	/* Covariances of a few bins are noise (and a bin's rise shows at
	 * every lag): wait for twice the lags' span. */
	if (peak <= 0 || ld->acov[0] <= 0 || ld->vy <= 0 ||
	    ld->n < 2 * (uint64_t)ld->max_lag)
		return;
	ld->corr = peak / sqrt(ld->acov[0] * ld->vy);
	/* A smoothed rate's rises are correlated over several bins: fewer
	 * independent samples than bins. */
	for (k = 1, infl = 1; k <= ld->max_lag / 4; k++)
		infl += 2 * fmax(0, ld->acov[k] / ld->acov[0]);
	neff = fmin((double)ld->n, LEAD_TAU) / infl;
	thresh = fmax(LEAD_MIN_CORR, 4 / sqrt(neff + 1));
	if (ld->corr < thresh)
		return;
	for (lo = best; lo > 0 && ld->cov[lo - 1] >= LEAD_REGION * peak; lo--)
		;
	for (hi = best; hi < ld->max_lag &&
	    ld->cov[hi + 1] >= LEAD_REGION * peak; hi++)
		;
	den = ld->acov[0];
	for (k = 1; k <= hi - lo; k++)
		den += 2 * fmax(0, ld->acov[k]);
	for (l = lo; l <= hi; l++) {
		num += ld->cov[l];
		lagsum += (double)l * ld->cov[l];
	}
	ld->gain = num / den;
	ld->lag = lagsum / num;
	ld->lo = lo;
	ld->hi = hi;
	for (l = lo; l <= hi; l++)
		ld->kernel[l] = ld->gain * ld->cov[l] / num;
}

/* Learn from the x of max_lag bins ago, whose requests are all seen. */
static void
lead_learn(struct shadow_lead *ld, const struct shadow *sh)
{
	uint32_t m = ld->max_lag, l;
	double a, dx, dy;

	ld->n++;
	a = 1.0 / fmin((double)ld->n, LEAD_TAU);
	dx = lead_x(ld, m) - ld->mx;
	dy = requests_at(sh, m) - ld->my;
	for (l = 0; l <= m; l++) {
		ld->cov[l] += a * (dx * (requests_at(sh, m - l) - ld->my) -
		    ld->cov[l]);
		ld->acov[l] += a * (dx * (lead_x(ld, m + l) - ld->mx) -
		    ld->acov[l]);
	}
	ld->vy += a * (dy * dy - ld->vy);
	ld->mx += a * dx;
	ld->my += a * dy;
	lead_kernel(ld);
}

/* Requests per future bin (1: the open one) from the closed bins' x. */
static void
lead_mass(struct shadow_lead *ld)
{
	uint32_t a, j, l;
	double x;

	memset(ld->mass, 0, sizeof(ld->mass));
	if (ld->gain <= 0)
		return;
	for (a = 0; a < ld->hi; a++) {
		if ((x = lead_x(ld, a)) <= 0)
			continue;
		for (j = 1; j < SHADOW_OUTLOOK_BINS; j++) {
			l = j + a;
			if (l > ld->hi)
				break;
			if (l >= ld->lo)
				ld->mass[j] += x * ld->kernel[l];
		}
	}
}

/* A bin closed: its x goes into the ring, the open ones move up. */
static void
lead_bin(struct shadow_lead *ld, const struct shadow *sh)
{
	ld->x[ld->head] = fmax(0, ld->open[0]);
	ld->head = (ld->head + 1) % SHADOW_LEAD_RING;
	memmove(&ld->open[0], &ld->open[1],
	    sizeof(ld->open[0]) * (SHADOW_OPEN_BINS - 1));
	ld->open[SHADOW_OPEN_BINS - 1] = 0;
	if (!ld->seen)
		return;		/* no signal: nothing to learn */
	lead_learn(ld, sh);
	lead_mass(ld);
}

void
shadow_signals_bin(struct shadow *sh)
{
	double announced;

	lead_bin(&sh->tr.lead, sh);
	lead_bin(&sh->nm.lead, sh);
	announced = sh->tr.lead.mass[1] + sh->nm.lead.mass[1];
	if (announced > 0)
		shadow_anomaly_announce(sh, sh->next_bin * sh->p.tick_ms,
		    announced);
}

/* The open bin's own x, at lag j - 1 from future bin j. */
static void
lead_outlook(const struct shadow_lead *ld, double *mass)
{
	double x = fmax(0, ld->open[0]);
	uint32_t j;

	if (ld->gain <= 0)
		return;
	for (j = 1; j < SHADOW_OUTLOOK_BINS; j++) {
		mass[j] += ld->mass[j];
		if (x > 0 && j - 1 >= ld->lo && j - 1 <= ld->hi)
			mass[j] += x * ld->kernel[j - 1];
	}
}

void
shadow_signals_outlook(const struct shadow *sh, double *mass)
{
	memset(mass, 0, sizeof(double) * SHADOW_OUTLOOK_BINS);
	lead_outlook(&sh->tr.lead, mass);
	lead_outlook(&sh->nm.lead, mass);
}

/*
 * Traffic.  The rate is smoothed with a time constant of
 * TRAFFIC_SMOOTH_S (sampled rates are noisy; rises are what counts)
 * and each sample's change goes to the bin of its time.
 */
void
shadow_traffic(struct shadow *sh, uint64_t t_ms, double rate)
{
	struct shadow_traffic *tr = &sh->tr;
	double a, before;

	if (!(rate >= 0) || !isfinite(rate))
		return;
	/* Rates come from exporters and samplers on the network: bounded,
	 * so the learned covariances stay within what is saved. */
	rate = fmin(rate, SHADOW_TRAFFIC_RATE_MAX);
	tr->samples++;
	tr->lead.seen = true;
	if (!tr->started || t_ms < tr->last_ms ||
	    (double)(t_ms - tr->last_ms) / 1000.0 > TRAFFIC_GAP_S) {
		/* The first sample, or one after a long silence, is a
		 * level, not a rise. */
		tr->rate = rate;
		tr->started = true;
		tr->last_ms = t_ms;
		return;
	}
	a = 1 - exp(-(double)(t_ms - tr->last_ms) / 1000.0 /
	    TRAFFIC_SMOOTH_S);
	if (a <= 0)
		a = 1 - exp(-0.001 / TRAFFIC_SMOOTH_S);	/* same instant */
	before = tr->rate;
	tr->rate += a * (rate - tr->rate);
	tr->last_ms = t_ms;
	*lead_open(&tr->lead, sh, t_ms) += tr->rate - before;
}

/*
 * Neighbour misses.  Targets are hashed under a key from the seed (they
 * are chosen by whoever sends ARP, so collisions must not be cheap to
 * aim; the seed keeps a simulation reproducible).
 */
static uint32_t
target_hash(const struct shadow *sh, const struct ipaddr *a)
{
	uint8_t key[16];
	uint64_t s = sh->p.seed ^ 0x6e656967686d6973ULL;

	memcpy(key, &s, 8);
	s = s * 0x9e3779b97f4a7c15ULL + 1;
	memcpy(key + 8, &s, 8);
	return (uint32_t)siphash13(key, a->u.b, ipaddr_len(a));
}

/* true when the target was not asked for in the last NEIGH_FRESH_S. */
static bool
target_note(struct shadow_neigh *nm, uint32_t h, uint64_t t_ms)
{
	struct shadow_neigh_target *t = &nm->targets[h % SHADOW_NEIGH_SLOTS];
	uint32_t now_s = (uint32_t)(t_ms / 1000) + 1;
	bool fresh;

	fresh = t->t_s == 0 || t->hash != h || now_s - t->t_s > NEIGH_FRESH_S;
	t->hash = h;
	t->t_s = now_s;
	return fresh;
}

bool
shadow_neigh_miss(struct shadow *sh, uint64_t t_ms,
    const struct ipaddr *source, const struct ipaddr *target)
{
	struct shadow_neigh *nm = &sh->nm;
	bool scanning, fresh;
	uint32_t h;

	if (target == NULL || ipaddr_len(target) == 0)
		return false;
	nm->total++;
	nm->lead.seen = true;
	h = target_hash(sh, target);
	fresh = target_note(nm, h, t_ms);
	scanning = source != NULL && ipaddr_len(source) != 0 &&
	    shadow_scan_miss(sh, t_ms, source, h);
	if (!fresh || scanning)
		return false;
	*lead_open(&nm->lead, sh, t_ms) += 1;
	return true;
}

static uint64_t
neigh_recent_targets(const struct shadow *sh)
{
	uint32_t now_s = (uint32_t)(sh->last_tick_ms / 1000) + 1;
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < SHADOW_NEIGH_SLOTS; i++) {
		const struct shadow_neigh_target *t = &sh->nm.targets[i];

		if (t->t_s != 0 && now_s - t->t_s <= NEIGH_RECENT_S)
			n++;
	}
	return n;
}

void
shadow_traffic_report(const struct shadow *sh, struct shadow_report *r)
{
	double tick_s = sh->p.tick_ms / 1000.0, mass[SHADOW_OUTLOOK_BINS];
	size_t j;

	r->traffic_rate = sh->tr.rate;
	r->traffic_lag_s = sh->tr.lead.gain > 0 ? sh->tr.lead.lag * tick_s : 0;
	r->traffic_gain = sh->tr.lead.gain;
	r->traffic_corr = sh->tr.lead.corr;
	memset(mass, 0, sizeof(mass));
	lead_outlook(&sh->tr.lead, mass);
	for (j = 1; j < SHADOW_OUTLOOK_BINS; j++)
		r->traffic_pending += mass[j];
	r->traffic_samples = sh->tr.samples;
	r->neigh_misses = sh->nm.total;
	r->neigh_targets = neigh_recent_targets(sh);
	r->neigh_lag_s = sh->nm.lead.gain > 0 ? sh->nm.lead.lag * tick_s : 0;
	r->neigh_gain = sh->nm.lead.gain;
}
