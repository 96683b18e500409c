/*
 * Shadow inventory: traffic in the pool's VNI and ARP/ND requests for
 * addresses of the pool that are not allocated.
 *
 * How this works: the caller feeds the VNI's packet rate (flow
 * telemetry or its own sampling, scaled up) with shadow_traffic() and
 * each neighbour solicitation for an unallocated pool address with
 * shadow_neigh_miss().  The rate is smoothed; the misses are counted.
 */
#include <math.h>
#include <string.h>

#include "common/addr.h"
#include "ipam/shadow_int.h"

#define TRAFFIC_SMOOTH_S	10.0	/* time constant of the rate */

void
shadow_traffic(struct shadow *sh, uint64_t t_ms, double rate)
{
	struct shadow_traffic *tr = &sh->tr;
	double a;

	if (!(rate >= 0) || !isfinite(rate))
		return;
	tr->samples++;
	if (!tr->started || t_ms <= tr->last_ms) {
		tr->rate = tr->started ? tr->rate : rate;
		tr->started = true;
		tr->last_ms = t_ms > tr->last_ms ? t_ms : tr->last_ms;
		return;
	}
	a = 1 - exp(-(double)(t_ms - tr->last_ms) / 1000.0 /
	    TRAFFIC_SMOOTH_S);
	tr->rate += a * (rate - tr->rate);
	tr->last_ms = t_ms;
}

void
shadow_neigh_miss(struct shadow *sh, uint64_t t_ms,
    const struct ipaddr *source, const struct ipaddr *target)
{
	(void)t_ms;
	(void)source;
	(void)target;
	sh->nm.total++;
}

void
shadow_traffic_report(const struct shadow *sh, struct shadow_report *r)
{
	r->traffic_rate = sh->tr.rate;
	r->traffic_samples = sh->tr.samples;
	r->neigh_misses = sh->nm.total;
	r->neigh_targets = sh->nm.targets;
}
