/*
 * Shadow inventory policy learning: the lead time and the calibration
 * of the decision, per pool, from what actually happened.
 *
 * How this works.  The decision (shadow.c) holds the k-th unit while
 * P(N(W) >= k) > 1 - q, q starting at the newsvendor ratio d/(d+w): the
 * rule is exact for the cost when the forecast's probabilities are
 * right, so what is learned is how right they are, where it matters.
 * At each tick the two marginal decisions are recorded as checks: the
 * last unit held (k = target, P above the threshold) and the first one
 * not held (k = target + 1, below it), each with its predicted P and
 * its window.  When the window has passed, the check is settled: did at
 * least k requests come?  The decayed sums of outcomes and predictions
 * (CALIB_MEMORY checks, CALIB_PRIOR of agreement to start from) give a
 * calibration factor c = outcomes / predictions, and the threshold
 * becomes (1 - r) / c: a forecast that promises twice what comes holds
 * half as readily.  q = 1 - (1 - r) / c, clamped to [min(confidence, r),
 * SHADOW_QUANTILE_MAX]; a change of q by more than SHADOW_POLICY_STEP in
 * logit units since the last one logged goes to the policy log.  (An
 * earlier version stepped q on each epoch's finite-difference cost; at
 * low rates most epochs see no request, and a step on each epoch's sign
 * went down in every quiet epoch, a median where the cost needs a mean.)
 *
 * The lead time is the convergence model's base: misses report their
 * wait, less the queue the model expected (shadow_on_served); its
 * average is adopted when it moves by more than LEAD_CHANGE.  lead_mult
 * stays 1: pre-allocations still converging when taken are the price of
 * deciding at the first request of a run, not a sign of a wrong lead.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ipam/shadow_int.h"

#define LEAD_EWMA	0.2
#define LEAD_CHANGE	0.1	/* relative change worth adopting */
#define CALIB_MEMORY	3600.0	/* checks: about half an hour */
#define CALIB_PRIOR	2.0	/* expected outcomes of agreement at start */
#define CALIB_MIN	0.25
#define CALIB_MAX	4.0

void
shadow_policy_init(struct shadow *sh)
{
	double r = shadow_newsvendor(&sh->p);

	memset(&sh->pol, 0, sizeof(sh->pol));
	sh->quantile = r;
	sh->pol.logged_q = r;
	sh->pol.factor = 1;
	sh->lead_s = sh->p.lead_s;
	sh->lead_mult = 1.0;
}

void
shadow_policy_served(struct shadow *sh, uint64_t t_ms, bool hit,
    double wait_s)
{
	struct shadow_policy_state *ps = &sh->pol;

	(void)t_ms;
	if (hit) {
		if (ps->held_est > 0)
			ps->held_est--;
		return;
	}
	if (wait_s > 0) {
		ps->lead_obs = ps->lead_seen ?
		    ps->lead_obs + LEAD_EWMA * (wait_s - ps->lead_obs) : wait_s;
		ps->lead_seen = true;
	}
}

void
shadow_policy_check(struct shadow *sh, uint64_t t_ms, double window_s,
    uint32_t k, double p)
{
	struct shadow_policy_state *ps = &sh->pol;
	struct shadow_check *c;

	if (k == 0 || !(p >= 0))
		return;
	if (ps->npending == SHADOW_CHECKS)
		return;		/* windows longer than the ring: skip */
	c = &ps->pending[(ps->head + ps->npending) % SHADOW_CHECKS];
	c->end_ms = t_ms + (uint64_t)(window_s * 1000.0);
	c->allocs0 = sh->n_allocs;
	c->k = k;
	c->p = p > 1 ? 1 : p;
	ps->npending++;
}

static double
logit(double q)
{
	return log(q / (1 - q));
}

/* Settle the checks whose window has passed, then the factor and q. */
static void
calibrate(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_policy_state *ps = &sh->pol;
	double keep, r = shadow_newsvendor(&sh->p), q;
	double lo = shadow_quantile_lo(&sh->p), hi = SHADOW_QUANTILE_MAX;
	char why[SHADOW_MSG_MAX];

	while (ps->npending > 0) {
		struct shadow_check *c = &ps->pending[ps->head];

		if (c->end_ms > t_ms)
			break;
		ps->nchecks++;
		keep = 1 - 1 / fmin((double)ps->nchecks, CALIB_MEMORY);
		ps->sum_pred = ps->sum_pred * keep + c->p;
		ps->sum_obs = ps->sum_obs * keep +
		    (sh->n_allocs - c->allocs0 >= c->k ? 1 : 0);
		ps->head = (ps->head + 1) % SHADOW_CHECKS;
		ps->npending--;
	}
	if (!sh->p.adapt)
		return;
	ps->factor = (ps->sum_obs + CALIB_PRIOR) / (ps->sum_pred + CALIB_PRIOR);
	ps->factor = fmin(CALIB_MAX, fmax(CALIB_MIN, ps->factor));
	q = 1 - (1 - r) / ps->factor;
	q = q < lo ? lo : q > hi ? hi : q;
	sh->quantile = q;
	if (fabs(logit(q) - logit(ps->logged_q)) < SHADOW_POLICY_STEP)
		return;
	snprintf(why, sizeof(why), "%.0f%s outcomes than the forecast "
	    "promised at the margin: %s", fabs(ps->factor - 1) * 100,
	    ps->factor > 1 ? "% more" : "% fewer",
	    q > ps->logged_q ? "raise" : "lower");
	shadow_policy_add(sh, t_ms, SHADOW_POLICY_QUANTILE, ps->logged_q, q,
	    why);
	ps->logged_q = q;
}

static void
epoch_lead(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_policy_state *ps = &sh->pol;
	double old;
	char why[SHADOW_MSG_MAX];

	if (!ps->lead_seen || fabs(ps->lead_obs - sh->lead_s) <=
	    LEAD_CHANGE * fmax(sh->lead_s, 0.1))
		return;
	old = sh->lead_s;
	sh->lead_s = ps->lead_obs;
	snprintf(why, sizeof(why), "misses waited %.2fs on average beyond "
	    "the queue", ps->lead_obs);
	shadow_policy_add(sh, t_ms, SHADOW_POLICY_LEAD, old, sh->lead_s, why);
}

void
shadow_policy_tick(struct shadow *sh, uint64_t t_ms, double dt_s,
    uint64_t held)
{
	struct shadow_policy_state *ps = &sh->pol;

	(void)dt_s;
	(void)held;
	calibrate(sh, t_ms);
	if (!sh->ticked) {
		ps->epoch_start_ms = t_ms;
		return;
	}
	if (t_ms < ps->epoch_start_ms + SHADOW_POLICY_EPOCH_S * 1000ULL)
		return;
	if (sh->p.adapt)
		epoch_lead(sh, t_ms);
	ps->epoch_start_ms = t_ms;
}

/*
 * The daemon measured the convergence (its fabric's or its own p90, or
 * the configured lead until it has samples): plan with it from now on.
 * The waits of misses seen so far measured the old lead and are
 * forgotten, so they cannot pull the lead back at the next epoch.
 */
void
shadow_set_lead(struct shadow *sh, double lead_s)
{
	struct shadow_policy_state *ps = &sh->pol;
	double old = sh->lead_s;
	char why[SHADOW_MSG_MAX];

	if (!(lead_s >= 0))
		return;
	if (lead_s > SHADOW_LEAD_MAX_S)
		lead_s = SHADOW_LEAD_MAX_S;
	sh->p.lead_s = lead_s;
	if (fabs(lead_s - old) < 1e-3)
		return;
	sh->lead_s = lead_s;
	ps->lead_seen = false;
	snprintf(why, sizeof(why), "measured convergence: %.3fs", lead_s);
	shadow_policy_add(sh, sh->last_tick_ms, SHADOW_POLICY_LEAD, old,
	    lead_s, why);
}
