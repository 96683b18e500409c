/*
 * Shadow inventory state across restarts: what the models and the
 * policy learned, the detector's baselines, the groups and the recent
 * history, as one versioned blob the daemon keeps in its state
 * database.
 *
 * How this works.  The blob is big-endian and flat: a header (magic
 * "SHDW", version, tick and the ring and kernel sizes, which must be
 * this build's), then the fields in one fixed order.  One function,
 * state_fields(), names that order for both directions: a codec either
 * writes each field or reads it back through common/buf.h's reader and
 * checks it (every number finite and in its range, every count within
 * its ring, labels of the label alphabet), so the writer and the reader
 * cannot drift apart.  The blob is input from disk: the restore decodes
 * into a copy and adopts it only when the whole blob was read without
 * a fault and nothing is left over; anything else is refused with a
 * message and the engine stays as it was (a cold start).
 *
 * What is kept: Holt's level and trend, the Kalman filter's estimate
 * and variance, the churn model's moments, covariances, kernel, lag and
 * ratio, each model's error statistics and the ensemble's weights, the
 * learned run sizes and pace, the policy's calibration (quantile, lead
 * multiplier, the misses' average wait) and the detector's baselines
 * (the churn ratio's and the requests-per-add spread), the groups, and
 * the 1-tick and 60-s rings, and the leading signals' kernels (traffic,
 * neighbour misses; not their recent values).  What is not: the current run, open
 * intents, pending calibration checks, CUSUM sums, counters and costs
 * (they start again with the process), and the lead (it is measured).
 *
 * Time.  The engine's clock is the caller's, which a restart may reset;
 * the restore re-times what it adopts: the history ends age_ms (how long
 * ago the state was saved) before now, with at least
 * SHADOW_CHURN_MAX_LAG + 1 empty bins in between so that remote adds
 * from before the restart are not expected to bring requests again; the
 * 60-s ring gets the missed minutes as empty bins (kept aligned to the
 * time of day), or starts over after a day.  Nothing is learned from
 * the gap.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "ipam/shadow_int.h"

#define STATE_MAGIC	0x53484457u	/* "SHDW" */
#define BIG		1e12		/* bound of any learned quantity */
/* A signal's moments are of its values squared: rates up to
 * SHADOW_TRAFFIC_RATE_MAX (1e9) give up to 1e18. */
#define SIGNAL_BIG	1e20
#define COUNT_MAX	(1ULL << 53)

struct codec {
	struct wbuf	*wb;		/* writing, or */
	struct rbuf	*rb;		/* reading */
	const char	*fault;		/* the first field that failed */
};

static bool
reading(const struct codec *c)
{
	return c->rb != NULL;
}

static void
fail(struct codec *c, const char *what)
{
	if (c->fault == NULL)
		c->fault = what;
}

static void
c_u64(struct codec *c, uint64_t *v, uint64_t max, const char *what)
{
	uint64_t x;

	if (c->fault != NULL)
		return;
	if (!reading(c)) {
		wbuf_put_u64(c->wb, *v);
		return;
	}
	if (rbuf_get_u64(c->rb, &x) == -1 || x > max)
		return fail(c, what);
	*v = x;
}

static void
c_u32(struct codec *c, uint32_t *v, uint32_t max, const char *what)
{
	uint32_t x;

	if (c->fault != NULL)
		return;
	if (!reading(c)) {
		wbuf_put_u32(c->wb, *v);
		return;
	}
	if (rbuf_get_u32(c->rb, &x) == -1 || x > max)
		return fail(c, what);
	*v = x;
}

static void
c_bool(struct codec *c, bool *v, const char *what)
{
	uint32_t x = *v ? 1 : 0;

	c_u32(c, &x, 1, what);
	*v = x != 0;
}

static void
c_size(struct codec *c, size_t *v, size_t max, const char *what)
{
	uint32_t x = (uint32_t)*v;

	c_u32(c, &x, (uint32_t)max, what);
	*v = x;
}

/* A double as its IEEE 754 bits; read back only finite, in [lo, hi]. */
static void
c_f64(struct codec *c, double *v, double lo, double hi, const char *what)
{
	uint64_t bits;
	double x;

	if (c->fault != NULL)
		return;
	if (!reading(c)) {
		/* Saturated to what the reader accepts: a model pushed
		 * past a bound (a flood of traffic, say) must not make
		 * every later save a blob that is refused. */
		x = isnan(*v) ? lo : fmin(fmax(*v, lo), hi);
		memcpy(&bits, &x, sizeof(bits));
		wbuf_put_u64(c->wb, bits);
		return;
	}
	if (rbuf_get_u64(c->rb, &bits) == -1)
		return fail(c, what);
	memcpy(&x, &bits, sizeof(x));
	if (!isfinite(x) || x < lo || x > hi)
		return fail(c, what);
	*v = x;
}

static void
c_f64s(struct codec *c, double *v, size_t n, double lo, double hi,
    const char *what)
{
	for (size_t i = 0; i < n; i++)
		c_f64(c, &v[i], lo, hi, what);
}

/* The header: this build's sizes, or the blob is not for it. */
static void
header(struct codec *c, const struct shadow *sh)
{
	uint32_t f[9] = { STATE_MAGIC, SHADOW_STATE_VERSION, sh->p.tick_ms,
	    SHADOW_FINE_BINS, SHADOW_COARSE_BINS, SHADOW_CHURN_MAX_LAG,
	    SHADOW_GROUPS_MAX, SHADOW_TRAFFIC_MAX_LAG, SHADOW_NEIGH_MAX_LAG };
	static const char *const what[9] = { "magic", "version", "tick",
	    "fine ring size", "coarse ring size", "churn lags",
	    "group slots", "traffic lags", "neighbour lags" };
	uint32_t x;

	for (size_t i = 0; i < nitems(f); i++) {
		x = f[i];
		c_u32(c, &x, UINT32_MAX, what[i]);
		if (reading(c) && c->fault == NULL && x != f[i])
			fail(c, what[i]);
	}
}

static void
models(struct codec *c, struct shadow *sh)
{
	struct shadow_churn *ch = &sh->churn;
	size_t lags = SHADOW_CHURN_MAX_LAG + 1;

	c_u64(c, &sh->bins_closed, COUNT_MAX, "bins closed");
	c_f64(c, &sh->holt.level, 0, BIG, "holt level");
	c_f64(c, &sh->holt.trend, -BIG, BIG, "holt trend");
	c_bool(c, &sh->holt.started, "holt started");
	c_f64(c, &sh->kalman.x, 0, BIG, "kalman level");
	c_f64(c, &sh->kalman.p, 0, BIG, "kalman variance");
	c_f64(c, &sh->kalman.gain, 0, 1, "kalman gain");
	c_u32(c, &sh->kalman.n, UINT32_MAX, "kalman updates");
	c_u64(c, &sh->kalman.blocks, COUNT_MAX, "kalman blocks");
	c_u64(c, &sh->kalman.shifts, COUNT_MAX, "kalman shifts");
	c_f64(c, &ch->mx, 0, BIG, "churn mean adds");
	c_f64(c, &ch->my, 0, BIG, "churn mean requests");
	c_f64(c, &ch->vy, 0, BIG, "churn variance");
	c_f64s(c, ch->cov, lags, -BIG, BIG, "churn covariance");
	c_f64s(c, ch->acov, lags, -BIG, BIG, "churn autocovariance");
	c_f64s(c, ch->kernel, lags, -BIG, BIG, "churn kernel");
	c_f64(c, &ch->lag, 0, SHADOW_CHURN_MAX_LAG, "churn lag");
	c_f64(c, &ch->ratio, 0, BIG, "churn ratio");
	c_f64(c, &ch->corr, -1, 1, "churn correlation");
	c_f64(c, &ch->base, 0, BIG, "churn baseline");
	c_u64(c, &ch->n, COUNT_MAX, "churn updates");
	for (size_t m = 0; m < SHADOW_NMODELS; m++) {
		c_f64(c, &sh->err[m].pred, 0, BIG, "model prediction");
		c_f64(c, &sh->err[m].mse, 0, BIG, "model error");
		c_f64(c, &sh->err[m].res2, 0, BIG, "model residual");
		c_f64(c, &sh->err[m].mean, 0, BIG, "model mean");
	}
	c_f64s(c, sh->weights, SHADOW_NMODELS, 0, 1, "ensemble weight");
	c_f64(c, &sh->churn_next, 0, BIG, "churn prediction");
	c_f64(c, &sh->ens_next, 0, BIG, "ensemble prediction");
}

static void
runs_policy_anomaly(struct codec *c, struct shadow *sh)
{
	struct shadow_policy_state *ps = &sh->pol;
	struct shadow_anomaly_state *an = &sh->an;

	for (size_t a = 0; a < 2; a++) {
		c_f64s(c, sh->runs.size[a], SHADOW_RUN_SIZES + 1, 0, BIG,
		    "run sizes");
		c_f64(c, &sh->runs.total[a], 0, BIG, "runs total");
		c_u64(c, &sh->runs.closed[a], COUNT_MAX, "runs closed");
	}
	c_f64(c, &sh->runs.pace_ms, 0, 86400000, "run pace");
	c_f64(c, &sh->quantile, 0.01, SHADOW_QUANTILE_MAX, "quantile");
	c_f64(c, &sh->lead_mult, 0.01, 100, "lead multiplier");
	c_f64(c, &ps->lead_obs, 0, SHADOW_LEAD_MAX_S, "miss wait");
	c_bool(c, &ps->lead_seen, "miss wait seen");
	c_u64(c, &ps->nchecks, COUNT_MAX, "calibration checks");
	c_f64(c, &ps->sum_pred, 0, BIG, "calibration predicted");
	c_f64(c, &ps->sum_obs, 0, BIG, "calibration observed");
	c_f64(c, &ps->factor, 0, BIG, "calibration factor");
	c_f64(c, &ps->logged_q, 0.01, SHADOW_QUANTILE_MAX, "logged quantile");
	c_u64(c, &an->ratio_windows, COUNT_MAX, "churn ratio windows");
	c_f64(c, &an->ratio_n, 0, BIG, "churn ratio count");
	c_f64(c, &an->ratio_sum, -BIG, BIG, "churn ratio sum");
	c_f64(c, &an->ratio_sq, 0, BIG, "churn ratio squares");
	c_u64(c, &an->ep_runs, COUNT_MAX, "runs after adds");
	c_f64(c, &an->ep_n, 0, BIG, "requests per add count");
	c_f64(c, &an->ep_sum, -BIG, BIG, "requests per add sum");
	c_f64(c, &an->ep_sq, 0, BIG, "requests per add squares");
}

static void
bin_fields(struct codec *c, struct shadow_bin *b)
{
	uint32_t *f[7] = { &b->allocs, &b->run_starts, &b->releases,
	    &b->route_adds, &b->route_dels, &b->mac_learns, &b->mac_moves };
	double fc = b->forecast;

	for (size_t i = 0; i < nitems(f); i++)
		c_u32(c, f[i], UINT32_MAX, "bin count");
	c_f64(c, &fc, 0, 1e30, "bin forecast");
	b->forecast = (float)fc;
}

/* Rings oldest first; read back into slots 0.. (re-timed later). */
static void
rings(struct codec *c, struct shadow *sh)
{
	size_t n = sh->fine_len, i, per;
	struct shadow_bin b;

	c_size(c, &n, SHADOW_FINE_BINS, "fine ring length");
	for (i = 0; i < n && c->fault == NULL; i++) {
		b = reading(c) ? (struct shadow_bin){ 0 } :
		    *shadow_fine_at(sh, n - 1 - i);
		bin_fields(c, &b);
		if (reading(c))
			sh->fine[i] = b;
	}
	if (reading(c)) {
		sh->fine_len = n;
		sh->fine_head = n % SHADOW_FINE_BINS;
	}
	n = sh->coarse_len;
	c_size(c, &n, SHADOW_COARSE_BINS, "coarse ring length");
	for (i = 0; i < n && c->fault == NULL; i++) {
		size_t at = reading(c) ? i : (sh->coarse_head +
		    SHADOW_COARSE_BINS - n + i) % SHADOW_COARSE_BINS;

		c_u32(c, &sh->coarse[at].allocs, UINT32_MAX, "coarse bin");
		c_u32(c, &sh->coarse[at].route_adds, UINT32_MAX, "coarse bin");
	}
	if (reading(c)) {
		sh->coarse_len = n;
		sh->coarse_head = n % SHADOW_COARSE_BINS;
	}
	per = SHADOW_COARSE_S * 1000 / sh->p.tick_ms;
	c_u32(c, &sh->coarse_open.allocs, UINT32_MAX, "coarse open");
	c_u32(c, &sh->coarse_open.route_adds, UINT32_MAX, "coarse open");
	c_u32(c, &sh->coarse_fill, per > 1 ? (uint32_t)per - 1 : 0,
	    "coarse fill");
	c_u64(c, &sh->coarse_total, COUNT_MAX, "coarse total");
}

/* A group label as the caller gave it: key=value of label characters. */
static bool
group_label_ok(const char *s, size_t n)
{
	if (n == 0 || memchr(s, '=', n) == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~' ||
		    s[i] == ',')
			return false;
	return true;
}

static void
c_label(struct codec *c, char *label)
{
	uint32_t n = (uint32_t)strnlen(label, SHADOW_GROUP_LABEL_MAX);

	c_u32(c, &n, SHADOW_GROUP_LABEL_MAX, "group label length");
	if (c->fault != NULL)
		return;
	if (!reading(c)) {
		wbuf_put_bytes(c->wb, label, n);
		return;
	}
	if (rbuf_get_bytes(c->rb, label, n) == -1 ||
	    !group_label_ok(label, n))
		return fail(c, "group label");
	label[n] = '\0';
}

/* A time as its age before base (the save's clock). */
static void
c_age(struct codec *c, uint64_t *t_ms, uint64_t base)
{
	uint64_t age = *t_ms < base ? base - *t_ms : 0;

	c_u64(c, &age, COUNT_MAX, "group time");
	if (reading(c))
		*t_ms = age;	/* re-based by the restore */
}

static void
group_fields(struct codec *c, struct shadow_group *g, uint64_t base)
{
	c_label(c, g->label);
	c_u64(c, &g->active, COUNT_MAX, "group active");
	c_u64(c, &g->requests, COUNT_MAX, "group requests");
	c_age(c, &g->first_ms, base);
	c_age(c, &g->last_ms, base);
	c_age(c, &g->run_last_ms, base);
	c_age(c, &g->starts_ms, base);
	c_u32(c, &g->run_n, UINT32_MAX, "group run");
	c_f64(c, &g->starts, 0, BIG, "group starts");
	c_f64(c, &g->sz_n, 0, BIG, "group sizes");
	c_f64(c, &g->sz_sum, 0, BIG, "group sizes");
	c_f64(c, &g->sz_sq, 0, BIG, "group sizes");
}

static void
groups(struct codec *c, struct shadow *sh)
{
	size_t n = 0, i, j = 0;

	for (i = 0; i < SHADOW_GROUPS_MAX; i++)
		n += sh->groups[i].label[0] != '\0';
	c_size(c, &n, SHADOW_GROUPS_MAX, "groups");
	if (reading(c))
		memset(sh->groups, 0, sizeof(sh->groups));
	for (i = 0; i < SHADOW_GROUPS_MAX && j < n && c->fault == NULL; i++) {
		if (!reading(c) && sh->groups[i].label[0] == '\0')
			continue;
		group_fields(c, &sh->groups[reading(c) ? j : i],
		    sh->last_tick_ms);
		j++;
	}
	c_u64(c, &sh->groups_evicted, COUNT_MAX, "groups evicted");
}

/* A leading signal's learned kernel (shadow_traffic.c); its ring of
 * recent values is not kept: the restore leaves it empty and waits for
 * the signal to come again before learning. */
static void
lead_fields(struct codec *c, struct shadow_lead *ld, uint32_t max_lag)
{
	size_t lags = (size_t)max_lag + 1;
	uint32_t lo = ld->lo, hi = ld->hi;
	const double big = SIGNAL_BIG;

	c_f64s(c, ld->cov, lags, -big, big, "signal covariance");
	c_f64s(c, ld->acov, lags, -big, big, "signal autocovariance");
	c_f64s(c, ld->kernel, lags, -big, big, "signal kernel");
	c_f64(c, &ld->mx, 0, big, "signal mean");
	c_f64(c, &ld->my, 0, big, "signal mean requests");
	c_f64(c, &ld->vy, 0, big, "signal variance");
	c_f64(c, &ld->lag, 0, max_lag, "signal lag");
	c_f64(c, &ld->gain, 0, big, "signal gain");
	c_f64(c, &ld->corr, -1, 1, "signal correlation");
	c_u32(c, &lo, max_lag, "signal region");
	c_u32(c, &hi, max_lag, "signal region");
	c_u64(c, &ld->n, COUNT_MAX, "signal updates");
	if (reading(c) && c->fault == NULL && lo > hi)
		fail(c, "signal region");
	if (reading(c)) {
		ld->lo = lo;
		ld->hi = hi;
		ld->seen = false;
	}
}

static void
signals(struct codec *c, struct shadow *sh)
{
	lead_fields(c, &sh->tr.lead, SHADOW_TRAFFIC_MAX_LAG);
	lead_fields(c, &sh->nm.lead, SHADOW_NEIGH_MAX_LAG);
}

/* The one order of the fields, both ways. */
static void
state_fields(struct codec *c, struct shadow *sh)
{
	header(c, sh);
	models(c, sh);
	runs_policy_anomaly(c, sh);
	rings(c, sh);
	groups(c, sh);
	signals(c, sh);
}

int
shadow_state_save(const struct shadow *sh, struct wbuf *wb)
{
	struct codec c = { .wb = wb };

	/* The writing codec reads the fields only. */
	state_fields(&c, (struct shadow *)(uintptr_t)sh);
	if (wb->error) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static uint64_t
sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The history ends age_ms before now, gap bins of nothing after it. */
static void
retime(struct shadow *sh, uint64_t now_ms, uint64_t age_ms)
{
	uint64_t tick = sh->p.tick_ms, gap, i, per, minutes;

	gap = age_ms / tick;
	if (gap < SHADOW_CHURN_MAX_LAG + 1)
		gap = SHADOW_CHURN_MAX_LAG + 1;
	for (i = 0; i < gap && i < SHADOW_FINE_BINS; i++) {
		memset(&sh->fine[sh->fine_head], 0, sizeof(sh->fine[0]));
		sh->fine_head = (sh->fine_head + 1) % SHADOW_FINE_BINS;
		if (sh->fine_len < SHADOW_FINE_BINS)
			sh->fine_len++;
	}
	sh->next_bin = now_ms / tick;
	for (i = 0; i < sh->fine_len; i++)
		sh->fine[(sh->fine_head + SHADOW_FINE_BINS - 1 - i) %
		    SHADOW_FINE_BINS].t_ms = sub_sat(sh->next_bin, i + 1) * tick;
	per = SHADOW_COARSE_S * 1000 / tick;
	minutes = per > 0 ? age_ms / 1000 / SHADOW_COARSE_S : 0;
	if (minutes >= SHADOW_COARSE_BINS) {
		sh->coarse_len = sh->coarse_head = 0;
		memset(&sh->coarse_open, 0, sizeof(sh->coarse_open));
		sh->coarse_fill = 0;
		return;
	}
	for (i = 0; i < minutes; i++) {
		memset(&sh->coarse[sh->coarse_head], 0, sizeof(sh->coarse[0]));
		sh->coarse_head = (sh->coarse_head + 1) % SHADOW_COARSE_BINS;
		if (sh->coarse_len < SHADOW_COARSE_BINS)
			sh->coarse_len++;
	}
}

/* Group times were read as ages before the save: now on this clock. */
static void
groups_rebase(struct shadow *sh, uint64_t now_ms, uint64_t age_ms)
{
	uint64_t base = sub_sat(now_ms, age_ms);

	for (size_t i = 0; i < SHADOW_GROUPS_MAX; i++) {
		struct shadow_group *g = &sh->groups[i];

		g->first_ms = sub_sat(base, g->first_ms);
		g->last_ms = sub_sat(base, g->last_ms);
		g->run_last_ms = sub_sat(base, g->run_last_ms);
		g->starts_ms = sub_sat(base, g->starts_ms);
	}
}

int
shadow_state_restore(struct shadow *sh, const void *data, size_t len,
    uint64_t now_ms, uint64_t age_ms, char *err, size_t errlen)
{
	struct shadow *tmp;
	struct rbuf rb;
	struct codec c = { .rb = &rb };

	if (sh->clock_set || sh->ticks > 0) {
		snprintf(err, errlen, "the engine has run already");
		errno = EBUSY;
		return -1;
	}
	tmp = xmalloc(sizeof(*tmp));
	*tmp = *sh;
	rbuf_init(&rb, data, len);
	state_fields(&c, tmp);
	if (c.fault == NULL && rbuf_left(&rb) != 0)
		c.fault = "trailing bytes";
	if (c.fault != NULL) {
		snprintf(err, errlen, "bad %s at byte %zu of %zu", c.fault,
		    rb.pos, len);
		free(tmp);
		errno = EBADMSG;
		return -1;
	}
	retime(tmp, now_ms, age_ms);
	groups_rebase(tmp, now_ms, age_ms);
	tmp->clock_set = true;
	tmp->last_tick_ms = now_ms;
	/* Weights and confidence may have changed since: the quantile
	 * stays within what they allow now. */
	if (tmp->quantile < shadow_quantile_lo(&tmp->p))
		tmp->quantile = shadow_quantile_lo(&tmp->p);
	*sh = *tmp;
	free(tmp);
	return 0;
}
