/*
 * Shadow inventory policy learning: the target quantile and the lead
 * time, per pool, from the cost actually observed.
 *
 * How this works: during an epoch (SHADOW_POLICY_EPOCH_S) we collect
 * what each of the two neighbouring policies would have changed:
 *  - one more unit held: saves the delay of the epoch's misses and late
 *    hits (each would have found one more, older, pre-allocation), costs
 *    one unit held for the whole epoch;
 *  - one unit fewer: saves every second at least one unit was held, costs
 *    the requests that took the last unit (they would have missed and
 *    waited the lead time).
 * Whichever side is cheaper by the cost weights moves q one step in logit
 * space (a finite-difference descent on the newsvendor cost), clamped to
 * [min(confidence, newsvendor), SHADOW_QUANTILE_MAX].  The lead time
 * tracks the waits of misses (in the simulator and the daemon a miss waits
 * the route convergence time); lead_mult rises when hits still had to
 * wait, i.e. pre-allocations were made too late for the convergence they
 * need, if that delay outweighs a unit held for the epoch, and decays
 * toward 1 otherwise.  Each change goes to the policy log with why.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ipam/shadow_int.h"

#define LEAD_EWMA	0.2
#define LEAD_CHANGE	0.1	/* relative change worth adopting */
#define LEAD_MULT_MAX	4.0
#define LEAD_MULT_UP	1.25
#define LEAD_MULT_DOWN	0.95

void
shadow_policy_init(struct shadow *sh)
{
	double r = shadow_newsvendor(&sh->p);

	memset(&sh->pol, 0, sizeof(sh->pol));
	sh->quantile = r;
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
		if (ps->held_est <= 1)
			ps->last_unit_hits++;
		if (ps->held_est > 0)
			ps->held_est--;
		if (wait_s > 0) {
			ps->partials++;
			ps->partial_wait += wait_s;
		}
		return;
	}
	ps->misses++;
	ps->miss_wait += wait_s;
	if (wait_s > 0) {
		ps->lead_obs = ps->lead_seen ?
		    ps->lead_obs + LEAD_EWMA * (wait_s - ps->lead_obs) : wait_s;
		ps->lead_seen = true;
	}
}

static double
logit(double q)
{
	return log(q / (1 - q));
}

static double
logistic(double x)
{
	return 1 / (1 + exp(-x));
}

static void
set_quantile(struct shadow *sh, uint64_t t_ms, double q, const char *why)
{
	double lo = shadow_quantile_lo(&sh->p), hi = SHADOW_QUANTILE_MAX;

	if (q < lo)
		q = lo;
	if (q > hi)
		q = hi;
	if (fabs(q - sh->quantile) < 1e-9)
		return;
	shadow_policy_add(sh, t_ms, SHADOW_POLICY_QUANTILE, sh->quantile, q,
	    why);
	sh->quantile = q;
}

static void
epoch_quantile(struct shadow *sh, uint64_t t_ms, double epoch_s)
{
	const struct shadow_policy_state *ps = &sh->pol;
	double gain_up, cost_up, gain_down, cost_down;
	char why[SHADOW_MSG_MAX];

	gain_up = sh->p.delay_weight * (ps->miss_wait + ps->partial_wait);
	cost_up = sh->p.wastage_weight * epoch_s;
	gain_down = sh->p.wastage_weight * ps->held_pos_s;
	cost_down = sh->p.delay_weight * sh->lead_s * ps->last_unit_hits;
	if (gain_up > cost_up) {
		snprintf(why, sizeof(why), "%u misses, %u late hits cost %.0f"
		    " > one more unit %.0f: raise", ps->misses, ps->partials,
		    gain_up, cost_up);
		set_quantile(sh, t_ms, logistic(logit(sh->quantile) +
		    SHADOW_POLICY_STEP), why);
	} else if (gain_down > cost_down) {
		snprintf(why, sizeof(why), "held idle %.0fs costs %.0f > "
		    "%u last-unit hits %.0f: lower", ps->held_pos_s,
		    gain_down, ps->last_unit_hits, cost_down);
		set_quantile(sh, t_ms, logistic(logit(sh->quantile) -
		    SHADOW_POLICY_STEP), why);
	}
}

static void
epoch_lead(struct shadow *sh, uint64_t t_ms, double epoch_s)
{
	struct shadow_policy_state *ps = &sh->pol;
	double old, late_cost, unit_cost;
	char why[SHADOW_MSG_MAX];

	if (ps->lead_seen && fabs(ps->lead_obs - sh->lead_s) >
	    LEAD_CHANGE * fmax(sh->lead_s, 0.1)) {
		old = sh->lead_s;
		sh->lead_s = ps->lead_obs;
		snprintf(why, sizeof(why), "misses waited %.2fs on average",
		    ps->lead_obs);
		shadow_policy_add(sh, t_ms, SHADOW_POLICY_LEAD, old,
		    sh->lead_s, why);
	}
	old = sh->lead_mult;
	late_cost = sh->p.delay_weight * ps->partial_wait;
	unit_cost = sh->p.wastage_weight * epoch_s;
	if (ps->partials > 0 && late_cost > unit_cost) {
		sh->lead_mult = fmin(LEAD_MULT_MAX, old * LEAD_MULT_UP);
		snprintf(why, sizeof(why), "%u hits still converging waited "
		    "%.2fs: pre-allocate earlier", ps->partials,
		    ps->partial_wait);
	} else if (ps->partials == 0) {
		sh->lead_mult = fmax(1.0, old * LEAD_MULT_DOWN);
		snprintf(why, sizeof(why), "no hit waited: pre-allocate later");
	}
	if (fabs(sh->lead_mult - old) > 1e-9)
		shadow_policy_add(sh, t_ms, SHADOW_POLICY_LEAD_MULT, old,
		    sh->lead_mult, why);
}

void
shadow_policy_tick(struct shadow *sh, uint64_t t_ms, double dt_s,
    uint64_t held)
{
	struct shadow_policy_state *ps = &sh->pol;
	double epoch_s;

	if (!sh->ticked) {
		ps->epoch_start_ms = t_ms;
		return;
	}
	if (held > 0)
		ps->held_pos_s += dt_s;
	if (t_ms < ps->epoch_start_ms + SHADOW_POLICY_EPOCH_S * 1000ULL)
		return;
	epoch_s = (double)(t_ms - ps->epoch_start_ms) / 1000.0;
	if (sh->p.adapt) {
		epoch_quantile(sh, t_ms, epoch_s);
		epoch_lead(sh, t_ms, epoch_s);
	}
	ps->epoch_start_ms = t_ms;
	ps->miss_wait = ps->partial_wait = 0;
	ps->misses = ps->partials = ps->last_unit_hits = 0;
	ps->held_pos_s = 0;
}
