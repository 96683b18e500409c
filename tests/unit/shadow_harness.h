/*
 * A small harness for the shadow engine's tests: it plays the role of
 * the daemon with a virtual clock.  It feeds events, ticks once a second,
 * carries out the decisions (a pre-allocation becomes usable lead_ms
 * after it is made, as in shadowsim) and reports each request as served
 * by a pre-allocation or not; with plan_events set it also asks the
 * engine for a plan after every request, as evpnd does.
 */
#ifndef TESTS_UNIT_SHADOW_HARNESS_H
#define TESTS_UNIT_SHADOW_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipam/shadow.h"

#define HELD_MAX	4096

struct sim {
	struct shadow	*sh;
	struct shadow_params p;
	uint64_t	 rng;
	uint64_t	 lead_ms;
	uint64_t	 pool_size;
	uint64_t	 pool_free;
	uint64_t	 ready_at[HELD_MAX];	/* FIFO of pre-allocations */
	size_t		 nheld;
	uint64_t	 now;
	uint64_t	 hits, misses;
	double		 wait_s;		/* summed over requests */
	bool		 plan_events;
	struct shadow_decision d;
};

double		 unif(uint64_t *);
unsigned	 poisson(uint64_t *, double mean);
void		 sim_init(struct sim *, const struct shadow_params *,
		    uint64_t pool_size);
void		 sim_done(struct sim *);
/* A request at t: the oldest pre-allocation if any, else a miss. */
void		 sim_alloc(struct sim *, uint64_t t);
void		 sim_state(const struct sim *, struct shadow_state *);
/* Tick at s->now and carry out the decision. */
void		 sim_tick(struct sim *);
/* Carry out a decision made at t. */
void		 sim_apply(struct sim *, uint64_t t, const struct shadow_decision *);
/* n requests spread over the second starting at t. */
void		 sim_allocs(struct sim *, uint64_t t, unsigned n);
/* Run seconds of a constant Poisson rate. */
void		 sim_poisson(struct sim *, double rate, unsigned seconds);

#endif
