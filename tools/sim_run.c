/*
 * The shadowsim run loop: virtual clock, pools, warm sets and the
 * policies (see tools/sim.h for the semantics).
 *
 * Order of work at an instant t: waste is integrated up to t first
 * (the warm set's size is constant between two changes), then oracle's
 * pre-allocations due at t, then the events at t in trace order (each
 * followed by the shadow engine's plan for its pool), then, when t is a
 * whole second, the tick.  So a tick sees every event at or before its
 * instant.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tools/sim.h"
#include "tools/sim_int.h"

/* A pre-allocation: when it was made and when its route converged. */
struct sim_warm {
	int64_t		 made_ms;
	int64_t		 ready_ms;
};

struct sim_pool {
	const struct sim_pool_conf *conf;
	struct sim_stats *stats;	/* in the result */
	uint64_t	 used;		/* addresses held by workloads */
	struct sim_warm	*warm;		/* ring, oldest first */
	size_t		 whead;
	size_t		 wcount;
	size_t		 wcap;
	struct sim_shadow *shadow;	/* policy shadow only */
	uint32_t	 tick_allocs;	/* requests since the last tick */
	uint32_t	 tick_routes;	/* route adds since the last tick */
};

struct sim_run {
	const struct sim_trace *trace;
	const struct sim_options *opts;
	struct sim_result *res;
	struct sim_pool	*pools;
	size_t		 npools;
	struct sim_pool_conf *own_confs;	/* made up per VNI */
	uint32_t	*holder;	/* per resource: pool index + 1 */
	int64_t		 now_ms;	/* waste integrated up to here */
	struct sim_pool	*series_pool;
	struct sim_fabric fabric;
	struct sim_oracle_make *makes;	/* oracle only */
	size_t		 nmakes;
	size_t		 next_make;
};

static uint64_t
pool_free(const struct sim_pool *p)
{
	uint64_t taken = p->used + p->wcount;

	return taken >= p->conf->size ? 0 : p->conf->size - taken;
}

static void
warm_push(struct sim_pool *p, int64_t made_ms, int64_t ready_ms)
{
	if (p->wcount == p->wcap) {
		size_t	 ncap = p->wcap == 0 ? 64 : p->wcap * 2;
		struct sim_warm *nw = xcalloc(ncap, sizeof(*nw));

		for (size_t i = 0; i < p->wcount; i++)
			nw[i] = p->warm[(p->whead + i) % p->wcap];
		free(p->warm);
		p->warm = nw;
		p->wcap = ncap;
		p->whead = 0;
	}
	p->warm[(p->whead + p->wcount) % p->wcap].made_ms = made_ms;
	p->warm[(p->whead + p->wcount) % p->wcap].ready_ms = ready_ms;
	p->wcount++;
}

/* The oldest entry: the first usable, else the first to converge. */
static struct sim_warm
warm_take_oldest(struct sim_pool *p)
{
	struct sim_warm r = p->warm[p->whead];

	p->whead = (p->whead + 1) % p->wcap;
	p->wcount--;
	return r;
}

/* Giving back, the newest goes first: it is the furthest from usable. */
static void
warm_drop_newest(struct sim_pool *p)
{
	p->wcount--;
}

static uint32_t
warm_ready_count(const struct sim_pool *p, int64_t t_ms)
{
	uint32_t n = 0;

	/* Ready times grow along the ring: count the prefix ready at t. */
	while (n < p->wcount &&
	    p->warm[(p->whead + n) % p->wcap].ready_ms <= t_ms)
		n++;
	return n;
}

static void
advance_to(struct sim_run *run, int64_t t_ms)
{
	int64_t	 dt = t_ms - run->now_ms;

	if (dt <= 0)
		return;
	for (size_t i = 0; i < run->npools; i++)
		run->pools[i].stats->waste_addr_ms +=
		    (uint64_t)run->pools[i].wcount * (uint64_t)dt;
	run->now_ms = t_ms;
}

static void
prealloc_make(struct sim_run *run, struct sim_pool *p, int64_t t_ms)
{
	warm_push(p, t_ms, sim_fabric_submit(&run->fabric, t_ms));
	p->stats->prealloc_made++;
	if (p->shadow != NULL)
		sim_shadow_prealloc_made(p->shadow, t_ms);
}

static void
prealloc_release(struct sim_pool *p, int64_t t_ms)
{
	warm_drop_newest(p);
	p->stats->prealloc_released++;
	if (p->shadow != NULL)
		sim_shadow_prealloc_released(p->shadow, t_ms);
}

/* One row of --requests: what a request found and how long it waited. */
static void
request_row(struct sim_run *run, const struct sim_pool *p,
    const struct sim_event *ev, uint32_t wait_ms, int64_t held_ms)
{
	fprintf(run->opts->requests, "%" PRId64 ",%" PRIu32 ",%s,%" PRIu32
	    ",%" PRId64 "\n", ev->t_ms, p->conf->vni,
	    run->trace->names[ev->resource], wait_ms, held_ms);
}

static void
serve_request(struct sim_run *run, struct sim_pool *p,
    const struct sim_event *ev)
{
	int64_t	 t_ms = ev->t_ms, held = -1;
	uint32_t wait;
	bool	 from_warm = p->wcount > 0;

	if (from_warm) {
		struct sim_warm w = warm_take_oldest(p);

		wait = w.ready_ms > t_ms ? (uint32_t)(w.ready_ms - t_ms) : 0;
		held = t_ms - w.made_ms;
	} else
		wait = (uint32_t)(sim_fabric_submit(&run->fabric, t_ms) -
		    t_ms);
	if (run->opts->requests != NULL)
		request_row(run, p, ev, wait, held);
	p->stats->requests++;
	if (wait == 0)
		p->stats->hits++;
	sim_stats_add_wait(p->stats, wait);
	if (p->shadow != NULL)
		sim_shadow_served(p->shadow, t_ms, from_warm, wait);
}

static struct sim_pool *
pool_by_vni(struct sim_run *run, uint32_t vni, size_t *idx)
{
	for (size_t i = 0; i < run->npools; i++) {
		if (run->pools[i].conf->vni == vni) {
			*idx = i;
			return &run->pools[i];
		}
	}
	return NULL;
}

/* Returns the pool the event went to, NULL if none. */
static struct sim_pool *
apply_event(struct sim_run *run, const struct sim_event *ev)
{
	struct sim_pool	*p;
	size_t		 idx;

	/* Every new route loads the fabric, pooled or not. */
	if (ev->kind == SIM_EV_ROUTE_ADD)
		(void)sim_fabric_submit(&run->fabric, ev->t_ms);
	if ((p = pool_by_vni(run, ev->vni, &idx)) == NULL) {
		run->res->skipped++;
		return NULL;
	}
	if (ev->kind == SIM_EV_TRAFFIC || ev->kind == SIM_EV_NEIGH_MISS) {
		/* Telemetry: only the shadow engine listens. */
		if (p->shadow == NULL || run->opts->no_traffic)
			return NULL;
		sim_shadow_signal(p->shadow, ev, run->trace->names);
		return p;
	}
	if (p->shadow != NULL)
		sim_shadow_event(p->shadow, ev->kind, ev->t_ms);
	switch (ev->kind) {
	case SIM_EV_ALLOC:
		if (run->holder[ev->resource] != 0) {
			p->stats->skipped++;	/* already holds one */
			return p;
		}
		p->tick_allocs++;
		/* A warm entry is already counted in used + wcount. */
		if (p->wcount == 0 && pool_free(p) == 0) {
			p->stats->skipped++;	/* pool exhausted */
			return p;
		}
		serve_request(run, p, ev);
		p->used++;
		run->holder[ev->resource] = (uint32_t)idx + 1;
		break;
	case SIM_EV_RELEASE:
		if (run->holder[ev->resource] != idx + 1) {
			p->stats->skipped++;
			return p;
		}
		run->holder[ev->resource] = 0;
		p->used--;
		break;
	case SIM_EV_ROUTE_ADD:
		p->tick_routes++;
		break;
	case SIM_EV_ROUTE_DEL:
	case SIM_EV_TRAFFIC:
	case SIM_EV_NEIGH_MISS:
		break;
	}
	return p;
}

static uint32_t
tick_static(struct sim_run *run, struct sim_pool *p, int64_t t_ms)
{
	uint32_t k = run->opts->policy.k;

	while (p->wcount < k && pool_free(p) > 0)
		prealloc_make(run, p, t_ms);
	return k;
}

static uint32_t
tick_watermark(struct sim_run *run, struct sim_pool *p, int64_t t_ms)
{
	const struct sim_policy *pol = &run->opts->policy;

	if (p->wcount < pol->low)
		for (uint32_t i = 0; i < pol->batch && pool_free(p) > 0; i++)
			prealloc_make(run, p, t_ms);
	return pol->low;
}

static void
collect_alerts(struct sim_run *run, struct sim_pool *p)
{
	struct sim_anomaly	 buf[16];
	struct sim_result	*res = run->res;
	size_t			 n;

	while ((n = sim_shadow_alerts(p->shadow, buf, nitems(buf))) > 0) {
		if (res->nanomalies + n > res->capanomalies) {
			res->capanomalies = (res->nanomalies + n) * 2;
			res->anomalies = xrealloc(res->anomalies,
			    res->capanomalies * sizeof(*res->anomalies));
		}
		for (size_t i = 0; i < n; i++) {
			buf[i].vni = p->conf->vni;
			res->anomalies[res->nanomalies++] = buf[i];
		}
	}
}

static void
shadow_state(const struct sim_pool *p, int64_t t_ms, struct sim_pool_state *st)
{
	st->ready = warm_ready_count(p, t_ms);
	st->converging = (uint32_t)p->wcount - st->ready;
	st->free = pool_free(p);
	st->size = p->conf->size;
}

static void
shadow_apply(struct sim_run *run, struct sim_pool *p, int64_t t_ms,
    const struct sim_decision *d)
{
	for (uint32_t i = 0; i < d->want_alloc && pool_free(p) > 0; i++)
		prealloc_make(run, p, t_ms);
	for (uint32_t i = 0; i < d->want_release && p->wcount > 0; i++)
		prealloc_release(p, t_ms);
	collect_alerts(run, p);
}

static void
tick_shadow(struct sim_run *run, struct sim_pool *p, int64_t t_ms,
    struct sim_decision *d)
{
	struct sim_pool_state st;

	shadow_state(p, t_ms, &st);
	sim_shadow_tick(p->shadow, t_ms, &st, d);
	shadow_apply(run, p, t_ms, d);
}

/* Decide per event: the engine re-plans as soon as its pool moved. */
static void
plan_shadow(struct sim_run *run, struct sim_pool *p, int64_t t_ms)
{
	struct sim_pool_state st;
	struct sim_decision d;

	memset(&d, 0, sizeof(d));
	shadow_state(p, t_ms, &st);
	sim_shadow_plan(p->shadow, t_ms, &st, &d);
	shadow_apply(run, p, t_ms, &d);
}

static void
oracle_make(struct sim_run *run, const struct sim_oracle_make *m)
{
	size_t idx;
	struct sim_pool *p = pool_by_vni(run, m->vni, &idx);

	if (p != NULL && pool_free(p) > 0)
		prealloc_make(run, p, m->t_ms);
}

static void
series_row(struct sim_run *run, struct sim_pool *p, int64_t t_ms,
    const struct sim_decision *d)
{
	fprintf(run->opts->series, "%" PRId64 ",%" PRIu32 ",%.4f,%" PRIu32
	    ",%zu,%" PRIu32 "\n", t_ms / 1000, p->tick_allocs,
	    d->forecast_mean, d->target, p->wcount, p->tick_routes);
}

static void
run_tick(struct sim_run *run, int64_t t_ms)
{
	for (size_t i = 0; i < run->npools; i++) {
		struct sim_pool		*p = &run->pools[i];
		struct sim_decision	 d;

		memset(&d, 0, sizeof(d));
		switch (run->opts->policy.kind) {
		case SIM_POLICY_ONDEMAND:
		case SIM_POLICY_ORACLE:
			break;
		case SIM_POLICY_STATIC:
			d.target = tick_static(run, p, t_ms);
			break;
		case SIM_POLICY_WATERMARK:
			d.target = tick_watermark(run, p, t_ms);
			break;
		case SIM_POLICY_SHADOW:
			tick_shadow(run, p, t_ms, &d);
			break;
		}
		if (p == run->series_pool)
			series_row(run, p, t_ms, &d);
		p->tick_allocs = 0;
		p->tick_routes = 0;
	}
}

static void
setup_pools(struct sim_run *run)
{
	const struct sim_options *o = run->opts;
	const struct sim_pool_conf *confs = o->pools;
	size_t	 n = o->npools;

	if (confs == NULL) {
		n = run->trace->nvnis;
		run->own_confs = xcalloc(n == 0 ? 1 : n, sizeof(*confs));
		for (size_t i = 0; i < n; i++)
			sim_pool_conf_default(&run->own_confs[i],
			    run->trace->vnis[i]);
		confs = run->own_confs;
	}
	run->npools = n;
	run->pools = xcalloc(n == 0 ? 1 : n, sizeof(*run->pools));
	run->res->pools = xcalloc(n == 0 ? 1 : n, sizeof(*run->res->pools));
	run->res->npools = n;
	for (size_t i = 0; i < n; i++) {
		struct sim_pool_result *pr = &run->res->pools[i];

		strlcpy_s(pr->name, confs[i].name, sizeof(pr->name));
		pr->vni = confs[i].vni;
		pr->wastage_weight = confs[i].wastage_weight;
		pr->delay_weight = confs[i].delay_weight;
		run->pools[i].conf = &confs[i];
		run->pools[i].stats = &pr->stats;
		if (o->policy.kind == SIM_POLICY_SHADOW)
			run->pools[i].shadow = sim_shadow_new(&confs[i],
			    o->seed, o->miss_delay_ms, o->service_rate);
		if (o->series != NULL && run->series_pool == NULL &&
		    (o->series_vni == 0 || o->series_vni == confs[i].vni))
			run->series_pool = &run->pools[i];
	}
}

static void
teardown(struct sim_run *run)
{
	for (size_t i = 0; i < run->npools; i++) {
		if (run->pools[i].shadow != NULL)
			sim_shadow_free(run->pools[i].shadow);
		free(run->pools[i].warm);
	}
	free(run->pools);
	free(run->own_confs);
	free(run->holder);
	free(run->makes);
}

static void
setup_oracle(struct sim_run *run)
{
	uint32_t *vnis = xcalloc(run->npools + 1, sizeof(*vnis));

	for (size_t i = 0; i < run->npools; i++)
		vnis[i] = run->pools[i].conf->vni;
	run->nmakes = sim_oracle_plan(run->trace, run->opts, vnis,
	    run->npools, &run->makes);
	free(vnis);
}

/*
 * Everything due before an event at t_ms (or the end): ticks strictly
 * before it and oracle's pre-allocations at or before it, in
 * time order, a pre-allocation first when both fall on one instant.
 */
static void
run_until(struct sim_run *run, int64_t *tick_ms, int64_t t_ms)
{
	for (;;) {
		const struct sim_oracle_make *m = run->next_make < run->nmakes ?
		    &run->makes[run->next_make] : NULL;
		bool tick_due = *tick_ms < t_ms;

		if (m != NULL && m->t_ms <= t_ms &&
		    (!tick_due || m->t_ms <= *tick_ms)) {
			advance_to(run, m->t_ms);
			oracle_make(run, m);
			run->next_make++;
		} else if (tick_due) {
			advance_to(run, *tick_ms);
			run_tick(run, *tick_ms);
			*tick_ms += SIM_TICK_MS;
		} else
			return;
	}
}

int
sim_run(const struct sim_trace *trace, const struct sim_options *opts,
    struct sim_result *res, char *err, size_t errlen)
{
	struct sim_run	 run;
	int64_t		 tick_ms = 0, end_ms = 0;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.trace = trace;
	run.opts = opts;
	run.res = res;
	sim_policy_fmt(&opts->policy, res->policy, sizeof(res->policy));
	res->miss_delay_ms = opts->miss_delay_ms;
	res->service_rate = opts->service_rate > 0 ? opts->service_rate : 0;
	sim_fabric_init(&run.fabric, opts->miss_delay_ms, opts->service_rate);
	if (opts->pools != NULL && opts->npools == 0) {
		snprintf(err, errlen, "the config has no pool with a vni");
		return -1;
	}
	run.holder = xcalloc(trace->nnames + 1, sizeof(*run.holder));
	setup_pools(&run);
	if (opts->policy.kind == SIM_POLICY_ORACLE)
		setup_oracle(&run);
	if (opts->series != NULL)
		fprintf(opts->series, "t_s,actual_allocs,forecast_mean,"
		    "target,held,route_adds\n");
	if (opts->requests != NULL)
		fprintf(opts->requests, "t_ms,vni,resource,wait_ms,held_ms\n");
	if (trace->nevents > 0)	/* whole seconds, the last event included */
		end_ms = (trace->events[trace->nevents - 1].t_ms +
		    SIM_TICK_MS - 1) / SIM_TICK_MS * SIM_TICK_MS;
	for (size_t i = 0; i < trace->nevents; i++) {
		const struct sim_event *ev = &trace->events[i];
		struct sim_pool *p;

		run_until(&run, &tick_ms, ev->t_ms);
		advance_to(&run, ev->t_ms);
		if ((p = apply_event(&run, ev)) != NULL && p->shadow != NULL)
			plan_shadow(&run, p, ev->t_ms);
	}
	run_until(&run, &tick_ms, end_ms);
	advance_to(&run, end_ms);
	res->end_ms = end_ms;
	teardown(&run);
	return 0;
}

void
sim_result_free(struct sim_result *res)
{
	for (size_t i = 0; i < res->npools; i++)
		sim_stats_free(&res->pools[i].stats);
	free(res->pools);
	free(res->anomalies);
	memset(res, 0, sizeof(*res));
}
