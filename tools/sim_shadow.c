/*
 * The one place shadowsim meets the ipam/shadow engine: it builds the
 * engine's parameters from a pool's settings and translates the run
 * loop's calls one to one.  Nothing here decides anything; the engine
 * linked from libipam.a is the code evpnd runs.
 */
#include <string.h>

#include "common/addr.h"
#include "common/util.h"
#include "ipam/shadow.h"
#include "tools/sim_int.h"

struct sim_shadow {
	struct shadow	*engine;
	uint64_t	 alert_seq;	/* last alert handed out */
};

struct sim_shadow *
sim_shadow_new(const struct sim_pool_conf *pc, uint64_t seed,
    uint32_t miss_delay_ms, double service_rate)
{
	struct sim_shadow	*s = xcalloc(1, sizeof(*s));
	struct shadow_params	 params;

	shadow_params_default(&params);
	if (pc->has_shadow) {
		params.horizon_s = pc->shadow.horizon;
		params.confidence = pc->shadow.confidence;
		params.min_warm = pc->shadow.min_warm;
		params.max_warm = pc->shadow.max_warm;
		params.max_pool_fraction = pc->shadow.max_pool_fraction;
		params.mode = pc->shadow.observe ? SHADOW_MODE_OBSERVE :
		    SHADOW_MODE_ACTIVE;
	}
	params.wastage_weight = pc->wastage_weight;
	params.delay_weight = pc->delay_weight;
	/* The engine plans with the convergence model it will face: the
	 * configured (in evpnd: measured) base latency and service rate. */
	params.lead_s = (double)miss_delay_ms / 1000.0;
	params.service_rate = service_rate;
	params.tick_ms = SIM_TICK_MS;
	params.seed = seed;
	s->engine = shadow_new(&params, pc->size);
	return s;
}

void
sim_shadow_free(struct sim_shadow *s)
{
	shadow_free(s->engine);
	free(s);
}

void
sim_shadow_event(struct sim_shadow *s, enum sim_event_kind kind,
    int64_t t_ms)
{
	switch (kind) {
	case SIM_EV_ALLOC:
		shadow_on_alloc(s->engine, (uint64_t)t_ms);
		break;
	case SIM_EV_RELEASE:
		shadow_on_release(s->engine, (uint64_t)t_ms);
		break;
	case SIM_EV_ROUTE_ADD:
		shadow_on_route_add(s->engine, (uint64_t)t_ms);
		break;
	case SIM_EV_ROUTE_DEL:
		shadow_on_route_del(s->engine, (uint64_t)t_ms);
		break;
	case SIM_EV_TRAFFIC:
	case SIM_EV_NEIGH_MISS:
		break;		/* sim_shadow_signal() */
	}
}

void
sim_shadow_signal(struct sim_shadow *s, const struct sim_event *ev,
    char *const *names)
{
	struct ipaddr src, dst;

	if (ev->kind == SIM_EV_TRAFFIC)
		shadow_traffic(s->engine, (uint64_t)ev->t_ms, ev->value);
	else if (ev->kind == SIM_EV_NEIGH_MISS &&
	    ipaddr_parse(names[ev->resource], &src) == 0 &&
	    ipaddr_parse(names[ev->target], &dst) == 0)
		shadow_neigh_miss(s->engine, (uint64_t)ev->t_ms, &src, &dst);
}

void
sim_shadow_served(struct sim_shadow *s, int64_t t_ms, bool from_warm,
    uint32_t wait_ms)
{
	shadow_on_served(s->engine, (uint64_t)t_ms, from_warm,
	    (double)wait_ms / 1000.0);
}

static void
decision_out(const struct shadow_decision *dec, struct sim_decision *d)
{
	d->want_alloc = dec->want_alloc;
	d->want_release = dec->want_release;
	d->target = dec->target;
	/* Requests per tick, the scale of the series' actual column. */
	d->forecast_mean = dec->forecast.rate * (SIM_TICK_MS / 1000.0);
}

static void
state_in(const struct sim_pool_state *ps, struct shadow_state *st)
{
	memset(st, 0, sizeof(*st));
	st->warm_ready = ps->ready;
	st->warm_converging = ps->converging;
	st->pool_free = ps->free;
	st->pool_size = ps->size;
}

/* A tick and a plan differ only in the engine's entry point. */
static void
decide_with(struct sim_shadow *s, int64_t t_ms,
    const struct sim_pool_state *ps, struct sim_decision *d,
    void (*decide)(struct shadow *, uint64_t, const struct shadow_state *,
    struct shadow_decision *))
{
	struct shadow_state	 st;
	struct shadow_decision	 dec;

	state_in(ps, &st);
	memset(&dec, 0, sizeof(dec));
	decide(s->engine, (uint64_t)t_ms, &st, &dec);
	decision_out(&dec, d);
}

void
sim_shadow_tick(struct sim_shadow *s, int64_t t_ms,
    const struct sim_pool_state *ps, struct sim_decision *d)
{
	decide_with(s, t_ms, ps, d, shadow_tick);
}

void
sim_shadow_plan(struct sim_shadow *s, int64_t t_ms,
    const struct sim_pool_state *ps, struct sim_decision *d)
{
	decide_with(s, t_ms, ps, d, shadow_plan);
}

void
sim_shadow_prealloc_made(struct sim_shadow *s, int64_t t_ms)
{
	shadow_on_prealloc_made(s->engine, (uint64_t)t_ms);
}

void
sim_shadow_prealloc_released(struct sim_shadow *s, int64_t t_ms)
{
	shadow_on_prealloc_released(s->engine, (uint64_t)t_ms);
}

size_t
sim_shadow_alerts(struct sim_shadow *s, struct sim_anomaly *out, size_t max)
{
	struct shadow_alert	 a[16];
	size_t			 n;

	if (max > nitems(a))
		max = nitems(a);
	n = shadow_alerts(s->engine, s->alert_seq, a, max);
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].t_ms = (int64_t)a[i].t_ms;
		out[i].score = a[i].score;
		strlcpy_s(out[i].kind, shadow_alert_kind_name(a[i].kind),
		    sizeof(out[i].kind));
		s->alert_seq = a[i].seq;
		strlcpy_s(out[i].message, a[i].message,
		    sizeof(out[i].message));
	}
	return n;
}
