/*
 * shadowsim's convergence model and the clairvoyant policy built on it.
 *
 * The fabric is one FIFO server (see tools/sim.h): a route submitted at
 * t starts service when the routes ahead of it are done, takes 1/R, and
 * has converged B after that.  So the convergence time of a route is
 * B + (backlog + 1)/R, and a burst of N routes on an idle fabric is
 * done after B + N/R.
 *
 * The oracle knows the whole trace.  For every request that will be
 * served it makes one pre-allocation at s = r - lead, the lead being the
 * time a route submitted at s takes to converge given everything else
 * in the fabric (the trace's route_adds and the oracle's other pre-
 * allocations).  The leads depend on each other through the queue, so
 * they are found by passes: start every s at r - (B + 1/R), replay the
 * fabric, move each pre-allocation that would converge after its
 * request earlier by the difference, and repeat until nothing moves
 * (or ORACLE_PASSES).  A pre-allocation converges at most as late as
 * its request in the final pass, so oracle's waits are 0 up to the last
 * pass's residue, and its waste is the sum of the leads: the least any
 * policy that has every request's address ready on time can pay.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tools/sim_int.h"

#define ORACLE_PASSES	16

void
sim_fabric_init(struct sim_fabric *f, uint32_t base_ms, double rate)
{
	memset(f, 0, sizeof(*f));
	f->base_ms = base_ms;
	f->busy_us = INT64_MIN / 2;
	if (rate > 0)
		f->service_us = (int64_t)(1e6 / rate + 0.5);
	if (rate > 0 && f->service_us == 0)
		f->service_us = 1;
}

int64_t
sim_fabric_submit(struct sim_fabric *f, int64_t t_ms)
{
	int64_t t_us = t_ms * 1000, done_us;

	if (f->service_us == 0)
		return t_ms + f->base_ms;
	done_us = (f->busy_us > t_us ? f->busy_us : t_us) + f->service_us;
	f->busy_us = done_us;
	/* Converged at the first whole millisecond it is done, plus B. */
	return (done_us + 999) / 1000 + f->base_ms;
}

struct oracle_req {
	int64_t		 r_ms;		/* the request */
	int64_t		 s_ms;		/* its pre-allocation */
	int64_t		 ready_ms;	/* converged, in the last pass */
	uint32_t	 vni;
	size_t		 idx;		/* request order */
};

static int
cmp_make(const void *a, const void *b)
{
	const struct oracle_req *x = a, *y = b;

	if (x->s_ms != y->s_ms)
		return x->s_ms < y->s_ms ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool
vni_pooled(const uint32_t *vnis, size_t n, uint32_t vni)
{
	for (size_t i = 0; i < n; i++)
		if (vnis[i] == vni)
			return true;
	return false;
}

/*
 * The requests that will be served: an alloc in a pooled VNI by a
 * resource holding nothing (the run loop skips the others).  Pool
 * exhaustion is not foreseen; the pools are large next to any trace.
 */
static size_t
oracle_requests(const struct sim_trace *tr, const uint32_t *vnis,
    size_t nvnis, struct oracle_req **out)
{
	uint32_t *held = xcalloc(tr->nnames + 1, sizeof(*held));
	struct oracle_req *rq = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < tr->nevents; i++) {
		const struct sim_event *ev = &tr->events[i];

		if (!vni_pooled(vnis, nvnis, ev->vni))
			continue;
		if (ev->kind == SIM_EV_RELEASE && held[ev->resource] ==
		    ev->vni)
			held[ev->resource] = 0;
		if (ev->kind != SIM_EV_ALLOC || held[ev->resource] != 0)
			continue;
		held[ev->resource] = ev->vni;
		if (n == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			rq = xrealloc(rq, cap * sizeof(*rq));
		}
		rq[n].r_ms = ev->t_ms;
		rq[n].vni = ev->vni;
		rq[n].idx = n;
		n++;
	}
	free(held);
	*out = rq;
	return n;
}

/* Replay the fabric with the pre-allocations at their current times
 * (sorted), a pre-allocation first at a tie with a route_add. */
static void
oracle_replay(const struct sim_trace *tr, const struct sim_options *o,
    struct oracle_req *rq, size_t n)
{
	struct sim_fabric f;
	size_t e = 0, m = 0;

	sim_fabric_init(&f, o->miss_delay_ms, o->service_rate);
	while (m < n) {
		while (e < tr->nevents && tr->events[e].t_ms < rq[m].s_ms) {
			if (tr->events[e].kind == SIM_EV_ROUTE_ADD)
				(void)sim_fabric_submit(&f, tr->events[e].t_ms);
			e++;
		}
		rq[m].ready_ms = sim_fabric_submit(&f, rq[m].s_ms);
		m++;
	}
}

size_t
sim_oracle_plan(const struct sim_trace *tr, const struct sim_options *o,
    const uint32_t *vnis, size_t nvnis, struct sim_oracle_make **out)
{
	struct sim_fabric f;
	struct oracle_req *rq;
	int64_t lead0;
	size_t n, i;
	bool moved = true;

	n = oracle_requests(tr, vnis, nvnis, &rq);
	sim_fabric_init(&f, o->miss_delay_ms, o->service_rate);
	lead0 = sim_fabric_submit(&f, 0);	/* B + 1/R on an idle fabric */
	for (i = 0; i < n; i++)
		rq[i].s_ms = rq[i].r_ms - lead0;
	for (int pass = 0; pass < ORACLE_PASSES && moved && n > 0; pass++) {
		qsort(rq, n, sizeof(*rq), cmp_make);
		oracle_replay(tr, o, rq, n);
		moved = false;
		for (i = 0; i < n; i++)
			if (rq[i].ready_ms > rq[i].r_ms) {
				rq[i].s_ms -= rq[i].ready_ms - rq[i].r_ms;
				moved = true;
			}
	}
	qsort(rq, n, sizeof(*rq), cmp_make);
	*out = xcalloc(n == 0 ? 1 : n, sizeof(**out));
	for (i = 0; i < n; i++) {
		(*out)[i].t_ms = rq[i].s_ms > 0 ? rq[i].s_ms : 0;
		(*out)[i].vni = rq[i].vni;
	}
	free(rq);
	return n;
}
