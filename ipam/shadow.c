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
	p->jitter = 0.2;
	p->cusum_k = 0.5;
	p->cusum_h = 8.0;
	p->release_hold_s = 15;
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
	p->lead_s = clampd(p->lead_s, 0.0, 300.0);
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
	double lo, hi;

	sh->p = *params;
	params_clamp(&sh->p);
	lo = shadow_quantile_lo(&sh->p);
	hi = SHADOW_QUANTILE_MAX;
	sh->quantile = clampd(sh->quantile, lo, hi);
}

const struct shadow_params *
shadow_params(const struct shadow *sh)
{
	return &sh->p;
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

void
shadow_on_alloc(struct shadow *sh, uint64_t t_ms)
{
	size_t i;

	count(&open_bin(sh, t_ms)->allocs);
	sh->n_allocs++;
	/* A request consumes the announced intent that ends first. */
	for (i = 0; i < SHADOW_INTENTS; i++) {
		struct shadow_intent *in = &sh->intents[i];

		if (in->remaining > 0 && in->end_ms >= t_ms) {
			in->remaining -= 1;
			break;
		}
	}
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

	if (!(wait_s >= 0))
		wait_s = 0;
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
	shadow_policy_served(sh, t_ms, hit, wait_s);
}

void
shadow_on_prealloc_made(struct shadow *sh, uint64_t t_ms)
{
	(void)t_ms;
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
	shadow_models_update(sh, bin.allocs, bin.route_adds);
	shadow_anomaly_bin(sh, bin.t_ms, bin.allocs, pred, pred_churn,
	    pred_cm, bin.route_adds);
	memmove(&sh->open[0], &sh->open[1],
	    sizeof(sh->open[0]) * (SHADOW_OPEN_BINS - 1));
	memset(&sh->open[SHADOW_OPEN_BINS - 1], 0, sizeof(sh->open[0]));
	sh->next_bin++;
	sh->bins_closed++;
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

static void
decide_counts(struct shadow *sh, uint64_t t_ms, const struct shadow_state *st,
    struct shadow_decision *d)
{
	uint64_t held = st->warm_ready + st->warm_converging;
	uint64_t floor_n, want;

	d->want_alloc = d->want_release = 0;
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
	} else if (held > (uint64_t)d->target + SHADOW_RELEASE_SLACK) {
		/* Hysteresis: release only what stayed in excess a while. */
		if (!sh->over) {
			sh->over = true;
			sh->over_since_ms = t_ms;
		}
		floor_n = d->target > sh->p.min_warm ? d->target :
		    sh->p.min_warm;
		if (t_ms - sh->over_since_ms >=
		    (uint64_t)sh->p.release_hold_s * 1000 && held > floor_n) {
			d->want_release = (uint32_t)(held - floor_n);
			sh->over = false;
		}
	} else
		sh->over = false;
	if (sh->p.mode == SHADOW_MODE_OBSERVE)
		d->want_alloc = d->want_release = 0;
}

/*
 * The quantile q is a newsvendor ratio for one unit against one miss:
 * odds q/(1-q) = delay cost of a miss / wastage of the unit.  A unit
 * decided now is held for the whole lookahead (lead + tick) but a miss
 * costs only the lead, so the odds scale by lead / lookahead: with the
 * default 100:1 weights and 1 s lead, a warm address is worth holding
 * only while more than about 1% of ticks see a request.
 */
static double
window_quantile(double q, double lead_s, double lookahead_s)
{
	double odds = q / (1 - q), scale;

	if (!(lookahead_s > 0))
		return q;
	scale = fmax(lead_s, 0.05) / lookahead_s;
	if (scale > 1)
		scale = 1;
	odds *= scale;
	return odds / (1 + odds);
}

static void
decide(struct shadow *sh, uint64_t t_ms, const struct shadow_state *st,
    struct shadow_decision *d)
{
	double tick_s = sh->p.tick_ms / 1000.0, lead, u, extra;
	uint64_t pool_size = st->pool_size ? st->pool_size : sh->pool_size;
	uint32_t target;

	memset(d, 0, sizeof(*d));
	lead = sh->lead_s * sh->lead_mult;
	u = rng_sym(&sh->rng);
	d->quantile = sh->quantile;
	d->lead_s = lead;
	d->jitter_s = lead * sh->p.jitter * u;
	d->lookahead_s = lead + d->jitter_s + tick_s;
	/* Requests the lag kernels still expect from adds and requests
	 * already seen are held from now until they come: a gang's local
	 * share follows its remote endpoints by tens of seconds, longer
	 * than the lookahead, and must be warm when it arrives. */
	extra = shadow_intent_in(sh, t_ms, d->lookahead_s);
	if (sh->p.model == SHADOW_MODEL_ENSEMBLE ||
	    sh->p.model == SHADOW_MODEL_CHURN)
		extra += shadow_churn_due(sh, d->lookahead_s / tick_s);
	shadow_forecast_window(sh, d->lookahead_s / tick_s, extra,
	    window_quantile(sh->quantile, lead, d->lookahead_s),
	    &d->forecast.lead);
	extra = shadow_intent_in(sh, t_ms, sh->p.horizon_s);
	shadow_forecast_window(sh, sh->p.horizon_s / tick_s, extra,
	    sh->quantile, &d->forecast.horizon);
	d->forecast.rate = sh->ens_next / tick_s;

	d->target_raw = d->forecast.lead.ptarget > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)ceil(d->forecast.lead.ptarget);
	d->cap = guard_cap(sh, pool_size);
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
	decide(sh, t_ms, st, &sh->last);
	sh->pol.held_est = (int64_t)held;
	sh->last_tick_ms = t_ms;
	sh->ticked = true;
	sh->ticks++;
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
