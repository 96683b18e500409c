/*
 * Internals of shadowsim shared between its files: the fabric's
 * convergence queue and the oracle's schedule (sim_fabric.c), the thin
 * driver of the ipam/shadow engine (sim_shadow.c), the only file that
 * knows the engine's API, and the policy parser (sim_policy.c).
 */
#ifndef TOOLS_SIM_INT_H
#define TOOLS_SIM_INT_H

#include "tools/sim.h"

struct sim_shadow;

/* The fabric's FIFO convergence server (see sim.h). */
struct sim_fabric {
	int64_t		 busy_us;	/* when the routes queued are served */
	int64_t		 service_us;	/* per route; 0: no queue */
	int64_t		 base_ms;
};

void		 sim_fabric_init(struct sim_fabric *, uint32_t base_ms,
		    double rate);
/* A new route at t_ms: returns when it has converged (ms). */
int64_t		 sim_fabric_submit(struct sim_fabric *, int64_t t_ms);

/* When oracle pre-allocates: one entry per request, sorted by time. */
struct sim_oracle_make {
	int64_t		 t_ms;
	uint32_t	 vni;
};

/* The clairvoyant schedule for the pools of vnis[]; *out is malloc'd. */
size_t		 sim_oracle_plan(const struct sim_trace *,
		    const struct sim_options *, const uint32_t *vnis,
		    size_t nvnis, struct sim_oracle_make **out);

/* What the engine asked for at a tick, plus what the series shows. */
struct sim_decision {
	uint32_t	 want_alloc;
	uint32_t	 want_release;
	uint32_t	 target;
	double		 forecast_mean;
};

struct sim_pool_state {
	uint32_t	 ready;		/* warm and usable */
	uint32_t	 converging;	/* warm, route not converged yet */
	uint64_t	 free;
	uint64_t	 size;
};

struct sim_shadow *sim_shadow_new(const struct sim_pool_conf *, uint64_t seed,
		    uint32_t miss_delay_ms, double service_rate);
void		 sim_shadow_free(struct sim_shadow *);
void		 sim_shadow_event(struct sim_shadow *, enum sim_event_kind,
		    int64_t t_ms);
/* A traffic or neigh_miss event (names: the trace's interned ids). */
void		 sim_shadow_signal(struct sim_shadow *, const struct sim_event *,
		    char *const *names);
/* from_warm: served by a pre-allocation, usable or still converging. */
void		 sim_shadow_served(struct sim_shadow *, int64_t t_ms,
		    bool from_warm, uint32_t wait_ms);
void		 sim_shadow_tick(struct sim_shadow *, int64_t t_ms,
		    const struct sim_pool_state *, struct sim_decision *);
/* Re-plan between ticks, after an event of the pool. */
void		 sim_shadow_plan(struct sim_shadow *, int64_t t_ms,
		    const struct sim_pool_state *, struct sim_decision *);
void		 sim_shadow_prealloc_made(struct sim_shadow *, int64_t t_ms);
void		 sim_shadow_prealloc_released(struct sim_shadow *, int64_t t_ms);
/* Alerts raised since the last call, oldest first; returns how many. */
size_t		 sim_shadow_alerts(struct sim_shadow *, struct sim_anomaly *,
		    size_t max);

#endif
