/*
 * Shadow inventory per group: where allocations carry labels, the
 * demand of each group (a job, an app) on its own, for the view ("job
 * llama-70b: 90% confident 6 more within 5 min").  The pool's forecast
 * and decision do not read it.
 *
 * How this works.  The caller names each request's and release's group
 * ("key=value", the first of the pool's group-by keys the allocation
 * carries).  A group keeps what it holds now (active), its requests,
 * and its demand as runs, as the pool's run model does (shadow_runs.c):
 * requests closer than GROUP_RUN_GAP_MS form a run (a gang's share, a
 * scale-up step).  Learned per group: the rate of its further runs
 * (run starts after its first, decayed with time constant GROUP_TAU_S,
 * over the exposure it had, plus GROUP_PRIOR_S of prior quiet so that
 * a group seen once does not expect another run at once) and the first
 * two moments of its run sizes (decayed over GROUP_SIZE_MEMORY runs).
 * The requests within a window W are then the rest of the current run
 * (the mean size less what came, while it goes on) plus a compound
 * Poisson number of new runs: mean rW E[S], variance rW E[S^2]; its
 * quantiles are those of a negative binomial with that mean and
 * variance, as for the pool.
 *
 * Bounds: SHADOW_GROUPS_MAX groups per pool, each a fixed slot in
 * struct shadow (memory stays constant).  A group that holds nothing
 * and has been quiet for GROUP_IDLE_MS is dropped at a tick; a new
 * group when all slots are taken replaces the one that holds nothing
 * and was quiet longest, else the one quiet longest (counted in
 * groups_evicted).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow_int.h"

#define GROUP_RUN_GAP_MS	3000
#define GROUP_TAU_S		1800.0	/* memory of the run rate */
#define GROUP_PRIOR_S		300.0	/* quiet assumed before the first */
#define GROUP_SIZE_MEMORY	50.0	/* runs */
#define GROUP_IDLE_MS		3600000	/* nothing held, quiet: dropped */

static struct shadow_group *
group_find(struct shadow *sh, const char *label)
{
	for (size_t i = 0; i < SHADOW_GROUPS_MAX; i++)
		if (sh->groups[i].label[0] != '\0' &&
		    strcmp(sh->groups[i].label, label) == 0)
			return &sh->groups[i];
	return NULL;
}

/* A free slot, else the one to give up (see the bounds above). */
static struct shadow_group *
group_slot(struct shadow *sh)
{
	struct shadow_group *best = NULL, *g;

	for (size_t i = 0; i < SHADOW_GROUPS_MAX; i++) {
		g = &sh->groups[i];
		if (g->label[0] == '\0')
			return g;
		if (best == NULL || (g->active == 0 && best->active != 0) ||
		    ((g->active == 0) == (best->active == 0) &&
		    g->last_ms < best->last_ms))
			best = g;
	}
	sh->groups_evicted++;
	return best;
}

static bool
label_ok(const char *label)
{
	size_t n;

	if (label == NULL || (n = strlen(label)) == 0 ||
	    n > SHADOW_GROUP_LABEL_MAX)
		return false;
	return true;
}

static struct shadow_group *
group_get(struct shadow *sh, const char *label, uint64_t t_ms)
{
	struct shadow_group *g;

	if (!label_ok(label))
		return NULL;
	if ((g = group_find(sh, label)) != NULL)
		return g;
	g = group_slot(sh);
	memset(g, 0, sizeof(*g));
	strlcpy_s(g->label, label, sizeof(g->label));
	g->first_ms = g->last_ms = g->starts_ms = t_ms;
	return g;
}

/* The decayed count of run starts as of t_ms. */
static double
starts_at(const struct shadow_group *g, uint64_t t_ms)
{
	double dt = t_ms > g->starts_ms ? (t_ms - g->starts_ms) / 1000.0 : 0;

	return g->starts * exp(-dt / GROUP_TAU_S);
}

/* The current run ended: its size joins the learned sizes. */
static void
run_close(struct shadow_group *g)
{
	double keep = 1 - 1 / GROUP_SIZE_MEMORY, n = g->run_n;

	if (g->run_n == 0)
		return;
	g->sz_n = g->sz_n * keep + 1;
	g->sz_sum = g->sz_sum * keep + n;
	g->sz_sq = g->sz_sq * keep + n * n;
	g->run_n = 0;
}

static bool
run_going(const struct shadow_group *g, uint64_t t_ms)
{
	return g->run_n > 0 && t_ms < g->run_last_ms + GROUP_RUN_GAP_MS;
}

void
shadow_group_request(struct shadow *sh, uint64_t t_ms, const char *label)
{
	struct shadow_group *g = group_get(sh, label, t_ms);

	if (g == NULL)
		return;
	if (!run_going(g, t_ms)) {
		run_close(g);
		/* Further runs only: the first one made the group. */
		if (g->requests > 0) {
			g->starts = starts_at(g, t_ms) + 1;
			g->starts_ms = t_ms;
		}
	}
	g->run_n++;
	g->run_last_ms = t_ms;
	g->requests++;
	g->active++;
	if (t_ms > g->last_ms)
		g->last_ms = t_ms;
}

void
shadow_group_release(struct shadow *sh, uint64_t t_ms, const char *label)
{
	struct shadow_group *g;

	if (!label_ok(label) || (g = group_find(sh, label)) == NULL)
		return;
	if (g->active > 0)
		g->active--;
	if (t_ms > g->last_ms)
		g->last_ms = t_ms;
}

void
shadow_group_held(struct shadow *sh, uint64_t t_ms, const char *label,
    uint64_t n)
{
	struct shadow_group *g;

	if (n > 0 && (g = group_get(sh, label, t_ms)) != NULL)
		g->active += n;
}

void
shadow_groups_held_reset(struct shadow *sh)
{
	for (size_t i = 0; i < SHADOW_GROUPS_MAX; i++)
		sh->groups[i].active = 0;
}

void
shadow_groups_tick(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_group *g;

	for (size_t i = 0; i < SHADOW_GROUPS_MAX; i++) {
		g = &sh->groups[i];
		if (g->label[0] == '\0')
			continue;
		if (!run_going(g, t_ms))
			run_close(g);
		if (g->active == 0 && t_ms >= g->last_ms + GROUP_IDLE_MS)
			memset(g, 0, sizeof(*g));
	}
}

/* Requests of g expected within window_s from t_ms. */
static struct shadow_dist
group_window(const struct shadow_group *g, uint64_t t_ms, double window_s)
{
	double age = t_ms > g->first_ms ? (t_ms - g->first_ms) / 1000.0 : 0;
	double exposure, rate, m1 = 1, m2 = 1, rest = 0;
	struct shadow_dist d;

	exposure = GROUP_TAU_S * (1 - exp(-age / GROUP_TAU_S)) + GROUP_PRIOR_S;
	rate = starts_at(g, t_ms) / exposure;
	if (g->sz_n > 0) {
		m1 = g->sz_sum / g->sz_n;
		m2 = fmax(g->sz_sq / g->sz_n, m1 * m1);
	}
	if (run_going(g, t_ms))
		rest = fmax(0, m1 - g->run_n);
	d.mean = rest + rate * window_s * m1;
	d.var = fmax(d.mean, rest + rate * window_s * m2);
	return d;
}

static int
view_cmp(const void *a, const void *b)
{
	return strcmp(((const struct shadow_group_view *)a)->label,
	    ((const struct shadow_group_view *)b)->label);
}

size_t
shadow_groups(const struct shadow *sh, uint64_t t_ms,
    struct shadow_group_view *out, size_t max)
{
	static const double one = 1;
	const struct shadow_group *g;
	struct shadow_group_view *v;
	struct shadow_dist d;
	size_t n = 0;

	for (size_t i = 0; i < SHADOW_GROUPS_MAX && n < max; i++) {
		g = &sh->groups[i];
		if (g->label[0] == '\0')
			continue;
		v = &out[n++];
		memset(v, 0, sizeof(*v));
		strlcpy_s(v->label, g->label, sizeof(v->label));
		v->active = g->active;
		v->requests = g->requests;
		v->idle_s = t_ms > g->last_ms ? (t_ms - g->last_ms) / 1000.0 :
		    0;
		d = group_window(g, t_ms, sh->p.horizon_s);
		v->expected.window_s = sh->p.horizon_s;
		v->expected.mean = d.mean;
		v->expected.p50 = shadow_mixture_quantile(&one, &d, 1, 0.5);
		v->expected.p80 = shadow_mixture_quantile(&one, &d, 1, 0.8);
		v->expected.p90 = shadow_mixture_quantile(&one, &d, 1, 0.9);
		v->expected.p99 = shadow_mixture_quantile(&one, &d, 1, 0.99);
		v->expected.pconf = shadow_mixture_quantile(&one, &d, 1,
		    sh->p.confidence);
	}
	qsort(out, n, sizeof(*out), view_cmp);
	return n;
}

uint64_t
shadow_groups_evicted(const struct shadow *sh)
{
	return sh->groups_evicted;
}
