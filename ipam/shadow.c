/*
 * Shadow inventory engine: parameters, event collection into bins and
 * bounded rings, the per-tick decision with its guardrails, cost
 * accounting, and the views (report, alert and policy rings).  The model
 * of operation is described in shadow.h; the forecasts are in
 * shadow_model.c, the learning in shadow_policy.c and the detector in
 * shadow_anomaly.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow_int.h"

#define RUN_ANNOUNCE_S	10.0	/* seconds ahead a run counts as announced */

static const char *const model_names[] = {
	[SHADOW_MODEL_HOLT] = "holt",
	[SHADOW_MODEL_KALMAN] = "kalman",
	[SHADOW_MODEL_CHURN] = "churn",
	[SHADOW_MODEL_ENSEMBLE] = "ensemble",
};

void
shadow_params_default(struct shadow_params *p)
{
	memset(p, 0, sizeof(*p));
	p->horizon_s = 300;
	p->lead_s = 1.0;
	p->confidence = 0.9;
	p->min_warm = 0;
	p->max_warm = 64;
	p->max_pool_fraction = 0.05;
	p->wastage_weight = 1.0;
	p->delay_weight = 100.0;
	p->mode = SHADOW_MODE_ACTIVE;
	p->tick_ms = 1000;
	p->model = SHADOW_MODEL_ENSEMBLE;
	p->jitter = 0;
	p->cusum_k = 0.5;
	p->cusum_h = 8.0;
	p->release_hold_s = 0;
	p->adapt = true;
	p->seed = 1;
}

static double
clampd(double v, double lo, double hi)
{
	if (!(v >= lo))		/* also catches NaN */
		return lo;
	return v > hi ? hi : v;
}

static void
params_clamp(struct shadow_params *p)
{
	if (p->horizon_s == 0)
		p->horizon_s = 300;
	if (p->horizon_s > 86400)
		p->horizon_s = 86400;
	p->lead_s = clampd(p->lead_s, 0.0, SHADOW_LEAD_MAX_S);
	p->service_rate = clampd(p->service_rate, 0.0, 1e9);
	p->confidence = clampd(p->confidence, 0.01, SHADOW_QUANTILE_MAX);
	p->max_pool_fraction = clampd(p->max_pool_fraction, 0.0, 1.0);
	p->wastage_weight = clampd(p->wastage_weight, 0.0, 1e12);
	p->delay_weight = clampd(p->delay_weight, 0.0, 1e12);
	if (p->wastage_weight == 0 && p->delay_weight == 0)
		p->wastage_weight = p->delay_weight = 1.0;
	if (p->tick_ms == 0)
		p->tick_ms = 1000;
	if (p->tick_ms > 60000)
		p->tick_ms = 60000;
	if ((unsigned)p->model > SHADOW_MODEL_ENSEMBLE)
		p->model = SHADOW_MODEL_ENSEMBLE;
	if ((unsigned)p->mode > SHADOW_MODE_OBSERVE)
		p->mode = SHADOW_MODE_OBSERVE;
	p->jitter = clampd(p->jitter, 0.0, 0.5);
	p->cusum_k = clampd(p->cusum_k, 0.0, 10.0);
	p->cusum_h = clampd(p->cusum_h, 0.5, 1000.0);
	if (p->release_hold_s > 86400)
		p->release_hold_s = 86400;
}

/* Newsvendor critical ratio: underage (delay) over underage + overage. */
double
shadow_newsvendor(const struct shadow_params *p)
{
	double r;

	r = p->delay_weight / (p->delay_weight + p->wastage_weight);
	return clampd(r, 0.01, SHADOW_QUANTILE_MAX);
}

double
shadow_quantile_lo(const struct shadow_params *p)
{
	double r = shadow_newsvendor(p);

	return p->confidence < r ? p->confidence : r;
}

/* splitmix64: small, seedable, the same sequence everywhere. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1]. */
static double
rng_sym(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

struct shadow *
shadow_new(const struct shadow_params *params, uint64_t pool_size)
{
	struct shadow *sh;

	sh = xcalloc(1, sizeof(*sh));
	if (params != NULL)
		sh->p = *params;
	else
		shadow_params_default(&sh->p);
	params_clamp(&sh->p);
	sh->pool_size = pool_size;
	sh->rng = sh->p.seed;
	shadow_models_init(sh);
	shadow_signals_init(sh);
	shadow_policy_init(sh);
	return sh;
}

void
shadow_free(struct shadow *sh)
{
	free(sh);
}

void
shadow_set_params(struct shadow *sh, const struct shadow_params *params)
{
	double lo, hi, lead_old = sh->p.lead_s, lead_new;

	sh->p = *params;
	params_clamp(&sh->p);
	lead_new = sh->p.lead_s;
	sh->p.lead_s = lead_old;
	if (lead_new != lead_old)
		shadow_set_lead(sh, lead_new);
	lo = shadow_quantile_lo(&sh->p);
	hi = SHADOW_QUANTILE_MAX;
	sh->quantile = clampd(sh->quantile, lo, hi);
}

const struct shadow_params *
shadow_params(const struct shadow *sh)
{
	return &sh->p;
}

/* Seconds the fabric needs for what is queued, as far as this pool saw
 * (its own routes and the remote adds in its VNI). */
static double
fabric_backlog_s(const struct shadow *sh, uint64_t t_ms)
{
	if (sh->p.service_rate <= 0 || sh->fab_busy_ms <= (double)t_ms)
		return 0;
	return (sh->fab_busy_ms - (double)t_ms) / 1000.0;
}

/* A new route (pre-allocation, on-demand allocation, remote add). */
static void
fabric_note(struct shadow *sh, uint64_t t_ms)
{
	if (sh->p.service_rate <= 0)
		return;
	if (sh->fab_busy_ms < (double)t_ms)
		sh->fab_busy_ms = (double)t_ms;
	sh->fab_busy_ms += 1000.0 / sh->p.service_rate;
}

/* Convergence time of a pre-allocation made now as the n-th of a batch:
 * base + backlog / R + n / R (the service-rate model). */
static double
unit_lead_s(const struct shadow *sh, uint64_t t_ms, double base_s, uint64_t n)
{
	if (sh->p.service_rate <= 0)
		return base_s;
	return base_s + fabric_backlog_s(sh, t_ms) +
	    (double)n / sh->p.service_rate;
}

/* Ticks into the open bin at t_ms: 0 at a tick, up to 1 between. */
static double
plan_offset(const struct shadow *sh, uint64_t t_ms)
{
	uint64_t start = sh->next_bin * sh->p.tick_ms;

	if (!sh->clock_set || t_ms <= start)
		return 0;
	return fmin((double)(t_ms - start) / sh->p.tick_ms,
	    SHADOW_OPEN_BINS - 1);
}

/*
 * Collection.  Events go into the open bin of their time; a late event
 * (its bin already closed) goes into the oldest open bin, one too far in
 * the future into the newest.
 */
static struct shadow_bin *
open_bin(struct shadow *sh, uint64_t t_ms)
{
	uint64_t b = t_ms / sh->p.tick_ms;

	if (!sh->clock_set) {
		sh->clock_set = true;
		sh->next_bin = b;
	}
	if (b < sh->next_bin)
		b = sh->next_bin;
	if (b >= sh->next_bin + SHADOW_OPEN_BINS)
		b = sh->next_bin + SHADOW_OPEN_BINS - 1;
	return &sh->open[b - sh->next_bin];
}

static void
count(uint32_t *c)
{
	if (*c < UINT32_MAX)
		(*c)++;
}

/* Demand announced for the next RUN_ANNOUNCE_S: churn and intents. */
static double
announced_soon(const struct shadow *sh, uint64_t t_ms)
{
	struct shadow_outlook o;
	double tick_s = sh->p.tick_ms / 1000.0;

	shadow_outlook_at(sh, t_ms, plan_offset(sh, t_ms), &o);
	return shadow_outlook_sum(o.churn, o.f, RUN_ANNOUNCE_S / tick_s) +
	    shadow_outlook_sum(o.signal, o.f, RUN_ANNOUNCE_S / tick_s) +
	    shadow_intent_in(sh, t_ms, RUN_ANNOUNCE_S);
}

/* The fresh remote adds of the last SHADOW_CHURN_MAX_LAG ticks were
 * before the run starting now (the requests-per-add ratio). */
static void
run_started(struct shadow *sh, uint64_t t_ms)
{
	double adds = sh->open[0].route_adds;
	size_t i;

	sh->runs.start_ms = t_ms;
	sh->runs.unexplained = 0;
	for (i = 0; i < SHADOW_CHURN_MAX_LAG; i++)
		adds += shadow_fine_at(sh, i)->route_adds;
	sh->runs.expl_adds = adds;
}

void
shadow_on_alloc(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_bin *bin = open_bin(sh, t_ms);
	bool announced, explained = false;
	size_t i;

	count(&bin->allocs);
	sh->n_allocs++;
	announced = shadow_runs_announced(announced_soon(sh, t_ms));
	if (shadow_runs_request(sh, t_ms, announced)) {
		count(&bin->run_starts);
		run_started(sh, t_ms);
	}
	/* A request consumes the announced intent that ends first. */
	for (i = 0; i < SHADOW_INTENTS; i++) {
		struct shadow_intent *in = &sh->intents[i];

		if (in->remaining > 0 && in->end_ms >= t_ms) {
			in->remaining -= 1;
			explained = true;
			break;
		}
	}
	shadow_anomaly_request(sh, t_ms, explained);
}

void
shadow_on_release(struct shadow *sh, uint64_t t_ms)
{
	count(&open_bin(sh, t_ms)->releases);
	sh->n_releases++;
}

void
shadow_on_route_add(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_bin *bin = open_bin(sh, t_ms);

	fabric_note(sh, t_ms);
	/* An add right after a withdraw is an endpoint moving (RFC 7432
	 * §15 MAC mobility), not new demand in the fabric. */
	if (sh->del_credit > 0 &&
	    t_ms - sh->last_del_ms <= SHADOW_MOVE_WINDOW_MS &&
	    t_ms >= sh->last_del_ms) {
		sh->del_credit--;
		count(&bin->mac_moves);
		sh->n_moves++;
		return;
	}
	sh->del_credit = 0;
	count(&bin->route_adds);
	sh->n_adds++;
	if (sh->runs.active)
		sh->runs.expl_adds++;
	shadow_anomaly_add(sh, t_ms);
}

void
shadow_on_route_del(struct shadow *sh, uint64_t t_ms)
{
	count(&open_bin(sh, t_ms)->route_dels);
	sh->n_dels++;
	if (t_ms - sh->last_del_ms > SHADOW_MOVE_WINDOW_MS)
		sh->del_credit = 0;
	if (sh->del_credit < UINT32_MAX)
		sh->del_credit++;
	sh->last_del_ms = t_ms;
}

void
shadow_on_mac_learn(struct shadow *sh, uint64_t t_ms)
{
	count(&open_bin(sh, t_ms)->mac_learns);
	sh->n_learns++;
}

void
shadow_on_mac_move(struct shadow *sh, uint64_t t_ms)
{
	count(&open_bin(sh, t_ms)->mac_moves);
	sh->n_moves++;
}

void
shadow_on_intent(struct shadow *sh, uint64_t t_ms, uint32_t n,
    uint32_t horizon_s)
{
	struct shadow_intent *slot = NULL;
	size_t i;

	(void)open_bin(sh, t_ms);
	sh->n_intents++;
	if (n == 0)
		return;
	if (horizon_s == 0)
		horizon_s = 1;
	/* Reuse an expired slot, else replace the one ending first. */
	for (i = 0; i < SHADOW_INTENTS; i++) {
		struct shadow_intent *in = &sh->intents[i];

		if (in->remaining <= 0 || in->end_ms < t_ms) {
			slot = in;
			break;
		}
		if (slot == NULL || in->end_ms < slot->end_ms)
			slot = in;
	}
	slot->end_ms = t_ms + (uint64_t)horizon_s * 1000;
	slot->remaining = n;
}

/*
 * Announced requests expected within window_s from now: each intent's
 * remainder spread evenly over what is left of its horizon.
 */
double
shadow_intent_in(const struct shadow *sh, uint64_t now_ms, double window_s)
{
	double sum = 0, left_s;
	size_t i;

	for (i = 0; i < SHADOW_INTENTS; i++) {
		const struct shadow_intent *in = &sh->intents[i];

		if (in->remaining <= 0 || in->end_ms < now_ms)
			continue;
		left_s = (double)(in->end_ms - now_ms) / 1000.0;
		if (left_s <= window_s)
			sum += in->remaining;
		else
			sum += in->remaining * window_s / left_s;
	}
	return sum;
}

void
shadow_on_served(struct shadow *sh, uint64_t t_ms, bool hit, double wait_s)
{
	struct shadow_recent_slot *slot;
	uint64_t minute = t_ms / 60000;
	double base_s = 0;

	if (!(wait_s >= 0))
		wait_s = 0;
	if (!hit) {
		/* A miss waited for its own route: what the base latency
		 * was is the wait less the queue the model expected. */
		base_s = wait_s - unit_lead_s(sh, t_ms, 0, 1);
		fabric_note(sh, t_ms);
	}
	sh->requests++;
	if (hit && wait_s > 0)
		sh->partial_hits++;
	if (hit)
		sh->hits++;
	else
		sh->misses++;
	sh->delay += wait_s;
	slot = &sh->recent[minute % SHADOW_RECENT_SLOTS];
	if (slot->minute != minute) {
		slot->minute = minute;
		slot->requests = slot->hits = 0;
	}
	slot->requests++;
	if (hit)
		slot->hits++;
	shadow_policy_served(sh, t_ms, hit, hit ? wait_s : fmax(0, base_s));
}

void
shadow_on_prealloc_made(struct shadow *sh, uint64_t t_ms)
{
	fabric_note(sh, t_ms);
	sh->n_made++;
	sh->pol.held_est++;
}

void
shadow_on_prealloc_released(struct shadow *sh, uint64_t t_ms)
{
	(void)t_ms;
	sh->n_released++;
	if (sh->pol.held_est > 0)
		sh->pol.held_est--;
}

/* Rings. */

const struct shadow_bin *
shadow_fine_at(const struct shadow *sh, size_t age)
{
	static const struct shadow_bin empty;

	if (age >= sh->fine_len)
		return &empty;
	return &sh->fine[(sh->fine_head + SHADOW_FINE_BINS - 1 - age) %
	    SHADOW_FINE_BINS];
}

static void
coarse_push(struct shadow *sh, const struct shadow_bin *bin)
{
	uint32_t per = SHADOW_COARSE_S * 1000 / sh->p.tick_ms;

	if (per == 0)
		per = 1;
	sh->coarse_open.allocs += bin->allocs;
	sh->coarse_open.route_adds += bin->route_adds;
	if (++sh->coarse_fill < per)
		return;
	sh->coarse[sh->coarse_head] = sh->coarse_open;
	sh->coarse_head = (sh->coarse_head + 1) % SHADOW_COARSE_BINS;
	if (sh->coarse_len < SHADOW_COARSE_BINS)
		sh->coarse_len++;
	sh->coarse_total++;
	memset(&sh->coarse_open, 0, sizeof(sh->coarse_open));
	sh->coarse_fill = 0;
}

/* Close the oldest open bin: store it, learn from it, watch it. */
static void
bin_close(struct shadow *sh)
{
	struct shadow_bin bin = sh->open[0];
	double pred = sh->ens_next, pred_churn = sh->churn_next;
	double pred_cm = sh->err[SHADOW_MODEL_CHURN].pred;

	bin.t_ms = sh->next_bin * sh->p.tick_ms;
	bin.forecast = (float)pred;
	sh->fine[sh->fine_head] = bin;
	sh->fine_head = (sh->fine_head + 1) % SHADOW_FINE_BINS;
	if (sh->fine_len < SHADOW_FINE_BINS)
		sh->fine_len++;
	coarse_push(sh, &bin);
	shadow_models_update(sh, bin.allocs, bin.run_starts *
	    shadow_runs_mean_size(sh));
	shadow_anomaly_bin(sh, &bin, pred_churn, pred_cm);
	memmove(&sh->open[0], &sh->open[1],
	    sizeof(sh->open[0]) * (SHADOW_OPEN_BINS - 1));
	memset(&sh->open[SHADOW_OPEN_BINS - 1], 0, sizeof(sh->open[0]));
	sh->next_bin++;
	sh->bins_closed++;
	shadow_signals_bin(sh);
}

static void
bins_close_until(struct shadow *sh, uint64_t t_ms)
{
	uint64_t end = t_ms / sh->p.tick_ms, n = 0;

	if (!sh->clock_set) {
		sh->clock_set = true;
		sh->next_bin = end;
		return;
	}
	while (sh->next_bin < end && n++ < SHADOW_GAP_MAX_BINS)
		bin_close(sh);
	/* A silence longer than a day: skip it rather than replay it. */
	if (sh->next_bin < end) {
		memset(sh->open, 0, sizeof(sh->open));
		sh->next_bin = end;
	}
}

/*
 * The decision.  Guardrails are applied last, to the target and to both
 * counts, so nothing computed before (forecast, policy, jitter) can push
 * an allocation past them.
 */
static uint32_t
guard_cap(const struct shadow *sh, uint64_t pool_size)
{
	double frac = floor(sh->p.max_pool_fraction * (double)pool_size);
	uint64_t cap = sh->p.max_warm;

	if (frac < (double)cap)
		cap = (uint64_t)frac;
	return (uint32_t)cap;
}

/*
 * Release to the target: whatever is held above it goes back at once,
 * with no slack (the target already says the last unit is not worth
 * its wastage).  release_hold_s, when set, delays that by a hold time.
 */
static void
decide_counts(struct shadow *sh, uint64_t t_ms, const struct shadow_state *st,
    struct shadow_decision *d)
{
	uint64_t held = st->warm_ready + st->warm_converging;
	uint64_t floor_n, want;

	d->want_alloc = d->want_release = 0;
	floor_n = d->target > sh->p.min_warm ? d->target : sh->p.min_warm;
	if (held > d->cap) {
		/* The cap shrank (config, pool): give back the excess now. */
		d->want_release = (uint32_t)(held - d->cap);
		sh->over = false;
	} else if (held < d->target) {
		want = d->target - held;
		if (want > st->pool_free)
			want = st->pool_free;
		d->want_alloc = (uint32_t)want;
		sh->over = false;
	} else if (held > floor_n) {
		if (!sh->over) {
			sh->over = true;
			sh->over_since_ms = t_ms;
		}
		if (t_ms - sh->over_since_ms >=
		    (uint64_t)sh->p.release_hold_s * 1000) {
			d->want_release = (uint32_t)(held - floor_n);
			sh->over = false;
		}
	} else
		sh->over = false;
	if (sh->p.mode == SHADOW_MODE_OBSERVE)
		d->want_alloc = d->want_release = 0;
}

/*
 * How many units to hold, unit by unit.  Hold (or make) the k-th unit
 * now iff
 *
 *	P(N(now + D/2, now + D/2 + L_k] >= k) > 1 - q
 *
 * N(a, b] the requests in that window, L_k the convergence time of a
 * unit made now as the k-th (base + backlog/R + k/R), D the time to the
 * next planned decision (the next tick; an event decides sooner), q the
 * policy's quantile, starting at the newsvendor ratio d/(d+w).
 *
 * Derivation: compare making (or keeping) a unit now with making it at
 * the next decision, D later.  Now costs w D more.  A request at T
 * waits less by: min(L, T - now) if it comes before the next decision
 * (it would have missed and waited L), D if it comes in (now + D,
 * now + L) (the unit would have converged D later), and the remainder
 * of the window up to now + L + D.  That weight rises over D, stays at
 * D, falls over D: its area is L D, centred on (now + D/2, now + D/2 +
 * L].  So a unit pays while d P(its request falls in that window) > w,
 * i.e. P > w/d ~ 1 - d/(d+w).  For the last unit with requests at rate
 * lambda the probability is about lambda L: keep it only while
 *	delay weight x expected wait saved (L) x arrival rate > wastage
 * weight, and give it back as soon as that fails: there is no fixed
 * slack.  The k-th unit is the k-th request's, hence N >= k.  N comes
 * from the forecast mixture, where the lag kernels place what remote
 * adds and earlier requests announce at the lags they were learned at:
 * a gang's units are made one by one as its requests come within reach,
 * not all at its first remote route.
 */
/* The largest k with P(N >= k) > thr; sf[0] = P(N >= k), sf[1] = P(N >=
 * k + 1) for that k. */
static uint32_t
units_from_pmf(const double *pmf, size_t kmax, double thr, double *sf2)
{
	double sf = 1, prev = 1;
	uint32_t k;

	for (k = 1; k <= kmax; k++) {
		sf -= pmf[k - 1];
		if (sf <= thr)
			break;
		prev = sf;
	}
	sf2[0] = prev;
	sf2[1] = k <= kmax ? fmax(0, sf) : 0;
	return k - 1;
}

static uint32_t
units_wanted(const struct shadow *sh, uint64_t t_ms,
    const struct shadow_outlook *o, double base_s, double react_s,
    uint64_t held, size_t kmax, double *w1_s, double *sf2, double *a1_s)
{
	double pmf[SHADOW_PMF_MAX + 1], tick_s = sh->p.tick_ms / 1000.0;
	double thr = 1 - sh->quantile, w_s;
	struct shadow_window_in in;
	uint32_t guess = 1, target = 0;
	int pass;

	if (kmax > SHADOW_PMF_MAX)
		kmax = SHADOW_PMF_MAX;
	*w1_s = unit_lead_s(sh, t_ms, base_s, 1);
	/* The lead grows with the units queued: decide at the lead of the
	 * last unit, found in two passes. */
	for (pass = 0; pass < 2; pass++) {
		w_s = unit_lead_s(sh, t_ms, base_s, guess > held ?
		    guess - held : 1);
		in.w_s = w_s;
		in.a1_s = react_s / 2 + w_s;
		in.background = shadow_background_window(sh, w_s / tick_s);
		in.announced = shadow_outlook_sum(o->churn, o->f,
		    w_s / tick_s) + shadow_outlook_sum(o->signal, o->f,
		    w_s / tick_s) + shadow_intent_in(sh, t_ms, in.a1_s);
		shadow_runs_window(sh, t_ms, &in, pmf, kmax);
		target = units_from_pmf(pmf, kmax, thr, sf2);
		*a1_s = in.a1_s;
		if (target <= guess || sh->p.service_rate <= 0)
			break;
		guess = target;
	}
	return target;
}

/*
 * The two marginal decisions (the last unit held, the first not held),
 * for the policy to settle once their window has passed: the forecast
 * of at least k requests in [now, now + a1].
 */
static void
marginal_checks(struct shadow *sh, uint64_t t_ms, double f, double a1_s,
    uint32_t target)
{
	double pmf[SHADOW_PMF_MAX + 1], tick_s = sh->p.tick_ms / 1000.0;
	double sf = 1;
	struct shadow_outlook o;
	struct shadow_window_in in;
	size_t kmax = target + 1, k;

	if (kmax > SHADOW_PMF_MAX)
		return;
	shadow_outlook_at(sh, t_ms, f, &o);
	in.w_s = in.a1_s = a1_s;
	in.background = shadow_background_window(sh, a1_s / tick_s);
	in.announced = shadow_outlook_sum(o.churn, o.f, a1_s / tick_s) +
	    shadow_outlook_sum(o.signal, o.f, a1_s / tick_s) +
	    shadow_intent_in(sh, t_ms, a1_s);
	shadow_runs_window(sh, t_ms, &in, pmf, kmax);
	for (k = 1; k <= kmax; k++) {
		sf -= pmf[k - 1];
		if (k + 1 >= kmax)
			shadow_policy_check(sh, t_ms, a1_s, (uint32_t)k,
			    fmax(0, sf));
	}
}

/* Forecast views (lead window and horizon), at ticks only. */
static void
decide_views(struct shadow *sh, uint64_t t_ms, const struct shadow_outlook *o,
    struct shadow_decision *d)
{
	double tick_s = sh->p.tick_ms / 1000.0, extra;

	/* What the leading signals announce is known, like intents. */
	extra = shadow_intent_in(sh, t_ms, d->lookahead_s) +
	    shadow_outlook_sum(o->signal, o->f, d->lookahead_s / tick_s);
	shadow_forecast_window(sh, o, d->lookahead_s / tick_s, extra,
	    sh->quantile, &d->forecast.lead);
	extra = shadow_intent_in(sh, t_ms, sh->p.horizon_s) +
	    shadow_outlook_sum(o->signal, o->f, sh->p.horizon_s / tick_s);
	shadow_forecast_window(sh, o, sh->p.horizon_s / tick_s, extra,
	    sh->quantile, &d->forecast.horizon);
	d->forecast.rate = sh->ens_next / tick_s;
}

static void
decide(struct shadow *sh, uint64_t t_ms, const struct shadow_state *st,
    struct shadow_decision *d, bool views)
{
	double tick_s = sh->p.tick_ms / 1000.0, f, base, react;
	uint64_t pool_size = st->pool_size ? st->pool_size : sh->pool_size;
	uint64_t held = st->warm_ready + st->warm_converging;
	struct shadow_outlook o;
	struct shadow_forecast keep = d->forecast;
	double sf2[2] = { 0, 0 }, a1 = 0;

	(void)sf2;
	uint32_t target;

	memset(d, 0, sizeof(*d));
	f = plan_offset(sh, t_ms);
	react = fmax(0, 1 - f) * tick_s;
	/* The window starts half the time to the next decision on. */
	shadow_outlook_at(sh, t_ms, f + react / 2 / tick_s, &o);
	base = sh->lead_s * sh->lead_mult;
	d->quantile = sh->quantile;
	d->jitter_s = base * sh->p.jitter * sh->jitter_u;
	base += d->jitter_s;
	d->cap = guard_cap(sh, pool_size);
	shadow_runs_age(sh, t_ms);
	d->target_raw = units_wanted(sh, t_ms, &o, base, react, held,
	    (size_t)(d->cap > sh->p.min_warm ? d->cap : sh->p.min_warm) + 1,
	    &d->lookahead_s, sf2, &a1);
	d->lead_s = unit_lead_s(sh, t_ms, sh->lead_s * sh->lead_mult, 1);
	if (views) {
		decide_views(sh, t_ms, &o, d);
		marginal_checks(sh, t_ms, f, a1, d->target_raw);
	} else
		d->forecast = keep;
	target = d->target_raw;
	if (target < sh->p.min_warm)
		target = sh->p.min_warm;
	if (target > d->cap)
		target = d->cap;
	d->target = target;
	decide_counts(sh, t_ms, st, d);
}

void
shadow_tick(struct shadow *sh, uint64_t t_ms, const struct shadow_state *st,
    struct shadow_decision *out)
{
	static const struct shadow_state none;
	double dt_s = 0;
	uint64_t held;

	if (st == NULL)
		st = &none;
	bins_close_until(sh, t_ms);
	if (sh->ticked && t_ms > sh->last_tick_ms)
		dt_s = (double)(t_ms - sh->last_tick_ms) / 1000.0;
	held = st->warm_ready + st->warm_converging;
	sh->waste += (double)held * dt_s;
	sh->state = *st;
	shadow_policy_tick(sh, t_ms, dt_s, held);
	sh->jitter_u = rng_sym(&sh->rng);
	decide(sh, t_ms, st, &sh->last, true);
	sh->pol.held_est = (int64_t)held;
	sh->last_tick_ms = t_ms;
	sh->ticked = true;
	sh->ticks++;
	if (out != NULL)
		*out = sh->last;
}

void
shadow_plan(struct shadow *sh, uint64_t t_ms, const struct shadow_state *st,
    struct shadow_decision *out)
{
	static const struct shadow_state none;

	if (st == NULL)
		st = &none;
	(void)open_bin(sh, t_ms);	/* sets the clock on a first call */
	decide(sh, t_ms, st, &sh->last, false);
	sh->pol.held_est = (int64_t)(st->warm_ready + st->warm_converging);
	if (out != NULL)
		*out = sh->last;
}

/* Views. */

static void
report_models(const struct shadow *sh, struct shadow_report *r)
{
	double tick_s = sh->p.tick_ms / 1000.0;
	size_t m;

	for (m = 0; m < SHADOW_NMODELS; m++) {
		r->weights[m] = sh->weights[m];
		r->model_rate[m] = sh->err[m].pred / tick_s;
		r->model_mse[m] = sh->err[m].mse;
	}
	r->holt_level = sh->holt.level / tick_s;
	r->holt_trend = sh->holt.trend / (tick_s * tick_s);
	r->kalman_rate = sh->kalman.x / tick_s;
	r->kalman_sd = sqrt(sh->kalman.p) / tick_s;
	r->churn_lag_s = sh->churn.lag * tick_s;
	r->churn_ratio = sh->churn.ratio;
	r->churn_corr = sh->churn.corr;
	r->churn_baseline = sh->churn.base / tick_s;
	r->churn_pending = shadow_churn_pending(sh, SHADOW_CHURN_MAX_LAG + 1);
	r->seasonal = sh->coarse_len >= SHADOW_COARSE_BINS;
}

static void
report_outcomes(const struct shadow *sh, struct shadow_report *r)
{
	uint64_t now_min = sh->last_tick_ms / 60000, req = 0, hit = 0;
	size_t i;

	r->requests = sh->requests;
	r->hits = sh->hits;
	r->partial_hits = sh->partial_hits;
	r->misses = sh->misses;
	r->hit_rate = sh->requests ? (double)sh->hits / sh->requests : 0;
	for (i = 0; i < SHADOW_RECENT_SLOTS; i++) {
		const struct shadow_recent_slot *s = &sh->recent[i];

		if (s->minute + SHADOW_RECENT_SLOTS > now_min &&
		    s->minute <= now_min) {
			req += s->requests;
			hit += s->hits;
		}
	}
	r->requests_recent = req;
	r->hit_rate_recent = req ? (double)hit / req : 0;
	r->waste = sh->waste;
	r->delay = sh->delay;
	r->cost = sh->p.wastage_weight * sh->waste +
	    sh->p.delay_weight * sh->delay;
}

void
shadow_report(const struct shadow *sh, struct shadow_report *r)
{
	memset(r, 0, sizeof(*r));
	r->t_ms = sh->last_tick_ms;
	r->ticks = sh->ticks;
	r->mode = sh->p.mode;
	r->model = sh->p.model;
	r->forecast = sh->last.forecast;
	r->target = sh->last.target;
	r->target_raw = sh->last.target_raw;
	r->cap = sh->last.cap;
	r->state = sh->state;
	r->quantile = sh->quantile;
	r->quantile_lo = shadow_quantile_lo(&sh->p);
	r->quantile_hi = SHADOW_QUANTILE_MAX;
	r->newsvendor = shadow_newsvendor(&sh->p);
	r->lead_s = sh->lead_s;
	r->lead_mult = sh->lead_mult;
	r->lookahead_s = sh->last.lookahead_s;
	report_outcomes(sh, r);
	report_models(sh, r);
	r->cusum_pos = sh->an.s_pos;
	r->cusum_neg = sh->an.s_neg;
	shadow_traffic_report(sh, r);
	r->allocs = sh->n_allocs;
	r->releases = sh->n_releases;
	r->route_adds = sh->n_adds;
	r->route_dels = sh->n_dels;
	r->mac_learns = sh->n_learns;
	r->mac_moves = sh->n_moves;
	r->intents = sh->n_intents;
	r->prealloc_made = sh->n_made;
	r->prealloc_released = sh->n_released;
	r->alerts = sh->alert_seq;
	r->policy_changes = sh->plog_seq;
}

void
shadow_alert_add(struct shadow *sh, uint64_t t_ms, enum shadow_alert_kind kind,
    double score, const char *msg)
{
	struct shadow_alert *a;

	sh->alert_seq++;
	a = &sh->alerts[(sh->alert_seq - 1) % SHADOW_ALERT_RING];
	a->seq = sh->alert_seq;
	a->t_ms = t_ms;
	a->kind = kind;
	a->score = score;
	strlcpy_s(a->message, msg, sizeof(a->message));
}

void
shadow_policy_add(struct shadow *sh, uint64_t t_ms,
    enum shadow_policy_what what, double old_value, double new_value,
    const char *reason)
{
	struct shadow_policy_change *c;

	sh->plog_seq++;
	c = &sh->plog[(sh->plog_seq - 1) % SHADOW_POLICY_RING];
	c->seq = sh->plog_seq;
	c->t_ms = t_ms;
	c->what = what;
	c->old_value = old_value;
	c->new_value = new_value;
	strlcpy_s(c->reason, reason, sizeof(c->reason));
}

/* Entries with seq in (after, last], at most ring entries back. */
static uint64_t
ring_first(uint64_t last, uint64_t after, size_t ring)
{
	uint64_t first = last > ring ? last - ring + 1 : 1;

	return after + 1 > first ? after + 1 : first;
}

size_t
shadow_alerts(const struct shadow *sh, uint64_t after_seq,
    struct shadow_alert *out, size_t max)
{
	uint64_t seq;
	size_t n = 0;

	for (seq = ring_first(sh->alert_seq, after_seq, SHADOW_ALERT_RING);
	    seq <= sh->alert_seq && n < max; seq++)
		out[n++] = sh->alerts[(seq - 1) % SHADOW_ALERT_RING];
	return n;
}

uint64_t
shadow_alert_count(const struct shadow *sh)
{
	return sh->alert_seq;
}

size_t
shadow_policy_log(const struct shadow *sh, uint64_t after_seq,
    struct shadow_policy_change *out, size_t max)
{
	uint64_t seq;
	size_t n = 0;

	for (seq = ring_first(sh->plog_seq, after_seq, SHADOW_POLICY_RING);
	    seq <= sh->plog_seq && n < max; seq++)
		out[n++] = sh->plog[(seq - 1) % SHADOW_POLICY_RING];
	return n;
}

size_t
shadow_recent(const struct shadow *sh, struct shadow_bin *out, size_t max)
{
	size_t n = sh->fine_len < max ? sh->fine_len : max, i;

	for (i = 0; i < n; i++)
		out[i] = *shadow_fine_at(sh, n - 1 - i);
	return n;
}

size_t
shadow_memory(const struct shadow *sh)
{
	return sizeof(*sh);
}

const char *
shadow_mode_name(enum shadow_mode m)
{
	return m == SHADOW_MODE_OBSERVE ? "observe" : "active";
}

const char *
shadow_model_name(enum shadow_model m)
{
	if ((unsigned)m >= nitems(model_names))
		return "unknown";
	return model_names[m];
}

int
shadow_model_parse(const char *s, enum shadow_model *m)
{
	size_t i;

	for (i = 0; i < nitems(model_names); i++)
		if (strcmp(s, model_names[i]) == 0) {
			*m = (enum shadow_model)i;
			return 0;
		}
	return -1;
}

const char *
shadow_alert_kind_name(enum shadow_alert_kind k)
{
	switch (k) {
	case SHADOW_ALERT_BURST:
		return "burst";
	case SHADOW_ALERT_DROP:
		return "drop";
	case SHADOW_ALERT_CHURN_NO_ALLOC:
		return "churn_without_alloc";
	case SHADOW_ALERT_SCAN:
		return "scan";
	}
	return "unknown";
}

const char *
shadow_policy_what_name(enum shadow_policy_what w)
{
	switch (w) {
	case SHADOW_POLICY_QUANTILE:
		return "quantile";
	case SHADOW_POLICY_LEAD:
		return "lead";
	case SHADOW_POLICY_LEAD_MULT:
		return "lead_mult";
	}
	return "unknown";
}
